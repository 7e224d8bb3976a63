-- :TandemExplain on a line range, :TandemDocument on a characterwise selection, :TandemFix on
-- the whole file: each runs workspace/executeCommand and streams into the chat buffer.
local H = require("harness")
local api = vim.api
local chat = require("tandem.chat")

local function run(cmd)
  local n = #H.requests_for("workspace/executeCommand")
  vim.cmd(cmd)
  H.wait(function()
    return #H.requests_for("workspace/executeCommand") > n
  end, 2000, "the executeCommand request for " .. cmd)
  local req = H.requests_for("workspace/executeCommand")[n + 1]
  local done = H.wait_chat(req.params.arguments[1].chatId)
  H.wait(function()
    return req.answered
  end, 2000, "the command's result")
  return {
    params = req.params, result = req.result, err = req.err, done = done,
    buffer = table.concat(api.nvim_buf_get_lines(chat.state().buf, 0, -1, false), "\n"),
  }
end

H.run(function()
  H.setup()
  local buf = H.open("add.py", { "def add(a, b):", "    return a + b", "", "print(add(1, 2))" })
  H.record(require("tandem.client").get(buf, true))
  H.result.uri = vim.uri_from_bufnr(buf)
  H.result.explain = run("1,2TandemExplain")
  -- A characterwise Visual selection of "add(a, b)" on line 1.
  api.nvim_win_set_cursor(0, { 1, 4 })
  vim.cmd("normal! v8l\27")
  H.result.document = run("'<,'>TandemDocument")
  H.result.fix = run("TandemFix")
end)
