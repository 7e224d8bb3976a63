-- Where the plugin finds tandem-lsp: cmd, PATH, $VIRTUAL_ENV, the checkout's .venv; then a real
-- start with the checkout's.
local H = require("harness")
local T = _G.TANDEM_TEST

H.run(function()
  local locate = require("tandem.locate")
  vim.env.VIRTUAL_ENV = nil
  vim.env.PATH = T.plain_path
  H.result.checkout = { locate.server_cmd(nil) }
  vim.env.VIRTUAL_ENV = T.venv
  H.result.virtual_env = { locate.server_cmd(nil) }
  vim.env.PATH = T.venv .. "/bin:" .. T.plain_path
  H.result.on_path = { locate.server_cmd(nil) }
  H.result.explicit = { locate.server_cmd({ T.python, "-m", "lsp_server" }) }
  local cmd, why = locate.server_cmd({ "/nowhere/tandem-lsp" })
  H.result.explicit_missing = { cmd or vim.NIL, why }

  vim.env.VIRTUAL_ENV = nil
  vim.env.PATH = T.plain_path
  require("tandem").setup({ settings = { host = { address = T.address, autoStart = false } } })
  local buf = H.open("add.py", { "x = 1" })
  H.result.client_cmd = require("tandem.client").get(buf, true).config.cmd
  H.result.status = H.status(buf)
  H.result.notified = _G.TANDEM_NOTIFIED
end)
