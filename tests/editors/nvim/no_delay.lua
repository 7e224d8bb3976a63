-- One debounce, the server's: a keystroke's request leaves at once (the events of one keystroke
-- make one request), and the server waits its completion.debounceMs before asking the model.
local H = require("harness")
local api = vim.api

H.run(function()
  H.setup()
  local buf = H.open("add.py", { "def add(a, b):", "    " })
  local client = require("tandem.client").get(buf, true)
  local sent = {}
  local request = client.request
  client.request = function(self, method, ...)
    if method == "textDocument/inlineCompletion" then
      table.insert(sent, vim.uv.hrtime())
    end
    return request(self, method, ...)
  end
  local changed = {}
  api.nvim_create_autocmd("TextChangedI", {
    buffer = buf,
    callback = function()
      table.insert(changed, vim.uv.hrtime())
    end,
  })
  api.nvim_win_set_cursor(0, { 2, 4 })
  H.feed("A")
  H.wait(function()
    return #sent >= 1
  end, 5000, "the request on entering insert mode")
  H.sleep(200)
  local delays, counts = {}, {}
  for _, ch in ipairs({ "r", "e", "t" }) do
    local n, c = #sent, #changed
    H.feed(ch, "nt")
    H.wait(function()
      return #changed > c and #sent > n
    end, 5000, "the request for " .. ch)
    H.sleep(200) -- longer than the old plugin-side debounce: anything else would have left by now
    table.insert(delays, (sent[n + 1] - changed[c + 1]) / 1e6)
    table.insert(counts, #sent - n)
  end
  H.result.delays_ms = delays
  H.result.requests_per_key = counts
  H.result.line = api.nvim_buf_get_lines(buf, 1, 2, false)[1]
end)
