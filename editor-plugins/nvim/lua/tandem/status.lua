--- `tandem/status`: asking the server, and the few lines that summarize its answer.
local M = {}

local client_mod = require("tandem.client")
local protocol = require("tandem.protocol")

local function num(v, fmt)
  if type(v) ~= "number" then
    return "?"
  end
  return string.format(fmt or "%d", v)
end

--- Lines (markdown) for a `tandem/status` result.
---@param s table
---@return string[]
function M.format(s)
  local server, host, model, sug = s.server or {}, s.host or {}, s.model or {}, s.suggestions or {}
  local lines = { "# Tandem", "" }
  lines[#lines + 1] = string.format("- **server**: %s %s (%s, %s documents)", server.name or "tandem-lsp",
    server.version or "?", server.positionEncoding or "?", num(server.documents))
  local hs = string.format("- **host**: %s at %s", host.state or "?", host.address or "?")
  if host.state == "ready" then
    local lat = type(host.latency_ms) == "table" and host.latency_ms or {}
    hs = hs .. string.format(" (queue %s, served %s, p50 %s ms, p95 %s ms)", num(host.queue_depth),
      num(host.served), num(lat.p50, "%.0f"), num(lat.p95, "%.0f"))
  end
  if host.error and host.error ~= "" then
    hs = hs .. " — " .. tostring(host.error)
  end
  lines[#lines + 1] = hs
  if type(host.logFile) == "string" then
    lines[#lines + 1] = "- **host log**: " .. host.logFile
  end
  local problems = type(server.settingsProblems) == "table" and server.settingsProblems or {}
  for _, problem in ipairs(problems) do
    lines[#lines + 1] = "- **setting ignored**: " .. tostring(problem)
  end
  if type(model) == "table" and model.name then
    lines[#lines + 1] = string.format("- **model**: %s (context %s, infill %s, chat %s)", model.name,
      num(model.context_window), model.can_infill and "yes" or "no", tostring(model.chat_format or "?"))
  else
    lines[#lines + 1] = "- **model**: none loaded"
  end
  lines[#lines + 1] = string.format(
    "- **suggestions**: %s requested, %s shown, %s accepted, %s partly, %s rejected, %s cache hits, %s empty",
    num(sug.requested), num(sug.shown), num(sug.accepted), num(sug.partiallyAccepted), num(sug.rejected),
    num(sug.cacheHits), num(sug.empty))
  return lines
end

--- True when the status says a host is up with a model loaded.
function M.ready(s)
  return type(s) == "table" and type(s.host) == "table" and s.host.state == "ready"
    and type(s.model) == "table" and s.model.name ~= nil
end

--- Ask the server for its status; `callback(result, err)`.
function M.request(client, callback)
  local id = client_mod.request(client, protocol.STATUS, vim.empty_dict(), function(err, result)
    callback(result, err)
  end)
  if not id then
    callback(nil, { message = "the server is not running" })
  end
end

--- `:TandemStatus`: the status in a float, or in messages when `in_messages`.
function M.show(in_messages)
  local client = client_mod.get()
  if not client then
    require("tandem.notice").notify("Tandem: no tandem-lsp is running", vim.log.levels.WARN)
    return
  end
  M.request(client, function(result, err)
    if err or type(result) ~= "table" then
      require("tandem.notice").notify("Tandem: status failed: " .. client_mod.error_message(err),
        vim.log.levels.ERROR)
      return
    end
    local lines = M.format(result)
    if in_messages then
      -- Asked for as output, like :ls: taller than the command line, it ends in Neovim's
      -- "Press ENTER" (the float, the default, never does).
      vim.api.nvim_echo({ { table.concat(lines, "\n") } }, true, {})
    else
      vim.lsp.util.open_floating_preview(lines, "markdown",
        { border = "rounded", focus_id = "tandem-status" })
    end
    vim.api.nvim_exec_autocmds("User", { pattern = "TandemStatus", modeline = false, data = result })
  end)
end

return M
