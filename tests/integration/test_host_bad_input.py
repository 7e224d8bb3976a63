"""Bad input against the real host: every case gets a structured error and the host keeps serving."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import msgpack
import pytest

from model_host.rpc.client import HostClient
from model_host.rpc.protocol import ErrorCode, LoadState, Method, Notify, RpcError
from tests.hostproc import ROOT, HostProcess, start_host

pytestmark = pytest.mark.timeout(120)


async def raw_connection(host: HostProcess) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_unix_connection(host.address[len("unix:") :])


async def read_messages(reader: asyncio.StreamReader, timeout: float = 5.0) -> list[Any]:
    """Everything the host sends until it closes the connection (or the timeout)."""
    unpacker = msgpack.Unpacker(raw=False)
    out: list[Any] = []
    try:
        while True:
            data = await asyncio.wait_for(reader.read(65536), timeout)
            if not data:
                return out
            unpacker.feed(data)
            out.extend(unpacker)
    except asyncio.TimeoutError:
        return out


async def assert_still_serving(host: HostProcess) -> None:
    client = await host.client()
    assert (await client.request(Method.STATUS))["state"] == LoadState.READY
    await client.close()


async def expect_error(client: HostClient, method: str, params: Any, code: ErrorCode) -> RpcError:
    with pytest.raises(RpcError) as err:
        await client.request(method, params)
    assert err.value.code == code, err.value
    return err.value


async def test_malformed_msgpack_closes_only_that_connection(host: HostProcess) -> None:
    reader, writer = await raw_connection(host)
    writer.write(b"\xc1\xc1\xc1")  # 0xc1 is never valid msgpack
    messages = await read_messages(reader)
    assert messages == [
        [2, Notify.ERROR, {"code": ErrorCode.PARSE_ERROR, "message": messages[0][2]["message"]}]
    ]
    assert "malformed" in messages[0][2]["message"]
    writer.close()
    await assert_still_serving(host)


async def test_oversized_frame_is_refused(tiny_model: Path, sock_dir: Path) -> None:
    proc = start_host(tiny_model, f"unix:{sock_dir / 'frame.sock'}", "--max-frame-bytes", "4096")
    try:
        reader, writer = await raw_connection(proc)
        writer.write(msgpack.packb([0, 1, Method.TOKENIZE, {"text": "x" * 10000}]))
        messages = await read_messages(reader)
        assert messages[-1][1] == Notify.ERROR
        assert messages[-1][2]["code"] == ErrorCode.FRAME_TOO_LARGE
        writer.close()
        await assert_still_serving(proc)
    finally:
        proc.stop()


async def test_unknown_method_and_wrong_types(host: HostProcess) -> None:
    client = await host.client()
    await expect_error(client, "no_such_method", {}, ErrorCode.METHOD_NOT_FOUND)
    await expect_error(client, Method.COMPLETE, {"prefix": 42}, ErrorCode.INVALID_PARAMS)
    await expect_error(client, Method.COMPLETE, {}, ErrorCode.INVALID_PARAMS)
    await expect_error(client, Method.COMPLETE, "not a map", ErrorCode.INVALID_PARAMS)
    await expect_error(
        client, Method.COMPLETE, {"prefix": "x", "max_tokens": True}, ErrorCode.INVALID_PARAMS
    )
    await expect_error(
        client, Method.COMPLETE, {"prefix": "x", "max_tokens": 0}, ErrorCode.INVALID_PARAMS
    )
    await expect_error(
        client, Method.COMPLETE, {"prefix": "x", "temperature": -1}, ErrorCode.INVALID_PARAMS
    )
    await expect_error(
        client, Method.COMPLETE, {"prefix": "x", "order": "mps"}, ErrorCode.INVALID_PARAMS
    )
    await expect_error(
        client, Method.COMPLETE, {"prefix": "x", "stop": [1]}, ErrorCode.INVALID_PARAMS
    )
    await expect_error(client, Method.CHAT, {"messages": []}, ErrorCode.INVALID_PARAMS)
    await expect_error(
        client,
        Method.CHAT,
        {"messages": [{"role": "robot", "content": "x"}]},
        ErrorCode.INVALID_PARAMS,
    )
    bad_dialog = {"messages": [{"role": "assistant", "content": "x"}]}
    await expect_error(client, Method.CHAT, bad_dialog, ErrorCode.INVALID_PARAMS)
    await expect_error(client, Method.CANCEL, {"id": "seven"}, ErrorCode.INVALID_PARAMS)
    await expect_error(client, Method.DETOKENIZE, {"ids": [-1]}, ErrorCode.INVALID_PARAMS)
    await expect_error(client, Method.PROMPT, {"kind": "poem"}, ErrorCode.INVALID_PARAMS)
    await client.close()
    await assert_still_serving(host)


async def test_invalid_message_shapes_get_answers(host: HostProcess) -> None:
    """One rule: a message that starts `[0, msgid` is answered by that msgid, whatever else
    is wrong with it; anything else bad gets one `error` notification; a response, none."""
    reader, writer = await raw_connection(host)
    by_id = {
        5: [0, 5, 17, {}],  # method is not a string
        7: [0, 7, Method.STATUS],  # no params
        8: [0, 8, Method.STATUS, {}, "extra"],  # one item too many
        9: [0, 9],  # nothing but the id
    }
    for message in by_id.values():
        writer.write(msgpack.packb(message))
    writer.write(b"\x94\x00\x0a\xa2\xff\xfe\x80")  # id 10, method not UTF-8: PARSE_ERROR by id
    no_id = [
        {"not": "an array"},
        [0, True, Method.STATUS, {}],  # a boolean is not a msgid
        [0, "11", Method.STATUS, {}],
        [0],
        [7, 1, 2],
        [2, 5, {}],  # a notification whose method is not a string
    ]
    for message in no_id:
        writer.write(msgpack.packb(message))
    writer.write(msgpack.packb([1, 12345, None, "late answer nobody asked for"]))  # ignored
    writer.write(msgpack.packb([0, 6, Method.STATUS, {}]))  # and the connection still works
    messages = await read_messages(reader, timeout=2.0)
    writer.close()
    answers = {m[1]: m for m in messages if m[0] == 1}
    assert sorted(answers) == [5, 6, 7, 8, 9, 10], messages
    for msgid in by_id:
        assert answers[msgid][2]["code"] == ErrorCode.INVALID_REQUEST, answers[msgid]
    assert answers[10][2]["code"] == ErrorCode.PARSE_ERROR, answers[10]
    notes = [m for m in messages if m[0] == 2 and m[1] == Notify.ERROR]
    assert [n[2]["code"] for n in notes] == [ErrorCode.INVALID_REQUEST] * len(no_id), messages
    status = answers[6]
    assert status[2] is None and status[3]["state"] == LoadState.READY


async def test_prompt_longer_than_the_context_window(host: HostProcess) -> None:
    client = await host.client()
    err = await expect_error(
        client,
        Method.COMPLETE,
        {"prefix": "word " * 5000, "suffix": ""},
        ErrorCode.CONTEXT_OVERFLOW,
    )
    assert err.data["context_window"] == 2048
    assert err.data["prompt_tokens"] > 2048
    assert str(err.data["prompt_tokens"]) in err.message and "2048" in err.message
    await client.close()


async def test_disconnect_mid_stream_cancels_the_generation(host: HostProcess) -> None:
    client = await host.client()
    before = await client.request(Method.STATUS)
    streamed = asyncio.Event()
    client.session.start_request(
        Method.CHAT,
        {
            "messages": [{"role": "user", "content": "long"}],
            "max_tokens": 1500,
            "temperature": 1.0,
            "seed": 5,
            "stream": True,
        },
        lambda note: streamed.set(),
    )
    await asyncio.wait_for(streamed.wait(), 30)
    await client.close()  # gone, mid-stream
    watcher = await host.client()
    for _ in range(50):
        status = await watcher.request(Method.STATUS)
        if status["active"] == 0 and status["requests_in_flight"] == 0:
            break
        await asyncio.sleep(0.1)
    assert status["active"] == 0 and status["requests_in_flight"] == 0
    # Counted as cancelled: the client left.
    assert status["cancelled"] > before["cancelled"]
    await watcher.close()


async def test_busy_past_the_queue_cap(tiny_model: Path, sock_dir: Path) -> None:
    proc = start_host(
        tiny_model, f"unix:{sock_dir / 'busy.sock'}", "--max-active", "1", "--max-queue", "1"
    )
    try:
        client = await proc.client()
        long = asyncio.create_task(
            client.request(
                Method.CHAT,
                {
                    "messages": [{"role": "user", "content": "x"}],
                    "max_tokens": 1500,
                    "temperature": 1.0,
                    "seed": 1,
                },
            )
        )
        await asyncio.sleep(0.3)
        err = await expect_error(client, Method.COMPLETE, {"prefix": "y"}, ErrorCode.BUSY)
        assert "busy" in err.message
        long.cancel()
        await asyncio.gather(long, return_exceptions=True)
        status = await client.request(Method.STATUS)
        assert status["busy_refusals"] == 1
        await client.close()
    finally:
        proc.stop()


def test_stdio_transport(tiny_model: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "model_host", "--model", str(tiny_model), "--listen", "stdio"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    unpacker = msgpack.Unpacker(raw=False)

    def ask(msgid: int, method: str, params: Any) -> Any:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(msgpack.packb([0, msgid, method, params]))
        proc.stdin.flush()
        while True:
            for msg in unpacker:
                if msg[0] == 1 and msg[1] == msgid:
                    return msg
            chunk = proc.stdout.read1(65536)
            assert chunk, "host closed stdout"
            unpacker.feed(chunk)

    try:
        for i in range(600):
            reply = ask(100 + i, Method.STATUS, {})
            if reply[3]["state"] == LoadState.READY:
                break
            time.sleep(0.1)
        reply = ask(2, Method.COMPLETE, {"prefix": "x = ", "max_tokens": 3})
        assert reply[2] is None and reply[3]["generated_tokens"] >= 1
        proc.stdin.close()  # the only client leaves: the host ends
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
