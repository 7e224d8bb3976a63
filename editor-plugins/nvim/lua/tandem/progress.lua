--- Model loading, as the server reports it with LSP `$/progress`: one line in the command line
--- (no prompt), a statusline string, and a fresh suggestion request once the model is ready.
--- Also the plugin's own long requests (an edit being generated), shown the same way.
local M = {}

local levels = vim.log.levels

-- The load in progress per client id: { title, message, percentage }.
local active = {}

-- The server's end message when the model is ready (lsp_server/progress.py).
local READY = "model ready"

local function text(p)
  local s = p.title or "Tandem: loading model"
  if p.message and p.message ~= "" then
    s = s .. ": " .. p.message
  end
  if type(p.percentage) == "number" then
    s = s .. string.format(" (%d%%)", p.percentage)
  end
  return s
end

-- The plugin's own requests in progress: key -> the line to show.
local tasks = {}

--- What a statusline can show: "Tandem: loading model: … (40%)" while a model loads, else a
--- request of the plugin's in progress ("Tandem: editing add.py:2-4 (120 characters)"), else "".
function M.statusline()
  for _, p in pairs(active) do
    return text(p)
  end
  for _, line in pairs(tasks) do
    return line
  end
  return ""
end

local function echo(msg)
  if require("tandem.config").get().echo_progress then
    -- Not kept in :messages: a load's dozen steps would fill it.
    require("tandem.notice").echo(msg, levels.INFO, false)
  end
end

-- Ours only: the server's load tokens ("tandem-load-…"), or any progress titled as its are.
local function is_load(token, value)
  return (type(token) == "string" and token:find("^tandem%-load%-") ~= nil)
    or (type(value) == "table" and type(value.title) == "string" and value.title:find("^Tandem") ~= nil)
end

--- One `$/progress` notification from client `client_id`.
function M.on_progress(client_id, params)
  if type(params) ~= "table" or type(params.value) ~= "table" or not is_load(params.token, params.value) then
    return
  end
  local v = params.value
  if v.kind == "begin" then
    active[client_id] = { title = v.title, message = v.message, percentage = v.percentage }
    require("tandem.notice").record(text(active[client_id]), levels.INFO)
    echo(text(active[client_id]))
  elseif v.kind == "report" then
    local p = active[client_id] or { title = "Tandem: loading model" }
    p.message = v.message or p.message
    p.percentage = v.percentage or p.percentage
    active[client_id] = p
    echo(text(p))
  elseif v.kind == "end" then
    active[client_id] = nil
    local msg = "Tandem: " .. (v.message or "done")
    require("tandem.notice").record(msg, levels.INFO)
    echo(msg)
    if v.message == READY then
      require("tandem.suggestion").model_ready(client_id)
    end
  end
  pcall(vim.cmd, "redrawstatus")
end

--- A request of the plugin's (key) is under way, or moved on: `line` in the statusline and,
--- with `echo_progress`, the command line.
function M.task(key, line)
  tasks[key] = line
  echo(line)
  pcall(vim.cmd, "redrawstatus")
end

--- The request `key` is over; `line` (may be nil) says how it ended.
function M.task_done(key, line)
  if tasks[key] == nil then
    return
  end
  tasks[key] = nil
  if line then
    echo(line)
  end
  pcall(vim.cmd, "redrawstatus")
end

--- The client stopped: whatever it was loading is over.
function M.forget(client_id)
  active[client_id] = nil
end

return M
