--- Tandem's options: the defaults, the user's overrides merged in, validated once.
local M = {}

M.defaults = {
  -- How to start the language server (stdio). Any list works, e.g. { "python", "-m", "lsp_server" }.
  cmd = { "tandem-lsp" },
  -- Extra environment for the server process (nil = inherit).
  cmd_env = nil,
  -- Buffers of these filetypes get the server, ghost text and the commands.
  filetypes = {
    "python", "lua", "javascript", "javascriptreact", "typescript", "typescriptreact",
    "go", "rust", "c", "cpp", "java", "sh", "ruby", "php", "cs", "kotlin", "swift", "scala",
  },
  -- One server per project root: the nearest folder holding one of these (else the cwd).
  root_markers = { ".git", "pyproject.toml", "package.json", "Cargo.toml", "go.mod", "Makefile" },
  -- Offered to the server in this order; it picks the first it supports.
  position_encodings = { "utf-8", "utf-16", "utf-32" },
  -- Sent as `initializationOptions` (camelCase, as docs/lsp.md and the README's
  -- Configuration table say), e.g. { host = { address = "unix:/tmp/t.sock", model = "..." },
  -- completion = { maxTokensLine = 48 }, chat = { maxTokens = 768 } }.
  settings = {
    -- Definitions the code at the cursor uses, from other files of the project (the server
    -- follows the file's imports; the root is the folder `root_markers` finds). Defaults:
    -- context = { crossFile = {
    --   enable = true, share = 0.25, minTokens = 256,  -- share of the prompt, least tokens
    --   maxFiles = 20000, maxFileBytes = 1000000,     -- index limits
    --   exclude = {},                                 -- globs, on top of .gitignore
    -- } },
  },
  suggestion = {
    enabled = true,
    -- Ask while typing; when false, only the `next` key asks.
    auto_trigger = true,
    -- Quiet time after the last keystroke or cursor move before a request.
    debounce_ms = 75,
    -- Its own grey (guifg #808080, ctermfg 244) unless your colorscheme defines it.
    hl_group = "TandemSuggestion",
    -- Hide the ghost text while a completion menu is open (built-in, nvim-cmp, blink.cmp): both
    -- want <Tab>. It comes back when the menu closes.
    hide_during_completion = true,
    -- Insert-mode keys: a key, a list of keys, or false. With no suggestion shown, the key does
    -- what it normally does. A key you give one action is taken from the action that had it by
    -- default (copilot.lua's `accept = "<M-l>"` moves <M-l> off accept_line).
    keymaps = {
      accept = "<Tab>",
      accept_word = "<M-w>",
      accept_line = "<M-l>",
      dismiss = "<C-]>",
      next = "<M-]>",
      prev = "<M-[>",
    },
  },
  chat = {
    -- Where the chat split opens: "right", "left", "top", "bottom" or "tab".
    position = "right",
    -- Columns (or rows for top/bottom); a number below 1 is a fraction of the editor.
    size = 0.4,
    -- Move the cursor into the chat window when it opens.
    focus = false,
    -- Tokens per answer (nil = the server's `chat.maxTokens`).
    max_tokens = nil,
    -- `:TandemChat question` sends the current file as context (`:TandemChat!` never does).
    include_file = true,
    -- Keys in the chat buffer (normal mode); false disables one.
    keymaps = {
      insert_block = "<CR>",
      stop = "<C-c>",
      close = "q",
    },
  },
}

--- The merged options, set by `setup`; nil before.
M.options = nil

local KEYMAP = { "string", "boolean" }

local function list_of_strings(allow_empty)
  return function(v)
    if type(v) ~= "table" or (not allow_empty and #v == 0) then
      return false
    end
    for k, item in pairs(v) do
      if type(k) ~= "number" or type(item) ~= "string" or item == "" then
        return false
      end
    end
    return true
  end
end

local function in_list(choices)
  return function(v)
    return vim.tbl_contains(choices, v)
  end
end

local function keymap(v)
  if type(v) == "table" then
    return #v > 0 and list_of_strings(false)(v)
  end
  return v == false or (type(v) == "string" and v ~= "")
end

-- name -> { validator, optional, what is expected (for the message) }.
local SCHEMA = {
  cmd = { list_of_strings(false), false, "a non-empty list of strings" },
  cmd_env = { "table", true },
  filetypes = { list_of_strings(true), false, "a list of filetype names" },
  root_markers = { list_of_strings(true), false, "a list of file or folder names" },
  position_encodings = {
    function(v)
      return list_of_strings(false)(v)
        and vim.iter(v):all(function(e)
          return vim.tbl_contains({ "utf-8", "utf-16", "utf-32" }, e)
        end)
    end,
    false,
    'a non-empty list of "utf-8", "utf-16", "utf-32"',
  },
  settings = { "table", false },
  suggestion = { "table", false },
  ["suggestion.enabled"] = { "boolean", false },
  ["suggestion.auto_trigger"] = { "boolean", false },
  ["suggestion.debounce_ms"] = {
    function(v)
      return type(v) == "number" and v >= 0 and v == math.floor(v)
    end,
    false,
    "a whole number of milliseconds >= 0",
  },
  ["suggestion.hl_group"] = { "string", false },
  ["suggestion.hide_during_completion"] = { "boolean", false },
  ["suggestion.keymaps"] = { "table", false },
  chat = { "table", false },
  ["chat.position"] = {
    in_list({ "right", "left", "top", "bottom", "tab" }),
    false,
    '"right", "left", "top", "bottom" or "tab"',
  },
  ["chat.size"] = {
    function(v)
      return type(v) == "number" and v > 0
    end,
    false,
    "a positive number",
  },
  ["chat.focus"] = { "boolean", false },
  ["chat.max_tokens"] = {
    function(v)
      return v == nil or (type(v) == "number" and v >= 1 and v == math.floor(v))
    end,
    true,
    "a whole number >= 1",
  },
  ["chat.keymaps"] = { "table", false },
  ["chat.include_file"] = { "boolean", false },
}
for _, name in ipairs({ "accept", "accept_word", "accept_line", "dismiss", "next", "prev" }) do
  SCHEMA["suggestion.keymaps." .. name] = { keymap, false, "a key (string), a list of keys or false" }
end
for _, name in ipairs({ "insert_block", "stop", "close" }) do
  SCHEMA["chat.keymaps." .. name] = { keymap, false, "a key (string) or false" }
end

local function get(tbl, dotted)
  local value = tbl
  for part in dotted:gmatch("[^.]+") do
    if type(value) ~= "table" then
      return nil
    end
    value = value[part]
  end
  return value
end

local function describe(value)
  return type(value) == "string" and string.format("%q", value) or vim.inspect(value)
end

--- Raise a clear error for the first unknown key or bad value.
---@param opts table merged options
---@param user table what the user passed (to name unknown keys)
local function validate(opts, user)
  -- Unknown keys are almost always typos: name them. `settings` and `cmd_env` are free-form.
  local function unknown(tbl, defaults, prefix)
    for key, value in pairs(tbl) do
      local name = prefix .. tostring(key)
      if defaults[key] == nil and SCHEMA[name] == nil then
        error(string.format("tandem: unknown option '%s'", name), 0)
      end
      if type(value) == "table" and type(defaults[key]) == "table"
        and name ~= "settings" and name ~= "cmd_env" and not vim.islist(defaults[key]) then
        unknown(value, defaults[key], name .. ".")
      end
    end
  end
  unknown(user, M.defaults, "")

  local names = vim.tbl_keys(SCHEMA)
  table.sort(names)
  for _, name in ipairs(names) do
    local spec = SCHEMA[name]
    local value = get(opts, name)
    local ok
    if type(spec[1]) == "function" then
      ok = (value == nil and spec[2]) or spec[1](value)
    else
      ok = (value == nil and spec[2]) or type(value) == spec[1]
    end
    if not ok then
      error(string.format("tandem: invalid option '%s': expected %s, got %s",
        name, spec[3] or spec[1], describe(value)), 0)
    end
  end
end

--- Merge the user's options over the defaults, validate them and keep the result.
---@param user table|nil
---@return table options
function M.setup(user)
  if user ~= nil and type(user) ~= "table" then
    error("tandem: setup() takes a table of options, got " .. type(user), 0)
  end
  user = user or {}
  local opts = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), user)
  -- Lists replace, never merge by index.
  for _, key in ipairs({ "cmd", "filetypes", "root_markers", "position_encodings" }) do
    if user[key] ~= nil then
      opts[key] = user[key]
    end
  end
  validate(opts, user)
  M.resolve_keys(opts.suggestion.keymaps, (user.suggestion or {}).keymaps or {})
  M.options = opts
  return opts
end

--- The keys of a keymap option as a list (false: none).
function M.keys(v)
  if v == false or v == nil then
    return {}
  end
  return type(v) == "table" and v or { v }
end

local function same_key(a, b)
  local function code(k)
    return vim.api.nvim_replace_termcodes(k, true, true, true)
  end
  return code(a) == code(b)
end

--- A key the user gave one action is taken from any action that only had it by default;
--- two actions the user gave the same key is an error.
function M.resolve_keys(keymaps, given)
  -- The action (other than `except`) the user gave `key`, if any.
  local function given_to(key, except)
    for other in pairs(given) do
      if other ~= except then
        for _, k in ipairs(M.keys(keymaps[other])) do
          if same_key(k, key) then
            return other
          end
        end
      end
    end
  end
  for name, keys in pairs(keymaps) do
    if given[name] ~= nil then
      for _, key in ipairs(M.keys(keys)) do
        local other = given_to(key, name)
        if other then
          error(string.format("tandem: invalid option 'suggestion.keymaps.%s': %s is also given to %s",
            name, key, other), 0)
        end
      end
    else
      local kept = vim.tbl_filter(function(key)
        return given_to(key, name) == nil
      end, M.keys(keys))
      keymaps[name] = #kept > 0 and (type(keys) == "table" and kept or kept[1]) or false
    end
  end
end

--- The options in force: the merged ones after `setup`, the defaults before.
function M.get()
  return M.options or M.defaults
end

return M
