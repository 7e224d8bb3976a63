-- :TandemChat streams the answer into the chat buffer; a range sends the selection as context.
local H = require("harness")
local api = vim.api
local chat = require("tandem.chat")

local function chat_request(chat_id)
  for _, r in ipairs(H.requests_for("tandem/chat")) do
    if r.params.chatId == chat_id then
      return r
    end
  end
end

-- Ask until an answer comes in more than one chunk (the tiny model may stop at once).
local function ask(cmd)
  local runs = {}
  for _ = 1, 4 do
    local n = #H.requests_for("tandem/chat")
    vim.cmd(cmd)
    H.wait(function()
      return #H.requests_for("tandem/chat") > n
    end, 2000, "the tandem/chat request")
    local req = H.requests_for("tandem/chat")[n + 1]
    local done = H.wait_chat(req.params.chatId)
    H.wait(function()
      return req.answered
    end, 2000, "the chat result")
    local run = {
      params = req.params, result = req.result, err = req.err, done = done,
      buffer = table.concat(api.nvim_buf_get_lines(chat.state().buf, 0, -1, false), "\n"),
    }
    runs[#runs + 1] = run
    if done.chunks and done.chunks > 1 then
      break
    end
  end
  return runs
end

H.run(function()
  H.setup()
  local buf = H.open("add.py", { "def add(a, b):", "    return a + b", "" })
  H.record(require("tandem.client").get(buf, true))
  local src_win = api.nvim_get_current_win()
  H.result.plain = ask("TandemChat How do I add two numbers?")
  H.result.chat_win_valid = chat.state().win ~= nil and api.nvim_win_is_valid(chat.state().win)
  H.result.chat_buf_name = api.nvim_buf_get_name(chat.state().buf)
  H.result.focus_stayed = api.nvim_get_current_win() == src_win
  H.result.ranged = ask("1,2TandemChat What does this do?")
  local n = #H.requests_for("tandem/chat")
  vim.cmd("TandemChat! Just a question.")
  local bare = H.wait(function()
    return H.requests_for("tandem/chat")[n + 1]
  end, 2000, "the tandem/chat request of :TandemChat!")
  H.wait_chat(bare.params.chatId)
  H.result.bare = { params = bare.params }
  H.result.messages = chat.state().messages
  H.result.uri = vim.uri_from_bufnr(buf)

  -- Stop mid-answer: the buffer says so, nothing more arrives, the host cancels its decode.
  require("tandem.config").get().chat.max_tokens = 1500
  local host_before = H.status(buf).host.cancelled
  for attempt = 1, 3 do
    local n = #H.requests_for("tandem/chat")
    vim.cmd("TandemChat Tell me a long story.")
    local req = H.wait(function()
      return H.requests_for("tandem/chat")[n + 1]
    end, 2000, "the long chat request")
    H.wait(function()
      local text = chat.state().text
      return req.answered or not vim.endswith(text, "## Tandem\n")
    end, 10000, "the first chunk of the long answer")
    local stopped = chat.stop(true)
    local at_stop = chat.state().text
    H.sleep(1000)
    H.result.stop = {
      attempt = attempt, stopped = stopped, at_stop = at_stop, later = chat.state().text,
      busy = chat.state().busy, messages = #chat.state().messages, answered = req.answered == true,
    }
    if stopped then
      break
    end
  end
  H.result.host_cancelled = H.try_wait(function()
    local c = H.status(buf).host.cancelled
    return c > host_before and c or nil
  end, 5000) or host_before
  H.result.host_cancelled_before = host_before
  H.result.status = H.status(buf)
end)
