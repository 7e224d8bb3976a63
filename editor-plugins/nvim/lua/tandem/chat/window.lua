--- The chat's buffer and window: the transcript (markdown, read-only, written only here), the
--- split it shows in, and the source window its code blocks go to.
local M = {}

local api = vim.api
local config = require("tandem.config")

local ns = api.nvim_create_namespace("tandem.chat")

-- The chat buffer and the window showing it.
M.buf = nil
M.win = nil
-- The window code blocks go to: where the last question was asked from.
M.source_win = nil

local function chat()
  return require("tandem.chat")
end

function M.valid()
  return M.buf ~= nil and api.nvim_buf_is_valid(M.buf)
end

--- Run `fn` with the (normally read-only) chat buffer writable.
local function writing(fn)
  local buf = M.buf
  vim.bo[buf].modifiable = true
  local ok, err = pcall(fn, buf)
  vim.bo[buf].modifiable = false
  if not ok then
    error(err, 0)
  end
end

-- Keep the end of the answer in view, unless the user is in the chat window reading.
local function follow()
  local win = M.win
  if win and api.nvim_win_is_valid(win) and api.nvim_win_get_buf(win) == M.buf
    and api.nvim_get_current_win() ~= win then
    api.nvim_win_set_cursor(win, { api.nvim_buf_line_count(M.buf), 0 })
  end
end

--- Add `text` at the end of the transcript.
function M.append(text)
  writing(function(buf)
    local last = api.nvim_buf_line_count(buf) - 1
    local line = api.nvim_buf_get_lines(buf, last, last + 1, false)[1]
    api.nvim_buf_set_text(buf, last, #line, last, #line, vim.split(text, "\n", { plain = true }))
  end)
  follow()
end

--- The whole transcript.
function M.text()
  return table.concat(api.nvim_buf_get_lines(M.buf, 0, -1, false), "\n")
end

local function ensure_buf()
  if M.valid() then
    return M.buf
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
    if not chat().insert_block(api.nvim_win_get_cursor(0)[1]) then
      require("tandem.notice").notify("Tandem: no code block under the cursor", vim.log.levels.INFO)
    end
  end, "insert this code block in the source window")
  map(keys.stop, function()
    return chat().stop()
  end, "stop the answer")
  map(keys.close, function()
    return chat().close()
  end, "close the chat")
  M.buf = buf
  return buf
end

--- Show the chat buffer in a split (or tab) per `chat.position`; returns the window.
function M.open()
  local buf = ensure_buf()
  if M.win and api.nvim_win_is_valid(M.win) and api.nvim_win_get_buf(M.win) == buf then
    return M.win
  end
  for _, win in ipairs(api.nvim_tabpage_list_wins(0)) do
    if api.nvim_win_get_buf(win) == buf then
      M.win = win
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
  M.win = win
  if not opts.focus and api.nvim_win_is_valid(from) then
    api.nvim_set_current_win(from)
  end
  return win
end

function M.close()
  if M.win and api.nvim_win_is_valid(M.win) and #api.nvim_list_wins() > 1 then
    api.nvim_win_close(M.win, false)
  end
  M.win = nil
end

--- Headers for a new turn; returns a mark where its answer starts.
function M.begin_turn(title, body)
  ensure_buf()
  local empty = api.nvim_buf_line_count(M.buf) == 1
    and api.nvim_buf_get_lines(M.buf, 0, 1, false)[1] == ""
  local head = (empty and "" or "\n\n") .. "## " .. title .. "\n"
  if body and body ~= "" then
    head = head .. body .. "\n"
  end
  M.append(head .. "\n## Tandem\n")
  local last = api.nvim_buf_line_count(M.buf) - 1
  -- Left gravity: the mark stays where the answer starts as the answer is appended after it.
  return api.nvim_buf_set_extmark(M.buf, ns, last, 0, { right_gravity = false })
end

--- Replace the answer that starts at `mark` (M.begin_turn) with `text`.
function M.replace_answer(mark, text)
  local pos = api.nvim_buf_get_extmark_by_id(M.buf, ns, mark, {})
  writing(function(buf)
    local last = api.nvim_buf_line_count(buf) - 1
    local line = api.nvim_buf_get_lines(buf, last, last + 1, false)[1]
    api.nvim_buf_set_text(buf, pos[1], pos[2], last, #line, vim.split(text, "\n", { plain = true }))
  end)
end

--- A grey line under the last answer (not part of the text): its tokens, speed, finish reason.
function M.footer(info)
  local last = api.nvim_buf_line_count(M.buf) - 1
  api.nvim_buf_set_extmark(M.buf, ns, last, 0, { virt_lines = { { { info, "Comment" } } } })
  follow()
end

--- Empty the transcript.
function M.clear()
  if M.valid() then
    writing(function(buf)
      api.nvim_buf_set_lines(buf, 0, -1, false, {})
    end)
    api.nvim_buf_clear_namespace(M.buf, ns, 0, -1)
  end
end

return M
