"""Session.cancel: a peer's request is cancelled through the session's own task for it."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from model_host.rpc.protocol import ErrorCode, RpcError
from model_host.rpc.session import Call, Session


async def _pair(handler: Any) -> tuple[Session, Session, list[asyncio.Task[None]]]:
    a, b = socket.socketpair()
    sr, sw = await asyncio.open_connection(sock=a)
    cr, cw = await asyncio.open_connection(sock=b)
    server = Session(sr, sw, on_request=handler, name="server")
    client = Session(cr, cw, name="client")
    tasks = [asyncio.create_task(server.run()), asyncio.create_task(client.run())]
    return server, client, tasks


async def _close(server: Session, client: Session, tasks: list[asyncio.Task[None]]) -> None:
    client.close()
    server.close()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_running_request_is_cancelled_and_answers_cancelled() -> None:
    started = asyncio.Event()
    calls: list[Call] = []

    async def handler(call: Call, params: Any) -> Any:
        calls.append(call)
        started.set()
        await asyncio.sleep(60)
        return "too late"

    server, client, tasks = await _pair(handler)
    try:
        msgid, answer = client.start_request("slow", {})
        await started.wait()
        assert server.cancel(msgid) == "running"
        assert server.cancel(msgid) == "running"  # a second cancel of a running one is harmless
        with pytest.raises(RpcError) as err:
            await asyncio.wait_for(answer, 5)
        assert err.value.code == ErrorCode.CANCELLED
        assert calls[0].cancelled
        await asyncio.sleep(0)
        assert server.cancel(msgid) == "finished"
        assert server.cancel(msgid + 100) is None
    finally:
        await _close(server, client, tasks)


async def test_a_handler_that_answers_its_own_cancel_keeps_its_answer() -> None:
    async def handler(call: Call, params: Any) -> Any:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            assert call.cancelled
            raise RpcError(ErrorCode.CANCELLED, "stopped", {"text": "partial"}) from None
        return None

    server, client, tasks = await _pair(handler)
    try:
        msgid, answer = client.start_request("slow", {})
        await asyncio.sleep(0.05)
        assert server.cancel(msgid) == "running"
        with pytest.raises(RpcError) as err:
            await asyncio.wait_for(answer, 5)
        assert err.value.data == {"text": "partial"}
    finally:
        await _close(server, client, tasks)
