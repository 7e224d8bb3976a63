--- The insert-mode keys of ghost text (`suggestion.keymaps`): accept all, a word or a line,
--- dismiss, next, previous; with no suggestion to act on, a key does what it did before.
local M = {}

local api = vim.api
local config = require("tandem.config")

local function feed(keys, mode)
  api.nvim_feedkeys(api.nvim_replace_termcodes(keys, true, false, true), mode or "ni", false)
end

-- What `lhs` did before Tandem mapped it: another plugin's insert-mode mapping, else the key.
local function fallback_for(bufnr, lhs)
  local prev = api.nvim_buf_call(bufnr, function()
    return vim.fn.maparg(lhs, "i", false, true)
  end)
  if type(prev) ~= "table" or vim.tbl_isempty(prev) or (prev.desc or ""):find("^Tandem: ") then
    return function()
      feed(lhs)
    end
  end
  return function()
    local ok, keys = true, prev.rhs
    if prev.callback then
      ok, keys = pcall(prev.callback)
      if prev.expr ~= 1 then
        return
      end
    elseif prev.expr == 1 then
      ok, keys = pcall(api.nvim_eval, prev.rhs)
    end
    if not ok then
      keys = lhs
    end
    if type(keys) == "string" and keys ~= "" then
      feed(keys, prev.noremap == 1 and "ni" or "mi")
    end
  end
end

-- Keymap option -> { what it does with the suggestion API (false: nothing to act on), desc }.
local ACTIONS = {
  accept = { function(s) return s.accept("all") end, "accept suggestion" },
  accept_word = { function(s) return s.accept("word") end, "accept next word of suggestion" },
  accept_line = { function(s) return s.accept("line") end, "accept next line of suggestion" },
  dismiss = { function(s) return s.dismiss() end, "dismiss suggestion" },
  next = { function(s) return s.next() end, "next suggestion" },
  prev = { function(s) return s.prev() end, "previous suggestion" },
}

--- Map the configured keys in `bufnr` to the actions of `suggestion` (the module's API).
function M.set(bufnr, suggestion)
  for name, keys in pairs(config.get().suggestion.keymaps) do
    local action = ACTIONS[name]
    for _, lhs in ipairs(action and config.keys(keys) or {}) do
      local fallback = fallback_for(bufnr, lhs)
      vim.keymap.set("i", lhs, function()
        if not action[1](suggestion) then
          fallback() -- nothing to act on: the key does what it did before
        end
      end, { buffer = bufnr, silent = true, desc = "Tandem: " .. action[2] })
    end
  end
end

--- Remove the keys M.set mapped in `bufnr`.
function M.del(bufnr)
  for name, keys in pairs(config.get().suggestion.keymaps) do
    for _, lhs in ipairs(ACTIONS[name] and config.keys(keys) or {}) do
      pcall(vim.keymap.del, "i", lhs, { buffer = bufnr })
    end
  end
end

return M
