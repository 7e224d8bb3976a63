-- Neovim's built-in LSP completion (vim.lsp.completion), without the Tandem plugin: the
-- fallback item must go in whole (not just its first word), keep the word being typed, and
-- come by itself after a trigger character (autotrigger).
local H = require("harness")
local api = vim.api
local T = _G.TANDEM_TEST

-- Wait for the popup menu with the server's item; ask again (Invoked) if it came back empty.
local function menu(ask, tries)
  for _ = 1, tries do
    local n = #H.requests_for("textDocument/completion")
    ask()
    local req = H.wait(function()
      local r = H.requests_for("textDocument/completion")[n + 1]
      return r and r.answered and r
    end, 15000, "a textDocument/completion answer")
    local items = req.result and (req.result.items or req.result) or {}
    if #items > 0 and H.try_wait(function()
      return vim.fn.pumvisible() == 1
    end, 2000) then
      return req
    end
  end
  error("no completion item after " .. tries .. " tries")
end

-- Pick the (only) item and accept it as the docs say: <C-n> then <C-y>.
local function accept()
  H.feed("<C-n>")
  H.feed("<C-y>")
  H.wait(function()
    return vim.fn.pumvisible() == 0
  end, 3000, "the menu to close")
  H.sleep(200)
end

H.run(function()
  vim.o.completeopt = "menu,menuone,noselect"
  vim.fn.writefile({ "def add(a, b):", "    ret" }, "add.py")
  vim.cmd("edit add.py")
  local buf = api.nvim_get_current_buf()
  vim.bo[buf].expandtab = false
  vim.bo[buf].indentexpr = ""
  vim.bo[buf].autoindent = false
  vim.bo[buf].formatoptions = ""
  local id = assert(vim.lsp.start({
    name = "tandem",
    cmd = { T.python, "-m", "lsp_server", "--log-file", T.server_log },
    root_dir = vim.fn.getcwd(),
    init_options = { host = { address = T.address, autoStart = false } },
  }, { bufnr = buf }))
  local client = H.wait(function()
    local c = vim.lsp.get_client_by_id(id)
    return c and c.initialized and c
  end, 30000, "the server to start")
  H.record(client)
  vim.lsp.completion.enable(true, id, buf, { autotrigger = true })
  H.result.triggers = client.server_capabilities.completionProvider.triggerCharacters

  -- Mid-word, asked for (<C-x><C-o> and vim.lsp.completion.get() do the same).
  api.nvim_win_set_cursor(0, { 2, 7 })
  H.feed("A")
  H.wait(function()
    return H.mode() == "i"
  end, 2000, "insert mode")
  local req = menu(function()
    vim.lsp.completion.get()
  end, 8)
  H.result.midword_before = H.lines(buf)
  H.result.midword_item = (req.result.items or req.result)[1]
  accept()
  H.result.midword_after = H.lines(buf)

  -- A new line, then a trigger character: the menu comes by itself.
  H.feed("<Esc>")
  api.nvim_buf_set_lines(buf, -1, -1, false, { "x =" })
  api.nvim_win_set_cursor(0, { api.nvim_buf_line_count(buf), 2 })
  H.feed("A")
  req = nil
  for attempt = 1, 8 do
    local n = #H.requests_for("textDocument/completion")
    H.feed(attempt == 1 and " " or "<BS> ") -- type the space (again)
    local r = H.wait(function()
      local x = H.requests_for("textDocument/completion")[n + 1]
      return x and x.answered and x
    end, 15000, "an automatic textDocument/completion")
    local items = r.result and (r.result.items or r.result) or {}
    if #items > 0 and H.try_wait(function()
      return vim.fn.pumvisible() == 1
    end, 2000) then
      req = r
      break
    end
  end
  assert(req, "no automatic completion item after 8 tries")
  H.result.auto_context = req.params.context
  H.result.auto_before = H.lines(buf)
  H.result.auto_item = (req.result.items or req.result)[1]
  accept()
  H.result.auto_after = H.lines(buf)
  H.wait(function()
    return #H.requests_for("workspace/executeCommand") >= 2
  end, 5000, "tandem.didAccept to run for both")
  H.result.commands = vim.tbl_map(function(r)
    return r.params
  end, H.requests_for("workspace/executeCommand"))
  H.feed("<Esc>")
end, 150000)
