-- Ghost text and completion menus: hidden while the built-in popup menu, nvim-cmp's or
-- blink.cmp's menu is open (they want <Tab> too), back when it closes. Keys as copilot.lua
-- users have them (<M-l> accepts all). TandemSuggestion has a cterm colour.
local H = require("harness")
local api = vim.api
local sug = require("tandem.suggestion")

local function shown(buf)
  local text, _, _, marks = H.ghost(buf)
  local cur = sug.current()
  return { text = text, marks = marks, hidden = cur and cur.hidden or false }
end

H.run(function()
  vim.o.termguicolors = false
  vim.o.completeopt = "menu,menuone,noselect"
  -- Stand-ins for nvim-cmp's and blink.cmp's visibility API, as Tandem reads it.
  local cmp_open, blink_open, cmp_listeners = false, false, {}
  package.loaded["cmp"] = {
    visible = function()
      return cmp_open
    end,
    event = {
      on = function(_, name, fn)
        cmp_listeners[name] = fn
      end,
    },
  }
  package.loaded["blink.cmp"] = {
    is_menu_visible = function()
      return blink_open
    end,
  }
  H.setup({ suggestion = { keymaps = { accept = "<M-l>" } } })
  H.result.hl = api.nvim_get_hl(0, { name = "TandemSuggestion" })
  local buf = H.open("add.py", { "def add(a, b):", "    " })
  H.record(require("tandem.client").get(buf, true))
  H.result.tab_map = vim.fn.maparg("<Tab>", "i", false, true).desc or vim.NIL
  H.result.ml_map = vim.fn.maparg("<M-l>", "i", false, true).desc or vim.NIL
  api.nvim_win_set_cursor(0, { 2, 4 })
  H.feed("A")
  H.wait(function()
    return H.mode() == "i"
  end, 2000, "insert mode")
  local _, item = H.get_suggestion(buf)
  H.result.item = item
  H.result.first = shown(buf)

  -- The built-in popup menu.
  vim.keymap.set("i", "<F5>", function()
    vim.fn.complete(vim.fn.col("."), { "alpha", "beta" })
  end, { buffer = buf })
  H.feed("<F5>")
  H.wait(function()
    return vim.fn.pumvisible() == 1 and shown(buf).marks == 0
  end, 3000, "the popup menu, without ghost text")
  H.result.in_pum = shown(buf)
  H.feed("<C-e>")
  H.wait(function()
    return vim.fn.pumvisible() == 0 and shown(buf).marks == 1
  end, 3000, "the ghost text back after the menu")
  H.result.after_pum = shown(buf)

  -- nvim-cmp's menu.
  cmp_open = true
  cmp_listeners.menu_opened()
  H.wait(function()
    return shown(buf).marks == 0
  end, 3000, "no ghost text under nvim-cmp's menu")
  H.result.in_cmp = shown(buf)
  H.result.accept_in_cmp = sug.accept("all")
  cmp_open = false
  cmp_listeners.menu_closed()
  H.wait(function()
    return shown(buf).marks == 1
  end, 3000, "the ghost text back after nvim-cmp's menu")

  -- blink.cmp's menu.
  blink_open = true
  api.nvim_exec_autocmds("User", { pattern = "BlinkCmpMenuOpen" })
  H.wait(function()
    return shown(buf).marks == 0
  end, 3000, "no ghost text under blink.cmp's menu")
  H.result.in_blink = shown(buf)
  blink_open = false
  api.nvim_exec_autocmds("User", { pattern = "BlinkCmpMenuClose" })
  H.wait(function()
    return shown(buf).marks == 1
  end, 3000, "the ghost text back after blink.cmp's menu")
  H.result.after_blink = shown(buf)

  -- <M-l> (copilot.lua's key) accepts all of it.
  H.result.before = H.lines(buf)
  H.feed("<M-l>")
  H.wait(function()
    return not sug.is_visible()
  end, 3000, "the ghost text to go after <M-l>")
  H.result.after = H.lines(buf)
  H.feed("<Esc>")
end)
