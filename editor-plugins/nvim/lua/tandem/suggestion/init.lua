--- Ghost text: inline completions asked for while typing, drawn with extmarks, taken by keys.
--- This is the API the rest of the plugin calls; the parts: state (what is shared), request
--- (asking the server), ghost (the suggestion on screen), render (extmarks), menu (completion
--- menus), keymaps (insert-mode keys).
local M = {}

local api = vim.api
local client_mod = require("tandem.client")
local config = require("tandem.config")
local ghost = require("tandem.suggestion.ghost")
local keymaps = require("tandem.suggestion.keymaps")
local menu = require("tandem.suggestion.menu")
local protocol = require("tandem.protocol")
local render = require("tandem.suggestion.render")
local request = require("tandem.suggestion.request")
local state = require("tandem.suggestion.state")

local here, key_of, in_insert = state.here, state.key_of, state.in_insert
local group = state.group

M.namespace = render.namespace
-- InlineCompletionTriggerKind
M.INVOKED, M.AUTOMATIC = state.INVOKED, state.AUTOMATIC
M.menu_visible = menu.visible

--- Ask the server for a suggestion at the cursor (cancelling the one in flight).
---@param trigger integer|nil M.INVOKED (default) or M.AUTOMATIC
function M.request(trigger)
  request.send(trigger)
end

--- The model of client `client_id` is loaded: ask again where a request came back empty while
--- it loaded (see request.model_ready).
function M.model_ready(client_id)
  request.model_ready(client_id)
end

local function on_change()
  if not in_insert() then
    return
  end
  local h = here()
  local g = state.ghost
  if g then
    if key_of(g) == key_of(h) then
      return -- nothing moved (another event for a change we already handled)
    end
    local how = ghost.trim(g, h)
    if how == "trimmed" then
      return
    end
    ghost.clear(how == nil and protocol.EVENT_KINDS.REJECTED or nil)
  end
  request.cancel()
  request.schedule()
end

--- Drop the suggestion and anything pending (leaving insert mode, switching buffers).
function M.reset()
  request.stop_pending()
  request.cancel()
  ghost.clear(protocol.EVENT_KINDS.REJECTED)
  state.cycle = nil
end

--- Insert all, the next word or the next line of the suggestion.
---@param kind "all"|"word"|"line"|nil
---@return boolean accepted false when no suggestion is shown at the cursor
function M.accept(kind)
  local g = state.ghost
  if not g or g.hidden or key_of(g) ~= key_of(here()) then
    return false
  end
  local part = g.text
  if kind == "word" then
    part = g.text:match("^%s*[%w_]+") or g.text:match("^%s*[^%w_%s]+") or g.text:match("^%s+") or g.text
  elseif kind == "line" then
    part = g.text:match("^\n?[^\n]*")
  end
  request.stop_pending()
  request.cancel()
  local lines = vim.split(part, "\n", { plain = true })
  api.nvim_buf_set_text(g.bufnr, g.row, g.col, g.row, g.col, lines)
  local row = g.row + #lines - 1
  local col = (#lines == 1 and g.col or 0) + #lines[#lines]
  api.nvim_win_set_cursor(0, { row + 1, col })
  local rest = g.text:sub(#part + 1)
  if rest == "" then
    ghost.clear(nil)
    state.cycle = nil
    -- The item's command (protocol.CMD_ACCEPTED) is what counts the acceptance on the server.
    local cmd = g.item.command
    local client = vim.lsp.get_client_by_id(g.client_id)
    if client and type(cmd) == "table" and cmd.command then
      client_mod.execute(client, cmd.command, cmd.arguments, nil, g.bufnr)
    end
    api.nvim_exec_autocmds("User", { pattern = "TandemAccepted", modeline = false, data = { id = g.id } })
  else
    ghost.event(protocol.EVENT_KINDS.PARTIALLY_ACCEPTED, g)
    local h = here()
    g.row, g.col, g.text, g.tick = h.row, h.col, rest, h.tick
    g.line_before, g.line_after = h.line:sub(1, h.col), h.line:sub(h.col + 1)
    state.cycle = { key = key_of(h), list = { { item = g.item, text = rest } }, index = 1 }
    render.draw(g)
  end
  return true
end

--- Hide the suggestion (reported as rejected). False when none was shown.
function M.dismiss()
  if state.ghost and state.ghost.hidden then
    return false -- the key is the menu's while it is open
  end
  request.stop_pending()
  request.cancel()
  local had = state.ghost ~= nil
  ghost.clear(protocol.EVENT_KINDS.REJECTED)
  return had
end

--- Show the next suggestion for this position, asking the server (Invoked) for one more.
--- With nothing shown, this asks for a suggestion now.
function M.next()
  local h = here()
  local g, cycle = state.ghost, state.cycle
  if g and cycle and cycle.key == key_of(h) and cycle.index < #cycle.list then
    local client = vim.lsp.get_client_by_id(g.client_id)
    if client then
      ghost.show(cycle.index + 1, h, client)
      return true
    end
  end
  request.stop_pending()
  M.request(M.INVOKED)
  return true
end

--- Show the previous suggestion seen at this position.
function M.prev()
  local h = here()
  local g, cycle = state.ghost, state.cycle
  if g and cycle and cycle.key == key_of(h) and #cycle.list > 1 then
    local client = vim.lsp.get_client_by_id(g.client_id)
    if client then
      ghost.show((cycle.index - 2) % #cycle.list + 1, h, client)
    end
  end
  return true
end

--- The suggestion on screen: { text, row, col, id, bufnr, index, count, hidden }, or nil.
--- `hidden`: a completion menu is open, the ghost text comes back when it closes.
function M.current()
  local g, cycle = state.ghost, state.cycle
  if not g then
    return nil
  end
  return {
    text = g.text, row = g.row, col = g.col, id = g.id, bufnr = g.bufnr,
    index = cycle and cycle.index or 1, count = cycle and #cycle.list or 1,
    hidden = g.hidden == true,
  }
end

--- Draw the suggestion again if a menu hid it and it still fits the cursor (a menu closed).
function M.refresh()
  local g = state.ghost
  if g and api.nvim_buf_is_valid(g.bufnr) and in_insert() and key_of(g) == key_of(here()) then
    render.draw(g)
  end
end

-- A menu opened or closed: hide or bring back the ghost text once the menu has settled.
menu.watch(group, M.refresh)

function M.is_visible()
  return state.ghost ~= nil
end

--- Ghost text for `bufnr`: autocmds and insert-mode keys.
function M.attach(bufnr)
  if state.attached[bufnr] or not config.get().suggestion.enabled then
    return
  end
  state.attached[bufnr] = true
  api.nvim_create_autocmd({ "TextChangedI", "TextChangedP", "CursorMovedI" }, {
    group = group, buffer = bufnr, callback = on_change,
  })
  api.nvim_create_autocmd("InsertEnter", {
    group = group, buffer = bufnr,
    callback = function()
      menu.hook_cmp()
      request.schedule()
    end,
  })
  menu.attach(group, bufnr)
  api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    group = group, buffer = bufnr, callback = M.reset,
  })
  api.nvim_create_autocmd({ "BufUnload", "BufWipeout" }, {
    group = group, buffer = bufnr,
    callback = function()
      M.detach(bufnr)
    end,
  })
  keymaps.set(bufnr, M)
end

function M.detach(bufnr)
  if not state.attached[bufnr] then
    return
  end
  state.attached[bufnr] = nil
  if state.ghost and state.ghost.bufnr == bufnr then
    M.reset()
  end
  pcall(api.nvim_clear_autocmds, { group = group, buffer = bufnr })
  if api.nvim_buf_is_valid(bufnr) then
    keymaps.del(bufnr)
  end
end

function M.is_attached(bufnr)
  return state.attached[bufnr or api.nvim_get_current_buf()] == true
end

return M
