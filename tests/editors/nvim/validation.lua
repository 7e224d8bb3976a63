-- setup() never raises: each bad or unknown option is a problem naming it (with "did you mean"
-- for a misspelling) and is left at its default; server settings are the server's to check.
local H = require("harness")

H.run(function()
  local tandem = require("tandem")
  local config = require("tandem.config")
  local cases = {
    { name = "cmd", opts = { cmd = {} }, path = "cmd" },
    { name = "cmd_type", opts = { cmd = "tandem-lsp" }, path = "cmd" },
    { name = "unknown", opts = { suggestions = {} } },
    { name = "unknown_nested", opts = { chat = { positon = "left" } }, path = "chat.position" },
    { name = "keymap", opts = { suggestion = { keymaps = { accept = 1 } } }, path = "suggestion.keymaps.accept" },
    { name = "position", opts = { chat = { position = "middle" } }, path = "chat.position" },
    { name = "encoding", opts = { position_encodings = { "latin-1" } }, path = "position_encodings" },
    { name = "not_table", opts = "yes" },
    { name = "same_key", opts = { suggestion = { keymaps = { accept = "<M-l>", accept_line = "<A-l>" } } } },
    { name = "gone", opts = { suggestion = { debounce_ms = 20 } } },
    { name = "server_setting", opts = { settings = { host = { modle = "m" }, completion = { maxTokenLine = 5 } } } },
    { name = "server_section", opts = { settings = { completions = {}, loglevel = "debug" } } },
    { name = "good", opts = {
      suggestion = { keymaps = { accept = false } }, chat = { size = 60 },
      -- camelCase as documented, and the snake_case the server also takes.
      settings = { host = { autoStart = false }, completion = { max_tokens_line = 5 }, logLevel = "info" },
    } },
  }
  for _, case in ipairs(cases) do
    local before = #require("tandem.notice").history()
    local ok, err = pcall(tandem.setup, case.opts)
    local value = case.path and vim.tbl_get(config.options, unpack(vim.split(case.path, ".", { plain = true })))
    H.result[case.name] = {
      ok = ok, err = err and tostring(err) or vim.NIL, problems = config.problems,
      value = value == nil and vim.NIL or value,
      default = case.path and vim.tbl_get(config.defaults, unpack(vim.split(case.path, ".", { plain = true }))) or vim.NIL,
      notices = vim.list_slice(require("tandem.notice").history(), before + 1),
      keymaps = config.options.suggestion.keymaps,
    }
  end
  H.result.commands = vim.tbl_keys(vim.api.nvim_get_commands({}))
  -- copilot.lua's accept key: <M-l> moves from accept_line (its default) to accept.
  tandem.setup({ suggestion = { keymaps = { accept = "<M-l>" } } })
  H.result.copilot_keys = config.options.suggestion.keymaps
  tandem.setup({ suggestion = { keymaps = { accept = { "<Tab>", "<M-l>" }, accept_line = "<M-j>" } } })
  H.result.both_keys = config.options.suggestion.keymaps
end)
