"""The host's wire contract: message kinds, method names, error codes, limits (docs/protocol.md)."""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Final

PROTOCOL_VERSION: Final = 1

# msgpack-rpc message kinds, as neovim uses them:
#   [REQUEST, msgid, method, params] / [RESPONSE, msgid, error, result] / [NOTIFY, method, params]
REQUEST: Final = 0
RESPONSE: Final = 1
NOTIFY: Final = 2

# A message larger than this (counted in bytes, or declared by any of its headers) is
# refused and the connection closed: the stream cannot be resynchronised after it.
MAX_FRAME_BYTES: Final = 8 * 1024 * 1024
# Until a connection is admitted (a --token host, before a good hello), its messages may
# be at most this big: an unauthenticated peer cannot make the host hold much.
PREAUTH_FRAME_BYTES: Final = 64 * 1024
# Bounds on one message's shape, so decoding it costs memory in proportion to its bytes.
MAX_OBJECTS: Final = 1 << 20
MAX_NESTING: Final = 64
# Requests of one connection served at once past the host's --max-queue generations: while
# a connection has this many unanswered, or its answers are not being read, the host reads
# nothing more from it (its other requests wait in the socket, not in the host's memory).
INFLIGHT_HEADROOM: Final = 32


class Method:
    """Requests a client may send."""

    HELLO: Final = "hello"
    COMPLETE: Final = "complete"
    CHAT: Final = "chat"
    CANCEL: Final = "cancel"
    PROMPT: Final = "prompt"
    TOKENIZE: Final = "tokenize"
    COUNT_TOKENS: Final = "count_tokens"
    DETOKENIZE: Final = "detokenize"
    STATUS: Final = "status"
    SHUTDOWN: Final = "shutdown"


class Notify:
    """Notifications the host sends."""

    # {"id": request id, "text": str, "index": int, "tokens": int}: streamed text of one
    # request; `tokens` counts the tokens generated so far, this piece's included
    STREAM: Final = "stream"
    # {"state": str, "progress": float, "message": str}: load state changes
    STATE: Final = "state"
    # {"code": int, "message": str}: an error about a message that has no id to answer by
    # (a wrong shape, an undecodable message), or a broken stream just before the host closes it
    ERROR: Final = "error"


class ErrorCode(IntEnum):
    """Error codes of `[1, id, {code, message, data}, nil]` responses."""

    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    BUSY = -32001
    CANCELLED = -32002
    CONTEXT_OVERFLOW = -32003
    NOT_READY = -32004
    UNKNOWN_REQUEST = -32005
    UNAUTHORIZED = -32006
    FRAME_TOO_LARGE = -32007
    SHUTTING_DOWN = -32009
    ENGINE_UNAVAILABLE = -32010  # a remote engine (vLLM) unreachable, failing or too slow


class RpcError(Exception):
    """A structured error; turned into a wire error only at the session edge."""

    def __init__(self, code: ErrorCode | int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = int(code)
        self.message = message
        self.data = data

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            wire["data"] = self.data
        return wire

    @classmethod
    def from_wire(cls, error: Any) -> RpcError:
        if isinstance(error, dict):
            return cls(
                int(error.get("code", ErrorCode.INTERNAL_ERROR)),
                str(error.get("message", "error")),
                error.get("data"),
            )
        # Peers that follow plain msgpack-rpc may send any object as the error.
        return cls(ErrorCode.INTERNAL_ERROR, str(error))

    def __repr__(self) -> str:
        return f"RpcError({self.code}, {self.message!r})"


class LoadState:
    """Values of the host's `state` field."""

    STARTING: Final = "starting"
    LOADING: Final = "loading"
    READY: Final = "ready"
    FAILED: Final = "failed"
    STOPPING: Final = "stopping"


# The context window assumed where none is known: a checkpoint whose config does not say,
# a host that has not said (the LSP server's budget until its hello).
DEFAULT_CONTEXT_WINDOW: Final = 4096
ORDERS: Final = ("psm", "spm")
