--- `:checkhealth tandem`: Neovim, options, the server executable, the model host and its model.
local M = {}

local health = vim.health
local TIMEOUT_MS = 15000

-- Start a throwaway server (host auto-start off) just long enough to ask `tandem/status`.
local function probe(opts)
  local settings = vim.deepcopy(opts.settings)
  settings.host = vim.tbl_extend("force", settings.host or {}, { autoStart = false })
  settings = require("tandem.client").server_settings(settings)
  local done, result, failure = false, nil, nil
  local ok, rpc = pcall(vim.lsp.rpc.start, opts.cmd, {
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
    return nil, "could not start " .. table.concat(opts.cmd, " ") .. ": " .. tostring(rpc)
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
    rpc.request("tandem/status", vim.empty_dict(), function(serr, res)
      failure = serr and ("tandem/status failed: " .. tostring(serr.message or serr)) or failure
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
  local v = vim.version()
  local version = string.format("%d.%d.%d", v.major, v.minor, v.patch)
  if vim.fn.has("nvim-0.10") == 1 then
    health.ok("Neovim " .. version)
  else
    health.error("Neovim " .. version .. " is too old", { "Tandem needs Neovim 0.10 or newer" })
  end

  local config = require("tandem.config")
  if config.options then
    health.ok("setup() called; filetypes: " .. table.concat(config.options.filetypes, ", "))
  else
    health.warn("setup() has not been called; checking with the defaults", { 'require("tandem").setup({})' })
  end
  local opts = config.get()

  local exe = opts.cmd[1]
  if vim.fn.executable(exe) == 1 then
    health.ok("server executable: " .. vim.fn.exepath(exe))
  else
    health.error("server executable not found: " .. exe,
      { "pip install tandem-assist (it provides tandem-lsp)", "or set `cmd` in setup()" })
    return
  end

  health.start("tandem: server and model host")
  local client = require("tandem.client").get()
  local s, err
  if client then
    health.info(string.format("client %d running for %s", client.id, tostring(client.root_dir)))
    s, err = require("tandem.client").request_sync(client, "tandem/status", vim.empty_dict(), TIMEOUT_MS)
    err = err and require("tandem.client").error_message(err)
  else
    health.info("no client running; starting the server once to ask it")
    s, err = probe(opts)
  end
  if type(s) ~= "table" then
    health.error("the server did not report its status: " .. tostring(err))
    return
  end
  report_status(s)
end

return M
