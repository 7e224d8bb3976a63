"""Our requests that await the peer's answer: their futures, and the notifications tagged with their ids."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .protocol import RpcError

log = logging.getLogger(__name__)


@dataclass
class _Waiting:
    future: asyncio.Future[Any]
    on_notify: Callable[[Any], None] | None = None


@dataclass
class Pending:
    """Ids for our requests and what waits on each; an unknown or late id is logged, never a crash."""

    name: str = "peer"
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _waiting: dict[int, _Waiting] = field(default_factory=dict)

    def add(self, on_notify: Callable[[Any], None] | None) -> tuple[int, asyncio.Future[Any]]:
        msgid = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[msgid] = _Waiting(future, on_notify)
        return msgid, future

    def drop(self, msgid: int) -> None:
        """Stop waiting for `msgid` (its answer, if it ever comes, is ignored)."""
        self._waiting.pop(msgid, None)

    def resolve(self, msgid: int, error: Any, result: Any) -> None:
        waiting = self._waiting.pop(msgid, None)
        if waiting is None:
            # A late answer to a request we gave up on, or a peer bug: never a crash.
            log.info("%s: response for unknown request id %s ignored", self.name, msgid)
            return
        if waiting.future.done():
            return
        if error is not None:
            waiting.future.set_exception(RpcError.from_wire(error))
        else:
            waiting.future.set_result(result)

    def deliver(self, params: Any) -> bool:
        """Hand a tagged notification (`{"id": msgid, ...}`) to its request's consumer;
        False when no waiting request of ours takes it."""
        if not isinstance(params, dict):
            return False
        waiting = self._waiting.get(params.get("id"))  # type: ignore[arg-type]
        if waiting is None or waiting.on_notify is None:
            return False
        try:
            waiting.on_notify(params)
        except Exception:  # one request's consumer, never the connection
            log.exception("%s: stream handler for request %s failed", self.name, params["id"])
        return True

    def fail_all(self, reason: str) -> None:
        for waiting in self._waiting.values():
            if not waiting.future.done():
                waiting.future.set_exception(ConnectionError(f"{self.name}: {reason}"))
        self._waiting.clear()
