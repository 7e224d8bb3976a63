"""Tandem's own LSP methods, notifications, commands and their payload shapes (docs/lsp.md)."""

from __future__ import annotations

from typing import Final, TypedDict

from model_host.rpc.messages import Timings

# Requests (client -> server)
CHAT: Final = "tandem/chat"
STATUS: Final = "tandem/status"
PROMPT: Final = "tandem/prompt"  # what a completion at a position would send to the model
# Notifications
CHAT_CHUNK: Final = "tandem/chatChunk"  # server -> client: streamed chat text
SUGGESTION_EVENT: Final = "tandem/suggestionEvent"  # client -> server: shown/accepted/rejected

# workspace/executeCommand commands
CMD_EXPLAIN: Final = "tandem.explain"
CMD_DOCUMENT: Final = "tandem.document"
CMD_FIX: Final = "tandem.fix"
CMD_TESTS: Final = "tandem.writeTests"
CMD_ACCEPTED: Final = "tandem.didAccept"  # attached to every suggestion; run on accept
CMD_STATUS: Final = "tandem.status"
SELECTION_COMMANDS: Final = (CMD_EXPLAIN, CMD_DOCUMENT, CMD_FIX, CMD_TESTS)

EVENT_KINDS: Final = ("shown", "accepted", "partiallyAccepted", "rejected")


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
