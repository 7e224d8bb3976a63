--- The chat: questions and selection commands sent to the server, answers streamed into the
--- transcript (window.lua), code blocks taken out (blocks.lua).
local M = {}

local api = vim.api
local blocks = require("tandem.chat.blocks")
local client_mod = require("tandem.client")
local config = require("tandem.config")
local protocol = require("tandem.protocol")
local window = require("tandem.chat.window")

local state = {
  -- The conversation so far, sent with each question: { role, content }.
  messages = {},
  -- The answer being streamed: { client, id, chat_id, mark, text, chunks, next, pending, turn }.
  active = nil,
  -- The last finished answer: { chat_id, text, chunks, result }.
  last = nil,
  seq = 0,
}

local function notify(msg, level)
  require("tandem.notice").notify("Tandem: " .. msg, level or vim.log.levels.INFO)
end

--- Show the chat buffer in a split (or tab) per `chat.position`; returns the window.
M.open = window.open
--- Close the chat window (the conversation stays).
M.close = window.close

local function on_chunk(active, chunk)
  if state.active ~= active or type(chunk.text) ~= "string" then
    return
  end
  -- Chunks are numbered from 0: put them in order, whatever order they arrive in.
  local index = type(chunk.index) == "number" and chunk.index or active.next
  active.pending[index] = chunk.text
  while active.pending[active.next] do
    local text = active.pending[active.next]
    active.pending[active.next] = nil
    active.next = active.next + 1
    active.chunks = active.chunks + 1
    active.text = active.text .. text
    window.append(text)
  end
end

local function done_event(data)
  api.nvim_exec_autocmds("User", { pattern = "TandemChatDone", modeline = false, data = data })
end

local function finish(active, err, result)
  if state.active ~= active then
    return
  end
  state.active = nil
  client_mod.on_chunk(active.chat_id, nil)
  if err or type(result) ~= "table" then
    table.remove(state.messages) -- the question that got no answer
    local msg = err and client_mod.error_message(err) or "no answer"
    window.append("\n\n> **Error:** " .. msg)
    notify("chat failed: " .. msg, vim.log.levels.ERROR)
    done_event({ chatId = active.chat_id, error = msg })
    return
  end
  local text = type(result.text) == "string" and result.text or active.text
  if text ~= active.text then
    window.replace_answer(active.mark, text) -- the final result is the truth if a chunk went missing
  end
  -- What the model saw of the code goes into the history, so follow-ups can refer to it.
  state.messages[#state.messages].content = active.turn
  table.insert(state.messages, { role = "assistant", content = text })
  local t = type(result.timings) == "table" and result.timings or {}
  local info = string.format("%s tokens%s · %s", tostring(result.generatedTokens or "?"),
    t.tokens_per_s and string.format(" · %.0f tok/s", t.tokens_per_s) or "",
    tostring(result.finishReason or "end"))
  window.footer(info)
  state.last = { chat_id = active.chat_id, text = text, chunks = active.chunks, result = result }
  done_event({ chatId = active.chat_id, text = text, chunks = active.chunks })
end

local function next_chat_id()
  state.seq = state.seq + 1
  return string.format("nvim-%d-%d", vim.fn.getpid(), state.seq)
end

-- The client for `bufnr`, or nil after telling the user why there is none.
local function client_for(bufnr)
  local client = client_mod.get(bufnr)
  if not client then
    notify("no tandem-lsp running; open a file of a Tandem filetype", vim.log.levels.ERROR)
  end
  return client
end

local function code_of(bufnr, range, encoding)
  local position = require("tandem.position")
  if not range then
    return table.concat(api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n")
  end
  local srow, scol = position.from_lsp(bufnr, range.start, encoding)
  local erow, ecol = position.from_lsp(bufnr, range["end"], encoding)
  return table.concat(api.nvim_buf_get_text(bufnr, srow, scol, erow, ecol, {}), "\n")
end

local function fenced(bufnr, code)
  local fence = "```"
  while code:find(fence, 1, true) do
    fence = fence .. "`"
  end
  return string.format("%s%s\n%s\n%s", fence, vim.bo[bufnr].filetype, code, fence)
end

-- Send the request and stream its answer into a new turn.
local function start(client, method, params, chat_id, title, body, turn)
  local src = api.nvim_get_current_win()
  if src ~= window.win then
    window.source_win = src
  end
  window.open()
  local active = {
    client = client, chat_id = chat_id, mark = window.begin_turn(title, body),
    text = "", chunks = 0, next = 0, pending = {}, turn = turn,
  }
  state.active = active
  client_mod.on_chunk(chat_id, function(chunk)
    on_chunk(active, chunk)
  end)
  active.id = client_mod.request(client, method, params, function(err, result)
    finish(active, err, result)
  end)
  if not active.id then
    finish(active, { message = "the server is not running" })
  end
  return chat_id
end

--- Ask a question; `opts.range` (an LSP Range in `opts.bufnr`) or `opts.whole_file` adds that code.
---@param question string
---@param opts {bufnr: integer|nil, range: table|nil, whole_file: boolean|nil}|nil (`:TandemChat` sets
--- `whole_file` unless given a range or `!`)
---@return string|nil chat_id
function M.ask(question, opts)
  opts = opts or {}
  local bufnr = opts.bufnr or api.nvim_get_current_buf()
  if bufnr == window.buf and window.source_win and api.nvim_win_is_valid(window.source_win) then
    bufnr = api.nvim_win_get_buf(window.source_win) -- asked from the chat: about the source
  end
  local client = client_for(bufnr)
  if not client or question == "" then
    return nil
  end
  if opts.whole_file and not client_mod.get(bufnr, true) then
    opts = vim.tbl_extend("force", opts, { whole_file = false }) -- not a file the server has
  end
  M.stop(true) -- one answer at a time
  local chat_id = next_chat_id()
  local ctx, turn, title = nil, question, "You"
  if opts.range or opts.whole_file then
    ctx = { uri = vim.uri_from_bufnr(bufnr), range = opts.range }
    turn = question .. "\n\n" .. fenced(bufnr, code_of(bufnr, opts.range, client.offset_encoding))
    title = "You (" .. M.where(bufnr, opts.range) .. ")"
  end
  table.insert(state.messages, { role = "user", content = question })
  local params = {
    messages = vim.deepcopy(state.messages), context = ctx, chatId = chat_id,
    maxTokens = config.get().chat.max_tokens,
  }
  return start(client, protocol.CHAT, params, chat_id, title, question, turn)
end

M.COMMANDS = {
  explain = { protocol.CMD_EXPLAIN, "Explain" },
  document = { protocol.CMD_DOCUMENT, "Document" },
  fix = { protocol.CMD_FIX, "Fix" },
  tests = { protocol.CMD_TESTS, "Write tests for" },
}

--- Run a selection command (explain, document, fix, tests) on `opts.range` (nil: the whole file).
---@return string|nil chat_id
function M.command(name, opts)
  opts = opts or {}
  local spec = M.COMMANDS[name]
  assert(spec, "unknown Tandem command " .. tostring(name))
  local bufnr = opts.bufnr or api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then
    return nil
  end
  M.stop(true) -- one answer at a time
  local chat_id = next_chat_id()
  local where = M.where(bufnr, opts.range)
  local code = code_of(bufnr, opts.range, client.offset_encoding)
  table.insert(state.messages, { role = "user", content = "" })
  local arg = { uri = vim.uri_from_bufnr(bufnr), range = opts.range, chatId = chat_id }
  return start(client, "workspace/executeCommand", { command = spec[1], arguments = { arg } }, chat_id,
    spec[2] .. " " .. where, nil, spec[2] .. " this code:\n\n" .. fenced(bufnr, code))
end

--- "file.py:3-7" for a range (1-based lines), "file.py" for the whole file.
function M.where(bufnr, range)
  local name = vim.fn.fnamemodify(api.nvim_buf_get_name(bufnr), ":t")
  if name == "" then
    name = "[No Name]"
  end
  if not range then
    return name
  end
  local l1, l2 = range.start.line + 1, range["end"].line + 1
  return l1 == l2 and string.format("%s:%d", name, l1) or string.format("%s:%d-%d", name, l1, l2)
end

--- Stop the answer being streamed. False when there is none.
function M.stop(quiet)
  local active = state.active
  if not active then
    return false
  end
  state.active = nil
  client_mod.on_chunk(active.chat_id, nil)
  client_mod.cancel(active.client, active.id)
  table.remove(state.messages)
  if window.valid() then
    window.append("\n\n*(stopped)*")
  end
  if quiet ~= true then
    notify("answer stopped")
  end
  done_event({ chatId = active.chat_id, stopped = true })
  return true
end

--- Forget the conversation and clear the buffer.
function M.reset()
  M.stop(true)
  state.messages = {}
  window.clear()
end

-- Code blocks from the chat into the source window (blocks.lua): the one at a chat row, and
-- `:TandemInsertBlock`.
M.insert_block = blocks.insert
M.insert_block_command = blocks.insert_command

--- For tests and statuslines: the buffer, the conversation, what is streaming and the last answer.
function M.state()
  return {
    buf = window.buf, win = window.win, messages = state.messages, last = state.last,
    busy = state.active ~= nil, text = window.valid() and window.text() or "",
  }
end

return M
