-- A model that cannot follow instructions: :TandemEdit says so in one notice naming the
-- checkpoint needed, nothing is drawn, and no Tandem code action is offered.
local H = require("harness")
local api = vim.api

H.run(function()
  H.setup()
  local buf = H.open("add.py", { "def add(a, b):", "    return a + b", "" })
  H.record(require("tandem.client").get(buf, true))
  local done
  api.nvim_create_autocmd("User", {
    pattern = "TandemEditDone",
    callback = function(args)
      done = args.data
    end,
  })
  local before = #require("tandem.notice").history()
  vim.cmd("1,2TandemEdit add a docstring")
  H.wait(function()
    return done
  end, 20000, "the edit to fail")
  H.sleep(100)
  H.result.done = done
  H.result.notices = vim.list_slice(require("tandem.notice").history(), before + 1)
  H.result.current = require("tandem.edit").current(buf) or vim.NIL
  H.result.lines = H.lines(buf)
  local client = require("tandem.client").get(buf, true)
  local params = vim.lsp.util.make_given_range_params({ 1, 0 }, { 2, 15 }, buf, client.offset_encoding)
  params.context = { diagnostics = {} }
  local result, err = require("tandem.client").request_sync(client, "textDocument/codeAction", params, 10000, buf)
  H.result.code_actions = vim.tbl_map(function(a)
    return a.title
  end, result or {})
  H.result.code_action_err = err or vim.NIL
end)
