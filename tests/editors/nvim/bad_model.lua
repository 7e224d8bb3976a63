-- A model that cannot load: the reason is told once (vim.notify, no prompt), no host is started
-- again while the user keeps typing, and :TandemStatus names the host's log.
local H = require("harness")
local api = vim.api
local T = _G.TANDEM_TEST

local function errors()
  return vim.tbl_filter(function(n)
    return n.level >= vim.log.levels.WARN
  end, _G.TANDEM_NOTIFIED)
end

H.run(function()
  H.setup({
    settings = {
      host = { address = T.address, autoStart = true, model = T.checkpoint, python = T.python },
    },
  })
  local buf = H.open("add.py", { "def add(a, b):", "    " })
  H.wait(function()
    return #errors() > 0
  end, 90000, "the load failure to be told")
  api.nvim_win_set_cursor(0, { 2, 4 })
  H.feed("A")
  -- Typing on: every pause asks for a suggestion.
  for _ = 1, 12 do
    H.feed("x")
    H.sleep(150)
  end
  H.feed("<Esc>")
  H.sleep(1500)
  H.result.notified = _G.TANDEM_NOTIFIED
  H.result.status = H.status(buf)
  H.result.status_lines = require("tandem.status").format(H.result.status)
  H.result.messages = vim.fn.execute("messages")
end, 150000)
