--- Tandem's own wire names (LSP methods, notifications, commands, suggestion event kinds), each
--- spelled once: the plugin's side of docs/lsp.md. The names are lsp_server/protocol.py's, with
--- the same values (tests/unit/test_protocol_names.py compares them); standard LSP methods are
--- spelled where they are used, as the LSP specification spells them.
local M = {}

-- Requests (client -> server)
M.CHAT = "tandem/chat"
M.STATUS = "tandem/status"
M.EDIT = "tandem/edit" -- rewrite a range by an instruction: a proposal of TextEdits
-- Notifications
M.CHAT_CHUNK = "tandem/chatChunk" -- server -> client: streamed chat text
M.EDIT_CHUNK = "tandem/editChunk" -- server -> client: streamed raw model text of an edit
M.SUGGESTION_EVENT = "tandem/suggestionEvent" -- client -> server: shown/partiallyAccepted/rejected

-- workspace/executeCommand commands
M.CMD_EXPLAIN = "tandem.explain"
M.CMD_DOCUMENT = "tandem.document"
M.CMD_FIX = "tandem.fix"
M.CMD_TESTS = "tandem.writeTests"
M.CMD_ACCEPTED = "tandem.didAccept" -- attached to every suggestion; run on accept
M.CMD_EDIT = "tandem.edit" -- the code actions' command: run an edit, apply it (workspace/applyEdit)

-- The `kind` of a tandem/suggestionEvent (EVENT_KINDS). An accepted suggestion is counted by
-- running its CMD_ACCEPTED command, so the plugin never sends `accepted` itself.
M.EVENT_KINDS = {
  SHOWN = "shown",
  ACCEPTED = "accepted",
  PARTIALLY_ACCEPTED = "partiallyAccepted",
  REJECTED = "rejected",
}

return M
