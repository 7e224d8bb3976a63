--- Completion menus and the ghost text both want <Tab>: whether one is open (the built-in
--- popup menu, nvim-cmp's or blink.cmp's), and a call when one opens or closes.
local M = {}

local api = vim.api

-- What to run once a menu opened or closed (M.watch).
local on_change = nil

-- A menu opened or closed: hide or bring back the ghost text once the menu has settled.
local function changed()
  vim.schedule(on_change)
end

--- A completion menu is open: the built-in popup menu, nvim-cmp's or blink.cmp's (only
--- asked when that plugin is loaded already).
function M.visible()
  if vim.fn.pumvisible() == 1 then
    return true
  end
  local cmp = package.loaded["cmp"]
  if type(cmp) == "table" and type(cmp.visible) == "function" then
    local ok, visible = pcall(cmp.visible)
    if ok and visible then
      return true
    end
  end
  local blink = package.loaded["blink.cmp"]
  if type(blink) == "table" then
    local fn = blink.is_menu_visible or blink.is_visible
    if type(fn) == "function" then
      local ok, visible = pcall(fn)
      if ok and visible then
        return true
      end
    end
  end
  return false
end

--- Run `fn` (scheduled) whenever a menu opens or closes: blink.cmp's from now on (it announces
--- its menu with User autocommands, created in `group`), nvim-cmp's once M.hook_cmp found it
--- loaded, the built-in one's in the buffers given to M.attach.
function M.watch(group, fn)
  on_change = fn
  api.nvim_create_autocmd("User", {
    group = group, pattern = { "BlinkCmpMenuOpen", "BlinkCmpMenuClose" }, callback = changed,
  })
end

local cmp_hooked = false
--- nvim-cmp tells its listeners when its menu opens and closes (only if it is loaded).
function M.hook_cmp()
  local cmp = package.loaded["cmp"]
  if cmp_hooked or type(cmp) ~= "table" or type(cmp.event) ~= "table" then
    return
  end
  cmp_hooked = true
  pcall(function()
    cmp.event:on("menu_opened", changed)
    cmp.event:on("menu_closed", changed)
  end)
end

--- The built-in popup menu in `bufnr`: shown/changed, then done (accepted, dismissed or
--- abandoned).
function M.attach(group, bufnr)
  api.nvim_create_autocmd({ "CompleteChanged", "CompleteDone" }, {
    group = group, buffer = bufnr, callback = changed,
  })
end

return M
