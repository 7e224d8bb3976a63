"""The serving side of a session: the peer's requests run as tasks, answered (or refused,
or cancelled) by id, with backpressure while too many are unanswered."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from .framing import EncodeError, FrameDecoder
from .protocol import RESPONSE, ErrorCode, Notify, RpcError

if TYPE_CHECKING:
    from .session import Gate, RequestHandler, Session

log = logging.getLogger(__name__)

# Ids of answered requests remembered, so a late cancel hears "already finished".
FINISHED_IDS_KEPT = 4096


@dataclass
class Call:
    """An incoming request being served: what a handler knows about itself."""

    session: Session
    msgid: int
    method: str
    cancelled: bool = False  # the peer cancelled it (`Session.cancel`): it answers CANCELLED


class Serving:
    """The part of `Session` that serves the peer's requests (a host's session; a client's
    serves none and answers each with METHOD_NOT_FOUND)."""

    name: str
    on_request: RequestHandler | None
    max_inflight: int
    max_frame_bytes: int
    gate: Gate | None
    close_reason: str
    _incoming: dict[int, tuple[Call, asyncio.Task[None]]]
    _finished: OrderedDict[int, None]
    _room: asyncio.Event
    _decoder: FrameDecoder | None
    _hang_up: bool

    if TYPE_CHECKING:

        def _send(self, message: list[Any]) -> None: ...
        def notify(self, method: str, params: Any) -> None: ...
        async def drain(self) -> None: ...

    async def _wait_for_room(self) -> None:
        """Backpressure (serving sessions only): wait while too much is unanswered or unread."""
        if self.on_request is None:
            return
        while self.max_inflight and len(self._incoming) >= self.max_inflight:
            self._room.clear()
            await self._room.wait()
        await self.drain()

    def _reject(self, error: RpcError, msgid: int | None) -> None:
        """A message we cannot serve: say why (by its id when known); a peer not yet
        admitted is refused outright."""
        if self.gate is not None:
            self._refuse(error, msgid)
            return
        log.warning("%s: invalid message: %s", self.name, error.message)
        self._answer_error(error, msgid)

    def _refuse(self, error: RpcError, msgid: int | None) -> None:
        """Answer once, read nothing more, hang up."""
        log.warning("%s: refused: %s", self.name, error.message)
        self._answer_error(error, msgid)
        self.close_reason = f"refused: {error.message}"
        self._hang_up = True

    def _answer_error(self, error: RpcError, msgid: int | None) -> None:
        """By the message's id when it has one, else as an `error` notification."""
        if msgid is not None:
            self._respond(msgid, error.to_wire(), None)
        else:
            self.notify(Notify.ERROR, error.to_wire())

    def _serve(self, msgid: int, method: str, params: Any) -> None:
        if msgid in self._incoming:
            self._respond(
                msgid,
                RpcError(
                    ErrorCode.INVALID_REQUEST, f"request id {msgid} is already in use"
                ).to_wire(),
                None,
            )
            return
        if self.on_request is None:
            err = RpcError(ErrorCode.METHOD_NOT_FOUND, f"this peer serves no requests ({method})")
            self._respond(msgid, err.to_wire(), None)
            return
        if self.gate is not None:
            try:
                admitted = self.gate(method, params)
            except RpcError as exc:
                self._refuse(exc, msgid)
                return
            if admitted:
                self.gate = None
                if self._decoder is not None:
                    self._decoder.max_frame_bytes = self.max_frame_bytes
        call = Call(cast("Session", self), msgid, method)
        self._incoming[msgid] = (call, asyncio.create_task(self._run_handler(call, params)))

    def cancel(self, msgid: int) -> Literal["running", "finished"] | None:
        """Cancel the peer's request `msgid` (its task); say whether it was running,
        had already been answered, or is unknown on this connection."""
        entry = self._incoming.get(msgid)
        if entry is not None:
            call, task = entry
            if not call.cancelled:
                call.cancelled = True
                task.cancel()
            return "running"
        return "finished" if msgid in self._finished else None

    async def _run_handler(self, call: Call, params: Any) -> None:
        assert self.on_request is not None
        try:
            result = await self.on_request(call, params)
        except RpcError as exc:
            self._respond(call.msgid, exc.to_wire(), None)
        except asyncio.CancelledError:
            if not call.cancelled:
                raise  # the connection is going away: nobody to answer
            # Cancelled by the peer, and the handler had nothing more to say.
            err = RpcError(ErrorCode.CANCELLED, "the request was cancelled")
            self._respond(call.msgid, err.to_wire(), None)
        except Exception as exc:
            log.exception("%s: %s failed", self.name, call.method)
            err = RpcError(ErrorCode.INTERNAL_ERROR, f"{call.method} failed: {exc}")
            self._respond(call.msgid, err.to_wire(), None)
        else:
            self._respond(call.msgid, None, result)
        finally:
            self._incoming.pop(call.msgid, None)
            self._finished[call.msgid] = None
            while len(self._finished) > FINISHED_IDS_KEPT:
                self._finished.popitem(last=False)
            self._room.set()
        await self.drain()

    def _respond(self, msgid: int, error: Any, result: Any) -> None:
        try:
            self._send([RESPONSE, msgid, error, result])
        except ConnectionError:
            pass
        except EncodeError as exc:
            # The answer would not fit the peer's limit: it gets an error it can act on.
            log.warning("%s: answer to %s too large: %s", self.name, msgid, exc.message)
            with contextlib.suppress(ConnectionError, EncodeError):
                self._send([RESPONSE, msgid, exc.to_wire(), None])
