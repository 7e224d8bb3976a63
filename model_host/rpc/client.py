"""Client side of the host protocol: connect, handshake, call with streaming, cancel on give-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from .address import Address, parse_address
from .protocol import PROTOCOL_VERSION, Method, Notify, RpcError
from .session import READ_CHUNK, Session

log = logging.getLogger(__name__)

StreamCallback = Callable[[str], None]
# Sees each `stream` notification's params ({id, text, index, tokens}); True stops the request.
StopWhen = Callable[[dict[str, Any]], bool]


class HostClient:
    """One connection to a model host. Used by the LSP server, the CLI and tests.

    Cancelling the task that awaits `call()` sends `cancel` for that request to
    the host, so giving up on an answer also stops the decode loop.
    """

    def __init__(self, session: Session, address: Address) -> None:
        self.session = session
        self.address = address
        self.hello_info: dict[str, Any] = {}
        self.state_listeners: list[Callable[[dict[str, Any]], None]] = []
        self._reader_task: asyncio.Task[None] | None = None

    @classmethod
    async def connect(
        cls, address: str | Address, *, timeout: float = 5.0, name: str = "host"
    ) -> HostClient:
        addr = parse_address(address) if isinstance(address, str) else address
        if addr.kind == "unix":
            opener = asyncio.open_unix_connection(addr.path, limit=READ_CHUNK)
        elif addr.kind == "tcp":
            opener = asyncio.open_connection(addr.host, addr.port, limit=READ_CHUNK)
        else:
            raise ValueError("a client connects to unix: or tcp: addresses, not stdio")
        reader, writer = await asyncio.wait_for(opener, timeout)
        client = cls(Session(reader, writer, name=name, tagged=frozenset({Notify.STREAM})), addr)
        client.session.on_notify = client._on_notify
        client._reader_task = asyncio.create_task(client.session.run())
        return client

    async def hello(
        self, *, client_name: str = "tandem", token: str | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"client": client_name, "protocol": PROTOCOL_VERSION}
        if token:
            params["token"] = token
        self.hello_info = await self.session.request(Method.HELLO, params)
        limit = self.hello_info.get("max_message_bytes")
        if isinstance(limit, int) and limit > 0:
            # Never send the host more than it reads: an over-limit request fails here,
            # as an RpcError for that call, instead of costing the whole connection.
            self.session.peer_max_bytes = limit
            # ...and read what it says it may send.
            self.session.raise_read_limit(limit)
        return self.hello_info

    def _on_notify(self, method: str, params: Any) -> None:
        if method == Notify.STATE and isinstance(params, dict):
            for listener in list(self.state_listeners):
                listener(params)
        elif method == Notify.ERROR:
            log.warning("host reported: %s", params)

    async def call(
        self,
        method: str,
        params: Any,
        *,
        on_text: StreamCallback | None = None,
        stop_when: StopWhen | None = None,
    ) -> Any:
        """Make a request; `on_text` gets streamed text (then pass `stream: True` in params).

        When `stop_when(piece)` answers True, the host is told to cancel the request and the
        call goes on waiting for its answer: the result, if it finished first, else RpcError
        CANCELLED whose data says how many tokens were generated in all.
        """
        stopped = False
        msgid = 0

        def on_stream(note: Any) -> None:
            nonlocal stopped
            if not isinstance(note, dict):
                return
            if on_text is not None:
                on_text(str(note.get("text", "")))
            if stop_when is not None and not stopped and stop_when(note):
                stopped = True
                self._cancel(msgid)

        msgid, future = self.session.start_request(method, params, on_stream)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # Tell the host to stop working for nobody; never wait for the answer.
            self.session.forget(msgid)
            self._cancel(msgid)
            raise

    def _cancel(self, msgid: int) -> None:
        """Ask the host to cancel request `msgid`; nobody waits for the answer."""
        with contextlib.suppress(ConnectionError):
            _, done = self.session.start_request(Method.CANCEL, {"id": msgid})
            # Read the answer anyway so asyncio does not warn about it.
            done.add_done_callback(lambda f: f.cancelled() or f.exception())

    async def request(self, method: str, params: Any = None) -> Any:
        return await self.call(method, params if params is not None else {})

    @property
    def closed(self) -> bool:
        return self.session.closed

    async def close(self) -> None:
        self.session.close()
        if self._reader_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader_task, 2.0)


__all__ = ["HostClient", "RpcError"]
