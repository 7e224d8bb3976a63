-- Ghost text appears for a suggestion, equals the server's insertText, and <Tab> inserts exactly it.
local H = require("harness")
local api = vim.api

H.run(function()
  H.setup()
  local buf = H.open("add.py", { "def add(a, b):", "    " })
  local client = require("tandem.client").get(buf, true)
  H.record(client)
  H.result.encoding = client.offset_encoding
  api.nvim_win_set_cursor(0, { 2, 4 })
  H.feed("A")
  H.wait(function()
    return H.mode() == "i"
  end, 2000, "insert mode")
  local text, item, req = H.get_suggestion(buf)
  local _, row, col, count = H.ghost(buf)
  H.result.ghost = { text = text, row = row, col = col, marks = count }
  H.result.item = item
  H.result.request_params = req.params
  H.result.cursor_before = H.cursor()
  H.result.before = H.lines(buf)
  H.feed("<Tab>")
  H.wait(function()
    return not require("tandem.suggestion").is_visible()
  end, 3000, "the ghost text to go after accepting")
  H.result.after = H.lines(buf)
  H.result.cursor_after = H.cursor()
  H.result.mode_after = H.mode()
  H.result.marks_after = select(4, H.ghost(buf))
  H.wait(function()
    local r = H.requests_for("workspace/executeCommand")
    return r[1] and r[1].answered
  end, 5000, "tandem.didAccept to be run")
  H.result.commands = vim.tbl_map(function(r)
    return r.params
  end, H.requests_for("workspace/executeCommand"))
  H.feed("<Esc>")
  H.sleep(100)
  H.result.events = H.events()
  H.result.status = H.status(buf)
end)
