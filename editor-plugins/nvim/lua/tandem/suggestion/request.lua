--- Asking the server for suggestions: one request in flight (a newer one cancels it), one
--- automatic request per keystroke, and asking again once the model has loaded.
local M = {}

local client_mod = require("tandem.client")
local config = require("tandem.config")
local ghost = require("tandem.suggestion.ghost")
local position = require("tandem.position")
local state = require("tandem.suggestion.state")

local here, key_of, in_insert = state.here, state.key_of, state.in_insert

-- The request in flight: { client, id, seq, key }.
local inflight = nil
local seq = 0
-- An automatic request is scheduled for the end of this event-loop tick (one per tick).
local pending = false
-- The last request that came back empty, and where: { key, trigger, client_id }. While the
-- model loads the server answers nothing; once it is ready this place is asked again.
local empty_at = nil
-- The model became ready while a request was in flight: ask again if it answers empty.
local retry_key = nil

--- Cancel the request in flight, if any.
function M.cancel()
  if inflight then
    client_mod.cancel(inflight.client, inflight.id)
    inflight = nil
  end
end

--- Drop the automatic request scheduled for the end of this tick, if any.
function M.stop_pending()
  pending = false
end

--- Ask the server for a suggestion at the cursor (cancelling the one in flight); what it
--- answers is shown (ghost.add) if the cursor and the text are still where they were.
---@param trigger integer|nil state.INVOKED (default) or state.AUTOMATIC
function M.send(trigger)
  trigger = trigger or state.INVOKED
  local h = here()
  if not state.attached[h.bufnr] then
    return
  end
  local client = client_mod.get(h.bufnr, true)
  if not client then
    return
  end
  M.cancel()
  local encoding = client.offset_encoding or "utf-16"
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(h.bufnr) },
    position = { line = h.row, character = position.character(h.line, h.col, encoding) },
    context = { triggerKind = trigger },
  }
  seq = seq + 1
  local mine = seq
  local key = key_of(h)
  local id = client_mod.request(client, "textDocument/inlineCompletion", params, function(err, result)
    if not inflight or inflight.seq ~= mine then
      return -- superseded
    end
    inflight = nil
    if err then
      require("vim.lsp.log").warn("tandem: inlineCompletion failed", err)
      return
    end
    local now = here()
    if not in_insert() or key_of(now) ~= key then
      return -- the cursor or the text moved on while we waited
    end
    local items = type(result) == "table" and (result.items or result) or {}
    if #items == 0 then
      empty_at = { key = key, trigger = trigger, client_id = client.id }
      if retry_key == key then
        retry_key = nil
        M.send(trigger) -- asked while the model was still loading
      end
      return
    end
    empty_at, retry_key = nil, nil
    ghost.add(items, h, client, trigger)
  end, h.bufnr)
  if id then
    inflight = { client = client, id = id, seq = mine, key = key }
  end
end

--- The model of client `client_id` is loaded: a suggestion asked for while it loaded came back
--- empty, so if the user is still in insert mode at that place, ask again (once). A server that
--- holds requests until the model is ready answers the one in flight by itself.
function M.model_ready(client_id)
  if not in_insert() or state.ghost then
    return
  end
  local key = key_of(here())
  if inflight then
    if inflight.client.id == client_id and inflight.key == key then
      retry_key = key
    end
    return
  end
  local last = empty_at
  if last and last.client_id == client_id and last.key == key then
    empty_at = nil
    M.send(last.trigger)
  end
end

--- One automatic request at the end of this tick: the events of one keystroke (TextChangedI,
--- CursorMovedI) make one request. The server waits its `completion.debounceMs` of quiet before
--- asking the model, and a newer request cancels this one: no delay of our own.
function M.schedule()
  local opts = config.get().suggestion
  if not (opts.enabled and opts.auto_trigger) or vim.b.tandem_disabled or pending then
    return
  end
  pending = true
  vim.schedule(function()
    if not pending then
      return -- dropped meanwhile (insert mode left, accepted, dismissed)
    end
    pending = false
    if in_insert() then
      M.send(state.AUTOMATIC)
    end
  end)
end

return M
