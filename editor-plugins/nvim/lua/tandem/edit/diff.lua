--- An edit proposal as a line diff of the buffer: the server's TextEdits turned into hunks of
--- removed rows and added lines, in buffer rows, for drawing. Pure: lines in, hunks out.
local M = {}

local position = require("tandem.position")

-- Lines of `text`, whatever its line endings (CRLF files come back with "\r\n").
local function split_lines(text)
  return vim.split((text:gsub("\r\n?", "\n")), "\n", { plain = true })
end
M.split_lines = split_lines

--- The hunks of `edits` (LSP TextEdits, non-overlapping) over `lines` (the buffer's lines):
--- `{ row, removed = { lines }, added = { lines } }` sorted by row, `row` being the 0-based row
--- of the first removed line (or where the added lines go). Rows past the last line are the
--- empty text after the file's final newline, as LSP positions see it.
---@param lines string[]
---@param edits table[]
---@param encoding string "utf-8" | "utf-16" | "utf-32"
---@return { row: integer, removed: string[], added: string[] }[]
function M.hunks(lines, edits, encoding)
  local function line(row)
    return lines[row + 1] or ""
  end
  local sorted = vim.deepcopy(edits or {})
  table.sort(sorted, function(a, b)
    local sa, sb = a.range.start, b.range.start
    return sa.line < sb.line or (sa.line == sb.line and sa.character < sb.character)
  end)
  local out = {}
  for _, edit in ipairs(sorted) do
    local s, e = edit.range.start, edit.range["end"]
    local scol = position.byte_col(line(s.line), s.character, encoding)
    local ecol = position.byte_col(line(e.line), e.character, encoding)
    -- Whole rows on both sides: the old rows the range touches, and what they become.
    local old = {}
    for row = s.line, e.line do
      old[#old + 1] = line(row)
    end
    local new = split_lines(line(s.line):sub(1, scol) .. (edit.newText or "") .. line(e.line):sub(ecol + 1))
    -- Rows alike at either end are context, not change.
    local row, first = s.line, 1
    while first <= #old and first <= #new and old[first] == new[first] do
      first, row = first + 1, row + 1
    end
    local last_old, last_new = #old, #new
    while last_old >= first and last_new >= first and old[last_old] == new[last_new] do
      last_old, last_new = last_old - 1, last_new - 1
    end
    local removed, added = {}, {}
    for i = first, last_old do
      removed[#removed + 1] = old[i]
    end
    for i = first, last_new do
      added[#added + 1] = new[i]
    end
    if #removed > 0 or #added > 0 then
      out[#out + 1] = { row = row, removed = removed, added = added }
    end
  end
  return out
end

--- `lines` with the hunks applied: what the buffer holds after accepting (for a preview or a test).
function M.apply(lines, hunks)
  local out, next_row = {}, 0
  for _, h in ipairs(hunks) do
    for row = next_row, h.row - 1 do
      out[#out + 1] = lines[row + 1]
    end
    vim.list_extend(out, h.added)
    next_row = h.row + #h.removed
  end
  for row = next_row, #lines - 1 do
    out[#out + 1] = lines[row + 1]
  end
  return out
end

return M
