--- Where `tandem-lsp` is: the `cmd` option, else `tandem-lsp` on PATH, else an active
--- virtualenv's, else the `.venv` of the Tandem checkout this plugin is in (where the README
--- installs it).
local M = {}

local NAME = "tandem-lsp"
local WINDOWS = vim.fn.has("win32") == 1

local function join(...)
  return table.concat({ ... }, "/")
end

-- A virtualenv's script folder and the file name of the script in it.
local function in_venv(venv)
  if WINDOWS then
    return join(venv, "Scripts", NAME .. ".exe")
  end
  return join(venv, "bin", NAME)
end

--- The Tandem checkout this plugin lives in (`<root>/editor-plugins/nvim`), or nil.
function M.checkout()
  local source = debug.getinfo(1, "S").source
  if source:sub(1, 1) ~= "@" then
    return nil
  end
  -- <root>/editor-plugins/nvim/lua/tandem/locate.lua
  local path = vim.fn.fnamemodify(source:sub(2), ":p")
  local root = vim.fn.fnamemodify(path, ":h:h:h:h:h")
  if vim.fn.isdirectory(join(root, "editor-plugins", "nvim")) == 0 then
    return nil
  end
  return root
end

--- The places looked at after PATH, in order: { where = what it is, path = the script }.
function M.candidates()
  local out = {}
  local venv = vim.env.VIRTUAL_ENV
  if type(venv) == "string" and venv ~= "" then
    out[#out + 1] = { where = "$VIRTUAL_ENV", path = in_venv(venv) }
  end
  local root = M.checkout()
  if root then
    out[#out + 1] = { where = "the Tandem checkout's .venv", path = in_venv(join(root, ".venv")) }
  end
  return out
end

local function executable(path)
  return vim.fn.executable(path) == 1
end

--- How to start the server: (cmd, how it was found) or (nil, why not).
--- `cmd` is the user's option (nil: look for tandem-lsp); `env` its `cmd_env`.
---@param cmd string[]|nil
---@param env table|nil
---@return string[]|nil cmd
---@return string what "the cmd option", "PATH", "$VIRTUAL_ENV", ... or why nothing was found
function M.server_cmd(cmd, env)
  if cmd ~= nil then
    -- A PATH of its own (cmd_env) is searched by the server's process, not by Neovim's.
    if executable(cmd[1]) or (type(env) == "table" and env.PATH ~= nil) then
      return cmd, "the cmd option"
    end
    return nil, string.format('Tandem: cmd %s is not an executable; set cmd = { "/path/to/tandem/'
      .. '.venv/bin/tandem-lsp" } (the tandem-lsp of your Tandem install)', vim.inspect(cmd[1]))
  end
  if executable(NAME) then
    return { NAME }, "PATH"
  end
  for _, c in ipairs(M.candidates()) do
    if executable(c.path) then
      return { c.path }, c.where
    end
  end
  return nil, M.not_found()
end

--- The one line said when no tandem-lsp is found: what to set.
function M.not_found()
  local root = M.checkout()
  local where = root and join(root, ".venv", "bin", NAME) or "/path/to/tandem/.venv/bin/" .. NAME
  return string.format('Tandem: no tandem-lsp found; set cmd = { "%s" } in setup() after the '
    .. "README's install (it looked on PATH, in $VIRTUAL_ENV and in the checkout's .venv)", where)
end

return M
