--- Ghost text: inline completions asked for while typing, drawn with extmarks, taken by keys.
local M = {}

local api = vim.api
local config = require("tandem.config")
local client_mod = require("tandem.client")
local position = require("tandem.position")

M.namespace = api.nvim_create_namespace("tandem.suggestion")
local ns = M.namespace
local group = api.nvim_create_augroup("tandem.suggestion", { clear = true })

-- InlineCompletionTriggerKind
M.INVOKED, M.AUTOMATIC = 1, 2

-- What is on screen, nil when nothing is: `bufnr`, `row`, `col` (where the ghost text
-- starts: the cursor), `text` (what accepting all inserts), `line_before`/`line_after`
-- (the cursor line around it), `tick` (b:changedtick), the server's `item`, `client_id`
-- and the suggestion `id` that events name.
local ghost = nil
-- The distinct suggestions seen at one cursor position, for next/prev: { key, list, index }.
local cycle = nil
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
local attached = {}
-- Suggestion ids already reported as shown.
local shown = {}

local function in_insert()
  return api.nvim_get_mode().mode:sub(1, 1) == "i"
end

-- Where the cursor is, with what identifies the text around it.
local function here()
  local bufnr = api.nvim_get_current_buf()
  local cur = api.nvim_win_get_cursor(0)
  local row, col = cur[1] - 1, cur[2]
  return {
    bufnr = bufnr, row = row, col = col,
    line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or "",
    tick = api.nvim_buf_get_changedtick(bufnr),
  }
end

local function key_of(h)
  return table.concat({ h.bufnr, h.row, h.col, h.tick }, ":")
end

local function suggestion_id(item)
  local cmd = item.command
  if type(cmd) == "table" and cmd.command == "tandem.didAccept" and type(cmd.arguments) == "table"
    and type(cmd.arguments[1]) == "string" then
    return cmd.arguments[1]
  end
end

-- tandem/suggestionEvent for the ghost `g`.
local function event(kind, g)
  if not (g and g.id) then
    return
  end
  local client = vim.lsp.get_client_by_id(g.client_id)
  if client then
    client_mod.notify(client, "tandem/suggestionEvent", { id = g.id, kind = kind })
  end
end

-- A completion menu is open: the built-in popup menu, nvim-cmp's or blink.cmp's (only
-- asked when that plugin is loaded already).
function M.menu_visible()
  if vim.fn.pumvisible() == 1 then
    return true
  end
  local cmp = package.loaded["cmp"]
  if type(cmp) == "table" and type(cmp.visible) == "function" then
    local ok, visible = pcall(cmp.visible)
    if ok and visible then
      return true
    end
  end
  local blink = package.loaded["blink.cmp"]
  if type(blink) == "table" then
    local fn = blink.is_menu_visible or blink.is_visible
    if type(fn) == "function" then
      local ok, visible = pcall(fn)
      if ok and visible then
        return true
      end
    end
  end
  return false
end

local function render(g)
  api.nvim_buf_clear_namespace(g.bufnr, ns, 0, -1)
  -- The menu and the ghost text both want <Tab>: while a menu is open, the menu has it.
  g.hidden = config.get().suggestion.hide_during_completion and M.menu_visible()
  if g.hidden then
    g.mark = nil
    return
  end
  local hl = config.get().suggestion.hl_group
  -- Virtual text is a C string: show a NUL as the buffer would (^@) instead of cutting there.
  local lines = vim.split(g.text:gsub("%z", "^@"), "\n", { plain = true })
  -- The rest of the cursor line goes inline; the following lines below it.
  local opts = { hl_mode = "combine", priority = 200 }
  if lines[1] ~= "" then
    opts.virt_text = { { lines[1], hl } }
    opts.virt_text_pos = "inline"
  end
  if #lines > 1 then
    opts.virt_lines = {}
    for i = 2, #lines do
      opts.virt_lines[#opts.virt_lines + 1] = { { lines[i], hl } }
    end
  end
  g.mark = api.nvim_buf_set_extmark(g.bufnr, ns, g.row, g.col, opts)
end

-- Take the ghost text off the screen; `kind` is the event to report for it (nil: none).
local function clear(kind)
  local g = ghost
  ghost = nil
  if g then
    if api.nvim_buf_is_valid(g.bufnr) then
      api.nvim_buf_clear_namespace(g.bufnr, ns, 0, -1)
    end
    if kind then
      event(kind, g)
    end
  end
end

local function cancel_inflight()
  if inflight then
    client_mod.cancel(inflight.client, inflight.id)
    inflight = nil
  end
end

local function stop_pending()
  pending = false
end

--- What the item would insert at the cursor `h`, or nil when it does not fit there.
--- A range starting before the cursor must cover text the item repeats (the user typed it).
local function display_text(item, h, encoding)
  local text = item.insertText
  if type(text) == "table" then
    text = text.value -- a snippet StringValue: shown and inserted as its text
  end
  if type(text) ~= "string" then
    return nil
  end
  local range = item.range
  if range then
    if range.start.line ~= h.row then
      return nil
    end
    local scol = position.byte_col(h.line, range.start.character, encoding)
    if scol > h.col then
      return nil
    end
    local typed = h.line:sub(scol + 1, h.col)
    if text:sub(1, #typed) ~= typed then
      return nil
    end
    text = text:sub(#typed + 1)
  end
  return text ~= "" and text or nil
end

local function show(index, h, client)
  local entry = cycle.list[index]
  cycle.index = index
  ghost = {
    bufnr = h.bufnr, row = h.row, col = h.col, text = entry.text, item = entry.item,
    client_id = client.id, id = suggestion_id(entry.item),
    line_before = h.line:sub(1, h.col), line_after = h.line:sub(h.col + 1), tick = h.tick,
  }
  render(ghost)
  if ghost.id and not shown[ghost.id] then
    if vim.tbl_count(shown) > 1000 then
      shown = {} -- old ids are never shown again: forget them
    end
    shown[ghost.id] = true
    event("shown", ghost)
  end
  api.nvim_exec_autocmds("User", { pattern = "TandemSuggestion", modeline = false,
    data = { text = ghost.text, id = ghost.id, index = index, count = #cycle.list } })
end

local function on_items(items, h, client, trigger)
  local key = key_of(h)
  if trigger == M.AUTOMATIC or not cycle or cycle.key ~= key then
    cycle = { key = key, list = {}, index = 0 }
  end
  local first_new
  for _, item in ipairs(items) do
    local text = display_text(item, h, client.offset_encoding or "utf-16")
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
  show(first_new or (cycle.index % #cycle.list) + 1, h, client)
end

--- Ask the server for a suggestion at the cursor (cancelling the one in flight).
---@param trigger integer|nil M.INVOKED (default) or M.AUTOMATIC
function M.request(trigger)
  trigger = trigger or M.INVOKED
  local h = here()
  if not attached[h.bufnr] then
    return
  end
  local client = client_mod.get(h.bufnr, true)
  if not client then
    return
  end
  cancel_inflight()
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
        M.request(trigger) -- asked while the model was still loading
      end
      return
    end
    empty_at, retry_key = nil, nil
    on_items(items, h, client, trigger)
  end, h.bufnr)
  if id then
    inflight = { client = client, id = id, seq = mine, key = key }
  end
end

--- The model of client `client_id` is loaded: a suggestion asked for while it loaded came back
--- empty, so if the user is still in insert mode at that place, ask again (once). A server that
--- holds requests until the model is ready answers the one in flight by itself.
function M.model_ready(client_id)
  if not in_insert() or ghost then
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
    M.request(last.trigger)
  end
end

-- One automatic request at the end of this tick: the events of one keystroke (TextChangedI,
-- CursorMovedI) make one request. The server waits its `completion.debounceMs` of quiet before
-- asking the model, and a newer request cancels this one: no delay of our own.
local function schedule()
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
      M.request(M.AUTOMATIC)
    end
  end)
end

-- The user typed on: keep what they typed ahead of the ghost text, else let it go.
-- Returns "trimmed", "typed" (all of it was typed) or nil (the change does not match).
local function trim(g, h)
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
  cycle = { key = key_of(h), list = { { item = g.item, text = g.text } }, index = 1 }
  render(g)
  return "trimmed"
end

local function on_change()
  if not in_insert() then
    return
  end
  local h = here()
  local g = ghost
  if g then
    if key_of(g) == key_of(h) then
      return -- nothing moved (another event for a change we already handled)
    end
    local how = trim(g, h)
    if how == "trimmed" then
      return
    end
    clear(how == nil and "rejected" or nil)
  end
  cancel_inflight()
  schedule()
end

--- Drop the suggestion and anything pending (leaving insert mode, switching buffers).
function M.reset()
  stop_pending()
  cancel_inflight()
  clear("rejected")
  cycle = nil
end

--- Insert all, the next word or the next line of the suggestion.
---@param kind "all"|"word"|"line"|nil
---@return boolean accepted false when no suggestion is shown at the cursor
function M.accept(kind)
  local g = ghost
  if not g or g.hidden or key_of(g) ~= key_of(here()) then
    return false
  end
  local part = g.text
  if kind == "word" then
    part = g.text:match("^%s*[%w_]+") or g.text:match("^%s*[^%w_%s]+") or g.text:match("^%s+") or g.text
  elseif kind == "line" then
    part = g.text:match("^\n?[^\n]*")
  end
  stop_pending()
  cancel_inflight()
  local lines = vim.split(part, "\n", { plain = true })
  api.nvim_buf_set_text(g.bufnr, g.row, g.col, g.row, g.col, lines)
  local row = g.row + #lines - 1
  local col = (#lines == 1 and g.col or 0) + #lines[#lines]
  api.nvim_win_set_cursor(0, { row + 1, col })
  local rest = g.text:sub(#part + 1)
  if rest == "" then
    clear(nil)
    cycle = nil
    -- The item's command (tandem.didAccept) is what counts the acceptance on the server.
    local cmd = g.item.command
    local client = vim.lsp.get_client_by_id(g.client_id)
    if client and type(cmd) == "table" and cmd.command then
      client_mod.execute(client, cmd.command, cmd.arguments, nil, g.bufnr)
    end
    api.nvim_exec_autocmds("User", { pattern = "TandemAccepted", modeline = false, data = { id = g.id } })
  else
    event("partiallyAccepted", g)
    local h = here()
    g.row, g.col, g.text, g.tick = h.row, h.col, rest, h.tick
    g.line_before, g.line_after = h.line:sub(1, h.col), h.line:sub(h.col + 1)
    cycle = { key = key_of(h), list = { { item = g.item, text = rest } }, index = 1 }
    render(g)
  end
  return true
end

--- Hide the suggestion (reported as rejected). False when none was shown.
function M.dismiss()
  if ghost and ghost.hidden then
    return false -- the key is the menu's while it is open
  end
  stop_pending()
  cancel_inflight()
  local had = ghost ~= nil
  clear("rejected")
  return had
end

--- Show the next suggestion for this position, asking the server (Invoked) for one more.
--- With nothing shown, this asks for a suggestion now.
function M.next()
  local h = here()
  if ghost and cycle and cycle.key == key_of(h) and cycle.index < #cycle.list then
    local client = vim.lsp.get_client_by_id(ghost.client_id)
    if client then
      show(cycle.index + 1, h, client)
      return true
    end
  end
  stop_pending()
  M.request(M.INVOKED)
  return true
end

--- Show the previous suggestion seen at this position.
function M.prev()
  local h = here()
  if ghost and cycle and cycle.key == key_of(h) and #cycle.list > 1 then
    local client = vim.lsp.get_client_by_id(ghost.client_id)
    if client then
      show((cycle.index - 2) % #cycle.list + 1, h, client)
    end
  end
  return true
end

--- The suggestion on screen: { text, row, col, id, bufnr, index, count, hidden }, or nil.
--- `hidden`: a completion menu is open, the ghost text comes back when it closes.
function M.current()
  if not ghost then
    return nil
  end
  return {
    text = ghost.text, row = ghost.row, col = ghost.col, id = ghost.id, bufnr = ghost.bufnr,
    index = cycle and cycle.index or 1, count = cycle and #cycle.list or 1,
    hidden = ghost.hidden == true,
  }
end

--- Draw the suggestion again if a menu hid it and it still fits the cursor (a menu closed).
function M.refresh()
  local g = ghost
  if g and api.nvim_buf_is_valid(g.bufnr) and in_insert() and key_of(g) == key_of(here()) then
    render(g)
  end
end

-- A menu opened or closed: hide or bring back the ghost text once the menu has settled.
local function on_menu()
  vim.schedule(M.refresh)
end

-- blink.cmp announces its menu with User autocommands.
api.nvim_create_autocmd("User", {
  group = group, pattern = { "BlinkCmpMenuOpen", "BlinkCmpMenuClose" }, callback = on_menu,
})

local cmp_hooked = false
-- nvim-cmp tells its listeners when its menu opens and closes (only if it is loaded).
local function hook_cmp()
  local cmp = package.loaded["cmp"]
  if cmp_hooked or type(cmp) ~= "table" or type(cmp.event) ~= "table" then
    return
  end
  cmp_hooked = true
  pcall(function()
    cmp.event:on("menu_opened", on_menu)
    cmp.event:on("menu_closed", on_menu)
  end)
end

function M.is_visible()
  return ghost ~= nil
end

local function feed(keys, mode)
  api.nvim_feedkeys(api.nvim_replace_termcodes(keys, true, false, true), mode or "ni", false)
end

-- What `lhs` did before Tandem mapped it: another plugin's insert-mode mapping, else the key.
local function fallback_for(bufnr, lhs)
  local prev = api.nvim_buf_call(bufnr, function()
    return vim.fn.maparg(lhs, "i", false, true)
  end)
  if type(prev) ~= "table" or vim.tbl_isempty(prev) or (prev.desc or ""):find("^Tandem: ") then
    return function()
      feed(lhs)
    end
  end
  return function()
    local ok, keys = true, prev.rhs
    if prev.callback then
      ok, keys = pcall(prev.callback)
      if prev.expr ~= 1 then
        return
      end
    elseif prev.expr == 1 then
      ok, keys = pcall(api.nvim_eval, prev.rhs)
    end
    if not ok then
      keys = lhs
    end
    if type(keys) == "string" and keys ~= "" then
      feed(keys, prev.noremap == 1 and "ni" or "mi")
    end
  end
end

local ACTIONS = {
  accept = { function() return M.accept("all") end, "accept suggestion" },
  accept_word = { function() return M.accept("word") end, "accept next word of suggestion" },
  accept_line = { function() return M.accept("line") end, "accept next line of suggestion" },
  dismiss = { M.dismiss, "dismiss suggestion" },
  next = { M.next, "next suggestion" },
  prev = { M.prev, "previous suggestion" },
}

--- Ghost text for `bufnr`: autocmds and insert-mode keys.
function M.attach(bufnr)
  if attached[bufnr] or not config.get().suggestion.enabled then
    return
  end
  attached[bufnr] = true
  api.nvim_create_autocmd({ "TextChangedI", "TextChangedP", "CursorMovedI" }, {
    group = group, buffer = bufnr, callback = on_change,
  })
  api.nvim_create_autocmd("InsertEnter", {
    group = group, buffer = bufnr,
    callback = function()
      hook_cmp()
      schedule()
    end,
  })
  -- The built-in popup menu: shown/changed, then done (accepted, dismissed or abandoned).
  api.nvim_create_autocmd({ "CompleteChanged", "CompleteDone" }, {
    group = group, buffer = bufnr, callback = on_menu,
  })
  api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    group = group, buffer = bufnr, callback = M.reset,
  })
  api.nvim_create_autocmd({ "BufUnload", "BufWipeout" }, {
    group = group, buffer = bufnr,
    callback = function()
      M.detach(bufnr)
    end,
  })
  for name, keys in pairs(config.get().suggestion.keymaps) do
    local action = ACTIONS[name]
    for _, lhs in ipairs(action and config.keys(keys) or {}) do
      local fallback = fallback_for(bufnr, lhs)
      vim.keymap.set("i", lhs, function()
        if not action[1]() then
          fallback() -- nothing to act on: the key does what it did before
        end
      end, { buffer = bufnr, silent = true, desc = "Tandem: " .. action[2] })
    end
  end
end

function M.detach(bufnr)
  if not attached[bufnr] then
    return
  end
  attached[bufnr] = nil
  if ghost and ghost.bufnr == bufnr then
    M.reset()
  end
  pcall(api.nvim_clear_autocmds, { group = group, buffer = bufnr })
  if api.nvim_buf_is_valid(bufnr) then
    for name, keys in pairs(config.get().suggestion.keymaps) do
      for _, lhs in ipairs(ACTIONS[name] and config.keys(keys) or {}) do
        pcall(vim.keymap.del, "i", lhs, { buffer = bufnr })
      end
    end
  end
end

function M.is_attached(bufnr)
  return attached[bufnr or api.nvim_get_current_buf()] == true
end

return M
