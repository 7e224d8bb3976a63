--- Buffer positions (0-based row, byte column) <-> LSP positions in the negotiated encoding.
local M = {}

-- Bytes in the UTF-8 sequence that starts with byte `b` (a stray byte counts as one).
local function seq_len(b)
  if b < 0xC0 then
    return 1
  elseif b < 0xE0 then
    return 2
  elseif b < 0xF0 then
    return 3
  end
  return 4
end

-- Code units one character of `len` UTF-8 bytes takes in `encoding`.
local function units_of(len, encoding)
  if encoding == "utf-16" then
    return len == 4 and 2 or 1
  end
  return 1 -- utf-32
end

--- LSP `character` for byte column `col` of `line`.
---@param line string
---@param col integer 0-based byte column
---@param encoding string "utf-8" | "utf-16" | "utf-32"
---@return integer
function M.character(line, col, encoding)
  col = math.max(0, math.min(col, #line))
  if encoding == "utf-8" then
    return col
  end
  local units, i = 0, 1
  while i <= col do
    local len = seq_len(line:byte(i))
    units = units + units_of(len, encoding)
    i = i + len
  end
  return units
end

--- Byte column of LSP `character` in `line` (clamped to the line; inside a character rounds to its start).
---@param line string
---@param character integer
---@param encoding string
---@return integer
function M.byte_col(line, character, encoding)
  if encoding == "utf-8" then
    return math.max(0, math.min(character, #line))
  end
  local units, i = 0, 1
  while i <= #line do
    local len = seq_len(line:byte(i))
    local width = units_of(len, encoding)
    if units + width > character then
      return i - 1
    end
    units = units + width
    i = i + len
  end
  return #line
end

local function line_at(bufnr, row)
  return vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
end

--- LSP Position of (row, byte col) in `bufnr`.
function M.to_lsp(bufnr, row, col, encoding)
  return { line = row, character = M.character(line_at(bufnr, row), col, encoding) }
end

--- (row, byte col) of an LSP Position in `bufnr`.
function M.from_lsp(bufnr, pos, encoding)
  return pos.line, M.byte_col(line_at(bufnr, pos.line), pos.character, encoding)
end

--- LSP Range for rows/byte columns (end exclusive).
function M.range(bufnr, srow, scol, erow, ecol, encoding)
  return { start = M.to_lsp(bufnr, srow, scol, encoding), ["end"] = M.to_lsp(bufnr, erow, ecol, encoding) }
end

--- The LSP Range of a command range: whole lines line1..line2 (1-based), or the
--- characterwise Visual selection when the command was given exactly that.
---@param bufnr integer
---@param line1 integer
---@param line2 integer
---@param encoding string
function M.command_range(bufnr, line1, line2, encoding)
  local srow, scol, erow, ecol = line1 - 1, 0, line2 - 1, #line_at(bufnr, line2 - 1)
  local vs, ve = vim.api.nvim_buf_get_mark(bufnr, "<"), vim.api.nvim_buf_get_mark(bufnr, ">")
  if vim.fn.visualmode() == "v" and vs[1] == line1 and ve[1] == line2 then
    local last = line_at(bufnr, line2 - 1)
    scol = vs[2]
    -- '> marks the first byte of the last selected character (or past the end after `v$`).
    local b = last:byte(ve[2] + 1)
    ecol = b and math.min(#last, ve[2] + seq_len(b)) or #last
  end
  return M.range(bufnr, srow, scol, erow, ecol, encoding)
end

return M
