--- Model loading, as the server reports it with LSP `$/progress`: one line in the command line
--- (no prompt), a statusline string, and a fresh suggestion request once the model is ready.
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

--- What a statusline can show: "Tandem: loading model: … (40%)" while a model loads, else "".
function M.statusline()
  for _, p in pairs(active) do
    return text(p)
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

--- The client stopped: whatever it was loading is over.
function M.forget(client_id)
  active[client_id] = nil
end

return M
