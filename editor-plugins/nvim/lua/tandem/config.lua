--- Tandem's options: the defaults, the user's overrides merged in, validated once; and the
--- names of the server settings passed through, to catch a misspelled one.
local M = {}

local names = require("tandem.names")

M.defaults = {
  -- How to start the language server (stdio), e.g. { "/path/to/tandem/.venv/bin/tandem-lsp" } or
  -- { "python", "-m", "lsp_server" }. nil: `tandem-lsp` on PATH, else in $VIRTUAL_ENV, else in
  -- the `.venv` of the Tandem checkout this plugin is in.
  cmd = nil,
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
  -- completion = { maxTokensLine = 48, debounceMs = 75 }, chat = { maxTokens = 768 } }.
  settings = {
    -- Definitions the code at the cursor uses, from other files of the project (the server
    -- follows the file's imports; the root is the folder `root_markers` finds). Defaults:
    -- context = { crossFile = {
    --   enable = true, share = 0.25, minTokens = 256,  -- share of the prompt, least tokens
    --   maxFiles = 20000, maxFileBytes = 1000000,     -- index limits
    --   exclude = {},                                 -- globs, on top of .gitignore
    -- } },
  },
  -- Model loading (LSP $/progress) as one line in the command line; false when fidget or your
  -- statusline (`require("tandem").statusline()`) shows it.
  echo_progress = true,
  suggestion = {
    enabled = true,
    -- Ask while typing (the server waits its `completion.debounceMs` of quiet); when false,
    -- only the `next` key asks.
    auto_trigger = true,
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
  edit = {
    -- Normal-mode keys in a buffer while an edit proposal is shown there (:TandemEdit): a key, a
    -- list of keys, or false. Only while the proposal is pending; a mapping of the buffer's own
    -- comes back after.
    keymaps = {
      accept = "ga",
      reject = "gr",
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

-- Options that were Tandem's once and are gone, with what to do instead.
local GONE = {
  ["suggestion.debounce_ms"] = "the server waits settings.completion.debounceMs (75 ms) before "
    .. "each suggestion; the plugin adds no delay of its own",
}

--- The merged options, set by `setup`; nil before.
M.options = nil
--- What `setup` found wrong (unknown or bad options and server settings), one line each.
M.problems = {}

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
  cmd = { list_of_strings(false), true, "a non-empty list of strings" },
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
  echo_progress = { "boolean", false },
  suggestion = { "table", false },
  ["suggestion.enabled"] = { "boolean", false },
  ["suggestion.auto_trigger"] = { "boolean", false },
  ["suggestion.hl_group"] = { "string", false },
  ["suggestion.hide_during_completion"] = { "boolean", false },
  ["suggestion.keymaps"] = { "table", false },
  edit = { "table", false },
  ["edit.keymaps"] = { "table", false },
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
for _, name in ipairs({ "accept", "reject" }) do
  SCHEMA["edit.keymaps." .. name] = { keymap, false, "a key (string), a list of keys or false" }
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

-- Set `dotted` in `tbl` (its parents are tables: validated before their children).
local function set(tbl, dotted, value)
  local parts = vim.split(dotted, ".", { plain = true })
  for i = 1, #parts - 1 do
    tbl = tbl[parts[i]]
  end
  tbl[parts[#parts]] = value
end

local function describe(value)
  return type(value) == "string" and string.format("%q", value) or vim.inspect(value)
end

-- The option names one level under `prefix` ("" for the top).
local function option_names(defaults, prefix)
  local out = {}
  for key in pairs(defaults) do
    out[#out + 1] = tostring(key)
  end
  for name in pairs(SCHEMA) do
    local rest = name:sub(#prefix + 1)
    if name:sub(1, #prefix) == prefix and not rest:find(".", 1, true) and not vim.tbl_contains(out, rest) then
      out[#out + 1] = rest
    end
  end
  table.sort(out)
  return out
end

--- Unknown keys in the user's options (removed from `opts`), each a problem.
local function unknown_options(opts, user, problems)
  local function walk(tbl, merged, defaults, prefix)
    for key, value in pairs(tbl) do
      local name = prefix .. tostring(key)
      if GONE[name] then
        problems[#problems + 1] = string.format("option '%s' is gone: %s", name, GONE[name])
        merged[key] = nil
      elseif defaults[key] == nil and SCHEMA[name] == nil then
        problems[#problems + 1] = names.unknown("option", tostring(key),
          option_names(defaults, prefix), prefix)
        merged[key] = nil
      elseif type(value) == "table" and type(defaults[key]) == "table" and type(merged[key]) == "table"
        and name ~= "settings" and name ~= "cmd_env" and not vim.islist(defaults[key]) then
        walk(value, merged[key], defaults[key], name .. ".")
      end
    end
  end
  walk(user, opts, M.defaults, "")
end

--- Bad values: each a problem, and the default is used instead.
local function bad_values(opts, problems)
  local list = vim.tbl_keys(SCHEMA)
  table.sort(list) -- a table before its fields
  for _, name in ipairs(list) do
    local spec = SCHEMA[name]
    local value = get(opts, name)
    local ok
    if type(spec[1]) == "function" then
      ok = (value == nil and spec[2]) or spec[1](value)
    else
      ok = (value == nil and spec[2]) or type(value) == spec[1]
    end
    if not ok then
      problems[#problems + 1] = string.format("invalid option '%s': expected %s, got %s; using the default",
        name, spec[3] or spec[1], describe(value))
      set(opts, name, vim.deepcopy(get(M.defaults, name)))
    end
  end
end

--- Merge the user's options over the defaults and validate them: unknown options are dropped,
--- bad values replaced by their defaults, each problem kept in `M.problems` (one line each;
--- `setup()` says them once, `:checkhealth tandem` lists them). Never raises.
---@param user table|nil
---@return table options
---@return string[] problems
function M.setup(user)
  local problems = {}
  if user ~= nil and type(user) ~= "table" then
    problems[#problems + 1] = "setup() takes a table of options, got " .. type(user) .. "; using the defaults"
    user = {}
  end
  user = user or {}
  local opts = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), user)
  -- Lists replace, never merge by index.
  for _, key in ipairs({ "cmd", "filetypes", "root_markers", "position_encodings" }) do
    if user[key] ~= nil then
      opts[key] = user[key]
    end
  end
  unknown_options(opts, user, problems)
  bad_values(opts, problems)
  vim.list_extend(problems, M.resolve_keys(opts.suggestion.keymaps, (type(user.suggestion) == "table"
    and type(user.suggestion.keymaps) == "table") and user.suggestion.keymaps or {}))
  M.options = opts
  M.problems = problems
  return opts, problems
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

--- A key the user gave one action is taken from any action that only had it by default.
--- A key the user gave two actions stays with the first (by name) and is a problem.
---@return string[] problems
function M.resolve_keys(keymaps, given)
  local problems = {}
  -- The action (other than `except`) the user gave `key`, if any.
  local function given_to(key, except)
    local names_given = vim.tbl_keys(given)
    table.sort(names_given)
    for _, other in ipairs(names_given) do
      if other ~= except then
        for _, k in ipairs(M.keys(keymaps[other])) do
          if same_key(k, key) then
            return other
          end
        end
      end
    end
  end
  local actions = vim.tbl_keys(keymaps)
  table.sort(actions)
  for _, name in ipairs(actions) do
    local keys = keymaps[name]
    local kept = vim.tbl_filter(function(key)
      local other = given_to(key, name)
      if other and given[name] ~= nil then
        if other < name then
          problems[#problems + 1] = string.format(
            "invalid option 'suggestion.keymaps.%s': %s is also given to %s; it stays with %s",
            name, key, other, other)
          return false
        end
        return true
      end
      return other == nil
    end, M.keys(keys))
    keymaps[name] = #kept > 0 and (type(keys) == "table" and kept or kept[1]) or false
  end
  return problems
end

--- The options in force: the merged ones after `setup`, the defaults before.
function M.get()
  return M.options or M.defaults
end

return M
