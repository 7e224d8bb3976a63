"""Fault scenarios against the real model host: fuzz, hostile messages, load, cancels, tokens, memory."""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import struct
import time
from typing import Any

import msgpack

from model_host.rpc.protocol import ErrorCode, Method
from tests.faults.host_load import (
    Expect,
    MixedLoad,
    error,
    error_notes,
    judge,
    judge_notes,
    mixed_requests,
    result,
    result_or_error,
)
from tests.faults.host_wire import RawHost
from tests.faults.measure import MIB, rss_bytes
from tests.faults.modes import Mode
from tests.faults.report import Kind, Row
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


def fuzz_params(method: str, rng: random.Random) -> tuple[Any, bool]:
    """The method's template params, mutated or not; and whether they were."""
    params: Any = dict(TEMPLATES[method])
    mutated = False
    for _ in range(rng.randint(0, 3)):
        mutated = True
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
    return params, mutated


def fuzz_expectation(method: str, mutated: bool) -> tuple[str, Expect]:
    """The right answer to a fuzzed request: an unknown method is -32601 whatever its params;
    a template unchanged is valid (its result; `cancel` of an id that never ran: -32005);
    mutated params are valid or not, so a result or -32602, never another error."""
    if method == "no_such_method":
        return Kind.HOST_UNKNOWN_METHOD, error(ErrorCode.METHOD_NOT_FOUND)
    unknown = (ErrorCode.UNKNOWN_REQUEST,) if method == Method.CANCEL else ()
    if not mutated:
        return Kind.HOST_VALID, error(*unknown) if unknown else result()
    return Kind.HOST_FUZZED, result_or_error(ErrorCode.INVALID_PARAMS, *unknown)


def undecodable(msgid: int, rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return msgpack.packb([0, msgid, Method.STATUS, {(1, 2): 3}])
    return b"\x94\x00" + msgpack.packb(msgid) + b"\xa2\xff\xfe\x80"  # method: invalid UTF-8


def stream_breaker(rng: random.Random) -> tuple[bytes, str, int]:
    """Bytes after which the stream cannot go on: the kind, and the code the host must say."""
    return rng.choice(
        [
            (b"\xc1", Kind.HOST_BROKEN, ErrorCode.PARSE_ERROR),
            (
                b"\x94\x00\x01\xa1x\xdb" + struct.pack(">I", 0xFFFFFFFF) + b"ab",
                Kind.HOST_OVERSIZE,
                ErrorCode.FRAME_TOO_LARGE,
            ),
            (b"\x91" * 100, Kind.HOST_BROKEN, ErrorCode.PARSE_ERROR),  # nested past 64
        ]
    )


async def fuzzed_frames(host: HostProcess, mode: Mode, rng: random.Random) -> Row:
    row = Row("fuzzed msgpack frames", "")
    per_conn, connections, frames = 50, 0, 0
    while frames < mode.fuzz_frames:
        conn = await RawHost.connect(host.address)
        connections += 1
        expected: dict[int, tuple[str, Expect]] = {}
        id_less: list[tuple[str, int]] = []
        silent = 0
        for msgid in range(per_conn):
            roll = rng.random()
            if roll < 0.6:
                method = rng.choice(SAFE_METHODS)
                params, mutated = fuzz_params(method, rng)
                conn.request(msgid, method, params)
                expected[msgid] = fuzz_expectation(method, mutated)
            elif roll < 0.75:
                conn.send_bytes(undecodable(msgid, rng))
                expected[msgid] = (Kind.HOST_UNDECODABLE, error(ErrorCode.PARSE_ERROR))
            elif roll < 0.85:
                conn.send([0, msgid, rng.randint(0, 9), {}])  # method not a string
                expected[msgid] = (Kind.HOST_BAD_SHAPE_ID, error(ErrorCode.INVALID_REQUEST))
            elif roll < 0.95:
                conn.send(rng.choice([[0], [7, 1, 2], "text", {"a": 1}, [2, 5, {}], [0, True]]))
                id_less.append((Kind.HOST_NO_ID, ErrorCode.INVALID_REQUEST))
            else:
                # A notification a client has no business sending, an answer to nothing.
                conn.send(rng.choice([[2, "stream", {"id": 1}], [1, 999_999, None, 1]]))
                silent += 1
            frames += 1
        # Everything sent so far was dispatched (and any notification about it written)
        # before this request, so once it is answered every answer due is in.
        conn.request(per_conn, Method.STATUS)
        expected[per_conn] = (Kind.HOST_VALID, result())
        deadline = time.monotonic() + 60
        while not expected.keys() <= conn.responses.keys() and time.monotonic() < deadline:
            if conn.closed.is_set():
                break
            await asyncio.sleep(0.01)
        judge_notes(row, error_notes(conn), id_less)
        row.sent(Kind.HOST_SILENT, silent)
        for _ in range(silent):
            row.judge(Kind.HOST_SILENT, True)
        if rng.random() < 0.2:  # then break the stream: the host must say so and hang up
            data, kind, code = stream_breaker(rng)
            conn.send_bytes(data)
            frames += 1
            closed = await conn.wait_closed(10)
            last = error_notes(conn)[len(id_less) :]
            got = last[0][2].get("code") if last else None
            row.check(kind, closed and got == code, f"code {got}, closed: {closed}")
            row.extra(kind, max(0, len(last) - 1), "more than one notification")
        judge(row, conn, expected, stray=Kind.HOST_SILENT)
        await conn.close()
    row.load = f"{frames:,} frames on {connections} connections"
    row.figure = "host alive" if host.proc.poll() is None else "HOST DIED"
    row.crashes = int(host.proc.poll() is not None)
    return row


async def hostile_messages(host: HostProcess, mode: Mode) -> Row:
    """Oversized, over-declared, deep and undecodable messages: refused or answered, never fatal."""
    row = Row("oversize and hostile messages", "")
    pid = host.proc.pid
    too_large, parse = ErrorCode.FRAME_TOO_LARGE, ErrorCode.PARSE_ERROR
    # (name, bytes, the kind, the code the host must give)
    cases: list[tuple[str, bytes, str, int]] = [
        (
            "declared 4 GiB str",
            b"\x94\x00\x01\xa1x\xdb" + struct.pack(">I", 0xFFFFFFFF),
            Kind.HOST_OVERSIZE,
            too_large,
        ),
        (
            "declared 4 GiB bin",
            b"\x94\x00\x01\xa1x\xc6" + struct.pack(">I", 0xFFFFFFFF),
            Kind.HOST_OVERSIZE,
            too_large,
        ),
        (
            "declared 2^32 array",
            b"\x94\x00\x01\xa1x\xdd" + struct.pack(">I", 0xFFFFFFFF),
            Kind.HOST_OVERSIZE,
            too_large,
        ),
        (
            "nested 1,000 deep",
            b"\x94\x00\x01\xa1x" + b"\x91" * 1000 + b"\xc0",
            Kind.HOST_BROKEN,
            parse,
        ),
        ("byte 0xc1", b"\xc1", Kind.HOST_BROKEN, parse),
        (
            "array as map key",
            msgpack.packb([0, 1, Method.STATUS, {(1,): 1}]),
            Kind.HOST_UNDECODABLE,
            parse,
        ),
        (
            "invalid UTF-8",
            b"\x94\x00\x01\xa6status\x81\xa1t\xa2\xff\xfe",
            Kind.HOST_UNDECODABLE,
            parse,
        ),
        ("16 MiB of 4 MiB strings", b"", Kind.HOST_OVERSIZE, too_large),
    ]
    for name, data, kind, code in cases:
        conn = await RawHost.connect(host.address)
        if name.startswith("16 MiB"):
            chunk = "y" * (4 << 20)
            conn.send([0, 1, Method.COUNT_TOKENS, {"texts": [chunk] * 4}])
        else:
            conn.send_bytes(data)
        conn.request(2, Method.STATUS)
        if kind == Kind.HOST_UNDECODABLE:  # answered by its id; the connection goes on
            with contextlib.suppress(AssertionError):
                await conn.response(2, timeout=15)
            judge(row, conn, {1: (kind, error(code)), 2: (Kind.HOST_VALID, result())}, kind)
        else:  # one notification, a close, and nothing read after it
            closed = await conn.wait_closed(15)
            notes = error_notes(conn)
            got = notes[0][2].get("code") if notes else None
            row.check(kind, closed and got == code, f"{name}: code {got}, closed: {closed}")
            row.extra(kind, len(notes) - 1, f"{name}: more than one notification")
            judge(
                row,
                conn,
                {1: (Kind.HOST_AFTER_CLOSE, None), 2: (Kind.HOST_AFTER_CLOSE, None)},
                kind,
            )
        await conn.close()
    # A huge message streamed in 4 MiB strings: memory stays bounded by the limit.
    before = rss_bytes(pid)
    peak = before
    conn = await RawHost.connect(host.address)
    chunk = msgpack.packb("z" * (4 << 20))
    conn.send_bytes(b"\x94\x00\x01\xaccount_tokens\x81\xa5texts\xdd" + struct.pack(">I", 1 << 20))
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
    notes = error_notes(conn)
    got = notes[0][2].get("code") if notes else None
    row.check(
        Kind.HOST_OVERSIZE, closed and got == too_large, f"streamed: code {got}, closed: {closed}"
    )
    judge(row, conn, {1: (Kind.HOST_AFTER_CLOSE, None)}, Kind.HOST_OVERSIZE)
    row.load = f"{len(cases) + 1} kinds; a {mode.big_message_mib} MiB message"
    row.figure = (
        f"host RSS +{(peak - before) / MIB:.0f} MiB while a {mode.big_message_mib} MiB message "
        f"was pushed at it (refused after {sent / MIB:.0f} MiB)"
    )
    row.crashes = int(host.proc.poll() is not None)
    return row


async def non_reading_client(host: HostProcess, mode: Mode) -> Row:
    count = mode.pipelined
    row = Row("client that never reads", f"{count:,} pipelined requests")
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
    not_found = (Kind.HOST_UNKNOWN_METHOD, error(ErrorCode.METHOD_NOT_FOUND))
    judge(row, conn, dict.fromkeys(range(count), not_found), Kind.HOST_UNKNOWN_METHOD)
    await conn.close()
    row.figure = (
        f"host RSS +{(peak - before) / MIB:.1f} MiB while not read; "
        f"{held_back / MIB:.1f} MiB left unread in the client's socket"
    )
    return row


STORM_IN_FLIGHT = 48


def consistent(_answer: Any) -> bool:
    return True


def refuted(_answer: Any) -> bool:
    return False


async def cancel_storm(host: HostProcess, mode: Mode, rng: random.Random) -> Row:
    n = mode.cancel_storm
    row = Row("cancel storm", f"{n:,} streamed generations, most cancelled")
    conns = [await RawHost.connect(host.address) for _ in range(4)]
    generations: list[list[int]] = [[] for _ in conns]
    cancels: dict[tuple[int, int], int] = {}  # (conn, target id) -> the cancel's id

    # At most STORM_IN_FLIGHT generations at once, below the host's --max-queue (64): every
    # generation runs and is there to be cancelled (past the cap the host answers BUSY, which
    # tests/integration/test_host_bad_input.py covers).
    room = asyncio.Semaphore(STORM_IN_FLIGHT)

    async def one(i: int) -> None:
        c = i % len(conns)
        conn, msgid = conns[c], i
        async with room:
            conn.request(
                msgid,
                Method.COMPLETE,
                {
                    "prefix": f"# {i}\n",
                    "max_tokens": 40,
                    "temperature": 1.0,
                    "seed": i,
                    "stream": True,
                },
            )
            generations[c].append(msgid)
            if rng.random() < 0.85:
                await asyncio.sleep(rng.choice([0, 0, 0.001, 0.005, 0.02, 0.05]))
                cancel_id = 1_000_000 + i
                conn.request(cancel_id, Method.CANCEL, {"id": msgid})
                cancels[(c, msgid)] = cancel_id
            with contextlib.suppress(AssertionError):  # judged below, answer or not
                await conn.response(msgid, timeout=60)

    await asyncio.gather(*(one(i) for i in range(n)))

    def due(c: int) -> set[int]:
        return {*generations[c], *(cid for (k, _), cid in cancels.items() if k == c)}

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not all(
        due(c) <= set(conn.responses) for c, conn in enumerate(conns)
    ):
        await asyncio.sleep(0.05)
    race = said_true = 0
    for c, conn in enumerate(conns):
        expected: dict[int, tuple[str, Expect]] = {}
        for target in generations[c]:
            cancel_id = cancels.get((c, target))
            said = conn.responses.get(cancel_id, [None])[0] if cancel_id is not None else None
            if said is None or said[2] is not None or not isinstance(said[3], dict):
                # No cancel (or it got no proper answer, judged below): a result is right.
                expected[target] = (Kind.HOST_GENERATION, result())
                if cancel_id is not None:
                    expected[cancel_id] = (Kind.HOST_CANCEL, result(lambda r: "cancelled" in r))
                continue
            assert cancel_id is not None
            cancelled = said[3].get("cancelled") is True
            said_true += int(cancelled)
            expected[target] = (
                Kind.HOST_GENERATION,
                error(ErrorCode.CANCELLED) if cancelled else result(),
            )
            # `cancel` said true or false: right if the request then ended that way.
            got = conn.responses.get(target, [None])[0]
            ended_cancelled = (
                got is not None
                and isinstance(got[2], dict)
                and got[2].get("code") == ErrorCode.CANCELLED
            )
            expected[cancel_id] = (
                Kind.HOST_CANCEL,
                result(consistent if ended_cancelled == cancelled else refuted),
            )
            race += int(cancelled and got is not None and got[2] is None)
        judge(row, conn, expected, Kind.HOST_GENERATION)
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
    row.load = f"{n:,} streamed generations, {len(cancels):,} cancelled"
    row.figure = (
        f"{'idle' if idle else 'NOT IDLE'} after; `cancel` said cancelled {said_true}, "
        f"finished first {len(cancels) - said_true}; {race} answered normally after "
        "`cancel` said cancelled"
    )
    return row


async def concurrent_clients(host: HostProcess, mode: Mode, load: MixedLoad) -> Row:
    clients, per = mode.clients, mode.requests_per_client
    row = Row("concurrent clients", f"{clients} clients × {per} mixed requests at once")

    async def client(c: int) -> None:
        conn = await RawHost.connect(host.address)
        expected = await mixed_requests(conn, load, range(c, c + per), window=per)
        judge(row, conn, expected, Kind.HOST_VALID)
        await conn.close()

    await asyncio.gather(*(client(c) for c in range(clients)))
    wrong = sum(t.wrong for t in row.kinds.values())
    row.figure = f"{wrong} answers wrong or mixed up between clients"
    return row


# Unanswered requests per connection in the memory scenario: 8 connections stay within the
# host's default --max-queue (64 generations), so every request is served, none refused BUSY.
WINDOW = 8


async def memory_over_requests(host: HostProcess, mode: Mode, load: MixedLoad) -> tuple[Row, float]:
    n, workers = mode.memory_requests, 8
    row = Row("host memory", f"{n:,} mixed requests on {workers} connections")
    pid = host.proc.pid

    async def run(total: int, into: Row) -> None:
        conns = [await RawHost.connect(host.address) for _ in range(workers)]
        expected = await asyncio.gather(
            *(
                mixed_requests(conn, load, range(w, total, workers), window=WINDOW)
                for w, conn in enumerate(conns)
            )
        )
        for conn, e in zip(conns, expected, strict=True):
            judge(into, conn, e, Kind.HOST_VALID)
            await conn.close()

    await run(2000, Row("warm-up", ""))  # caches, allocator arenas, lazily built tables
    before = rss_bytes(pid)
    await run(n, row)
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
    status = (Kind.HOST_VALID, result(lambda r: r["state"] == "ready"))
    pinged = [*range(len(baseline)), *range(first, n)]
    judge(row, b, dict.fromkeys(pinged, status), Kind.HOST_VALID)
    counted = result(lambda r: len(r["counts"]) == 1 and r["counts"][0] > 1_000_000)
    judge(row, a, {1: (Kind.HOST_VALID, counted)}, Kind.HOST_VALID)
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
    unauthorized = error(ErrorCode.UNAUTHORIZED)
    conn = await RawHost.connect(token_host.address)
    for i in range(1000):
        conn.request(i, Method.HELLO, {"token": f"guess-{i}"})
    conn.request(1000, Method.HELLO, {"token": token})
    closed = await conn.wait_closed(15)
    # The first guess is refused and the connection closed; nothing after it is read (the
    # right token included).
    refused = unauthorized if closed else refuted
    expected: dict[int, tuple[str, Expect]] = {0: (Kind.HOST_WRONG_TOKEN, refused)}
    expected.update(dict.fromkeys(range(1, 1001), (Kind.HOST_AFTER_CLOSE, None)))
    judge(row, conn, expected, Kind.HOST_AFTER_CLOSE)
    await conn.close()

    async def one_guess(i: int) -> None:
        c = await RawHost.connect(token_host.address)
        c.request(0, Method.HELLO, {"token": f"g{i}"})
        c.request(1, Method.STATUS)
        closed = await c.wait_closed(15)
        refused = unauthorized if closed else refuted
        judge(
            row,
            c,
            {0: (Kind.HOST_WRONG_TOKEN, refused), 1: (Kind.HOST_AFTER_CLOSE, None)},
            Kind.HOST_AFTER_CLOSE,
        )
        await c.close()

    await asyncio.gather(*(one_guess(i) for i in range(200)))
    good = await RawHost.connect(token_host.address)
    good.request(0, Method.HELLO, {"client": "raw", "token": token})
    good.request(1, Method.STATUS)
    with contextlib.suppress(AssertionError):
        await good.response(1, timeout=15)
    judge(
        row, good, {0: (Kind.HOST_VALID, result()), 1: (Kind.HOST_VALID, result())}, Kind.HOST_VALID
    )
    await good.close()
    row.figure = "one answer per connection; the right token still admitted"
    return row
