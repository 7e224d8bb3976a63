--- An edit proposal drawn in its buffer with extmarks: removed rows highlighted (DiffDelete),
--- added lines as virtual lines (DiffAdd) where they would go, a hint with the keys.
local M = {}

local api = vim.api

M.namespace = api.nvim_create_namespace("tandem_edit")

-- The width to fill a virtual line to, so an added line shows as a whole green row.
local function width_for(bufnr)
  local win = vim.fn.bufwinid(bufnr)
  return win ~= -1 and api.nvim_win_get_width(win) or vim.o.columns
end

local function virt_line(text, width, hl)
  local pad = math.max(width - vim.fn.strdisplaywidth(text), 0)
  return { { text, hl }, { string.rep(" ", pad), hl } }
end

--- Draw `hunks` (diff.lua) in `bufnr`; `hint` (may be nil) goes at the end of the first changed row.
function M.draw(bufnr, hunks, hint)
  M.erase(bufnr)
  local count = api.nvim_buf_line_count(bufnr)
  local width = width_for(bufnr)
  for i, h in ipairs(hunks) do
    for k = 0, #h.removed - 1 do
      api.nvim_buf_set_extmark(bufnr, M.namespace, h.row + k, 0, { line_hl_group = "DiffDelete", priority = 200 })
    end
    if #h.added > 0 then
      local lines = {}
      for _, text in ipairs(h.added) do
        lines[#lines + 1] = virt_line(text, width, "DiffAdd")
      end
      -- Below the last removed row, else below the row before, else above the first row.
      local row, above
      if #h.removed > 0 then
        row, above = h.row + #h.removed - 1, false
      elseif h.row > 0 then
        row, above = math.min(h.row, count) - 1, false
      else
        row, above = 0, true
      end
      api.nvim_buf_set_extmark(bufnr, M.namespace, row, 0, { virt_lines = lines, virt_lines_above = above })
    end
    if i == 1 and hint then
      local row = math.min(#h.removed > 0 and h.row or math.max(h.row - 1, 0), count - 1)
      api.nvim_buf_set_extmark(bufnr, M.namespace, row, 0, {
        virt_text = { { "  " .. hint, "Comment" } }, virt_text_pos = "eol",
      })
    end
  end
end

function M.erase(bufnr)
  if api.nvim_buf_is_valid(bufnr) then
    api.nvim_buf_clear_namespace(bufnr, M.namespace, 0, -1)
  end
end

--- What is drawn, for tests and statuslines: rows highlighted as removed, virtual lines' texts
--- (each virtual line's text without its padding), and the hint.
function M.marks(bufnr)
  local out = { removed = {}, added = {}, hint = nil }
  for _, m in ipairs(api.nvim_buf_get_extmarks(bufnr, M.namespace, 0, -1, { details = true })) do
    local row, d = m[2], m[4]
    if d.line_hl_group == "DiffDelete" then
      out.removed[#out.removed + 1] = row
    end
    for _, vl in ipairs(d.virt_lines or {}) do
      out.added[#out.added + 1] = { row = row, above = d.virt_lines_above == true, text = vl[1][1], hl = vl[1][2] }
    end
    if d.virt_text then
      out.hint = d.virt_text[1][1]
    end
  end
  return out
end

return M
