-- Code blocks in the chat buffer go into the source window: <CR> on a block, :TandemInsertBlock.
local H = require("harness")
local api = vim.api
local chat = require("tandem.chat")

H.run(function()
  -- Another plugin's insert mapping on a Tandem key: it still runs when no suggestion is shown.
  vim.keymap.set("i", "<M-l>", "LL")
  H.setup()
  local buf = H.open("add.py", { "def add(a, b):", "    pass", "" })
  local src = api.nvim_get_current_win()
  local chat_win = chat.open()
  local cbuf = chat.state().buf
  vim.bo[cbuf].modifiable = true
  api.nvim_buf_set_lines(cbuf, 0, -1, false, {
    "## Tandem", "Try this:", "```python", "def sub(a, b):", "    return a - b", "```",
    "or this:", "```", "x = 1", "```", "done",
  })
  vim.bo[cbuf].modifiable = false

  -- :TandemInsertBlock in the source window: the last block, below the (non-blank) cursor line.
  api.nvim_win_set_cursor(src, { 1, 0 })
  vim.cmd("TandemInsertBlock")
  H.result.after_command = H.lines(buf)
  H.result.cursor_after_command = api.nvim_win_get_cursor(src)

  -- <CR> on the first block in the chat window: into the source window's blank line 4.
  api.nvim_win_set_cursor(src, { 4, 0 })
  api.nvim_set_current_win(chat_win)
  api.nvim_win_set_cursor(chat_win, { 4, 0 })
  H.feed("<CR>")
  H.result.after_enter = H.lines(buf)
  H.result.chat_unchanged = api.nvim_buf_get_lines(cbuf, 0, -1, false)
  -- Outside any block <CR> inserts nothing.
  api.nvim_win_set_cursor(chat_win, { 11, 0 })
  H.feed("<CR>")
  H.result.after_outside = H.lines(buf)

  -- With no suggestion shown, the accept key (<Tab>) does what it normally does.
  require("tandem.config").get().suggestion.auto_trigger = false
  vim.bo[buf].expandtab = false
  vim.bo[buf].softtabstop = 0
  api.nvim_set_current_win(src)
  api.nvim_win_set_cursor(src, { 1, 0 })
  H.feed("O<Tab>x<M-l><Esc>")
  H.wait(function()
    return H.mode() == "n"
  end, 2000, "normal mode")
  H.result.tab_fallback = H.lines(buf)[1]
end)
