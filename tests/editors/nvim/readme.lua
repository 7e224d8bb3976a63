-- After the README's setup (run by init.lua, exactly as written): open a file, reach the host at
-- the default socket, and record what the user saw: notifications, messages, the LSP log.
local H = require("harness")
local api = vim.api
local T = _G.TANDEM_TEST

H.run(function()
  vim.fn.writefile({ "def add(a, b):", "    " }, "add.py")
  vim.cmd("edit add.py")
  local buf = api.nvim_get_current_buf()
  local client = H.wait(function()
    for _, c in ipairs(vim.lsp.get_clients({ bufnr = buf })) do
      if c.name == "tandem" and c.initialized then
        return c
      end
    end
  end, 30000, "the README's client to attach")
  H.result.client_cmd = client.config.cmd
  H.result.init_options = vim.json.encode(client.config.init_options or vim.NIL)
  if T.plugin_block then
    H.result.status = H.wait(function()
      local s = H.status(buf)
      return s and s.host and s.host.state == "ready" and s
    end, 60000, "the host at the default socket")
  else
    H.result.triggers = client.server_capabilities.completionProvider.triggerCharacters
  end
  H.sleep(500) -- anything the server still had to say
  H.result.notified = _G.TANDEM_NOTIFIED
  H.result.messages = vim.fn.execute("messages")
  H.result.lsp_log = vim.lsp.get_log_path()
end, 90000)
