-- Positions in UTF-16 when the server negotiates it: the request, the ghost and the insert agree.
local H = require("harness")
local api = vim.api

H.run(function()
  H.setup({ position_encodings = { "utf-16" } })
  local buf = H.open("emoji.py", { 's = "é😀"', 'x = "😀😀"' })
  local client = require("tandem.client").get(buf, true)
  H.record(client)
  H.result.encoding = client.offset_encoding
  -- The cursor between the second emoji and the closing quote.
  local line = api.nvim_buf_get_lines(buf, 1, 2, false)[1]
  local col = #line - 1
  api.nvim_win_set_cursor(0, { 2, col })
  H.feed("i")
  local text, item, req = H.get_suggestion(buf)
  local _, row, gcol = H.ghost(buf)
  H.result.col = col
  H.result.line = line
  H.result.ghost = { text = text, row = row, col = gcol }
  H.result.item = item
  H.result.position = req.params.position
  H.result.before = H.lines(buf)
  H.feed("<Tab>")
  H.wait(function()
    return not require("tandem.suggestion").is_visible()
  end, 3000, "accept")
  H.result.after = H.lines(buf)
  H.feed("<Esc>")
end)
