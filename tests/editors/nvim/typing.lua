-- Dismiss, next (Invoked), typing ahead of the ghost text, accepting a word and a line, leaving insert mode.
local H = require("harness")
local api = vim.api
local sug = require("tandem.suggestion")

local function snapshot(buf)
  local text, row, col = H.ghost(buf)
  return { ghost = text, row = row, col = col, cursor = H.cursor(), lines = H.lines(buf), mode = H.mode() }
end

H.run(function()
  H.setup()
  local buf = H.open("add.py", { "def add(a, b):", "    " })
  H.record(require("tandem.client").get(buf, true))
  api.nvim_win_set_cursor(0, { 2, 4 })
  H.feed("A")
  local first = H.get_suggestion(buf)
  H.result.shown = snapshot(buf)
  H.result.shown_id = sug.current().id

  -- Dismiss: the ghost goes, the text stays, still in insert mode.
  H.feed("<C-]>")
  H.wait(function()
    return not sug.is_visible()
  end, 2000, "dismiss")
  H.result.dismissed = snapshot(buf)
  H.result.marks_after_dismiss = select(4, H.ghost(buf))

  -- Next: asks again with triggerKind Invoked.
  local before = #H.requests_for("textDocument/inlineCompletion")
  H.feed("<M-]>")
  H.get_suggestion(buf)
  H.result.next_requests = vim.tbl_map(function(r)
    return r.params.context.triggerKind
  end, vim.list_slice(H.requests_for("textDocument/inlineCompletion"), before + 1))
  H.result.again = snapshot(buf)

  -- Type the first character of the suggestion: the ghost keeps the rest, no new request.
  local text = sug.current().text
  local ch = text:match("^[%z\1-\127\194-\244][\128-\191]*") -- the first UTF-8 character
  H.result.typed_char = ch
  if ch and (ch:match("^[%w%p ]$") or ch:byte(1) >= 0x80) then
    local n = #H.requests_for("textDocument/inlineCompletion")
    H.feed(ch, "nt")
    H.wait(function()
      local c = sug.current()
      return c and c.text == text:sub(#ch + 1)
    end, 2000, "the ghost text to be trimmed by what was typed")
    H.sleep(200) -- longer than the debounce: a request would have gone out by now
    H.result.typed = snapshot(buf)
    H.result.requests_while_typing = #H.requests_for("textDocument/inlineCompletion") - n
  end

  -- Accept one word, then one line.
  for _, step in ipairs({ { "word", "<M-w>" }, { "line", "<M-l>" } }) do
    local cur = sug.current()
    if not cur then
      break
    end
    local snap = snapshot(buf)
    snap.text = cur.text
    H.feed(step[2])
    H.wait(function()
      local lines = H.lines(buf)
      return not vim.deep_equal(lines, snap.lines)
    end, 2000, "accept " .. step[1])
    snap.after = snapshot(buf)
    H.result["accept_" .. step[1]] = snap
  end

  -- Leaving insert mode drops what is left (rejected).
  local left = sug.current()
  H.result.left_at_esc = left and left.text or vim.NIL
  H.feed("<Esc>")
  H.wait(function()
    return H.mode() == "n"
  end, 2000, "normal mode")
  H.result.marks_after_esc = select(4, H.ghost(buf))
  H.sleep(100)
  H.result.events = H.events()
  H.result.status = H.status(buf)
end)
