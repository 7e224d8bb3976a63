--- The suggestion on screen: showing one of those seen at the cursor, keeping it while the user
--- types it, taking it off, and the tandem/suggestionEvent each of these sends.
local M = {}

local api = vim.api
local client_mod = require("tandem.client")
local protocol = require("tandem.protocol")
local render = require("tandem.suggestion.render")
local state = require("tandem.suggestion.state")

-- Suggestion ids already reported as shown.
local shown = {}

local function suggestion_id(item)
  local cmd = item.command
  if type(cmd) == "table" and cmd.command == protocol.CMD_ACCEPTED and type(cmd.arguments) == "table"
    and type(cmd.arguments[1]) == "string" then
    return cmd.arguments[1]
  end
end

--- A tandem/suggestionEvent of `kind` (protocol.EVENT_KINDS) for the ghost `g`.
function M.event(kind, g)
  if not (g and g.id) then
    return
  end
  local client = vim.lsp.get_client_by_id(g.client_id)
  if client then
    client_mod.notify(client, protocol.SUGGESTION_EVENT, { id = g.id, kind = kind })
  end
end

--- Take the ghost text off the screen; `kind` is the event to report for it (nil: none).
function M.clear(kind)
  local g = state.ghost
  state.ghost = nil
  if g then
    if api.nvim_buf_is_valid(g.bufnr) then
      render.erase(g.bufnr)
    end
    if kind then
      M.event(kind, g)
    end
  end
end

--- Show entry `index` of the cycle at the cursor `h`, from `client`.
function M.show(index, h, client)
  local cycle = state.cycle
  local entry = cycle.list[index]
  cycle.index = index
  local ghost = {
    bufnr = h.bufnr, row = h.row, col = h.col, text = entry.text, item = entry.item,
    client_id = client.id, id = suggestion_id(entry.item),
    line_before = h.line:sub(1, h.col), line_after = h.line:sub(h.col + 1), tick = h.tick,
  }
  state.ghost = ghost
  render.draw(ghost)
  if ghost.id and not shown[ghost.id] then
    if vim.tbl_count(shown) > 1000 then
      shown = {} -- old ids are never shown again: forget them
    end
    shown[ghost.id] = true
    M.event(protocol.EVENT_KINDS.SHOWN, ghost)
  end
  api.nvim_exec_autocmds("User", { pattern = "TandemSuggestion", modeline = false,
    data = { text = ghost.text, id = ghost.id, index = index, count = #cycle.list } })
end

--- The server's `items` for the cursor `h`: add the ones not seen there yet to the cycle (a new
--- cycle for an automatic request or a new place) and show the first new one.
function M.add(items, h, client, trigger)
  local key = state.key_of(h)
  if trigger == state.AUTOMATIC or not state.cycle or state.cycle.key ~= key then
    state.cycle = { key = key, list = {}, index = 0 }
  end
  local cycle = state.cycle
  local first_new
  for _, item in ipairs(items) do
    local text = render.text(item, h, client.offset_encoding or "utf-16")
    local seen = text == nil
    for _, e in ipairs(cycle.list) do
      seen = seen or e.text == text
    end
    if not seen then
      cycle.list[#cycle.list + 1] = { item = item, text = text }
      first_new = first_new or #cycle.list
    end
  end
  if #cycle.list == 0 then
    return
  end
  -- Nothing new (the server gave the same again): move on to the next one we have.
  M.show(first_new or (cycle.index % #cycle.list) + 1, h, client)
end

--- The user typed on: keep what they typed ahead of the ghost text, else let it go.
--- Returns "trimmed", "typed" (all of it was typed) or nil (the change does not match).
function M.trim(g, h)
  if g.bufnr ~= h.bufnr or g.row ~= h.row or h.col < g.col then
    return nil
  end
  if h.line:sub(1, g.col) ~= g.line_before or h.line:sub(h.col + 1) ~= g.line_after then
    return nil
  end
  local typed = h.line:sub(g.col + 1, h.col)
  if typed == "" or g.text:sub(1, #typed) ~= typed then
    return nil
  end
  if #typed == #g.text then
    return "typed"
  end
  g.text = g.text:sub(#typed + 1)
  g.col, g.line_before, g.tick = h.col, h.line:sub(1, h.col), h.tick
  state.cycle = { key = state.key_of(h), list = { { item = g.item, text = g.text } }, index = 1 }
  render.draw(g)
  return "trimmed"
end

return M
