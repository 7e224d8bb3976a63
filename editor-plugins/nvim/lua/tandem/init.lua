--- Tandem for Neovim: `setup()`, the user commands, and attaching buffers to the server.
local M = {}

local api = vim.api

local function chat()
  return require("tandem.chat")
end

local function suggestion()
  return require("tandem.suggestion")
end

--- Start the server for `bufnr` (one per project root) and give it ghost text.
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  -- Only real files: the server keys documents by file URI.
  if vim.bo[bufnr].buftype ~= "" or api.nvim_buf_get_name(bufnr) == "" then
    return nil
  end
  local id = require("tandem.client").start(bufnr)
  suggestion().attach(bufnr)
  return id
end

-- The LSP range a command was given, nil without one.
local function command_range(args)
  if args.range == 0 then
    return nil
  end
  local client = require("tandem.client").get(0)
  local encoding = client and client.offset_encoding or "utf-16"
  return require("tandem.position").command_range(0, args.line1, args.line2, encoding)
end

local function create_commands()
  local cmd = api.nvim_create_user_command
  cmd("TandemChat", function(args)
    -- The current file goes along as context (as in Copilot Chat and Continue); a range sends
    -- just those lines, `!` nothing.
    local range = command_range(args)
    local opts = {
      range = range,
      whole_file = range == nil and not args.bang and require("tandem.config").get().chat.include_file,
    }
    if args.args ~= "" then
      chat().ask(args.args, opts)
    else
      vim.ui.input({ prompt = "Ask Tandem: " }, function(question)
        if question and question ~= "" then
          chat().ask(question, opts)
        end
      end)
    end
  end, { nargs = "*", range = true, bang = true,
    desc = "Tandem: ask a question about the current file (or the selected lines; ! without code)" })
  for name, spec in pairs({ Explain = "explain", Fix = "fix", Document = "document", Tests = "tests" }) do
    cmd("Tandem" .. name, function(args)
      chat().command(spec, { range = command_range(args) })
    end, {
      range = true,
      desc = "Tandem: " .. chat().COMMANDS[spec][2] .. " the selected lines (or the file)",
    })
  end
  cmd("TandemEdit", function(args)
    -- No range: the cursor line. The server widens the range to whole lines.
    local opts = { range = command_range(args) }
    if args.args ~= "" then
      require("tandem.edit").start(args.args, opts)
    else
      local where = chat().where(0, opts.range or { start = { line = args.line1 - 1 }, ["end"] = { line = args.line1 - 1 } })
      vim.ui.input({ prompt = "Tandem: edit " .. where .. ": " }, function(instruction)
        if instruction and vim.trim(instruction) ~= "" then
          require("tandem.edit").start(instruction, opts)
        end
      end)
    end
  end, { nargs = "*", range = true,
    desc = "Tandem: rewrite the selected lines (or the cursor line) by an instruction, shown as a diff" })
  cmd("TandemEditAccept", function()
    require("tandem.edit").accept()
  end, { desc = "Tandem: apply the edit proposal (one undo step)" })
  cmd("TandemEditReject", function()
    require("tandem.edit").reject()
  end, { desc = "Tandem: drop the edit proposal (or stop the edit)" })
  cmd("TandemInsertBlock", function()
    chat().insert_block_command()
  end, { desc = "Tandem: insert a code block from the chat" })
  cmd("TandemChatStop", function()
    chat().stop()
  end, { desc = "Tandem: stop the answer" })
  cmd("TandemChatReset", function()
    chat().reset()
  end, { desc = "Tandem: forget the conversation" })
  cmd("TandemStatus", function(args)
    require("tandem.status").show(args.bang)
  end, { bang = true, desc = "Tandem: server, host and model status (! in messages)" })
  cmd("TandemToggle", function()
    local opts = require("tandem.config").get().suggestion
    opts.auto_trigger = not opts.auto_trigger
    if not opts.auto_trigger then
      suggestion().reset()
    end
    require("tandem.notice").notify("Tandem: suggestions while typing "
      .. (opts.auto_trigger and "on" or "off"))
  end, { desc = "Tandem: toggle suggestions while typing" })
  cmd("TandemLog", function()
    require("tandem.notice").show()
  end, { desc = "Tandem: every notice so far, in full" })
end

-- The Neovim Tandem needs: inline virtual text (ghost text), vim.fs.root, vim.iter.
M.MIN_NVIM = "0.10"

--- Nil when this Neovim can run Tandem, else the one line saying what is needed. Only APIs of
--- Neovim 0.7 here: older versions must get this message, not an error.
function M.too_old()
  if vim.fn.has("nvim-" .. M.MIN_NVIM) == 1 then
    return nil
  end
  local v = vim.version and vim.version() or {}
  return string.format("Tandem needs Neovim %s or newer (this is %s.%s.%s)",
    M.MIN_NVIM, tostring(v.major or 0), tostring(v.minor or "?"), tostring(v.patch or "?"))
end

-- Say what setup() found wrong, in one line (the whole list: :TandemLog, :checkhealth tandem).
local function tell_problems(problems)
  if #problems == 0 then
    return
  end
  local notice = require("tandem.notice")
  for _, problem in ipairs(problems) do
    notice.record("Tandem: " .. problem, vim.log.levels.WARN)
  end
  local msg
  if #problems == 1 then
    msg = "Tandem: " .. problems[1]
  else
    msg = string.format("Tandem: %d problems: %s", #problems, table.concat(problems, "; "))
  end
  -- Recorded above one by one: show without recording the summary again.
  notice.show_only(msg, vim.log.levels.WARN)
end

--- Configure Tandem: merge `opts` over the defaults (a bad or unknown option is named in one
--- warning and left at its default), create the commands, and start the server for buffers of
--- the configured filetypes.
---@param opts table|nil see `require("tandem.config").defaults`
function M.setup(opts)
  local old = M.too_old()
  if old then
    require("tandem.notice").notify(old, vim.log.levels.ERROR)
    return
  end
  local config, problems = require("tandem.config").setup(opts)
  require("tandem.client").reset()
  tell_problems(problems)
  -- Its own grey, with a 256-colour fallback (like copilot.vim): Comment often has no cterm
  -- colour, and ghost text in the normal text colour cannot be told from real text.
  local function highlights()
    api.nvim_set_hl(0, "TandemSuggestion", { fg = "#808080", ctermfg = 244, default = true })
  end
  highlights()
  local group = api.nvim_create_augroup("tandem", { clear = true })
  api.nvim_create_autocmd("ColorScheme", { group = group, callback = highlights })
  if #config.filetypes > 0 then
    api.nvim_create_autocmd("FileType", {
      group = group,
      pattern = config.filetypes,
      callback = function(args)
        M.attach(args.buf)
      end,
    })
  end
  create_commands()
  -- Buffers opened before setup (lazy loading) get attached too.
  for _, bufnr in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(config.filetypes, vim.bo[bufnr].filetype) then
      M.attach(bufnr)
    end
  end
end

-- The modules' entry points, for mappings and other plugins.
function M.ask(question, opts)
  return chat().ask(question, opts)
end

function M.status(in_messages)
  return require("tandem.status").show(in_messages)
end

--- For a statusline: "Tandem: loading model: … (40%)" while the model loads, else "".
function M.statusline()
  return require("tandem.progress").statusline()
end

--- Edit by instruction: `require("tandem").edit("add error handling", { range = ... })`.
function M.edit(instruction, opts)
  return require("tandem.edit").start(instruction, opts)
end

M.accept = function(kind)
  return suggestion().accept(kind)
end
M.dismiss = function()
  return suggestion().dismiss()
end

return M
