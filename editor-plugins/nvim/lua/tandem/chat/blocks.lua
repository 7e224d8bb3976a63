--- Code blocks in the chat: found in the transcript, inserted in the source window.
local M = {}

local api = vim.api
local window = require("tandem.chat.window")

local function notify(msg, level)
  require("tandem.notice").notify("Tandem: " .. msg, level or vim.log.levels.INFO)
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
function M.insert(row)
  if not window.valid() then
    return nil
  end
  local lines = api.nvim_buf_get_lines(window.buf, 0, -1, false)
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
  local win = window.source_win
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
function M.insert_command()
  local row
  if window.valid() and api.nvim_get_current_buf() == window.buf then
    row = api.nvim_win_get_cursor(0)[1]
  else
    window.source_win = api.nvim_get_current_win()
  end
  local code = (row and M.insert(row)) or M.insert(nil)
  if not code then
    notify("no code block in the chat yet")
  end
  return code
end

return M
