--- The tandem-lsp client: starting it per project root, and one call shape across Neovim 0.10/0.11.
local M = {}

local config = require("tandem.config")
local protocol = require("tandem.protocol")

M.NAME = "tandem"

-- Neovim 0.11 made client functions methods (`client:request`); 0.10 has closures (`client.request`).
local METHODS = vim.fn.has("nvim-0.11") == 1

-- chatId -> function(params): who wants the `tandem/chatChunk` notifications of each chat.
local chunk_listeners = {}

--- Route a chat's streamed chunks to `fn` (nil stops routing them).
---@param chat_id string
---@param fn fun(params: {chatId: string, text: string, index: integer})|nil
function M.on_chunk(chat_id, fn)
  chunk_listeners[chat_id] = fn
end

local function chat_chunk(_, params)
  local fn = type(params) == "table" and chunk_listeners[params.chatId]
  if fn then
    fn(params)
  end
end

-- editId -> function(params): who wants the `tandem/editChunk` notifications of each edit.
local edit_listeners = {}

--- Route an edit's streamed chunks to `fn` (nil stops routing them).
---@param edit_id string
---@param fn fun(params: {editId: string, text: string, index: integer})|nil
function M.on_edit_chunk(edit_id, fn)
  edit_listeners[edit_id] = fn
end

local function edit_chunk(_, params)
  local fn = type(params) == "table" and edit_listeners[params.editId]
  if fn then
    fn(params)
  end
end

-- LSP MessageType -> vim.log.levels
local LEVELS = {
  [1] = vim.log.levels.ERROR,
  [2] = vim.log.levels.WARN,
  [3] = vim.log.levels.INFO,
  [4] = vim.log.levels.DEBUG,
}

--- The server's notices (`window/showMessage`): one line without a "Press ENTER" prompt, the
--- whole text in `:TandemLog` (see notice.lua), not Neovim's default handler, which prompts.
local function show_message(_, params)
  if type(params) == "table" and type(params.message) == "string" then
    local msg = params.message:find("^Tandem") and params.message or ("Tandem: " .. params.message)
    require("tandem.notice").notify(msg, LEVELS[params.type] or vim.log.levels.INFO)
  end
  return vim.NIL
end

--- `$/progress`: Neovim's own handling (`vim.lsp.status()`, LspProgress for fidget), then ours
--- for the model's load (progress.lua).
local function on_progress(err, result, ctx, ...)
  local default = vim.lsp.handlers["$/progress"]
  local ret
  if default then
    ret = default(err, result, ctx, ...)
  end
  if not err and ctx then
    require("tandem.progress").on_progress(ctx.client_id, result)
  end
  return ret
end

-- Section tables that are JSON objects on the wire, also when empty.
local OBJECTS = { "host", "completion", "chat" }

--- `settings` as the server's JSON: an empty Lua table is `[]` in `vim.json`, but the server
--- wants objects (`vim.empty_dict()`), at the top and for each section.
---@param settings table
---@return table
function M.server_settings(settings)
  if vim.tbl_isempty(settings) then
    return vim.empty_dict()
  end
  local out = vim.deepcopy(settings)
  for _, key in ipairs(OBJECTS) do
    if type(out[key]) == "table" and vim.tbl_isempty(out[key]) then
      out[key] = vim.empty_dict()
    end
  end
  return out
end

--- The client capabilities: Neovim's own, plus inline completion (so the server
--- does not also answer textDocument/completion), our encoding preference, and that we ask
--- the user for an edit's instruction (so the server offers the "Tandem: Edit…" code action).
function M.capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.general = caps.general or {}
  caps.general.positionEncodings = vim.deepcopy(config.get().position_encodings)
  caps.textDocument = caps.textDocument or {}
  caps.textDocument.inlineCompletion = { dynamicRegistration = false }
  caps.experimental = vim.tbl_extend("force", caps.experimental or {}, { tandem = { editInput = true } })
  return caps
end

--- The project root of a buffer: the nearest folder with a root marker, else the cwd.
function M.root_dir(bufnr)
  local markers = config.get().root_markers
  local root = #markers > 0 and vim.fs.root(bufnr, markers) or nil
  return root or vim.fn.getcwd()
end

-- Said once per setup(): no tandem-lsp to start.
local told_missing = nil

--- Forget what was said about the server command (setup() was called again).
function M.reset()
  told_missing = nil
end

--- How to start the server: (cmd, how it was found) or (nil, the one line saying what to set).
function M.server_cmd()
  local opts = config.get()
  return require("tandem.locate").server_cmd(opts.cmd, opts.cmd_env)
end

--- Start (or reuse, for the same root) the server and attach it to `bufnr`. Without a server
--- to start, says what to set (once) and returns nil.
---@return integer|nil client_id
function M.start(bufnr)
  local opts = config.get()
  local cmd, why = M.server_cmd()
  if not cmd then
    if told_missing ~= why then
      told_missing = why
      require("tandem.notice").notify(why, vim.log.levels.ERROR)
    end
    return nil
  end
  local settings = M.server_settings(opts.settings)
  return vim.lsp.start({
    name = M.NAME,
    cmd = cmd,
    cmd_env = opts.cmd_env,
    root_dir = M.root_dir(bufnr),
    init_options = settings,
    -- Answers the server's `workspace/configuration` pull for section "tandem".
    settings = { tandem = settings },
    capabilities = M.capabilities(),
    -- The code actions' command runs here first: one without an instruction asks for it.
    commands = {
      [protocol.CMD_EDIT] = function(command, ctx)
        require("tandem.edit").code_action(command, ctx)
      end,
    },
    handlers = {
      [protocol.CHAT_CHUNK] = chat_chunk,
      [protocol.EDIT_CHUNK] = edit_chunk,
      ["window/showMessage"] = show_message,
      ["$/progress"] = on_progress,
    },
    on_exit = function(_, _, client_id)
      require("tandem.progress").forget(client_id)
    end,
  }, { bufnr = bufnr })
end

--- The Tandem client attached to `bufnr` (the current buffer by default), else any Tandem client.
---@param bufnr integer|nil
---@param attached_only boolean|nil only a client attached to `bufnr`
function M.get(bufnr, attached_only)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = vim.lsp.get_clients({ name = M.NAME, bufnr = bufnr })[1]
  if client or attached_only then
    return client
  end
  return vim.lsp.get_clients({ name = M.NAME })[1]
end

--- Send a request; returns the request id (nil when the client is gone).
function M.request(client, method, params, handler, bufnr)
  local ok, id
  if METHODS then
    ok, id = client:request(method, params, handler, bufnr)
  else
    ok, id = client.request(method, params, handler, bufnr)
  end
  return ok and id or nil
end

--- Send a request and wait for it: returns result, err.
function M.request_sync(client, method, params, timeout_ms, bufnr)
  local res, err
  if METHODS then
    res, err = client:request_sync(method, params, timeout_ms, bufnr)
  else
    res, err = client.request_sync(method, params, timeout_ms, bufnr)
  end
  if not res then
    return nil, { message = tostring(err or "no answer") }
  end
  return res.result, res.err
end

function M.notify(client, method, params)
  if METHODS then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

function M.cancel(client, id)
  if id == nil or client == nil then
    return
  end
  -- A client that has stopped meanwhile has nothing left to cancel.
  if METHODS then
    pcall(client.cancel_request, client, id)
  else
    pcall(client.cancel_request, id)
  end
end

--- Run a `workspace/executeCommand` on the server.
function M.execute(client, command, arguments, handler, bufnr)
  return M.request(client, "workspace/executeCommand", { command = command, arguments = arguments },
    handler or function() end, bufnr)
end

--- A readable message for an LSP error object.
function M.error_message(err)
  if type(err) == "table" then
    return err.message or vim.inspect(err)
  end
  return tostring(err)
end

return M
