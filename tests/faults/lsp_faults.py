"""Fault scenarios against the real language server: hostile documents, edits, protocol fuzz, host loss."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.faults.lsp_wire import RawLsp, frame
from tests.faults.measure import MIB
from tests.faults.modes import Mode
from tests.faults.report import Kind, Row
from tests.hostproc import HostProcess, start_host

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL = -32603
WARMUP = 5_000  # edits before measuring: allocator arenas and caches fill first
_EOL = re.compile(r"\r\n|\r|\n")


def options(address: str) -> dict[str, Any]:
    return {
        "host": {"address": address, "autoStart": False, "requestTimeout": 60},
        "completion": {"debounceMs": 0, "temperature": 0},
        "chat": {"temperature": 0},
    }


def lsp_lines(text: str) -> list[str]:
    """Lines as LSP counts them ("\\r\\n", "\\r" and "\\n" end a line)."""
    return _EOL.split(text)


def offset_of(text: str, line: int, character: int) -> int:
    """The str index of an LSP position (UTF-16 units), found the slow obvious way."""
    start = 0
    for _ in range(line):
        m = _EOL.search(text, start)
        assert m is not None, "line past the end"
        start = m.end()
    m = _EOL.search(text, start)
    line_text = text[start : m.start() if m else len(text)]
    units = 0
    for i, ch in enumerate(line_text):
        if units >= character:
            return start + i
        units += utf16_len(ch)
    return start + len(line_text)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def end_of(text: str) -> tuple[int, int]:
    lines = lsp_lines(text)
    return len(lines) - 1, utf16_len(lines[-1])


def pos(line: int, character: int) -> dict[str, int]:
    return {"line": line, "character": character}


def inline_params(uri: str, line: int, character: int) -> dict[str, Any]:
    return {
        "textDocument": {"uri": uri},
        "position": pos(line, character),
        "context": {"triggerKind": 1},
    }


REQUEST_FAILED = -32803
Check = Callable[[dict[str, Any]], bool]


def has_result(reply: dict[str, Any]) -> bool:
    return "result" in reply and "error" not in reply


def error_code(*codes: int) -> Check:
    return lambda reply: "result" not in reply and reply.get("error", {}).get("code") in codes


def describe(reply: dict[str, Any]) -> str:
    if "error" in reply:
        err = reply["error"]
        return f"error {err.get('code')} {str(err.get('message', ''))[:80]}"
    return f"result {json.dumps(reply.get('result'))[:80]}"


def judge_reply(row: Row, kind: str, reply: dict[str, Any] | None, check: Check, what: str) -> None:
    """One request (counted as sent) and its answer, if any."""
    row.sent(kind)
    if reply is not None:
        row.judge(kind, check(reply), f"{what}: {describe(reply)}")
        if reply.get("error", {}).get("code") == INTERNAL:
            row.internal += 1


def judge_unasked(row: Row, lsp: RawLsp, asked: set[Any], kind: str) -> None:
    """Answers to ids never sent, second answers, and answers with no `id` member at all
    (JSON-RPC requires one) are spurious."""
    for msgid, answers in lsp.responses.items():
        if msgid is None:
            continue  # id-less problems' answers: judged in order by their scenario
        extra = len(answers) - 1 if msgid in asked else len(answers)
        row.extra(kind, extra, f"answers to id {msgid!r}")
    row.extra(kind, len(lsp.without_id), "error responses with no `id` member")


def python_file(size: int) -> str:
    parts, total, i = [], 0, 0
    while total < size:
        part = f"def handler_{i}(request, *args):\n    value = request.get({i}) or {{}}\n    return value\n\n"
        parts.append(part)
        total += len(part)
        i += 1
    return "".join(parts)


HOSTILE = {
    "10 MB Python": lambda: python_file(10_000_000),
    "9 MB one line": lambda: "var a=1;" * (9_000_000 // 8),
    "200,000 lines": lambda: "".join(f"x{i} = {i}\n" for i in range(200_000)),
    "NUL bytes": lambda: "x = '\x00\x00'\x00\nprint(x)\x00\n" * 50,
    "lone surrogates": lambda: "s = '\ud800'\n\udfff = 1\nt = '\udc00\ud83d'\n" * 50,
    "CR, CRLF, LF mixed": lambda: "def f():\r    a = 1\r\n    b = 2\n\r\r\n    return a\r" * 50,
    "control characters and BOM": lambda: (
        "\ufeff\x1b[31m\x07x = 1\x0b\x0c\x1c\u2028y = 2\u0085\n" * 50
    ),
}


async def hostile_documents(host: HostProcess, mode: Mode) -> tuple[Row, float]:
    row = Row("hostile documents", f"{len(HOSTILE)} documents, edits and requests at both ends")
    lsp = await RawLsp.start()
    await lsp.initialize(options(host.address))
    await lsp.barrier()
    ratio = 0.0
    for n, (name, make) in enumerate(HOSTILE.items()):
        text = make()
        uri = f"file:///hostile/{n}.py" if "Python" in name else f"file:///hostile/{n}.txt"
        language = "python" if n != 1 else "javascript"
        before = lsp.rss()
        lsp.open(uri, text, language)
        await lsp.barrier()
        if name == "10 MB Python":
            ratio = (lsp.rss() - before) / len(text)
        # Edits at the start, in the middle and at the end, then ask at each.
        mid = len(lsp_lines(text)) // 2
        for version, (line, character, insert) in enumerate(
            [(0, 0, "# é\r\n"), (mid, 0, "x\rz"), (*end_of(text), "\n")], start=2
        ):
            if version == 4:  # the end of the text as it is now
                line, character = end_of(text)
            at = offset_of(text, line, character)
            text = text[:at] + insert + text[at:]
            change = {
                "range": {"start": pos(line, character), "end": pos(line, character)},
                "text": insert,
            }
            lsp.change(uri, version, [change])
        last, _ = end_of(text)
        for line, character in ((0, 1), (mid + 1, 1), (last, 0)):
            reply = await lsp.request(
                "textDocument/inlineCompletion", inline_params(uri, line, character)
            )
            judge_reply(row, Kind.LSP_VALID, reply, has_result, f"{name} at {line}:{character}")
        for line, character in ((mid + 1, 1), (last, 0)):
            plan = await lsp.request(
                "tandem/prompt", {"textDocument": {"uri": uri}, "position": pos(line, character)}
            )
            # The server's copy must be the editor's: around the cursor, the text it would
            # send is ours (the context engine's lines end at "\n" only).
            at = offset_of(text, line, character)
            head = text[text.rfind("\n", 0, at) + 1 : at][-100:]
            line_end = text.find("\n", at)
            tail = text[at : line_end if line_end >= 0 else len(text)][:100]

            def in_step(reply: dict[str, Any], head: str = head, tail: str = tail) -> bool:
                got = reply.get("result") or {}
                return has_result(reply) and (
                    got.get("prefix", "\0").endswith(head)
                    and got.get("suffix", "").startswith(tail)
                )

            what = f"{name}: the server's text vs the editor's at {line}:{character}"
            judge_reply(row, Kind.LSP_VALID, plan, in_step, what)
        lsp.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        await lsp.barrier()
    judge_unasked(row, lsp, lsp.sent_ids, Kind.LSP_VALID)
    row.crashes = int(lsp.proc.returncode is not None)
    code = await lsp.close()
    row.crashes += int(code != 0)
    row.figure = f"opening 10 MB: RSS +{ratio * 10:.0f} MB ({ratio:.1f}× the text)"
    return row, ratio


async def edits_memory(host: HostProcess, mode: Mode) -> tuple[Row, float]:
    """Many small edits: memory stays flat and the server's text stays the editor's."""
    n = mode.edits
    row = Row("LSP memory and sync", f"{n:,} didChange on a Python file")
    lsp = await RawLsp.start()
    await lsp.initialize(options(host.address))
    uri = "file:///typing.py"
    text = python_file(1_200)
    lsp.open(uri, text)
    rng = random.Random(7)
    version = 1

    async def type_some(count: int) -> None:
        """Type a comment at the end of a random line, a key at a time, then delete it
        (a key at a time), and so on: the code stays valid, as while someone types."""
        nonlocal text, version
        done = 0
        while done < count:
            lines = lsp_lines(text)  # text has "\n" line ends only
            line = rng.randrange(len(lines))
            start = sum(len(x) + 1 for x in lines[:line]) + len(lines[line])
            column = utf16_len(lines[line])
            word = "  # typed é"[: rng.randint(1, 11)]
            keys = [(i, ch) for i, ch in enumerate(word)]
            keys += (
                [(len(word) - 1 - i, "") for i in range(len(word))] if rng.random() < 0.9 else []
            )
            for i, ch in keys[: count - done]:
                at = column + utf16_len(word[:i])
                if ch:
                    text = text[: start + i] + ch + text[start + i :]
                    change = {"range": {"start": pos(line, at), "end": pos(line, at)}, "text": ch}
                else:
                    text = text[: start + i] + text[start + i + 1 :]
                    end = at + utf16_len(word[i])
                    change = {"range": {"start": pos(line, at), "end": pos(line, end)}, "text": ""}
                version += 1
                done += 1
                lsp.change(uri, version, [change])
                if version % 500 == 0:
                    await lsp.drain()
        await lsp.barrier()

    await type_some(WARMUP)
    before = lsp.rss()
    await type_some(n)
    after = lsp.rss()
    status = (await lsp.request("tandem/status", {}))["result"]["server"]
    line, character = end_of(text)
    plan = await lsp.request(
        "tandem/prompt", {"textDocument": {"uri": uri}, "position": pos(line, character)}
    )
    # The edits are notifications: right when nothing answers them (judge_unasked).
    row.sent(Kind.LSP_SILENT, version - 1)
    for _ in range(version - 1):
        row.judge(Kind.LSP_SILENT, True)
    judge_unasked(row, lsp, lsp.sent_ids, Kind.LSP_SILENT)

    def in_step(reply: dict[str, Any]) -> bool:
        got = reply.get("result") or {}
        return has_result(reply) and (
            got["prefix"] + got["suffix"] == text
            if got["wholeFile"]
            else text.endswith(got["prefix"])
        )

    judge_reply(row, Kind.LSP_VALID, plan, in_step, "the server's copy vs the editor's")
    # Only the status request itself may be running: a handler still pending is a leak.
    pending = status.get("inFlight", 0)
    row.check(Kind.LSP_VALID, pending <= 1, f"{pending} handlers still pending after the edits")
    code = await lsp.close()
    row.crashes = int(code != 0)
    growth = (after - before) / before * 100
    row.figure = f"RSS {before / MIB:.1f} → {after / MIB:.1f} MiB ({growth:+.1f}%); text in step"
    return row, growth


@dataclass(frozen=True)
class Fuzz:
    """A fuzz message and its right answer: by `msgid`, or (`msgid` None) `id: null`; an
    error with `code`, or (None) a result; `answered` False: no answer is due."""

    data: bytes
    kind: str
    msgid: Any = None
    code: int | None = None
    answered: bool = True


def fuzz_message(i: int, rng: random.Random) -> Fuzz:
    msgid = 100_000 + i
    roll = rng.randrange(14)

    def req(method: str, params: Any) -> bytes:
        body = {"jsonrpc": "2.0", "id": msgid, "method": method, "params": params}
        return frame(json.dumps(body).encode())

    def body(message: Any) -> bytes:
        return frame(json.dumps(message).encode())

    if roll == 0:
        return Fuzz(req("tandem/status", {}), Kind.LSP_VALID, msgid)
    if roll == 1:
        return Fuzz(req("no/such/method", [1, 2]), Kind.LSP_UNKNOWN_METHOD, msgid, METHOD_NOT_FOUND)
    if roll == 2:
        bad = {"textDocument": {"uri": 5}, "position": "x"}
        return Fuzz(
            req("textDocument/inlineCompletion", bad), Kind.LSP_BAD_PARAMS, msgid, INVALID_PARAMS
        )
    if roll == 3:  # a document that was never opened: LSP says -32602
        params = inline_params("file:///never-opened", 0, 0)
        return Fuzz(
            req("textDocument/inlineCompletion", params), Kind.LSP_BAD_PARAMS, msgid, INVALID_PARAMS
        )
    if roll == 4:  # JSON-RPC look-alikes inside params are data: one answer, the outer one
        nested = {
            "jsonrpc": "2.0",
            "id": msgid + 7_000_000,
            "method": "textDocument/hover",
            "params": {},
        }
        return Fuzz(req("tandem/status", {"a": [nested, {"b": nested}]}), Kind.LSP_VALID, msgid)
    if roll == 5:
        sid = f"s-{i}"
        return Fuzz(
            body({"jsonrpc": "2.0", "id": sid, "method": "tandem/status"}), Kind.LSP_VALID, sid
        )
    if roll == 6:
        return Fuzz(
            frame(b"{not json" + bytes([rng.randrange(256)])), Kind.LSP_NOT_JSON, code=PARSE_ERROR
        )
    if roll == 7:
        data = frame(rng.choice([b"[1,2]", b"42", b'"x"', b"null", b"[]", b"{}"]))
        return Fuzz(data, Kind.LSP_NOT_REQUEST, code=INVALID_REQUEST)
    if roll == 8:
        bad_id = rng.choice([1.5, True, [1], {"a": 1}, None])
        data = body({"jsonrpc": "2.0", "id": bad_id, "method": "tandem/status"})
        return Fuzz(data, Kind.LSP_NOT_REQUEST, code=INVALID_REQUEST)
    if roll == 9:
        data = body({"jsonrpc": "1.0", "method": "x"})
        return Fuzz(data, Kind.LSP_NOT_REQUEST, code=INVALID_REQUEST)
    if roll == 10:
        changes = [{"range": {"start": pos(99, 0), "end": pos(0, 5)}, "text": "x"}]
        params = {"textDocument": {"uri": "file:///nope", "version": 2}, "contentChanges": changes}
        data = body({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": params})
        return Fuzz(data, Kind.LSP_SILENT, answered=False)
    if roll == 11:
        cancel = {"id": rng.randrange(10**9)}
        data = body({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": cancel})
        return Fuzz(data, Kind.LSP_SILENT, answered=False)
    if roll == 12:
        data = body(
            {"jsonrpc": "2.0", "id": rng.randrange(10**9), "result": {"answer": "to nothing"}}
        )
        return Fuzz(data, Kind.LSP_SILENT, answered=False)
    data = b"Content-Length: 99999999999\r\n\r\n" + os.urandom(rng.randrange(40))
    return Fuzz(data, Kind.LSP_BAD_FRAMING, code=INVALID_REQUEST)


def fitting(code: int | None) -> Check:
    """A result (`code` None), or an error with `code`."""
    return has_result if code is None else error_code(code)


async def protocol_fuzz(host: HostProcess, mode: Mode, rng: random.Random) -> Row:
    row = Row("LSP protocol fuzz", f"{mode.lsp_fuzz:,} messages, then shutdown")
    lsp = await RawLsp.start()
    await lsp.initialize(options(host.address))
    by_id: dict[Any, Fuzz] = {}
    nulls: list[Fuzz] = []  # id-less problems, answered `id: null` in the order sent
    for i in range(mode.lsp_fuzz):
        fuzz = fuzz_message(i, rng)
        lsp.send_bytes(fuzz.data)
        if not fuzz.answered:
            row.check(fuzz.kind, True)  # no answer due; any that comes is spurious below
        elif fuzz.msgid is None:
            nulls.append(fuzz)
        else:
            by_id[fuzz.msgid] = fuzz
        if i % 100 == 0:
            await lsp.drain()
    await lsp.barrier()
    await lsp.wait_for(lambda: by_id.keys() <= lsp.responses.keys(), 30, "fuzz answers")
    for msgid, fuzz in by_id.items():
        answers = lsp.responses.get(msgid)
        judge_reply(
            row,
            fuzz.kind,
            answers[0] if answers else None,
            fitting(fuzz.code),
            f"id {msgid}",
        )
    null_answers = lsp.responses.get(None, [])
    for n, fuzz in enumerate(nulls):
        reply = null_answers[n] if n < len(null_answers) else None
        judge_reply(row, fuzz.kind, reply, fitting(fuzz.code), f"id-null answer {n}")
    row.extra(Kind.LSP_NOT_REQUEST, len(null_answers) - len(nulls), "id-null answers to nothing")
    # Requests after shutdown: InvalidRequest, each.
    await lsp.request("shutdown", None)
    after = [lsp.request_nowait("tandem/status", {}) for _ in range(20)]
    await lsp.drain()
    with contextlib.suppress(AssertionError):
        await lsp.wait_for(
            lambda: all(a in lsp.responses for a in after), 10, "answers after shutdown"
        )
    for a in after:
        answers = lsp.responses.get(a)
        reply = answers[0] if answers else None
        judge_reply(row, Kind.LSP_AFTER_SHUTDOWN, reply, error_code(INVALID_REQUEST), f"id {a}")
    refused = row.tally(Kind.LSP_AFTER_SHUTDOWN).right
    judge_unasked(row, lsp, {*by_id, *lsp.sent_ids}, Kind.LSP_SILENT)
    lsp.notify("exit", None)
    await lsp.drain()
    code = await lsp.close()
    row.crashes = int(code != 0)
    row.figure = f"exit code {code}; {refused}/{len(after)} requests after shutdown answered -32600"
    return row


async def many_servers(host: HostProcess, mode: Mode) -> Row:
    k, per = mode.lsp_servers, 6
    row = Row("language servers sharing a host", f"{k} servers × {per} completions at once")

    async def one(s: int) -> None:
        lsp = await RawLsp.start()
        await lsp.initialize(options(host.address))
        # One document per request: a second request in the same document supersedes the first.
        uris = [f"file:///server{s}/doc{r}.py" for r in range(per)]
        for r, uri in enumerate(uris):
            lsp.open(uri, python_file(3_000 + r))
        ids = [
            lsp.request_nowait("textDocument/inlineCompletion", inline_params(uri, 4 * r + 1, 4))
            for r, uri in enumerate(uris)
        ]
        await lsp.drain()
        for msgid in ids:
            judge_reply(row, Kind.LSP_VALID, await lsp.response(msgid), has_result, f"server {s}")
        judge_unasked(row, lsp, lsp.sent_ids, Kind.LSP_VALID)
        row.crashes += int(await lsp.close() != 0)

    await asyncio.gather(*(one(s) for s in range(k)))
    row.figure = "every completion answered"
    return row


async def host_killed(tiny_model: Path, sock_dir: Path) -> Row:
    """SIGKILL the host while chats stream: every pending request answered, then recovery."""
    row = Row("host killed mid-stream", "4 streaming chats, then SIGKILL")
    address = f"unix:{sock_dir / 'killed.sock'}"
    host = await asyncio.to_thread(start_host, tiny_model, address)
    lsp = await RawLsp.start()
    try:
        await lsp.initialize(options(address))
        chat = {
            "messages": [{"role": "user", "content": "tell me a long story"}],
            "maxTokens": 1500,
        }
        ids = [lsp.request_nowait("tandem/chat", chat) for _ in range(4)]
        await lsp.drain()
        await lsp.wait_for(
            lambda: any(n["method"] == "tandem/chatChunk" for n in lsp.notifications), 60, "a chunk"
        )
        killed = time.monotonic()
        os.kill(host.proc.pid, signal.SIGKILL)
        await lsp.wait_for(lambda: all(i in lsp.responses for i in ids), 30, "pending chats")
        answered_in = (time.monotonic() - killed) * 1000
        for i in ids:
            answers = lsp.responses.get(i)
            reply = answers[0] if answers else None
            judge_reply(row, Kind.LSP_HOST_LOST, reply, error_code(REQUEST_FAILED), f"chat {i}")
        await asyncio.to_thread(host.proc.wait, 10)
        host = await asyncio.to_thread(start_host, tiny_model, address)
        recovered = False
        deadline = time.monotonic() + 60
        uri = "file:///after.py"
        lsp.open(uri, "def f(x):\n    return ")
        while time.monotonic() < deadline and not recovered:
            reply = await lsp.request("tandem/status", {})
            recovered = reply["result"]["host"].get("state") == "ready"
            if not recovered:
                await asyncio.sleep(0.3)
        reply = await lsp.request("textDocument/inlineCompletion", inline_params(uri, 1, 11))
        judge_reply(
            row, Kind.LSP_VALID, reply, lambda r: recovered and has_result(r), "after recovery"
        )
        judge_unasked(row, lsp, lsp.sent_ids, Kind.LSP_HOST_LOST)
        row.figure = f"pending answered {answered_in:.0f} ms after the kill; {'recovered' if recovered else 'NOT recovered'}"
        row.crashes += int(await lsp.close() != 0)
    finally:
        host.stop()
    return row
