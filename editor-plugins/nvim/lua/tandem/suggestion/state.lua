--- What the ghost-text modules share: the suggestion on screen, the suggestions seen at its
--- position, the buffers attached, and the cursor snapshot that keys them.
local M = {}

local api = vim.api

M.group = api.nvim_create_augroup("tandem.suggestion", { clear = true })

-- InlineCompletionTriggerKind
M.INVOKED, M.AUTOMATIC = 1, 2

-- What is on screen, nil when nothing is: `bufnr`, `row`, `col` (where the ghost text
-- starts: the cursor), `text` (what accepting all inserts), `line_before`/`line_after`
-- (the cursor line around it), `tick` (b:changedtick), the server's `item`, `client_id`
-- and the suggestion `id` that events name.
M.ghost = nil
-- The distinct suggestions seen at one cursor position, for next/prev: { key, list, index }.
M.cycle = nil
-- Buffers with ghost text: bufnr -> true.
M.attached = {}

function M.in_insert()
  return api.nvim_get_mode().mode:sub(1, 1) == "i"
end

--- Where the cursor is, with what identifies the text around it.
function M.here()
  local bufnr = api.nvim_get_current_buf()
  local cur = api.nvim_win_get_cursor(0)
  local row, col = cur[1] - 1, cur[2]
  return {
    bufnr = bufnr, row = row, col = col,
    line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or "",
    tick = api.nvim_buf_get_changedtick(bufnr),
  }
end

--- A key for a cursor snapshot (or a ghost): the same buffer, place and text give the same key.
function M.key_of(h)
  return table.concat({ h.bufnr, h.row, h.col, h.tick }, ":")
end

return M
