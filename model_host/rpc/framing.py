"""Bytes <-> msgpack-rpc messages: streaming framing with a size limit and shape checks."""

from __future__ import annotations

from typing import Any

import msgpack

from .protocol import MAX_FRAME_BYTES, NOTIFY, REQUEST, RESPONSE, ErrorCode, RpcError


class FrameError(RpcError):
    """The byte stream is unusable (malformed or oversized): the connection must close."""


def pack(message: list[Any]) -> bytes:
    return msgpack.packb(message, use_bin_type=True)


class FrameDecoder:
    """Feeds raw bytes, yields whole messages; msgpack's Unpacker does the framing."""

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self.max_frame_bytes = max_frame_bytes
        self._unpacker = msgpack.Unpacker(
            raw=False, max_buffer_size=max_frame_bytes, strict_map_key=False
        )

    def feed(self, data: bytes) -> list[Any]:
        try:
            self._unpacker.feed(data)
        except msgpack.BufferFull as exc:
            raise FrameError(
                ErrorCode.FRAME_TOO_LARGE,
                f"frame larger than the limit of {self.max_frame_bytes} bytes",
            ) from exc
        messages: list[Any] = []
        try:
            for obj in self._unpacker:
                messages.append(obj)
        except (msgpack.UnpackException, ValueError) as exc:
            raise FrameError(ErrorCode.PARSE_ERROR, f"malformed msgpack: {exc}") from exc
        return messages


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
        if len(obj) != 4 or not isinstance(obj[1], int) or isinstance(obj[1], bool):
            raise RpcError(ErrorCode.INVALID_REQUEST, "a request is [0, msgid, method, params]")
        if not isinstance(obj[2], str):
            raise RpcError(ErrorCode.INVALID_REQUEST, "method must be a string", {"id": obj[1]})
        return REQUEST, obj[1], obj[2], obj[3]
    if kind == RESPONSE:
        if len(obj) != 4 or not isinstance(obj[1], int):
            raise RpcError(ErrorCode.INVALID_REQUEST, "a response is [1, msgid, error, result]")
        return RESPONSE, obj[1], obj[2], obj[3]
    if kind == NOTIFY:
        if len(obj) != 3 or not isinstance(obj[1], str):
            raise RpcError(ErrorCode.INVALID_REQUEST, "a notification is [2, method, params]")
        return NOTIFY, obj[1], obj[2], None
    raise RpcError(ErrorCode.INVALID_REQUEST, f"unknown message kind {kind!r}")
