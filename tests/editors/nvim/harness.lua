--- Test harness for driving Tandem in a real headless Neovim: steps run in a coroutine that
--- waits on the event loop (so insert mode, timers and LSP traffic all run for real), and the
--- results go to a JSON file that pytest reads after `qa!`.
local H = {}

local api = vim.api
local T = _G.TANDEM_TEST -- set by the test's init.lua: out, address, python, server_log, plugin

H.result = {}
-- Traffic on the Tandem client, recorded by `H.record`: { method, params, err, result }.
H.requests = {}
H.notifications = {}

local co

local function write_result(tbl)
  local f = assert(io.open(T.out, "w"))
  f:write(vim.json.encode(tbl))
  f:close()
end

local function finish(ok, err)
  H.result.ok = ok
  H.result.error = err
  local encoded_ok, msg = pcall(write_result, H.result)
  if not encoded_ok then
    write_result({ ok = false, error = "could not encode the results: " .. tostring(msg) })
  end
  -- Stop the servers politely (shutdown/exit) so they do not write into a closed pipe.
  for _, client in ipairs(vim.lsp.get_clients()) do
    client:stop()
  end
  local deadline = vim.uv.now() + 3000
  local function quit()
    if #vim.lsp.get_clients() > 0 and vim.uv.now() < deadline then
      return vim.defer_fn(quit, 20)
    end
    vim.cmd("qa!")
  end
  vim.schedule(quit)
end

local function resume()
  local ok, err = coroutine.resume(co)
  if not ok then
    finish(false, debug.traceback(co, tostring(err)))
  elseif coroutine.status(co) == "dead" then
    finish(true, nil)
  end
end

--- Run `fn` as the test: it may wait; any error fails the test with its traceback.
function H.run(fn, timeout_ms)
  co = coroutine.create(fn)
  -- A watchdog, so a hung step still writes a result and quits.
  vim.defer_fn(function()
    if coroutine.status(co) ~= "dead" then
      finish(false, "timed out after " .. (timeout_ms or 90000) .. " ms at: " .. tostring(H.step))
    end
  end, timeout_ms or 90000)
  vim.schedule(resume)
end

--- Yield to the event loop for `ms`.
function H.sleep(ms)
  vim.defer_fn(resume, ms)
  coroutine.yield()
end

--- Wait until `cond()` is truthy (returns its value); fails the test after `timeout_ms`.
function H.wait(cond, timeout_ms, what)
  H.step = what
  local deadline = vim.uv.now() + (timeout_ms or 20000)
  while true do
    local value = cond()
    if value then
      return value
    end
    if vim.uv.now() > deadline then
      error("timed out waiting for " .. tostring(what), 2)
    end
    H.sleep(20)
  end
end

--- Like `wait`, but returns nil instead of failing.
function H.try_wait(cond, timeout_ms)
  local deadline = vim.uv.now() + timeout_ms
  while vim.uv.now() <= deadline do
    local value = cond()
    if value then
      return value
    end
    H.sleep(20)
  end
  return nil
end

--- Type `keys` (termcodes allowed) as the user would, mappings included, and let them run.
function H.feed(keys, mode)
  api.nvim_feedkeys(api.nvim_replace_termcodes(keys, true, false, true), mode or "mt", false)
  H.sleep(30)
end

function H.check(cond, msg)
  if not cond then
    error("check failed: " .. msg, 2)
  end
end

--- Tandem's setup, with the test's server command and model host.
function H.setup(extra)
  local opts = vim.tbl_deep_extend("force", {
    cmd = { T.python, "-m", "lsp_server", "--log-file", T.server_log, "--log-level", "debug" },
    settings = { host = { address = T.address, autoStart = false }, chat = { maxTokens = 48 } },
    chat = { max_tokens = 48 },
  }, extra or {})
  require("tandem").setup(opts)
end

--- Edit `name` (in the cwd) holding `lines`; returns the buffer once the client is attached.
function H.open(name, lines)
  vim.fn.writefile(lines, name)
  vim.cmd("edit " .. vim.fn.fnameescape(name))
  local buf = api.nvim_get_current_buf()
  -- Keep the text exactly as typed: no reindenting or wrapping under the test.
  vim.bo[buf].indentexpr = ""
  vim.bo[buf].indentkeys = ""
  vim.bo[buf].textwidth = 0
  vim.bo[buf].formatoptions = ""
  vim.bo[buf].autoindent = false
  vim.bo[buf].smartindent = false
  vim.bo[buf].cindent = false
  H.wait(function()
    return require("tandem.client").get(buf, true)
  end, 30000, "the tandem client to attach")
  return buf
end

--- Record the Tandem client's requests (with their answers) and notifications.
function H.record(client)
  local request, notify = client.request, client.notify
  client.request = function(self, method, params, handler, bufnr)
    local entry = { method = method, params = params }
    table.insert(H.requests, entry)
    return request(self, method, params, function(err, result, ...)
      entry.err, entry.result, entry.answered = err, result, true
      if handler then
        return handler(err, result, ...)
      end
    end, bufnr)
  end
  client.notify = function(self, method, params)
    table.insert(H.notifications, { method = method, params = params })
    return notify(self, method, params)
  end
end

function H.requests_for(method)
  return vim.tbl_filter(function(r)
    return r.method == method
  end, H.requests)
end

function H.events()
  local out = {}
  for _, n in ipairs(H.notifications) do
    if n.method == "tandem/suggestionEvent" then
      out[#out + 1] = n.params
    end
  end
  return out
end

--- The ghost text as drawn: (text, row, col, number of marks). The inline chunk is the rest of
--- the cursor line, each virtual line one following line.
function H.ghost(buf)
  local ns = require("tandem.suggestion").namespace
  local marks = api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })
  if #marks == 0 then
    return nil, nil, nil, 0
  end
  local d = marks[1][4]
  local function join(chunks)
    local s = ""
    for _, c in ipairs(chunks or {}) do
      s = s .. c[1]
    end
    return s
  end
  local parts = { join(d.virt_text) }
  for _, vl in ipairs(d.virt_lines or {}) do
    parts[#parts + 1] = join(vl)
  end
  return table.concat(parts, "\n"), marks[1][2], marks[1][3], #marks
end

--- The last answered inlineCompletion request that returned an item.
function H.last_item()
  local reqs = H.requests_for("textDocument/inlineCompletion")
  for i = #reqs, 1, -1 do
    local r = reqs[i]
    local items = r.answered and r.result and (r.result.items or r.result)
    if items and items[1] then
      return items[1], r
    end
  end
end

--- Get a suggestion shown at the cursor (insert mode), pressing "next" (Invoked) if the
--- random model has nothing to say; returns the drawn text and the item it came from.
function H.get_suggestion(buf, tries)
  local sug = require("tandem.suggestion")
  for attempt = 1, tries or 6 do
    if H.try_wait(sug.current, attempt == 1 and 8000 or 5000) then
      local text = H.ghost(buf)
      local item, req = H.last_item()
      return text, item, req
    end
    H.result.retries = (H.result.retries or 0) + 1
    H.feed("<M-]>")
  end
  error("no suggestion after " .. (tries or 6) .. " tries; inlineCompletion answers: "
    .. vim.inspect(vim.tbl_map(function(r)
      return r.result or r.err
    end, H.requests_for("textDocument/inlineCompletion"))))
end

function H.lines(buf)
  return api.nvim_buf_get_lines(buf, 0, -1, false)
end

function H.cursor()
  local c = api.nvim_win_get_cursor(0)
  return { c[1] - 1, c[2] }
end

function H.mode()
  return api.nvim_get_mode().mode
end

--- Ask the server for `tandem/status` and wait for it.
function H.status(buf)
  local client = require("tandem.client").get(buf)
  local answer
  require("tandem.status").request(client, function(result, err)
    answer = { result = result, err = err }
  end)
  H.wait(function()
    return answer
  end, 10000, "tandem/status")
  return answer.result, answer.err
end

--- Wait for the chat answer `chat_id` to finish (User TandemChatDone); returns its data.
function H.wait_chat(chat_id, timeout_ms)
  local done
  local id = api.nvim_create_autocmd("User", {
    pattern = "TandemChatDone",
    callback = function(args)
      if args.data and args.data.chatId == chat_id then
        done = args.data
      end
    end,
  })
  local last = require("tandem.chat").state().last
  if last and last.chat_id == chat_id then
    done = { chatId = chat_id, text = last.text, chunks = last.chunks }
  end
  H.wait(function()
    return done
  end, timeout_ms or 60000, "the chat answer " .. chat_id)
  api.nvim_del_autocmd(id)
  return done
end

return H
