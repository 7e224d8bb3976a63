"""Tandem's own LSP methods, notifications, commands and their payload shapes (docs/lsp.md)."""

from __future__ import annotations

from typing import Final, TypedDict

from model_host.rpc.messages import Timings

# LSP 3.17 RequestFailed: the request was valid but could not be served
REQUEST_FAILED: Final = -32803

# Requests (client -> server)
CHAT: Final = "tandem/chat"
STATUS: Final = "tandem/status"
PROMPT: Final = "tandem/prompt"  # what a completion at a position would send to the model
EDIT: Final = "tandem/edit"  # rewrite a selection by instruction
# Notifications
CHAT_CHUNK: Final = "tandem/chatChunk"  # server -> client: streamed chat text
EDIT_CHUNK: Final = "tandem/editChunk"  # server -> client: streamed text of an edit's answer
SUGGESTION_EVENT: Final = "tandem/suggestionEvent"  # client -> server: shown/accepted/rejected

# workspace/executeCommand commands
CMD_EXPLAIN: Final = "tandem.explain"
CMD_DOCUMENT: Final = "tandem.document"
CMD_FIX: Final = "tandem.fix"
CMD_TESTS: Final = "tandem.writeTests"
CMD_ACCEPTED: Final = "tandem.didAccept"  # attached to every suggestion; run on accept
CMD_STATUS: Final = "tandem.status"
CMD_EDIT: Final = (
    "tandem.edit"  # run an edit and apply it (workspace/applyEdit); code actions use it
)
SELECTION_COMMANDS: Final = (CMD_EXPLAIN, CMD_DOCUMENT, CMD_FIX, CMD_TESTS)

EVENT_KINDS: Final = ("shown", "accepted", "partiallyAccepted", "rejected")

# The code action kinds of edit by instruction, and the client capability that asks for "Edit…"
# (`experimental.tandem.editInput`: the client asks the user for the instruction itself).
ACTION_EDIT: Final = "refactor.rewrite.tandem.edit"
ACTION_FIX: Final = "quickfix.tandem.fix"
ACTION_DOCUMENT: Final = "refactor.rewrite.tandem.document"
ACTION_TESTS: Final = "refactor.rewrite.tandem.tests"
PRESETS: Final = ("fix", "document", "tests")


class ChatChunk(TypedDict):
    chatId: str
    text: str
    index: int


class ChatResult(TypedDict):
    chatId: str
    text: str
    finishReason: str
    promptTokens: int
    generatedTokens: int
    timings: Timings
    # Other files' definitions sent with the code (`{path, text}`), as they fitted the window.
    definitions: list[dict[str, str]]


class WireTextEdit(TypedDict):
    range: dict[str, dict[str, int]]
    newText: str


class EditChunk(TypedDict):
    editId: str
    text: str
    index: int


class EditResult(TypedDict):
    editId: str
    uri: str
    version: int
    range: dict[str, dict[str, int]]  # the rewritten lines (the selection widened to whole lines)
    newText: str  # their whole new text
    edits: list[WireTextEdit]  # the minimal line edits, in document order
    edit: dict[str, dict[str, list[WireTextEdit]]]  # a WorkspaceEdit: {"changes": {uri: edits}}
    finishReason: str
    promptTokens: int
    generatedTokens: int
