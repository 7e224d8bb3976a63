"""Fault scenarios against the real language server: hostile documents, edits, protocol fuzz, host loss."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import time
from pathlib import Path
from typing import Any

from tests.faults.lsp_wire import RawLsp, frame
from tests.faults.measure import MIB
from tests.faults.modes import Mode
from tests.faults.report import Row
from tests.hostproc import HostProcess, start_host

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


def count(row: Row, reply: dict[str, Any], what: str) -> None:
    row.expected += 1
    if "result" in reply:
        row.answered += 1
        return
    code = reply.get("error", {}).get("code")
    if code == INTERNAL:
        row.internal += 1
    row.answered += 1
    row.notes.append(f"{what}: error {code} {reply.get('error', {}).get('message', '')[:80]}")


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
        row.bad_inputs += 1
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
            count(
                row,
                await lsp.request(
                    "textDocument/inlineCompletion", inline_params(uri, line, character)
                ),
                name,
            )
        for line, character in ((mid + 1, 1), (last, 0)):
            plan = await lsp.request(
                "tandem/prompt", {"textDocument": {"uri": uri}, "position": pos(line, character)}
            )
            count(row, plan, name)
            # The server's copy must be the editor's: around the cursor, the text it would
            # send is ours (the context engine's lines end at "\n" only).
            at = offset_of(text, line, character)
            head = text[text.rfind("\n", 0, at) + 1 : at][-100:]
            line_end = text.find("\n", at)
            tail = text[at : line_end if line_end >= 0 else len(text)][:100]
            got = plan.get("result") or {}
            if not (
                got.get("prefix", "\0").endswith(head) and got.get("suffix", "").startswith(tail)
            ):
                row.spurious += 1
                row.notes.append(
                    f"{name}: the server's text is not the editor's at {line}:{character}"
                )
        lsp.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        await lsp.barrier()
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
    row.bad_inputs = 0
    row.expected = 2
    row.answered = int("result" in plan) + 1
    in_step = "result" in plan and (
        plan["result"]["prefix"] + plan["result"]["suffix"] == text
        if plan["result"]["wholeFile"]
        else text.endswith(plan["result"]["prefix"])
    )
    if not in_step:
        row.spurious += 1
        row.notes.append("the server's copy of the document differs from the editor's")
    if status.get("inFlight", 0) > 1:
        row.notes.append(f"{status['inFlight']} handlers still pending after the edits")
        row.spurious += 1
    code = await lsp.close()
    row.crashes = int(code != 0)
    growth = (after - before) / before * 100
    row.figure = f"RSS {before / MIB:.1f} → {after / MIB:.1f} MiB ({growth:+.1f}%); text in step"
    return row, growth


def fuzz_message(i: int, rng: random.Random) -> tuple[bytes, Any, int]:
    """A message, the id it must be answered under (None: none, "null": an id-less answer)."""
    msgid = 100_000 + i
    roll = rng.randrange(14)
    req = lambda method, params: {"jsonrpc": "2.0", "id": msgid, "method": method, "params": params}  # noqa: E731
    if roll == 0:
        return frame(json.dumps(req("tandem/status", {})).encode()), msgid, 0
    if roll == 1:
        return frame(json.dumps(req("no/such/method", [1, 2])).encode()), msgid, 1
    if roll == 2:
        bad = {"textDocument": {"uri": 5}, "position": "x"}
        return frame(json.dumps(req("textDocument/inlineCompletion", bad)).encode()), msgid, 1
    if roll == 3:
        params = inline_params("file:///never-opened", 0, 0)
        return frame(json.dumps(req("textDocument/inlineCompletion", params)).encode()), msgid, 1
    if roll == 4:
        nested = {
            "jsonrpc": "2.0",
            "id": msgid + 7_000_000,
            "method": "textDocument/hover",
            "params": {},
        }
        return (
            frame(json.dumps(req("tandem/status", {"a": [nested, {"b": nested}]})).encode()),
            msgid,
            0,
        )
    if roll == 5:
        sid = f"s-{i}"
        return (
            frame(json.dumps({"jsonrpc": "2.0", "id": sid, "method": "tandem/status"}).encode()),
            sid,
            0,
        )
    if roll == 6:
        return frame(b"{not json" + bytes([rng.randrange(256)])), "null", 1
    if roll == 7:
        return frame(rng.choice([b"[1,2]", b"42", b'"x"', b"null"])), "null", 1
    if roll == 8:
        bad_id = rng.choice([1.5, True, [1], {"a": 1}])
        body = {"jsonrpc": "2.0", "id": bad_id, "method": "tandem/status"}
        return frame(json.dumps(body).encode()), "null", 1
    if roll == 9:
        return frame(json.dumps({"jsonrpc": "1.0", "method": "x"}).encode()), "null", 1
    if roll == 10:
        changes = [{"range": {"start": pos(99, 0), "end": pos(0, 5)}, "text": "x"}]
        body = {
            "jsonrpc": "2.0",
            "method": "textDocument/didChange",
            "params": {
                "textDocument": {"uri": "file:///nope", "version": 2},
                "contentChanges": changes,
            },
        }
        return frame(json.dumps(body).encode()), None, 0
    if roll == 11:
        body = {
            "jsonrpc": "2.0",
            "method": "$/cancelRequest",
            "params": {"id": rng.randrange(10**9)},
        }
        return frame(json.dumps(body).encode()), None, 0
    if roll == 12:
        body = {"jsonrpc": "2.0", "id": rng.randrange(10**9), "result": {"answer": "to nothing"}}
        return frame(json.dumps(body).encode()), None, 0
    return b"Content-Length: 99999999999\r\n\r\n" + os.urandom(rng.randrange(40)), "null", 1


async def protocol_fuzz(host: HostProcess, mode: Mode, rng: random.Random) -> Row:
    row = Row("LSP protocol fuzz", f"{mode.lsp_fuzz:,} messages, then shutdown")
    lsp = await RawLsp.start()
    await lsp.initialize(options(host.address))
    expected: set[Any] = set()
    nulls = 0
    for i in range(mode.lsp_fuzz):
        data, answer_id, bad = fuzz_message(i, rng)
        lsp.send_bytes(data)
        row.bad_inputs += bad
        if answer_id == "null":
            nulls += 1
        elif answer_id is not None:
            expected.add(answer_id)
        if i % 100 == 0:
            await lsp.drain()
    await lsp.barrier()
    await lsp.wait_for(lambda: expected <= set(lsp.responses), 30, "fuzz answers")
    # Requests after shutdown: InvalidRequest, each.
    await lsp.request("shutdown", None)
    after = [lsp.request_nowait("tandem/status", {}) for _ in range(20)]
    await lsp.drain()
    await lsp.wait_for(lambda: all(a in lsp.responses for a in after), 10, "answers after shutdown")
    refused = sum(1 for a in after if lsp.responses[a][0].get("error", {}).get("code") == -32600)
    nulls_seen = len(lsp.responses.get(None, []))
    row.expected = len(expected) + nulls + len(after)
    row.answered = len(expected & set(lsp.responses)) + min(nulls, nulls_seen) + refused
    asked = expected | lsp.sent_ids
    for msgid, answers in lsp.responses.items():
        if msgid is None:
            row.spurious += max(0, nulls_seen - nulls)
        else:
            row.spurious += len(answers) - 1 if msgid in asked else len(answers)
        row.internal += sum(1 for a in answers if a.get("error", {}).get("code") == INTERNAL)
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
            count(row, await lsp.response(msgid), f"server {s}")
        row.crashes += int(await lsp.close() != 0)

    await asyncio.gather(*(one(s) for s in range(k)))
    row.figure = "every completion answered"
    return row


async def host_killed(tiny_model: Path, sock_dir: Path) -> Row:
    """SIGKILL the host while chats stream: every pending request answered, then recovery."""
    row = Row("host killed mid-stream", "4 streaming chats, then SIGKILL", faults=1)
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
        row.expected += len(ids)
        row.answered += sum(1 for i in ids if i in lsp.responses)
        row.spurious += sum(len(lsp.responses[i]) - 1 for i in ids if i in lsp.responses)
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
        row.expected += 1
        row.answered += int(recovered and "result" in reply)
        row.figure = f"pending answered {answered_in:.0f} ms after the kill; {'recovered' if recovered else 'NOT recovered'}"
        row.crashes += int(await lsp.close() != 0)
    finally:
        host.stop()
    return row
