-- setup() rejects bad options with a message naming the option.
local H = require("harness")

H.run(function()
  local tandem = require("tandem")
  local cases = {
    { name = "debounce", opts = { suggestion = { debounce_ms = "fast" } } },
    { name = "negative", opts = { suggestion = { debounce_ms = -5 } } },
    { name = "cmd", opts = { cmd = {} } },
    { name = "cmd_type", opts = { cmd = "tandem-lsp" } },
    { name = "unknown", opts = { suggestions = {} } },
    { name = "unknown_nested", opts = { chat = { width = 3 } } },
    { name = "keymap", opts = { suggestion = { keymaps = { accept = 1 } } } },
    { name = "position", opts = { chat = { position = "middle" } } },
    { name = "encoding", opts = { position_encodings = { "latin-1" } } },
    { name = "not_table", opts = "yes" },
    { name = "same_key", opts = { suggestion = { keymaps = { accept = "<M-l>", accept_line = "<A-l>" } } } },
    { name = "good", opts = { suggestion = { keymaps = { accept = false } }, chat = { size = 60 } } },
  }
  for _, case in ipairs(cases) do
    local ok, err = pcall(tandem.setup, case.opts)
    H.result[case.name] = { ok = ok, err = err and tostring(err) or vim.NIL }
  end
  H.result.commands = vim.tbl_keys(vim.api.nvim_get_commands({}))
  -- copilot.lua's accept key: <M-l> moves from accept_line (its default) to accept.
  tandem.setup({ suggestion = { keymaps = { accept = "<M-l>" } } })
  H.result.copilot_keys = require("tandem.config").options.suggestion.keymaps
  tandem.setup({ suggestion = { keymaps = { accept = { "<Tab>", "<M-l>" }, accept_line = "<M-j>" } } })
  H.result.both_keys = require("tandem.config").options.suggestion.keymaps
end)
