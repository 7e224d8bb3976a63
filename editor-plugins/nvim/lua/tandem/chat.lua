--- The chat split: questions and selection commands, answers streamed in, code blocks taken out.
local M = {}

local api = vim.api
local config = require("tandem.config")
local client_mod = require("tandem.client")
local protocol = require("tandem.protocol")

local ns = api.nvim_create_namespace("tandem.chat")

local state = {
  buf = nil,
  win = nil,
  -- The window code blocks go to: where the last question was asked from.
  source_win = nil,
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

local function buf_valid()
  return state.buf ~= nil and api.nvim_buf_is_valid(state.buf)
end

--- Run `fn` with the (normally read-only) chat buffer writable.
local function writing(fn)
  local buf = state.buf
  vim.bo[buf].modifiable = true
  local ok, err = pcall(fn, buf)
  vim.bo[buf].modifiable = false
  if not ok then
    error(err, 0)
  end
end

-- Keep the end of the answer in view, unless the user is in the chat window reading.
local function follow()
  local win = state.win
  if win and api.nvim_win_is_valid(win) and api.nvim_win_get_buf(win) == state.buf
    and api.nvim_get_current_win() ~= win then
    api.nvim_win_set_cursor(win, { api.nvim_buf_line_count(state.buf), 0 })
  end
end

local function append(text)
  writing(function(buf)
    local last = api.nvim_buf_line_count(buf) - 1
    local line = api.nvim_buf_get_lines(buf, last, last + 1, false)[1]
    api.nvim_buf_set_text(buf, last, #line, last, #line, vim.split(text, "\n", { plain = true }))
  end)
  follow()
end

local function buffer_text()
  return table.concat(api.nvim_buf_get_lines(state.buf, 0, -1, false), "\n")
end

local function ensure_buf()
  if buf_valid() then
    return state.buf
  end
  local buf = api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = "hide"
  vim.bo[buf].swapfile = false
  vim.bo[buf].filetype = "markdown"
  vim.bo[buf].modifiable = false
  pcall(api.nvim_buf_set_name, buf, "tandem://chat")
  local keys = config.get().chat.keymaps
  local function map(lhs, fn, desc)
    if lhs then
      vim.keymap.set("n", lhs, fn, { buffer = buf, silent = true, desc = "Tandem: " .. desc })
    end
  end
  map(keys.insert_block, function()
    if not M.insert_block(api.nvim_win_get_cursor(0)[1]) then
      notify("no code block under the cursor")
    end
  end, "insert this code block in the source window")
  map(keys.stop, M.stop, "stop the answer")
  map(keys.close, M.close, "close the chat")
  state.buf = buf
  return buf
end

--- Show the chat buffer in a split (or tab) per `chat.position`; returns the window.
function M.open()
  local buf = ensure_buf()
  if state.win and api.nvim_win_is_valid(state.win) and api.nvim_win_get_buf(state.win) == buf then
    return state.win
  end
  for _, win in ipairs(api.nvim_tabpage_list_wins(0)) do
    if api.nvim_win_get_buf(win) == buf then
      state.win = win
      return win
    end
  end
  local opts = config.get().chat
  local from = api.nvim_get_current_win()
  if opts.position == "tab" then
    vim.cmd("tab sbuffer " .. buf)
  else
    local vertical = opts.position == "right" or opts.position == "left"
    local total = vertical and vim.o.columns or vim.o.lines
    local size = opts.size < 1 and math.max(10, math.floor(total * opts.size)) or math.floor(opts.size)
    local where = ({
      right = "botright vertical", left = "topleft vertical", top = "topleft", bottom = "botright",
    })[opts.position]
    vim.cmd(string.format("%s %dsplit", where, size))
    api.nvim_win_set_buf(0, buf)
  end
  local win = api.nvim_get_current_win()
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  vim.wo[win].number = false
  vim.wo[win].relativenumber = false
  vim.wo[win].signcolumn = "no"
  state.win = win
  if not opts.focus and api.nvim_win_is_valid(from) then
    api.nvim_set_current_win(from)
  end
  return win
end

function M.close()
  if state.win and api.nvim_win_is_valid(state.win) and #api.nvim_list_wins() > 1 then
    api.nvim_win_close(state.win, false)
  end
  state.win = nil
end

-- Headers for a new turn; returns a mark where its answer starts.
local function begin_turn(title, body)
  ensure_buf()
  local empty = api.nvim_buf_line_count(state.buf) == 1
    and api.nvim_buf_get_lines(state.buf, 0, 1, false)[1] == ""
  local head = (empty and "" or "\n\n") .. "## " .. title .. "\n"
  if body and body ~= "" then
    head = head .. body .. "\n"
  end
  append(head .. "\n## Tandem\n")
  local last = api.nvim_buf_line_count(state.buf) - 1
  -- Left gravity: the mark stays where the answer starts as the answer is appended after it.
  return api.nvim_buf_set_extmark(state.buf, ns, last, 0, { right_gravity = false })
end

local function replace_answer(active, text)
  local pos = api.nvim_buf_get_extmark_by_id(state.buf, ns, active.mark, {})
  writing(function(buf)
    local last = api.nvim_buf_line_count(buf) - 1
    local line = api.nvim_buf_get_lines(buf, last, last + 1, false)[1]
    api.nvim_buf_set_text(buf, pos[1], pos[2], last, #line, vim.split(text, "\n", { plain = true }))
  end)
end

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
    append(text)
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
    append("\n\n> **Error:** " .. msg)
    notify("chat failed: " .. msg, vim.log.levels.ERROR)
    done_event({ chatId = active.chat_id, error = msg })
    return
  end
  local text = type(result.text) == "string" and result.text or active.text
  if text ~= active.text then
    replace_answer(active, text) -- the final result is the truth if a chunk went missing
  end
  -- What the model saw of the code goes into the history, so follow-ups can refer to it.
  state.messages[#state.messages].content = active.turn
  table.insert(state.messages, { role = "assistant", content = text })
  local t = type(result.timings) == "table" and result.timings or {}
  local info = string.format("%s tokens%s · %s", tostring(result.generatedTokens or "?"),
    t.tokens_per_s and string.format(" · %.0f tok/s", t.tokens_per_s) or "",
    tostring(result.finishReason or "end"))
  local last = api.nvim_buf_line_count(state.buf) - 1
  api.nvim_buf_set_extmark(state.buf, ns, last, 0, { virt_lines = { { { info, "Comment" } } } })
  follow()
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
  if src ~= state.win then
    state.source_win = src
  end
  M.open()
  local active = {
    client = client, chat_id = chat_id, mark = begin_turn(title, body),
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
  if bufnr == state.buf and state.source_win and api.nvim_win_is_valid(state.source_win) then
    bufnr = api.nvim_win_get_buf(state.source_win) -- asked from the chat: about the source
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
  if buf_valid() then
    append("\n\n*(stopped)*")
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
  if buf_valid() then
    writing(function(buf)
      api.nvim_buf_set_lines(buf, 0, -1, false, {})
    end)
    api.nvim_buf_clear_namespace(state.buf, ns, 0, -1)
  end
end

-- Code blocks in the chat buffer: { first, last } content rows (1-based), fences excluded.
local function blocks(lines)
  local out, open = {}, nil
  for i, line in ipairs(lines) do
    local fence = line:match("^%s*(```+)") or line:match("^%s*(~~~+)")
    if fence then
      if not open then
        open = { row = i, fence = fence }
      elseif fence:sub(1, 1) == open.fence:sub(1, 1) and #fence >= #open.fence
        and line:match("^%s*[`~]+%s*$") then
        out[#out + 1] = { open.row + 1, i - 1 }
        open = nil
      end
    end
  end
  if open then
    out[#out + 1] = { open.row + 1, #lines } -- still streaming
  end
  return out
end

--- Insert a code block from the chat in the source window: the block at chat row `row`
--- (1-based; its fences count), or the last block when `row` is nil. It replaces the cursor
--- line when that is blank, else goes below it. Returns the inserted lines, or nil.
function M.insert_block(row)
  if not buf_valid() then
    return nil
  end
  local lines = api.nvim_buf_get_lines(state.buf, 0, -1, false)
  local found = blocks(lines)
  local pick
  if row then
    for _, b in ipairs(found) do
      if row >= b[1] - 1 and row <= b[2] + 1 then
        pick = b
      end
    end
  else
    pick = found[#found]
  end
  if not pick then
    return nil
  end
  local code = vim.list_slice(lines, pick[1], pick[2])
  local win = state.source_win
  if not (win and api.nvim_win_is_valid(win)) then
    notify("no source window to insert into", vim.log.levels.WARN)
    return nil
  end
  local buf = api.nvim_win_get_buf(win)
  local r = api.nvim_win_get_cursor(win)[1]
  local current = api.nvim_buf_get_lines(buf, r - 1, r, false)[1] or ""
  if current:match("^%s*$") then
    api.nvim_buf_set_lines(buf, r - 1, r, false, code)
  else
    api.nvim_buf_set_lines(buf, r, r, false, code)
    r = r + 1
  end
  api.nvim_win_set_cursor(win, { r + math.max(#code, 1) - 1, 0 })
  return code
end

--- `:TandemInsertBlock`: from the chat window the block under the cursor (else the last one);
--- from any other window the last block, into that window.
function M.insert_block_command()
  local row
  if buf_valid() and api.nvim_get_current_buf() == state.buf then
    row = api.nvim_win_get_cursor(0)[1]
  else
    state.source_win = api.nvim_get_current_win()
  end
  local code = (row and M.insert_block(row)) or M.insert_block(nil)
  if not code then
    notify("no code block in the chat yet")
  end
  return code
end

--- For tests and statuslines: the buffer, the conversation, what is streaming and the last answer.
function M.state()
  return {
    buf = state.buf, win = state.win, messages = state.messages, last = state.last,
    busy = state.active ~= nil, text = buf_valid() and buffer_text() or "",
  }
end

return M
