"""One host, many clients: no client waits on another's tokenizing, and cancel answers tell the truth."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from model_host.rpc.protocol import ErrorCode, Method, RpcError
from tests.hostproc import HostProcess, start_host

pytestmark = pytest.mark.timeout(180)


async def test_counting_a_huge_text_does_not_hold_up_other_clients(host: HostProcess) -> None:
    big, small = await host.client(), await host.client()
    # ~7.8 MB, every line distinct: the host's per-line count cache cannot shortcut it.
    text = "".join(
        f"def f{i}(x):\n    return [x + {i} for _ in range(10)]  # ☺\n" for i in range(120_000)
    )
    counting = asyncio.create_task(big.request(Method.COUNT_TOKENS, {"texts": [text]}))
    await asyncio.sleep(0.05)  # the count is under way
    answered_while_counting = 0
    while not counting.done():
        await small.request(Method.STATUS)
        if not counting.done():
            answered_while_counting += 1
        if answered_while_counting >= 5:
            break
    # The other client was served again and again while the count was still running.
    assert answered_while_counting >= 5
    assert (await counting)["counts"][0] > 1_000_000
    await big.close()
    await small.close()


async def test_a_cancel_that_answered_true_always_ends_in_cancelled(host: HostProcess) -> None:
    client = await host.client()
    outcomes: list[tuple[bool, str]] = []

    async def one(i: int) -> None:
        params = {"prefix": f"x{i} = ", "max_tokens": 1 + i % 3, "temperature": 0}
        msgid, future = client.session.start_request(Method.COMPLETE, params)
        await asyncio.sleep((i % 5) * 0.0005)
        try:
            said = await client.request(Method.CANCEL, {"id": msgid})
        finally:
            await asyncio.wait([future])
        try:
            await future
            ended = "result"
        except RpcError as exc:
            ended = "cancelled" if exc.code == ErrorCode.CANCELLED else f"error {exc.code}"
        outcomes.append((said["cancelled"], ended))

    for start in range(0, 600, 50):
        await asyncio.gather(*(one(i) for i in range(start, start + 50)))
    await client.close()
    lies = [o for o in outcomes if o == (True, "result")]
    assert not lies, f"{len(lies)} requests returned a result after cancel said true"
    assert {ended for _, ended in outcomes} <= {"result", "cancelled"}
    assert any(said for said, _ in outcomes)  # the storm did hit running requests


async def test_status_and_busy_count_only_requests_still_running(
    tiny_model: Path, sock_dir: Path
) -> None:
    proc = start_host(
        tiny_model, f"unix:{sock_dir / 'busy.sock'}", "--max-queue", "4", "--max-active", "4"
    )
    try:
        client = await proc.client()
        for _ in range(20):
            done = await asyncio.gather(
                *(
                    client.request(Method.COMPLETE, {"prefix": "a", "max_tokens": 2})
                    for _ in range(4)
                )
            )
            assert len(done) == 4  # exactly --max-queue at once: none refused
            status = await client.request(Method.STATUS)
            assert status["active"] == 0 and status["requests_in_flight"] == 0
        long = [
            asyncio.create_task(
                client.request(
                    Method.COMPLETE, {"prefix": "b" * i, "max_tokens": 1800, "temperature": 0}
                )
            )
            for i in range(1, 5)
        ]
        for _ in range(100):
            if (await client.request(Method.STATUS))["requests_in_flight"] == 4:
                break
            await asyncio.sleep(0.01)
        with pytest.raises(RpcError) as busy:
            await client.request(Method.COMPLETE, {"prefix": "c", "max_tokens": 2})
        assert busy.value.code == ErrorCode.BUSY
        for task in long:
            task.cancel()
        await asyncio.gather(*long, return_exceptions=True)
        await client.close()
    finally:
        proc.stop()
