--- Telling the user things without a "Press ENTER" prompt: one line that fits the command line,
--- the whole text kept for `:TandemLog` and `:checkhealth tandem`.
---
--- Neovim's own `vim.notify` echoes the message as given, and a message wider than the command
--- line (or of more than one line) makes the hit-enter prompt. So with Neovim's own `vim.notify`
--- Tandem echoes the first line cut to `v:echospace`; a notification plugin that replaced
--- `vim.notify` (nvim-notify, noice, fidget) gets the whole text and shows it its way.
--- Only APIs of Neovim 0.7 are used here: this module also says that a Neovim is too old.
local M = {}

local api = vim.api
local levels = vim.log.levels

-- The notices so far, oldest first: { time, level, msg } (at most MAX).
local log = {}
local MAX = 200

-- Added where a message had to be cut.
local MORE = " … :TandemLog"

local HL = {
  [levels.ERROR] = "ErrorMsg",
  [levels.WARN] = "WarningMsg",
}

local function width(s)
  return vim.fn.strdisplaywidth(s)
end

--- `msg` as one line of at most `room` display cells: its first line, cut where it does not
--- fit, ending with MORE when anything was left out.
---@param msg string
---@param room integer
---@return string
function M.fit(msg, room)
  local first = msg:match("^[^\n]*")
  local cut = first ~= msg
  if not cut and width(first) <= room then
    return first
  end
  local more = room >= 2 * width(MORE) and MORE or "…"
  local keep = math.max(room - width(more), 0)
  -- Cut on a character boundary: strcharpart counts characters, widths can differ.
  local n = vim.fn.strchars(first)
  while n > 0 and width(vim.fn.strcharpart(first, 0, n)) > keep do
    n = n - 1
  end
  return vim.fn.strcharpart(first, 0, n) .. more
end

--- True while `vim.notify` is Neovim's own (which echoes the text as it is).
function M.builtin_notify()
  local ok, info = pcall(debug.getinfo, vim.notify, "S")
  return ok and type(info) == "table" and type(info.source) == "string"
    and info.source:find("vim/_editor.lua", 1, true) ~= nil
end

--- The room for an echo that makes no prompt: `v:echospace` (the command line less
--- showcmd and the ruler), at least 1.
function M.room()
  local room = vim.v.echospace
  if type(room) ~= "number" or room < 1 then
    room = vim.o.columns - 12
  end
  return math.max(room, 1)
end

--- Echo one line that fits (nothing else on the command line is pushed up).
---@param msg string
---@param level integer|nil
---@param history boolean|nil keep it in `:messages`
function M.echo(msg, level, history)
  api.nvim_echo({ { M.fit(msg, M.room()), HL[level] or "None" } }, history == true, {})
end

--- Keep `msg` for `:TandemLog` without showing it.
function M.record(msg, level)
  table.insert(log, { time = os.date("%H:%M:%S"), level = level or levels.INFO, msg = tostring(msg) })
  if #log > MAX then
    table.remove(log, 1)
  end
end

--- Tell the user `msg` (a "Tandem: ..." line) at `level` without a prompt; the whole text is
--- kept for `:TandemLog`. Safe to call from any context (callbacks, fast events).
---@param msg string
---@param level integer|nil vim.log.levels (INFO by default)
function M.notify(msg, level)
  level = level or levels.INFO
  msg = tostring(msg)
  M.record(msg, level)
  M.show_only(msg, level)
end

--- Show `msg` as `notify` does, without keeping it for `:TandemLog`.
function M.show_only(msg, level)
  level = level or levels.INFO
  msg = tostring(msg)
  local function show()
    if M.builtin_notify() then
      M.echo(msg, level, true)
    else
      vim.notify(msg, level, { title = "Tandem" })
    end
  end
  if vim.in_fast_event() then
    vim.schedule(show)
  else
    show()
  end
end

--- The notices so far (oldest first): { time, level, msg }.
function M.history()
  return vim.deepcopy(log)
end

function M.clear()
  log = {}
end

local NAMES = {
  [levels.ERROR] = "ERROR", [levels.WARN] = "WARN", [levels.INFO] = "INFO", [levels.DEBUG] = "DEBUG",
}

--- The notices as lines: "HH:MM:SS LEVEL message" (a message's further lines indented).
function M.lines()
  local out = {}
  for _, n in ipairs(log) do
    local parts = vim.split(n.msg, "\n", { plain = true })
    out[#out + 1] = string.format("%s %-5s %s", n.time, NAMES[n.level] or tostring(n.level), parts[1])
    for i = 2, #parts do
      out[#out + 1] = "               " .. parts[i]
    end
  end
  return out
end

--- `:TandemLog`: every notice in full, in a scratch buffer in a split.
function M.show()
  local lines = M.lines()
  if #lines == 0 then
    lines = { "(no Tandem notices yet)" }
  end
  vim.cmd("botright new")
  local buf = api.nvim_get_current_buf()
  api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].swapfile = false
  vim.bo[buf].modifiable = false
  pcall(api.nvim_buf_set_name, buf, "tandem://log")
  vim.keymap.set("n", "q", "<Cmd>close<CR>", { buffer = buf, silent = true })
end

return M
