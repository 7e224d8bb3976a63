--- Edit by instruction: `tandem/edit` for a range, its answer shown as a diff in the buffer
--- (render.lua) until accepted (the server's TextEdits applied, one undo step) or rejected. One
--- edit per buffer; a change to the buffer drops it (and cancels it while it runs).
local M = {}

local api = vim.api
local client_mod = require("tandem.client")
local config = require("tandem.config")
local diff = require("tandem.edit.diff")
local progress = require("tandem.progress")
local protocol = require("tandem.protocol")
local render = require("tandem.edit.render")

-- JSON-RPC error codes `tandem/edit` answers with (docs/lsp.md).
M.ERRORS = {
  INVALID_PARAMS = -32602,
  REQUEST_CANCELLED = -32800,
  CONTENT_MODIFIED = -32801,
  CANNOT_CHAT = -32001,
}

-- bufnr -> the edit of that buffer:
-- { bufnr, client, id, edit_id, tick, range, instruction, where, chars, phase = "running" | "pending",
--   result, hunks, keys = { lhs -> the buffer's own mapping it shadows (or false) } }
local edits = {}
local seq = 0

local function notify(msg, level)
  require("tandem.notice").notify("Tandem: " .. msg, level or vim.log.levels.INFO)
end

local function event(name, data)
  api.nvim_exec_autocmds("User", { pattern = name, modeline = false, data = data })
end

local function where(bufnr, range)
  return require("tandem.chat").where(bufnr, range)
end

--- The buffer-local keys while a proposal is pending (`edit.keymaps`), and what they shadow.
local KEY_ACTIONS = {
  accept = { function(bufnr) M.accept(bufnr) end, "accept the edit" },
  reject = { function(bufnr) M.reject(bufnr) end, "reject the edit" },
}

local function map_keys(e)
  e.keys = {}
  for name, keys in pairs(config.get().edit.keymaps) do
    local action = KEY_ACTIONS[name]
    for _, lhs in ipairs(action and config.keys(keys) or {}) do
      local prev = api.nvim_buf_call(e.bufnr, function()
        return vim.fn.maparg(lhs, "n", false, true)
      end)
      e.keys[lhs] = (type(prev) == "table" and prev.buffer == 1) and prev or false
      vim.keymap.set("n", lhs, function()
        action[1](e.bufnr)
      end, { buffer = e.bufnr, nowait = true, silent = true, desc = "Tandem: " .. action[2] })
    end
  end
end

local function unmap_keys(e)
  if not (e.keys and api.nvim_buf_is_valid(e.bufnr)) then
    return
  end
  for lhs, prev in pairs(e.keys) do
    pcall(vim.keymap.del, "n", lhs, { buffer = e.bufnr })
    if prev then
      api.nvim_buf_call(e.bufnr, function()
        pcall(vim.fn.mapset, "n", false, prev) -- the buffer's own mapping comes back
      end)
    end
  end
  e.keys = nil
end

-- Forget edit `e` (cancelling its request while it runs) and take its diff off the buffer.
local function clear(e)
  if edits[e.bufnr] ~= e then
    return
  end
  edits[e.bufnr] = nil
  client_mod.on_edit_chunk(e.edit_id, nil)
  if e.phase == "running" then
    client_mod.cancel(e.client, e.id)
  end
  progress.task_done(e.edit_id)
  render.erase(e.bufnr)
  unmap_keys(e)
end

local function hint()
  local km = config.get().edit.keymaps
  local function key(name)
    local k = config.keys(km[name])[1]
    return k and (k .. " ") or ""
  end
  return string.format("Tandem: %saccept (:TandemEditAccept) · %sreject (:TandemEditReject)",
    key("accept"), key("reject"))
end

-- Drop `e` because its buffer changed (or went away).
local function drop(e, why)
  if edits[e.bufnr] ~= e then
    return
  end
  local running = e.phase == "running"
  clear(e)
  notify((running and "edit cancelled: " or "edit proposal dropped: ") .. why, vim.log.levels.WARN)
  event("TandemEditDone", { bufnr = e.bufnr, editId = e.edit_id, dropped = true })
end

-- Any change to the buffer ends its edit: the proposal's positions are the old text's.
local function watch(e)
  api.nvim_buf_attach(e.bufnr, false, {
    on_lines = function(_, bufnr, tick)
      if edits[bufnr] ~= e then
        return true -- detach: this edit is over
      end
      if tick ~= e.tick and not e.applying then
        vim.schedule(function()
          drop(e, "the buffer changed")
        end)
        return true
      end
    end,
    on_detach = function()
      vim.schedule(function()
        drop(e, "the buffer was unloaded")
      end)
    end,
  })
end

local function error_text(err)
  local code, msg = type(err) == "table" and err.code, client_mod.error_message(err)
  if code == M.ERRORS.CONTENT_MODIFIED then
    return "the buffer changed while the edit ran; run :TandemEdit again", vim.log.levels.WARN
  elseif code == M.ERRORS.CANNOT_CHAT then
    return msg, vim.log.levels.ERROR
  elseif code == M.ERRORS.INVALID_PARAMS then
    return "cannot edit: " .. msg, vim.log.levels.ERROR
  end
  return "edit failed: " .. msg, vim.log.levels.ERROR
end

local function finish(e, err, result)
  if edits[e.bufnr] ~= e or e.phase ~= "running" then
    return -- dropped or replaced meanwhile
  end
  e.phase = "done"
  if err or type(result) ~= "table" then
    clear(e)
    if type(err) == "table" and err.code == M.ERRORS.REQUEST_CANCELLED then
      return
    end
    local msg, level = error_text(err or { message = "no answer" })
    notify(msg, level)
    event("TandemEditDone", { bufnr = e.bufnr, editId = e.edit_id, error = msg, code = type(err) == "table" and err.code or nil })
    return
  end
  if api.nvim_buf_get_changedtick(e.bufnr) ~= e.tick then
    drop(e, "the buffer changed")
    return
  end
  local lines = api.nvim_buf_get_lines(e.bufnr, 0, -1, false)
  local hunks = diff.hunks(lines, result.edits or {}, e.client.offset_encoding or "utf-16")
  if #hunks == 0 then
    clear(e)
    notify("no change proposed for " .. e.where)
    event("TandemEditDone", { bufnr = e.bufnr, editId = e.edit_id, unchanged = true })
    return
  end
  e.phase, e.result, e.hunks = "pending", result, hunks
  progress.task_done(e.edit_id, nil)
  render.draw(e.bufnr, hunks, hint())
  map_keys(e)
  local removed, added = 0, 0
  for _, h in ipairs(hunks) do
    removed, added = removed + #h.removed, added + #h.added
  end
  local keys = hint():gsub("^Tandem: ", "")
  require("tandem.notice").echo(string.format("Tandem: %s: +%d -%d lines; %s", e.where, added, removed, keys),
    vim.log.levels.INFO, false)
  event("TandemEditProposed", { bufnr = e.bufnr, editId = e.edit_id, hunks = hunks })
end

--- Ask the server to rewrite `opts.range` (an LSP Range; nil: the cursor line) of `opts.bufnr`
--- by `instruction`; the answer is shown as a diff to accept or reject. Replaces the buffer's
--- edit in progress or pending.
---@param instruction string
---@param opts {bufnr: integer|nil, range: table|nil}|nil
---@return string|nil edit_id
function M.start(instruction, opts)
  opts = opts or {}
  local bufnr = (opts.bufnr == nil or opts.bufnr == 0) and api.nvim_get_current_buf() or opts.bufnr
  instruction = vim.trim(instruction or "")
  if instruction == "" then
    notify("an edit needs an instruction, e.g. :TandemEdit add error handling", vim.log.levels.WARN)
    return nil
  end
  local client = client_mod.get(bufnr, true)
  if not client then
    notify("no tandem-lsp attached to this buffer; open a file of a Tandem filetype", vim.log.levels.ERROR)
    return nil
  end
  if edits[bufnr] then
    clear(edits[bufnr])
  end
  local encoding = client.offset_encoding or "utf-16"
  local range = opts.range
  if not range then
    local row = api.nvim_win_get_cursor(0)[1] - 1
    local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
    range = require("tandem.position").range(bufnr, row, 0, row, #line, encoding)
  end
  seq = seq + 1
  local e = {
    bufnr = bufnr, client = client, edit_id = string.format("nvim-%d-%d", vim.fn.getpid(), seq),
    tick = api.nvim_buf_get_changedtick(bufnr), range = range, instruction = instruction,
    where = where(bufnr, range), chars = 0, phase = "running",
  }
  edits[bufnr] = e
  watch(e)
  progress.task(e.edit_id, "Tandem: editing " .. e.where .. "…")
  client_mod.on_edit_chunk(e.edit_id, function(chunk)
    if edits[bufnr] == e and e.phase == "running" and type(chunk.text) == "string" then
      e.chars = e.chars + #chunk.text
      progress.task(e.edit_id, string.format("Tandem: editing %s… (%d character%s)", e.where, e.chars,
        e.chars == 1 and "" or "s"))
    end
  end)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = range,
    instruction = instruction,
    -- The version the server has (Neovim's, flushed before a request for the buffer): a
    -- mismatch is the server's contentModified, never a stale edit.
    version = (vim.lsp.util.buf_versions or {})[bufnr],
    editId = e.edit_id,
    stream = true,
  }
  e.id = client_mod.request(client, protocol.EDIT, params, function(err, result)
    finish(e, err, result)
  end, bufnr)
  if not e.id then
    finish(e, { message = "the server is not running" })
    return nil
  end
  event("TandemEditStarted", { bufnr = bufnr, editId = e.edit_id, range = range })
  return e.edit_id
end

--- Apply the pending proposal of `bufnr` (the current buffer): the server's TextEdits, in one
--- undo step. False when there is none.
function M.accept(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local e = edits[bufnr]
  if not e or e.phase ~= "pending" then
    notify("no edit proposal to accept here", vim.log.levels.WARN)
    return false
  end
  if api.nvim_buf_get_changedtick(bufnr) ~= e.tick then
    drop(e, "the buffer changed")
    return false
  end
  e.applying = true
  clear(e)
  -- A new undo step, so `u` takes back exactly this edit (not joined to an earlier change).
  api.nvim_buf_call(bufnr, function()
    vim.cmd("let &l:undolevels = &l:undolevels")
  end)
  vim.lsp.util.apply_text_edits(e.result.edits, bufnr, e.client.offset_encoding or "utf-16")
  e.applying = false
  event("TandemEditDone", { bufnr = bufnr, editId = e.edit_id, accepted = true })
  return true
end

--- Drop the edit of `bufnr` (the current buffer): the pending proposal, or the request still
--- running (cancelled on the server and the model host). False when there is none.
function M.reject(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local e = edits[bufnr]
  if not e then
    notify("no edit to reject here", vim.log.levels.WARN)
    return false
  end
  local running = e.phase == "running"
  clear(e)
  event("TandemEditDone", { bufnr = bufnr, editId = e.edit_id, rejected = true, cancelled = running })
  return true
end

--- The edit of `bufnr` (current buffer): { edit_id, phase, range, instruction, hunks, result,
--- marks, chars } or nil. `marks` is what is drawn (render.marks), `chars` how much has streamed.
function M.current(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local e = edits[bufnr]
  if not e then
    return nil
  end
  return {
    edit_id = e.edit_id, phase = e.phase, range = e.range, instruction = e.instruction,
    hunks = e.hunks, result = e.result, marks = render.marks(bufnr), chars = e.chars,
  }
end

--- The `tandem.edit` command of a code action, run here: with an instruction or a preset it
--- goes to the server (which applies the edit itself); "Tandem: Edit…" has neither, so the
--- user is asked for one and the edit is shown as a diff like `:TandemEdit`'s.
function M.code_action(command, ctx)
  local arg = type(command.arguments) == "table" and command.arguments[1] or nil
  local client = ctx and vim.lsp.get_client_by_id(ctx.client_id)
  if type(arg) ~= "table" or not client then
    return
  end
  if (type(arg.instruction) == "string" and arg.instruction ~= "") or arg.preset then
    client_mod.execute(client, command.command, command.arguments, function(err)
      if err then
        local msg, level = error_text(err)
        notify(msg, level)
      end
    end, ctx.bufnr)
    return
  end
  local bufnr = type(arg.uri) == "string" and vim.uri_to_bufnr(arg.uri) or ctx.bufnr
  vim.ui.input({ prompt = "Tandem: edit " .. where(bufnr, arg.range) .. ": " }, function(instruction)
    if instruction and vim.trim(instruction) ~= "" then
      M.start(instruction, { bufnr = bufnr, range = arg.range })
    end
  end)
end

return M
