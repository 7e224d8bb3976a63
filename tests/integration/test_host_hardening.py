"""Hostile clients against the real host: bounded messages, backpressure, one token guess, no crashes."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model_host.rpc.protocol import ErrorCode, LoadState, Method, Notify, RpcError
from tests.faults.host_wire import RawHost
from tests.hostproc import HostProcess, start_host

pytestmark = pytest.mark.timeout(180)


async def still_serving(address: str, **hello: Any) -> None:
    conn = await RawHost.connect(address)
    await conn.hello(**hello)
    conn.request(1, Method.STATUS)
    assert (await conn.response(1))[3]["state"] == LoadState.READY
    await conn.close()


def error_notes(conn: RawHost) -> list[dict[str, Any]]:
    return [n[2] for n in conn.notes if n[1] == Notify.ERROR]


# ---- a message is bounded as a whole, and by what its headers declare --------------------
async def test_a_message_of_many_strings_is_bounded_as_a_whole(host: HostProcess) -> None:
    """Four 4 MiB strings: each under the 8 MiB limit, the message over it."""
    conn = await RawHost.connect(host.address)
    chunk = "x" * (4 << 20)
    conn.send([0, 1, Method.COUNT_TOKENS, {"texts": [chunk, chunk, chunk, chunk]}])
    assert await conn.wait_closed(30)
    assert 1 not in conn.responses  # refused, not read through and answered
    assert [n["code"] for n in error_notes(conn)] == [ErrorCode.FRAME_TOO_LARGE]
    await conn.close()
    await still_serving(host.address)


async def test_a_declared_4_gib_string_is_refused_at_once(host: HostProcess) -> None:
    conn = await RawHost.connect(host.address)
    # [0, 1, "tokenize", {"text": <a str32 header declaring 0xFFFFFFFF bytes>, then 3 of them.
    head = b"\x94\x00\x01" + msgpack.packb(Method.TOKENIZE) + b"\x81" + msgpack.packb("text")
    conn.send_bytes(head + b"\xdb" + struct.pack(">I", 0xFFFFFFFF) + b"abc")
    assert await conn.wait_closed(10), "the host waited for the declared 4 GiB"
    assert [n["code"] for n in error_notes(conn)] == [ErrorCode.FRAME_TOO_LARGE]
    await conn.close()
    await still_serving(host.address)


async def test_nothing_over_the_limit_is_sent_either_way(tiny_model: Path, sock_dir: Path) -> None:
    proc = start_host(tiny_model, f"unix:{sock_dir / 'small.sock'}", "--max-frame-bytes", "65536")
    try:
        client = await proc.client()
        assert client.hello_info["max_message_bytes"] == 65536
        # Tandem's client will not send the host more than it reads...
        with pytest.raises(RpcError) as err:
            await client.request(Method.COUNT_TOKENS, {"texts": ["x" * 100_000]})
        assert err.value.code == ErrorCode.FRAME_TOO_LARGE
        assert client.session._pending._waiting == {}  # the refused request left nothing behind
        # ...and the host answers with an error rather than an answer over the limit.
        with pytest.raises(RpcError) as err:
            await client.request(Method.TOKENIZE, {"text": "word, " * 8000})
        assert err.value.code == ErrorCode.FRAME_TOO_LARGE
        assert (await client.request(Method.STATUS))["state"] == LoadState.READY
        await client.close()
    finally:
        proc.stop()


async def test_a_client_reads_answers_as_large_as_the_host_says_it_sends(
    tiny_model: Path, sock_dir: Path
) -> None:
    limit = 16 << 20
    proc = start_host(tiny_model, f"unix:{sock_dir / 'big.sock'}", "--max-frame-bytes", str(limit))
    try:
        client = await proc.client()
        assert client.hello_info["max_message_bytes"] == limit
        # A text of about 10 MB, over the client's own 8 MiB default, from 650,000 ids.
        ids = (await client.request(Method.TOKENIZE, {"text": "#" * 16}))["ids"]
        pieces = [await client.request(Method.DETOKENIZE, {"ids": [i]}) for i in ids]
        longest = max(zip(pieces, ids, strict=True), key=lambda p: len(p[0]["text"]))
        assert len(longest[0]["text"]) >= 16
        answer = await client.request(Method.DETOKENIZE, {"ids": [longest[1]] * 650_000})
        assert len(answer["text"]) >= 16 * 650_000 - 1
        # An answer of more objects than any reader takes is refused before it is sent.
        with pytest.raises(RpcError) as err:
            await client.request(Method.TOKENIZE, {"text": "ab9 " * 600_000})
        assert err.value.code == ErrorCode.FRAME_TOO_LARGE and "objects" in err.value.message
        assert (await client.request(Method.STATUS))["state"] == LoadState.READY
        await client.close()
    finally:
        proc.stop()


# ---- a client that never reads its answers is not read either -------------------------------
async def test_a_client_that_never_reads_is_throttled_and_loses_nothing(host: HostProcess) -> None:
    count = 100_000
    conn = await RawHost.connect(host.address, reading=False)
    payload = b"".join(msgpack.packb([0, i, "no_such_method", {}]) for i in range(count))
    conn.send_bytes(payload)
    transport = conn.writer.transport
    # Let the host read what it will; it must stop well before all of it (it cannot answer).
    last, steady_since = -1, asyncio.get_running_loop().time()
    while asyncio.get_running_loop().time() - steady_since < 1.5:
        size = transport.get_write_buffer_size()
        if size != last:
            last, steady_since = size, asyncio.get_running_loop().time()
        if size == 0:
            break
        await asyncio.sleep(0.1)
    assert transport.get_write_buffer_size() > len(payload) // 2, "the host kept reading"
    # Another client is served meanwhile.
    await still_serving(host.address)
    # Now read: every request is answered exactly once, none lost.
    conn.reading.set()
    deadline = asyncio.get_running_loop().time() + 120
    while conn.answered() < count and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    assert sorted(conn.responses) == list(range(count))
    assert all(len(v) == 1 for v in conn.responses.values())
    assert {v[0][2]["code"] for v in conn.responses.values()} == {ErrorCode.METHOD_NOT_FOUND}
    await conn.close()


# ---- one guess per connection ---------------------------------------------------------------
@pytest.fixture(scope="module")
def token_host(tiny_model: Path) -> Any:
    proc = start_host(tiny_model, "tcp:127.0.0.1:0", "--token", "s3cret")
    yield proc
    proc.stop()


async def test_a_method_before_hello_is_refused_and_the_connection_closed(
    token_host: HostProcess,
) -> None:
    conn = await RawHost.connect(token_host.address)
    conn.request(1, Method.STATUS)
    conn.request(2, Method.HELLO, {"token": "s3cret"})  # pipelined: must never be read
    conn.request(3, Method.STATUS)
    assert await conn.wait_closed(10)
    assert list(conn.responses) == [1]
    assert conn.responses[1][0][2]["code"] == ErrorCode.UNAUTHORIZED
    await conn.close()


async def test_pipelined_token_guesses_get_one_answer(token_host: HostProcess) -> None:
    conn = await RawHost.connect(token_host.address)
    for i in range(1000):
        conn.request(i, Method.HELLO, {"token": f"guess-{i}"})
    conn.request(1000, Method.HELLO, {"token": "s3cret"})
    conn.request(1001, Method.STATUS)
    assert await conn.wait_closed(10)
    assert list(conn.responses) == [0]
    assert conn.responses[0][0][2]["code"] == ErrorCode.UNAUTHORIZED
    await conn.close()
    await still_serving(token_host.address, token="s3cret")


@pytest.mark.parametrize(
    "junk",
    [
        msgpack.packb([2, "stream", {"id": 1}]),  # a notification
        msgpack.packb([0, 1, 17, {}]),  # a request without a method name
        msgpack.packb([0, 1, Method.HELLO, {(1,): "s3cret"}]),  # undecodable
    ],
)
async def test_before_hello_anything_but_a_request_ends_the_connection(
    token_host: HostProcess, junk: bytes
) -> None:
    conn = await RawHost.connect(token_host.address)
    conn.send_bytes(junk)
    conn.request(2, Method.HELLO, {"token": "s3cret"})
    assert await conn.wait_closed(10)
    assert 2 not in conn.responses
    await conn.close()


async def test_before_hello_only_small_messages_are_read(token_host: HostProcess) -> None:
    conn = await RawHost.connect(token_host.address)
    conn.request(1, Method.HELLO, {"token": "s3cret", "padding": "x" * (1 << 20)})
    assert await conn.wait_closed(10)
    assert [n["code"] for n in error_notes(conn)] == [ErrorCode.FRAME_TOO_LARGE]
    await conn.close()


# ---- a map with an array as a key ---------------------------------------------------------------
async def test_an_array_as_a_map_key_gets_a_parse_error_and_the_connection_lives(
    host: HostProcess,
) -> None:
    log_mark = len(host.lines)
    conn = await RawHost.connect(host.address)
    conn.send([0, 7, Method.STATUS, {(1,): 1}])  # msgpack: {[1]: 1}
    conn.send({(1, 2): "x"})  # no id to answer: an error notification
    conn.request(8, Method.STATUS)
    reply = await conn.response(8)
    assert reply[2] is None and reply[3]["state"] == LoadState.READY
    bad = await conn.response(7)
    assert bad[2]["code"] == ErrorCode.PARSE_ERROR and "map key" in bad[2]["message"]
    assert [n["code"] for n in error_notes(conn)] == [ErrorCode.PARSE_ERROR]
    assert not conn.closed.is_set()
    await conn.close()
    assert not any("Traceback" in line for line in host.lines[log_mark:])


# ---- no parameter the validator accepts fails inside ----------------------------------------------
EDGE_PARAMS: list[dict[str, Any]] = [
    {"temperature": 1e-45},
    {"temperature": 5e-324},
    {"temperature": -0.0},
    {"temperature": 0.0099},
    {"temperature": 0.01},
    {"temperature": 5.0},
    {"temperature": 5.000001},
    {"temperature": float("nan")},
    {"temperature": float("inf")},
    {"top_p": 5e-324, "temperature": 1.0},
    {"top_p": 1e-3, "temperature": 1.0},
    {"top_p": 1.0, "temperature": 1.0},
    {"seed": -1, "temperature": 1.0},
    {"seed": 0, "temperature": 1.0},
    {"seed": 2**63 - 1, "temperature": 1.0},
    {"seed": 2**63, "temperature": 1.0},
    {"seed": 2**64 - 1, "temperature": 1.0},
    {"max_tokens": 0},
    {"max_tokens": 2**20 + 1},
    {"max_tokens": 2**64 - 1},
    {"max_tokens": -(2**63)},
    {"stop": ["\n"] * 16},
    {"stop": ["x" * 129]},
]


async def ask(conn: RawHost, msgid: int, params: dict[str, Any]) -> list[Any]:
    conn.request(msgid, Method.COMPLETE, {"prefix": "def f(", "max_tokens": 2, **params})
    return await conn.response(msgid, timeout=60)


async def test_edge_values_are_refused_or_served_never_internal_errors(host: HostProcess) -> None:
    conn = await RawHost.connect(host.address)
    await conn.hello()
    outcomes = []
    for i, params in enumerate(EDGE_PARAMS, start=1):
        reply = await ask(conn, i, params)
        error = reply[2]
        assert error is None or error["code"] == ErrorCode.INVALID_PARAMS, (params, error)
        outcomes.append(error is None)
    await conn.close()
    assert any(outcomes) and not all(outcomes)


async def test_a_max_tokens_past_the_window_is_clipped_and_served(host: HostProcess) -> None:
    conn = await RawHost.connect(host.address)
    await conn.hello()
    conn.request(1, Method.PROMPT, {"kind": "complete", "prefix": "word " * 400})
    tokens = (await conn.response(1))[3]["tokens"]
    # Fill the window but for a few tokens, then ask for the most the validator allows.
    prefix = "word " * (400 * (2048 - 4) // tokens)
    reply = await ask(conn, 2, {"prefix": prefix, "max_tokens": 2**20})
    assert reply[2] is None or reply[2]["code"] == ErrorCode.CONTEXT_OVERFLOW, reply[2]
    await conn.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    temperature=st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
    top_p=st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
    seed=st.integers(min_value=-(2**63), max_value=2**64 - 1),
)
def test_random_sampling_params_are_refused_or_served(
    host: HostProcess, temperature: float, top_p: float, seed: int
) -> None:
    async def run() -> list[Any]:
        conn = await RawHost.connect(host.address)
        await conn.hello()
        try:
            return await ask(conn, 1, {"temperature": temperature, "top_p": top_p, "seed": seed})
        finally:
            await conn.close()

    reply = asyncio.run(run())
    assert reply[2] is None or reply[2]["code"] == ErrorCode.INVALID_PARAMS, reply[2]
