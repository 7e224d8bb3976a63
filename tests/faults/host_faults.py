"""Fault scenarios against the real model host: fuzz, hostile messages, load, cancels, tokens, memory."""

from __future__ import annotations

import asyncio
import random
import statistics
import struct
import time
from typing import Any

import msgpack

from model_host.rpc.protocol import ErrorCode, Method, Notify
from tests.faults.host_load import MixedLoad, mixed_requests, tally
from tests.faults.host_wire import RawHost
from tests.faults.measure import MIB, rss_bytes
from tests.faults.modes import Mode
from tests.faults.report import Row
from tests.hostproc import HostProcess

SAFE_METHODS = [
    Method.HELLO,
    Method.COMPLETE,
    Method.CHAT,
    Method.CANCEL,
    Method.PROMPT,
    Method.TOKENIZE,
    Method.COUNT_TOKENS,
    Method.DETOKENIZE,
    Method.STATUS,
    "no_such_method",
]
TEMPLATES: dict[str, dict[str, Any]] = {
    Method.HELLO: {"client": "fuzz", "protocol": 1},
    Method.COMPLETE: {"prefix": "def f(x):\n    ", "suffix": "\n", "max_tokens": 3, "seed": 1},
    Method.CHAT: {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3},
    Method.CANCEL: {"id": 12345},
    Method.PROMPT: {"kind": "complete", "prefix": "x = "},
    Method.TOKENIZE: {"text": "hello world"},
    Method.COUNT_TOKENS: {"texts": ["a", "bb ccc"]},
    Method.DETOKENIZE: {"ids": [1, 500, 1000]},
    Method.STATUS: {},
    "no_such_method": {},
}


def odd_value(rng: random.Random) -> Any:
    return rng.choice(
        [
            None,
            True,
            -1,
            0,
            2**63 - 1,
            2**64 - 1,
            -(2**63),
            1e-45,
            5e-324,
            -0.0,
            float("nan"),
            float("inf"),
            1e308,
            "",
            "x" * rng.randint(0, 300),
            "\x00<PRE>[INST]</s>",
            b"\xff\x00",
            [],
            [None, 1, "a"],
            [rng.randint(-5, 40000) for _ in range(rng.randint(0, 8))],
            {},
            {"role": "user", "content": "x"},
            {1: 2},
            msgpack.ExtType(1, b"ab"),
        ]
    )


def fuzz_params(method: str, rng: random.Random) -> Any:
    params: Any = dict(TEMPLATES[method])
    for _ in range(rng.randint(0, 3)):
        choice = rng.random()
        keys = [*params, "max_tokens", "temperature", "top_p", "seed", "stop", "stream", "order"]
        if choice < 0.6:
            params[rng.choice(keys)] = odd_value(rng)
        elif choice < 0.8 and params:
            params.pop(rng.choice(list(params)))
        else:
            params = odd_value(rng) if rng.random() < 0.5 else [params]
            break
    if isinstance(params, dict) and method in (Method.COMPLETE, Method.CHAT):
        # Keep generations short; the edge values of max_tokens have their own tests.
        mt = params.get("max_tokens")
        if not isinstance(mt, int) or isinstance(mt, bool) or mt > 8:
            params["max_tokens"] = 3
    return params


def undecodable(msgid: int, rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return msgpack.packb([0, msgid, Method.STATUS, {(1, 2): 3}])
    return b"\x94\x00" + msgpack.packb(msgid) + b"\xa2\xff\xfe\x80"  # method: invalid UTF-8


def stream_breaker(rng: random.Random) -> bytes:
    return rng.choice(
        [
            b"\xc1",
            b"\x94\x00\x01\xa1x\xdb" + struct.pack(">I", 0xFFFFFFFF) + b"ab",
            b"\x91" * 100,
        ]
    )


async def fuzzed_frames(host: HostProcess, mode: Mode, rng: random.Random) -> Row:
    row = Row("fuzzed msgpack frames", "")
    per_conn, connections = 50, 0
    while row.bad_inputs < mode.fuzz_frames:
        conn = await RawHost.connect(host.address)
        connections += 1
        expected: set[int] = set()
        for msgid in range(per_conn):
            roll = rng.random()
            if roll < 0.6:
                method = rng.choice(SAFE_METHODS)
                conn.request(msgid, method, fuzz_params(method, rng))
                expected.add(msgid)
            elif roll < 0.75:
                conn.send_bytes(undecodable(msgid, rng))
                expected.add(msgid)
            elif roll < 0.85:
                conn.send([0, msgid, rng.randint(0, 9), {}])  # method not a string
                expected.add(msgid)
            elif roll < 0.95:
                conn.send(
                    rng.choice([[0], [7, 1, 2], "text", {"a": 1}, [2, 5, {}], [1, 999, None, 1]])
                )
            else:
                conn.send(
                    [2, "stream", {"id": 1}]
                )  # a notification a client has no business sending
            row.bad_inputs += 1
        deadline = time.monotonic() + 60
        while not expected <= set(conn.responses) and time.monotonic() < deadline:
            if conn.closed.is_set():
                break
            await asyncio.sleep(0.01)
        if rng.random() < 0.2:  # then break the stream: the host must say so and hang up
            conn.send_bytes(stream_breaker(rng))
            row.bad_inputs += 1
            row.expected += 1
            if await conn.wait_closed(10) and any(n[1] == Notify.ERROR for n in conn.notes):
                row.answered += 1
            else:
                row.notes.append("a stream breaker was not answered with an error and a close")
        tally(row, conn, expected)
        await conn.close()
    row.load = f"{row.bad_inputs:,} frames on {connections} connections"
    row.figure = "host alive" if host.proc.poll() is None else "HOST DIED"
    row.crashes = int(host.proc.poll() is not None)
    return row


async def hostile_messages(host: HostProcess, mode: Mode) -> Row:
    """Oversized, over-declared, deep and undecodable messages: refused or answered, never fatal."""
    row = Row("oversize and hostile messages", "")
    pid = host.proc.pid
    cases: list[tuple[str, bytes, str]] = [
        ("declared 4 GiB str", b"\x94\x00\x01\xa1x\xdb" + struct.pack(">I", 0xFFFFFFFF), "close"),
        ("declared 4 GiB bin", b"\x94\x00\x01\xa1x\xc6" + struct.pack(">I", 0xFFFFFFFF), "close"),
        ("declared 2^32 array", b"\x94\x00\x01\xa1x\xdd" + struct.pack(">I", 0xFFFFFFFF), "close"),
        ("nested 1,000 deep", b"\x94\x00\x01\xa1x" + b"\x91" * 1000 + b"\xc0", "close"),
        ("byte 0xc1", b"\xc1", "close"),
        ("array as map key", msgpack.packb([0, 1, Method.STATUS, {(1,): 1}]), "answer"),
        ("invalid UTF-8", b"\x94\x00\x01\xa6status\x81\xa1t\xa2\xff\xfe", "answer"),
        ("16 MiB of 4 MiB strings", b"", "close"),
    ]
    for name, data, outcome in cases:
        conn = await RawHost.connect(host.address)
        if name.startswith("16 MiB"):
            chunk = "y" * (4 << 20)
            conn.send([0, 1, Method.COUNT_TOKENS, {"texts": [chunk] * 4}])
        else:
            conn.send_bytes(data)
        conn.request(2, Method.STATUS)
        row.bad_inputs += 1
        row.expected += 1
        if outcome == "close":
            ok = await conn.wait_closed(15) and any(n[1] == Notify.ERROR for n in conn.notes)
            ok = ok and 1 not in conn.responses
        else:
            await conn.response(2)
            ok = 1 in conn.responses
        row.answered += int(ok)
        if not ok:
            row.notes.append(f"{name}: not {outcome}d as expected")
        await conn.close()
    # A huge message streamed in 4 MiB strings: memory stays bounded by the limit.
    before = rss_bytes(pid)
    peak = before
    conn = await RawHost.connect(host.address)
    chunk = msgpack.packb("z" * (4 << 20))
    conn.send_bytes(b"\x94\x00\x01\xabcount_tokens\x81\xa5texts\xdd" + struct.pack(">I", 1 << 20))
    sent = 0
    try:
        while sent < mode.big_message_mib * MIB and not conn.closed.is_set():
            conn.send_bytes(chunk)
            await conn.writer.drain()
            sent += len(chunk)
            peak = max(peak, rss_bytes(pid))
    except (ConnectionError, OSError):
        pass
    closed = await conn.wait_closed(15)
    await conn.close()
    row.bad_inputs += 1
    row.expected += 1
    row.answered += int(closed)
    row.load = f"{len(cases) + 1} kinds; a {mode.big_message_mib} MiB message"
    row.figure = (
        f"host RSS +{(peak - before) / MIB:.0f} MiB while a {mode.big_message_mib} MiB message "
        f"was pushed at it (refused after {sent / MIB:.0f} MiB)"
    )
    row.crashes = int(host.proc.poll() is not None)
    return row


async def non_reading_client(host: HostProcess, mode: Mode) -> Row:
    count = mode.pipelined
    row = Row("client that never reads", f"{count:,} pipelined requests", bad_inputs=count)
    pid = host.proc.pid
    before = rss_bytes(pid)
    conn = await RawHost.connect(host.address, reading=False)
    for start in range(0, count, 10_000):
        conn.send_bytes(
            b"".join(
                msgpack.packb([0, i, "no_such_method", {}])
                for i in range(start, min(count, start + 10_000))
            )
        )
    peak = before
    steady_since, last = time.monotonic(), -1
    while time.monotonic() - steady_since < 1.5:
        size = conn.writer.transport.get_write_buffer_size()
        peak = max(peak, rss_bytes(pid))
        if size != last:
            steady_since, last = time.monotonic(), size
        await asyncio.sleep(0.1)
    held_back = conn.writer.transport.get_write_buffer_size()
    conn.reading.set()
    deadline = time.monotonic() + 300
    while conn.answered() < count and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    tally(row, conn, set(range(count)))
    await conn.close()
    row.figure = (
        f"host RSS +{(peak - before) / MIB:.1f} MiB while not read; "
        f"{held_back / MIB:.1f} MiB left unread in the client's socket"
    )
    return row


async def cancel_storm(host: HostProcess, mode: Mode, rng: random.Random) -> Row:
    n = mode.cancel_storm
    row = Row("cancel storm", f"{n:,} streamed generations, most cancelled", faults=0)
    conns = [await RawHost.connect(host.address) for _ in range(4)]
    expected: list[set[int]] = [set() for _ in conns]
    cancels: list[tuple[int, int, int]] = []  # (conn, cancel id, target id)

    async def one(i: int) -> None:
        c = i % len(conns)
        conn, msgid = conns[c], i
        conn.request(
            msgid,
            Method.COMPLETE,
            {"prefix": f"# {i}\n", "max_tokens": 40, "temperature": 1.0, "seed": i, "stream": True},
        )
        expected[c].add(msgid)
        roll = rng.random()
        if roll < 0.85:
            await asyncio.sleep(rng.choice([0, 0, 0.001, 0.005, 0.02, 0.05]))
            cancel_id = 1_000_000 + i
            conn.request(cancel_id, Method.CANCEL, {"id": msgid})
            expected[c].add(cancel_id)
            cancels.append((c, cancel_id, msgid))
            row.faults += 1

    await asyncio.gather(*(one(i) for i in range(n)))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not all(
        e <= set(conn.responses) for e, conn in zip(expected, conns, strict=True)
    ):
        await asyncio.sleep(0.05)
    race = 0
    for c, cancel_id, target in cancels:
        said = conns[c].responses.get(cancel_id)
        got = conns[c].responses.get(target)
        if said and got and said[0][3] and said[0][3].get("cancelled") and got[0][2] is None:
            race += 1
    for conn, e in zip(conns, expected, strict=True):
        tally(row, conn, e)
        await conn.close()
    # Nothing left running once everyone has been answered.
    watcher = await RawHost.connect(host.address)
    idle = False
    for attempt in range(100):
        watcher.request(attempt, Method.STATUS)
        status = (await watcher.response(attempt))[3]
        if status["active"] == 0 and status["queue_depth"] == 0:
            idle = True
            break
        await asyncio.sleep(0.05)
    await watcher.close()
    if not idle:
        row.notes.append("generations still active after every request was answered")
    row.figure = (
        f"{'idle' if idle else 'NOT IDLE'} after; {race} answered normally after "
        "`cancel` said cancelled"
    )
    if race:
        # A normal result after `cancel` said cancelled is an answer that should not exist.
        row.spurious += race
        row.notes.append(
            f"cancel race: {race} of {len(cancels)} requests returned a result after `cancel` "
            "answered {cancelled: true}"
        )
    return row


async def concurrent_clients(host: HostProcess, mode: Mode, load: MixedLoad) -> Row:
    clients, per = mode.clients, mode.requests_per_client
    row = Row("concurrent clients", f"{clients} clients × {per} mixed requests at once")
    mixed = 0

    async def client(c: int) -> None:
        nonlocal mixed
        conn = await RawHost.connect(host.address)
        expected, wrong = await mixed_requests(conn, load, range(c, c + per), window=per)
        mixed += wrong
        tally(row, conn, expected)
        await conn.close()

    await asyncio.gather(*(client(c) for c in range(clients)))
    row.spurious += mixed
    row.figure = f"{mixed} answers wrong or mixed up between clients"
    return row


async def memory_over_requests(host: HostProcess, mode: Mode, load: MixedLoad) -> tuple[Row, float]:
    n, workers = mode.memory_requests, 8
    row = Row("host memory", f"{n:,} mixed requests on {workers} connections")
    pid = host.proc.pid

    async def run(total: int) -> int:
        conns = [await RawHost.connect(host.address) for _ in range(workers)]
        results = await asyncio.gather(
            *(mixed_requests(conn, load, range(w, total, workers)) for w, conn in enumerate(conns))
        )
        wrong = 0
        for conn, (expected, bad) in zip(conns, results, strict=True):
            tally(row, conn, expected)
            wrong += bad
            await conn.close()
        return wrong

    await run(2000)  # warm-up: caches, allocator arenas, lazily built tables
    row.expected = row.answered = row.spurious = row.internal = 0
    before = rss_bytes(pid)
    row.spurious += await run(n)
    after = rss_bytes(pid)
    growth = (after - before) / before * 100
    row.figure = f"RSS {before / MIB:.0f} → {after / MIB:.0f} MiB ({growth:+.1f}%)"
    return row, growth


async def cross_client_stall(host: HostProcess, mode: Mode) -> tuple[Row, float]:
    """Client A counts a 7.8 MB text; how long does client B wait on a small request?"""
    row = Row(
        "one client's big count vs another's small requests", "7.8 MB count_tokens + status loop"
    )
    a = await RawHost.connect(host.address)
    b = await RawHost.connect(host.address)
    latencies: list[float] = []

    async def ping(first: int, count: int) -> list[float]:
        out = []
        for i in range(first, first + count):
            t = time.perf_counter()
            b.request(i, Method.STATUS)
            await b.response(i)
            out.append(time.perf_counter() - t)
        return out

    baseline = await ping(0, 50)
    first = 1000
    # Every line distinct: the host's per-line count cache cannot shortcut it.
    text = "".join(
        f"def function_{i}(argument):\n    return argument * {i}  # comment\n"
        for i in range(130_000)
    )[:7_800_000]
    a.request(1, Method.COUNT_TOKENS, {"texts": [text]})
    n = first
    while 1 not in a.responses and not a.closed.is_set():
        latencies.extend(await ping(n, 1))
        n += 1
    await a.response(1, timeout=120)
    row.expected = len(baseline) + (n - first) + 1
    row.answered = len(b.responses) + len(a.responses)
    await a.close()
    await b.close()
    worst = max(latencies, default=0.0) * 1000
    base = statistics.median(baseline) * 1000
    row.figure = f"worst wait {worst:.0f} ms (a small request alone: {base:.1f} ms)"
    if worst > 100:
        row.notes.append(
            f"client B waited {worst:.0f} ms while A's 7.8 MB was tokenized "
            "(tokenizing runs beside the event loop; over 100 ms means it stalled)"
        )
    return row, worst


async def token_brute_force(token_host: HostProcess, token: str) -> Row:
    row = Row("token brute force", "1,000 pipelined guesses + 200 connections")
    conn = await RawHost.connect(token_host.address)
    for i in range(1000):
        conn.request(i, Method.HELLO, {"token": f"guess-{i}"})
    conn.request(1000, Method.HELLO, {"token": token})
    row.bad_inputs += 1000
    await conn.wait_closed(15)
    tally(row, conn, {0})
    await conn.close()

    async def one_guess(i: int) -> None:
        c = await RawHost.connect(token_host.address)
        c.request(0, Method.HELLO, {"token": f"g{i}"})
        c.request(1, Method.STATUS)
        await c.wait_closed(15)
        refused = [
            r for r in c.responses.get(0, []) if r[2] and r[2]["code"] == ErrorCode.UNAUTHORIZED
        ]
        row.expected += 1
        row.answered += int(len(refused) == 1)
        row.spurious += len(c.responses.get(1, []))
        await c.close()

    await asyncio.gather(*(one_guess(i) for i in range(200)))
    row.bad_inputs += 200
    good = await RawHost.connect(token_host.address)
    reply = await good.hello(token=token)
    good.request(1, Method.STATUS)
    ok = reply[2] is None and (await good.response(1))[2] is None
    row.expected += 1
    row.answered += int(ok)
    await good.close()
    row.figure = "one answer per connection; the right token still admitted"
    return row
