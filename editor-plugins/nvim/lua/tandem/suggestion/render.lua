--- How a suggestion looks: the text an item shows at the cursor, drawn as virtual text.
local M = {}

local api = vim.api
local config = require("tandem.config")
local menu = require("tandem.suggestion.menu")
local position = require("tandem.position")

M.namespace = api.nvim_create_namespace("tandem.suggestion")
local ns = M.namespace

--- What the item would insert at the cursor `h`, or nil when it does not fit there.
--- A range starting before the cursor must cover text the item repeats (the user typed it).
function M.text(item, h, encoding)
  local text = item.insertText
  if type(text) == "table" then
    text = text.value -- a snippet StringValue: shown and inserted as its text
  end
  if type(text) ~= "string" then
    return nil
  end
  local range = item.range
  if range then
    if range.start.line ~= h.row then
      return nil
    end
    local scol = position.byte_col(h.line, range.start.character, encoding)
    if scol > h.col then
      return nil
    end
    local typed = h.line:sub(scol + 1, h.col)
    if text:sub(1, #typed) ~= typed then
      return nil
    end
    text = text:sub(#typed + 1)
  end
  return text ~= "" and text or nil
end

--- Draw the ghost `g` (see state.lua) at its place, replacing what was drawn before; while a
--- completion menu is open it is only marked `hidden`.
function M.draw(g)
  api.nvim_buf_clear_namespace(g.bufnr, ns, 0, -1)
  -- The menu and the ghost text both want <Tab>: while a menu is open, the menu has it.
  g.hidden = config.get().suggestion.hide_during_completion and menu.visible()
  if g.hidden then
    g.mark = nil
    return
  end
  local hl = config.get().suggestion.hl_group
  -- Virtual text is a C string: show a NUL as the buffer would (^@) instead of cutting there.
  local lines = vim.split(g.text:gsub("%z", "^@"), "\n", { plain = true })
  -- The rest of the cursor line goes inline; the following lines below it.
  local opts = { hl_mode = "combine", priority = 200 }
  if lines[1] ~= "" then
    opts.virt_text = { { lines[1], hl } }
    opts.virt_text_pos = "inline"
  end
  if #lines > 1 then
    opts.virt_lines = {}
    for i = 2, #lines do
      opts.virt_lines[#opts.virt_lines + 1] = { { lines[i], hl } }
    end
  end
  g.mark = api.nvim_buf_set_extmark(g.bufnr, ns, g.row, g.col, opts)
end

--- Take what was drawn in `bufnr` off the screen.
function M.erase(bufnr)
  api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
end

return M
