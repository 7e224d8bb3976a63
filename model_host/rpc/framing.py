"""Bytes <-> msgpack-rpc messages: bounded framing, decoding and shape checks.

Framing walks msgpack headers only (payloads are skipped by length), so it knows where
each message ends and what every header declares before the payload arrives. That gives
three guarantees msgpack's streaming Unpacker alone does not: a message is refused as
soon as its bytes, or any length it declares, pass the limit (a header declaring a 4 GiB
string is refused at once, not waited on); a well-framed message that cannot be decoded
(invalid UTF-8, an array as a map key) is reported and the stream carries on; memory per
connection is bounded by one message.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgpack

from .protocol import (
    MAX_FRAME_BYTES,
    MAX_NESTING,
    MAX_OBJECTS,
    NOTIFY,
    REQUEST,
    RESPONSE,
    ErrorCode,
    RpcError,
)


class FrameError(RpcError):
    """The byte stream is unusable (malformed or oversized): the connection must close."""


class EncodeError(RpcError):
    """A message we were about to send is over the peer's limit; nothing was sent."""


def pack(message: list[Any]) -> bytes:
    # A lone surrogate (legal in an editor's JSON, "\ud800") has no UTF-8 form: it goes on
    # the wire as "?" rather than failing the whole message or putting invalid UTF-8 there.
    return msgpack.packb(message, use_bin_type=True, unicode_errors="replace")


def check_outgoing(data: bytes) -> None:
    """Raise EncodeError for a packed message the peer's reader would refuse for holding
    too many objects (its byte size is checked against the peer's limit separately)."""
    if len(data) <= MAX_OBJECTS:  # every object takes at least one byte
        return
    walker = FrameDecoder(len(data))
    walker.feed(data)
    try:
        walker._frame()  # headers only: stops at the first object over the limit
    except FrameError as exc:
        raise EncodeError(exc.code, exc.message) from None


@dataclass(frozen=True)
class BadMessage:
    """A message that was framed but could not be decoded; `msgid` when it could be read."""

    error: RpcError
    msgid: int | None = None


# For each first byte: (header bytes, width of a length field inside it or 0, fixed payload
# bytes, kind). Kinds: "s" scalar, "p" payload (str/bin/ext), "a" array, "m" map, "x" invalid.
def _header_table() -> list[tuple[int, int, int, str]]:
    table: list[tuple[int, int, int, str]] = [(1, 0, 0, "s")] * 256
    for b in range(0x80, 0x90):
        table[b] = (1, 0, 0, "m")
    for b in range(0x90, 0xA0):
        table[b] = (1, 0, 0, "a")
    for b in range(0xA0, 0xC0):
        table[b] = (1, 0, b & 0x1F, "p")
    table[0xC1] = (1, 0, 0, "x")
    for b, width in ((0xC4, 1), (0xC5, 2), (0xC6, 4), (0xD9, 1), (0xDA, 2), (0xDB, 4)):
        table[b] = (1 + width, width, 0, "p")  # bin8/16/32, str8/16/32
    for b, width in ((0xC7, 1), (0xC8, 2), (0xC9, 4)):
        table[b] = (2 + width, width, 0, "p")  # ext8/16/32: length, then a type byte
    for b, size in ((0xCA, 4), (0xCB, 8), (0xCC, 1), (0xCD, 2), (0xCE, 4), (0xCF, 8)):
        table[b] = (1, 0, size, "s")  # float32/64, uint8..64
    for b, size in ((0xD0, 1), (0xD1, 2), (0xD2, 4), (0xD3, 8)):
        table[b] = (1, 0, size, "s")  # int8..64
    for b, size in ((0xD4, 1), (0xD5, 2), (0xD6, 4), (0xD7, 8), (0xD8, 16)):
        table[b] = (2, 0, size, "s")  # fixext: a type byte, then the data
    table[0xDC], table[0xDD] = (3, 2, 0, "a"), (5, 4, 0, "a")
    table[0xDE], table[0xDF] = (3, 2, 0, "m"), (5, 4, 0, "m")
    return table


_HEADERS = _header_table()


class FrameDecoder:
    """Feed raw bytes with `feed`, then iterate `messages()` for what is complete.

    `messages()` yields decoded objects, or a BadMessage for a framed message that does
    not decode; it raises FrameError when the stream cannot go on. It is lazy, so a reader
    may pause between messages (backpressure) without decoding the rest of a chunk.
    """

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self.max_frame_bytes = max_frame_bytes
        self._buf = bytearray()
        self._start = 0  # where the current message begins in _buf
        self._pos = 0  # the next header to read (may lie past the end while a payload arrives)
        self._open: list[int] = []  # items still to come in each open array/map
        self._objects = 0
        self._end: int | None = None  # where the current message ends, once known

    def feed(self, data: bytes) -> None:
        self._buf += data

    def messages(self) -> Iterator[Any]:
        while (end := self._frame()) is not None:
            with memoryview(self._buf) as view, view[self._start : end] as raw:
                message = _decode(raw)
            self._start = self._pos = end
            self._end = None
            self._objects = 0
            yield message
        if self._start:
            del self._buf[: self._start]
            self._pos -= self._start
            if self._end is not None:
                self._end -= self._start
            self._start = 0

    def _too_large(self, declared: int) -> FrameError:
        return FrameError(
            ErrorCode.FRAME_TOO_LARGE,
            f"a message of {declared} bytes (as read or declared) is over the limit of "
            f"{self.max_frame_bytes} bytes",
        )

    def _frame(self) -> int | None:
        """Walk the current message's headers; its end offset once all its bytes are here."""
        buf, limit = self._buf, self.max_frame_bytes
        while self._end is None and self._pos < len(buf):
            pos = self._pos
            size, width, length, kind = _HEADERS[buf[pos]]
            if kind == "x":
                raise FrameError(
                    ErrorCode.PARSE_ERROR, "malformed msgpack: byte 0xc1 is never used"
                )
            if pos + size > len(buf):
                break  # the rest of this header is still on its way
            if width:
                length = int.from_bytes(buf[pos + 1 : pos + 1 + width], "big")
            self._objects += 1
            if self._objects > MAX_OBJECTS:
                raise FrameError(
                    ErrorCode.FRAME_TOO_LARGE, f"a message of over {MAX_OBJECTS} objects"
                )
            if self._open:
                self._open[-1] -= 1
            items = 0
            if kind == "a" or kind == "m":
                items = (buf[pos] & 0x0F if size == 1 else length) * (2 if kind == "m" else 1)
                length = items  # every item takes at least one byte
            if pos + size + length - self._start > limit:
                raise self._too_large(pos + size + length - self._start)
            if items:
                if len(self._open) >= MAX_NESTING:
                    raise FrameError(
                        ErrorCode.PARSE_ERROR, f"a message nested deeper than {MAX_NESTING} levels"
                    )
                self._open.append(items)
                self._pos = pos + size
                continue
            self._pos = pos + size + (0 if kind == "a" or kind == "m" else length)
            while self._open and self._open[-1] == 0:
                self._open.pop()
            if not self._open:
                self._end = self._pos
        if self._end is not None and self._end <= len(buf):
            return self._end
        return None


def _decode(raw: memoryview) -> Any:
    try:
        return msgpack.unpackb(raw, raw=False, strict_map_key=False)
    except Exception as exc:  # any decode failure of a framed message: report, carry on
        error = RpcError(ErrorCode.PARSE_ERROR, f"undecodable message: {_why(exc)}")
    # Read it again with byte strings and tuples (hashable map keys) to find an id to answer.
    try:
        loose = msgpack.unpackb(raw, raw=True, use_list=False, strict_map_key=False)
    except Exception:
        return BadMessage(error)
    return BadMessage(error, request_id(loose))


def request_id(obj: Any) -> int | None:
    """The msgid of anything that starts like a request (`[0, msgid, ...]`), else None.

    Every error about a message is answered by this id when there is one (a response), and
    as an `error` notification when there is not: one rule for messages that do not decode
    and messages of the wrong shape alike. A response's id is never answered (it is ours).
    """
    if (
        isinstance(obj, (list, tuple))
        and len(obj) >= 2
        and obj[0] == REQUEST
        and isinstance(obj[1], int)
        and not isinstance(obj[1], bool)
    ):
        return obj[1]
    return None


def _why(exc: Exception) -> str:
    if isinstance(exc, TypeError) and "unhashable" in str(exc):
        return f"a map key must be a string, number, boolean or nil ({exc})"
    if isinstance(exc, UnicodeDecodeError):
        return f"a string is not valid UTF-8 ({exc.reason} at byte {exc.start})"
    return str(exc) or type(exc).__name__


def check_message(obj: Any) -> tuple[int, Any, Any, Any]:
    """Validate one decoded message; returns (kind, a, b, c) per its kind.

    REQUEST -> (0, msgid, method, params); RESPONSE -> (1, msgid, error, result);
    NOTIFY -> (2, method, params, None). Raises RpcError(INVALID_REQUEST) otherwise,
    with the msgid in `data` when one could be read so the peer can be answered.
    """
    if not isinstance(obj, (list, tuple)) or not obj:
        raise RpcError(ErrorCode.INVALID_REQUEST, "a message must be a non-empty array")
    kind = obj[0]
    if kind == REQUEST:
        msgid = request_id(obj)
        data = None if msgid is None else {"id": msgid}
        if len(obj) != 4 or msgid is None:
            raise RpcError(
                ErrorCode.INVALID_REQUEST, "a request is [0, msgid, method, params]", data
            )
        if not isinstance(obj[2], str):
            raise RpcError(ErrorCode.INVALID_REQUEST, "method must be a string", data)
        return REQUEST, msgid, obj[2], obj[3]
    if kind == RESPONSE:
        if len(obj) != 4 or not isinstance(obj[1], int):
            raise RpcError(ErrorCode.INVALID_REQUEST, "a response is [1, msgid, error, result]")
        return RESPONSE, obj[1], obj[2], obj[3]
    if kind == NOTIFY:
        if len(obj) != 3 or not isinstance(obj[1], str):
            raise RpcError(ErrorCode.INVALID_REQUEST, "a notification is [2, method, params]")
        return NOTIFY, obj[1], obj[2], None
    raise RpcError(ErrorCode.INVALID_REQUEST, f"unknown message kind {kind!r}")
