-- :TandemEdit against the stand-in host's scripted rewrites: the proposal drawn as a diff,
-- accepted (one undo step), rejected, taken by the buffer-local keys, on a range, dropped by a
-- change to the buffer (pending or still running).
local H = require("harness")
local api = vim.api
local edit = require("tandem.edit")

local LINES = {
  "def add(a, b):",
  "    return a + b",
  "",
  "",
  "def sub(a, b):",
  "    return a - b",
}

-- The last tandem/edit request (with its answer once it came).
local function last_edit_request()
  local reqs = H.requests_for("tandem/edit")
  return reqs[#reqs]
end

-- Run `cmd` and wait until the edit it starts is pending (or over); returns what was seen.
local function propose(buf, cmd)
  local n = #H.requests_for("tandem/edit")
  vim.cmd(cmd)
  H.wait(function()
    return #H.requests_for("tandem/edit") > n
  end, 2000, "the tandem/edit request of " .. cmd)
  local req = last_edit_request()
  H.wait(function()
    return req.answered
  end, 20000, "the answer to " .. cmd)
  H.sleep(50)
  local cur = edit.current(buf)
  return {
    params = req.params, err = req.err, result = req.result,
    phase = cur and cur.phase or vim.NIL, marks = cur and cur.marks or vim.NIL,
    hunks = cur and cur.hunks or vim.NIL, chars = cur and cur.chars or vim.NIL,
    keys = {
      accept = vim.fn.maparg("ga", "n", false, true).desc or vim.NIL,
      reject = vim.fn.maparg("gr", "n", false, true).desc or vim.NIL,
    },
    statusline_after = require("tandem").statusline(),
  }
end

local function events_since(n)
  return vim.list_slice(H.edit_events, n + 1)
end

H.run(function()
  H.edit_events = {}
  api.nvim_create_autocmd("User", {
    pattern = { "TandemEditStarted", "TandemEditProposed", "TandemEditDone" },
    callback = function(args)
      local data = vim.deepcopy(args.data or {})
      data.hunks = nil
      data.range = nil
      table.insert(H.edit_events, { event = args.match, data = data })
    end,
  })
  -- The edit options are validated like the others.
  local _, problems = require("tandem.config").setup({ edit = { keymaps = { accept = 1, rejct = "x" } } })
  H.result.option_problems = problems
  H.setup({ settings = { chat = { maxTokens = 512 } } })
  H.result.commands = vim.tbl_keys(api.nvim_get_commands({}))
  local buf = H.open("add.py", LINES)
  local client = require("tandem.client").get(buf, true)
  H.record(client)
  H.result.uri = vim.uri_from_bufnr(buf)
  H.result.encoding = client.offset_encoding
  H.result.capabilities = client.config.capabilities.experimental

  -- Accept with the command, then one `u` brings the original back.
  H.result.before = H.lines(buf)
  H.result.accepted = propose(buf, "1,2TandemEdit add a docstring")
  vim.cmd("TandemEditAccept")
  H.result.after_accept = H.lines(buf)
  H.result.marks_after_accept = #api.nvim_buf_get_extmarks(buf, require("tandem.edit.render").namespace, 0, -1, {})
  H.result.current_after_accept = edit.current(buf) or vim.NIL
  H.result.keys_after_accept = vim.fn.maparg("ga", "n", false, true).desc or vim.NIL
  vim.cmd("normal! u")
  H.result.after_undo = H.lines(buf)

  -- Reject: the buffer is untouched, the marks and keys are gone.
  H.result.rejected = propose(buf, "1,2TandemEdit add a docstring")
  local tick = api.nvim_buf_get_changedtick(buf)
  vim.cmd("TandemEditReject")
  H.result.after_reject = H.lines(buf)
  H.result.tick_unchanged = api.nvim_buf_get_changedtick(buf) == tick
  H.result.marks_after_reject = #api.nvim_buf_get_extmarks(buf, require("tandem.edit.render").namespace, 0, -1, {})
  H.result.keys_after_reject = vim.fn.maparg("ga", "n", false, true).desc or vim.NIL

  -- The buffer-local key accepts (typed as a user would).
  H.result.by_key = propose(buf, "1,2TandemEdit add a docstring")
  H.feed("ga", "mx")
  H.result.after_key = H.lines(buf)
  vim.cmd("normal! u")
  H.result.after_key_undo = H.lines(buf)

  -- A range further down: only those lines are sent and changed.
  H.result.ranged = propose(buf, "5,6TandemEdit negate the difference")
  vim.cmd("TandemEditAccept")
  H.result.after_ranged = H.lines(buf)
  vim.cmd("normal! u")

  -- A change to the buffer while the proposal is pending drops it.
  local n = #H.edit_events
  H.result.changed = propose(buf, "1,2TandemEdit add a docstring")
  api.nvim_buf_set_lines(buf, 2, 2, false, { "# a comment" })
  H.wait(function()
    return edit.current(buf) == nil
  end, 2000, "the proposal to be dropped")
  H.result.after_change = H.lines(buf)
  H.result.marks_after_change = #api.nvim_buf_get_extmarks(buf, require("tandem.edit.render").namespace, 0, -1, {})
  H.result.change_events = events_since(n)
  vim.cmd("normal! u")

  -- A change while the edit is still running cancels it (the request and the generation).
  n = #H.edit_events
  local before_slow = #H.requests_for("tandem/edit")
  vim.cmd("1,2TandemEdit slowly add a docstring")
  H.wait(function()
    return #H.requests_for("tandem/edit") > before_slow and edit.current(buf)
      and (edit.current(buf).chars or 0) > 0
  end, 10000, "the slow edit to stream")
  H.result.running_statusline = require("tandem").statusline()
  api.nvim_buf_set_lines(buf, 2, 2, false, { "# typed meanwhile" })
  H.wait(function()
    return edit.current(buf) == nil
  end, 2000, "the running edit to be dropped")
  local slow = last_edit_request()
  H.sleep(500)
  H.result.slow = { answered = slow.answered == true, result = slow.result or vim.NIL }
  H.result.running_events = events_since(n)
  H.result.statusline_after_drop = require("tandem").statusline()
  vim.cmd("normal! u")

  -- A version the server does not have: its contentModified is one warning, nothing drawn.
  n = #H.edit_events
  local versions = vim.lsp.util.buf_versions
  local version = versions[buf]
  versions[buf] = version + 1000
  vim.cmd("1,2TandemEdit add a docstring")
  versions[buf] = version
  H.wait(function()
    local last = H.edit_events[#H.edit_events]
    return #H.edit_events > n and last.event == "TandemEditDone" and last
  end, 10000, "the stale edit to fail")
  H.result.stale = { events = events_since(n), current = edit.current(buf) or vim.NIL, lines = H.lines(buf) }

  -- "Tandem: Edit…" code action: the plugin asks for the instruction (vim.ui.input).
  vim.ui.input = function(_, on_confirm)
    on_confirm("add a docstring")
  end
  local before_action = #H.requests_for("tandem/edit")
  api.nvim_win_set_cursor(0, { 1, 0 })
  vim.lsp.buf.code_action({
    range = { start = { 1, 0 }, ["end"] = { 2, 15 } },
    apply = true,
    filter = function(action)
      return action.title:find("^Tandem: Edit") ~= nil
    end,
  })
  H.wait(function()
    local cur = edit.current(buf)
    return #H.requests_for("tandem/edit") > before_action and cur and cur.phase == "pending"
  end, 20000, "the code action's edit proposal")
  H.result.code_action = { params = last_edit_request().params, hunks = edit.current(buf).hunks }
  H.result.code_action_titles = vim.tbl_map(function(r)
    return r.result and vim.tbl_map(function(a)
      return a.title
    end, r.result) or vim.NIL
  end, H.requests_for("textDocument/codeAction"))
  edit.reject(buf)
  H.result.final = H.lines(buf)
  H.result.notices = require("tandem.notice").history()
  H.result.events = H.edit_events
end, 120000)
