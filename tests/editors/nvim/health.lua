-- :checkhealth tandem (a throwaway server when none runs, then the running client), :TandemStatus.
local H = require("harness")
local api = vim.api
local T = _G.TANDEM_TEST

local function checkhealth()
  local tabs, buf = #api.nvim_list_tabpages(), api.nvim_get_current_buf()
  vim.cmd("checkhealth tandem")
  local lines = api.nvim_buf_get_lines(0, 0, -1, false)
  if #api.nvim_list_tabpages() > tabs then
    vim.cmd("tabclose")
  elseif api.nvim_buf_is_valid(buf) then
    api.nvim_set_current_buf(buf)
  end
  return lines
end

H.run(function()
  H.setup({
    settings = { host = { address = "unix:" .. T.dir .. "/nothing.sock" }, completion = { temperature = "hot" } },
  })
  H.result.health_no_host = checkhealth()
  H.setup()
  H.result.health_probe = checkhealth()
  local buf = H.open("add.py", { "def add(a, b):", "    return a + b" })
  H.result.health_client = checkhealth()

  local status
  api.nvim_create_autocmd("User", {
    pattern = "TandemStatus",
    callback = function(args)
      status = args.data
    end,
  })
  vim.cmd("TandemStatus")
  H.wait(function()
    return status
  end, 10000, ":TandemStatus")
  H.result.status = status
  H.result.float = vim.tbl_filter(function(w)
    return api.nvim_win_get_config(w).relative ~= ""
  end, api.nvim_list_wins())[1] ~= nil
  H.result.float_lines = require("tandem.status").format(status)
end)
