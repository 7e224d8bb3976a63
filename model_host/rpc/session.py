"""One msgpack-rpc connection: ids, dispatch of requests/responses/notifications, clean-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .framing import (
    BadMessage,
    EncodeError,
    FrameDecoder,
    FrameError,
    check_message,
    check_outgoing,
    pack,
)
from .pending import Pending
from .protocol import (
    MAX_FRAME_BYTES,
    NOTIFY,
    PREAUTH_FRAME_BYTES,
    REQUEST,
    RESPONSE,
    ErrorCode,
    Notify,
    RpcError,
)
from .serving import Call, Serving

log = logging.getLogger(__name__)

__all__ = ["Call", "Gate", "NotifyHandler", "RequestHandler", "Session", "Writer"]

READ_CHUNK = 64 * 1024
# Before closing on a peer (refused, or sent garbage), what it already sent is discarded
# (unparsed) for a moment: closing a socket with unread input resets it (TCP, and Unix
# sockets too), and the reset can destroy the last answer the peer has yet to read.
LINGER_S = 1.0
LINGER_BYTES = 1024 * 1024

# Admission of a peer: called with each request's method and params until it returns True
# (the peer is in); raising RpcError refuses the peer: that error is its answer, and the
# session reads nothing more and closes.
Gate = Callable[[str, Any], bool]


class Writer(Protocol):
    def write(self, data: bytes) -> None: ...
    def can_write_eof(self) -> bool: ...
    def write_eof(self) -> None: ...
    async def drain(self) -> None: ...
    def close(self) -> None: ...
    def is_closing(self) -> bool: ...


RequestHandler = Callable[[Call, Any], Awaitable[Any]]
NotifyHandler = Callable[[str, Any], None]


@dataclass(eq=False)
class Session(Serving):
    """Serves one peer. Both ends use it: the host answers requests, clients make them.

    Requests from the peer run as tasks so a slow one never blocks the read loop;
    when the connection drops every such task is cancelled, and every request we
    are waiting on fails with ConnectionError.

    A serving session applies backpressure: while `max_inflight` of the peer's requests
    are unanswered, or its answers sit unread in the write buffer, it reads nothing more
    from the peer, so a client that pipelines without reading costs the socket's buffer,
    not the server's memory. A client session never waits to read (that could deadlock
    two peers that both write).
    """

    reader: asyncio.StreamReader
    writer: Writer
    on_request: RequestHandler | None = None
    on_notify: NotifyHandler | None = None
    max_frame_bytes: int = MAX_FRAME_BYTES
    name: str = "peer"
    max_inflight: int = 0  # 0: no cap (clients)
    gate: Gate | None = None
    # The most we send in one message (0: our own limit, `max_frame_bytes`); a peer may tell
    # us its limit (the host does, in hello).
    peer_max_bytes: int = 0
    # Notifications whose params carry the id of one of our requests (`{"id": msgid, ...}`):
    # they go to that request's `on_notify` rather than the session's.
    tagged: frozenset[str] = frozenset()
    _incoming: dict[int, tuple[Call, asyncio.Task[None]]] = field(default_factory=dict)
    _finished: OrderedDict[int, None] = field(default_factory=OrderedDict)
    _closed: asyncio.Event = field(default_factory=asyncio.Event)
    _room: asyncio.Event = field(default_factory=asyncio.Event)
    _decoder: FrameDecoder | None = None
    _hang_up: bool = False
    close_reason: str = ""
    _pending: Pending = field(init=False)

    def __post_init__(self) -> None:
        self._pending = Pending(self.name)

    # ---- sending -------------------------------------------------------------
    def _send(self, message: list[Any]) -> None:
        if self.writer.is_closing():
            raise ConnectionError(f"connection to {self.name} is closed")
        data = pack(message)
        limit = self.peer_max_bytes or self.max_frame_bytes
        if len(data) > limit:
            raise EncodeError(
                ErrorCode.FRAME_TOO_LARGE,
                f"a message of {len(data)} bytes is over the limit of {limit}",
            )
        check_outgoing(data)
        self.writer.write(data)

    def notify(self, method: str, params: Any) -> None:
        """Send a notification; silently dropped when the peer is gone."""
        try:
            self._send([NOTIFY, method, params])
        except ConnectionError:
            pass
        except EncodeError as exc:
            log.warning("%s: %s notification not sent: %s", self.name, method, exc.message)

    def start_request(
        self, method: str, params: Any, on_notify: Callable[[Any], None] | None = None
    ) -> tuple[int, asyncio.Future[Any]]:
        """Send a request; returns its msgid and a future for the result.

        `on_notify` receives the params of `tagged` notifications that carry this id.
        """
        if self._closed.is_set():
            raise ConnectionError(f"connection to {self.name} is closed: {self.close_reason}")
        msgid, future = self._pending.add(on_notify)
        try:
            self._send([REQUEST, msgid, method, params])
        except (ConnectionError, EncodeError):  # closed, or a message over the limit
            self._pending.drop(msgid)
            raise
        return msgid, future

    def raise_read_limit(self, limit: int) -> None:
        """Read messages of up to `limit` bytes (the peer said it may send that much)."""
        if limit > self.max_frame_bytes:
            self.max_frame_bytes = limit
            if self._decoder is not None and self.gate is None:
                self._decoder.max_frame_bytes = limit

    async def request(self, method: str, params: Any) -> Any:
        _, future = self.start_request(method, params)
        return await future

    async def drain(self) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.writer.drain()

    # ---- receiving -----------------------------------------------------------
    async def run(self) -> None:
        """Read until the peer goes away, sends garbage or is refused; then clean up."""
        # Until a gate admits the peer, it may only send small messages (a hello).
        limit = self.max_frame_bytes if self.gate is None else PREAUTH_FRAME_BYTES
        self._decoder = decoder = FrameDecoder(min(limit, self.max_frame_bytes))
        try:
            while not self._hang_up:
                await self._wait_for_room()
                data = await self.reader.read(READ_CHUNK)
                if not data:
                    self.close_reason = "peer closed the connection"
                    return
                decoder.feed(data)
                for message in decoder.messages():
                    if self.on_request is not None and _is_request(message):
                        await self._wait_for_room()
                    self._dispatch(message)
                    if self._hang_up:
                        await self._linger()
                        return
                # A read from a buffer that holds data never suspends: let the loop run other
                # work (a cancel, other connections) between chunks of a fast stream.
                await asyncio.sleep(0)
        except FrameError as exc:
            # The stream cannot be resynchronised: say why, then hang up.
            log.warning("%s: %s; closing", self.name, exc.message)
            self.close_reason = exc.message
            self.notify(Notify.ERROR, exc.to_wire())
            await self._linger()
        except (ConnectionError, OSError) as exc:
            self.close_reason = f"connection lost: {exc}"
        finally:
            await self._cleanup()

    async def _linger(self) -> None:
        """Half-close, then drop what the peer already sent, briefly, so our last answer lands."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LINGER_S
        discarded = 0
        with contextlib.suppress(ConnectionError, OSError, RuntimeError, asyncio.TimeoutError):
            await asyncio.wait_for(self.drain(), LINGER_S)
            if self.writer.can_write_eof():
                self.writer.write_eof()
            while discarded < LINGER_BYTES and loop.time() < deadline:
                data = await asyncio.wait_for(self.reader.read(READ_CHUNK), deadline - loop.time())
                if not data:
                    break
                discarded += len(data)

    def _dispatch(self, message: Any) -> None:
        if isinstance(message, BadMessage):
            self._reject(message.error, message.msgid)
            return
        try:
            kind, a, b, c = check_message(message)
        except RpcError as exc:
            msgid = exc.data.get("id") if isinstance(exc.data, dict) else None
            self._reject(exc, msgid if isinstance(msgid, int) else None)
            return
        if kind == REQUEST:
            self._serve(a, b, c)
        elif self.gate is not None:
            # Before admission, only a request is heard: anything else ends the connection.
            self._refuse(RpcError(ErrorCode.UNAUTHORIZED, "send hello with the token first"), None)
        elif kind == RESPONSE:
            self._pending.resolve(a, b, c)
        else:
            self._notified(a, b)

    def _notified(self, method: str, params: Any) -> None:
        if method in self.tagged and self._pending.deliver(params):
            return
        if self.on_notify is not None:
            try:
                self.on_notify(method, params)
            except Exception:
                log.exception("%s: notification handler for %s failed", self.name, method)

    # ---- closing -------------------------------------------------------------
    def forget(self, msgid: int) -> None:
        """Stop waiting for a request (its answer, if it ever comes, is ignored)."""
        self._pending.drop(msgid)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()

    async def _cleanup(self) -> None:
        self._closed.set()
        reason = self.close_reason or "connection closed"
        self._pending.fail_all(reason)
        tasks = [task for _, task in self._incoming.values()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._incoming.clear()
        self.close()


def _is_request(message: Any) -> bool:
    return isinstance(message, list) and bool(message) and message[0] == REQUEST
