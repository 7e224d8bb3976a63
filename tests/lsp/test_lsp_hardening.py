"""A careless or hostile editor against the real `tandem-lsp` (and the real host): byte by byte."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.faults.lsp_wire import RawLsp, frame
from tests.hostproc import HostProcess
from tests.lsp.conftest import init_options

pytestmark = pytest.mark.timeout(180)

INVALID_REQUEST = -32600


@pytest.fixture
async def lsp(host: HostProcess) -> AsyncIterator[RawLsp]:
    server = await RawLsp.start()
    await server.initialize(init_options(host.address))
    yield server
    code = await server.close()
    assert code == 0, server.stderr[-3000:]


def position(line: int, character: int) -> dict[str, int]:
    return {"line": line, "character": character}


async def inline(lsp: RawLsp, uri: str, line: int, character: int) -> dict[str, Any]:
    return await lsp.request(
        "textDocument/inlineCompletion",
        {
            "textDocument": {"uri": uri},
            "position": position(line, character),
            "context": {"triggerKind": 1},
        },
    )


async def prompt(lsp: RawLsp, uri: str, line: int, character: int) -> dict[str, Any]:
    reply = await lsp.request(
        "tandem/prompt", {"textDocument": {"uri": uri}, "position": position(line, character)}
    )
    assert "result" in reply, reply
    return reply["result"]


def lost_host(lsp: RawLsp) -> list[str]:
    return [
        n["params"]["message"]
        for n in lsp.notifications
        if n["method"] == "window/showMessage" and "lost" in n["params"]["message"]
    ]


# ---- a notification leaves nothing behind -------------------------------------------------------
async def edits(lsp: RawLsp, uri: str, first: int, count: int) -> None:
    for version in range(first, first + count):
        edit = {
            "range": {"start": position(0, 4), "end": position(0, 5)},
            "text": str(version % 10),
        }
        lsp.change(uri, version, [edit])
        if version % 500 == 0:
            await lsp.drain()
    await lsp.barrier()


async def test_notifications_leave_nothing_behind(lsp: RawLsp) -> None:
    uri = "file:///leak.py"
    lsp.open(uri, "x = 1\n")
    await edits(lsp, uri, 2, 2000)  # warm up: caches, allocator arenas
    before = lsp.rss()
    await edits(lsp, uri, 2002, 20_000)
    grown = lsp.rss() - before
    reply = await lsp.request("tandem/status", {})
    # Only the status request itself is still running.
    assert reply["result"]["server"].get("inFlight", 1e9) <= 1, reply["result"]["server"]
    # pygls 2.1.1 alone keeps ~2 KB per notification: 40 MB here.
    assert grown < 12 * 1024 * 1024, f"RSS grew {grown / 2**20:.1f} MiB over 20,000 didChange"


# ---- a 9 MB line never becomes an over-limit request to the host ---------------------------------
async def test_a_nine_megabyte_line_with_the_cursor_at_its_end(lsp: RawLsp) -> None:
    uri = "file:///minified.js"
    line = "var a=1;" * (9_000_000 // 8)
    lsp.open(uri, line, "javascript")
    reply = await inline(lsp, uri, 0, len(line))
    assert "result" in reply, reply
    plan = await prompt(lsp, uri, 0, len(line))
    assert plan["prefix"] and line.endswith(plan["prefix"]) and plan["wholeFile"] is False
    assert lost_host(lsp) == []


async def test_a_chat_about_a_huge_file_never_sends_the_host_too_much(lsp: RawLsp) -> None:
    uri = "file:///huge.js"
    lsp.open(uri, "var a=1;" * (9_000_000 // 8), "javascript")
    reply = await lsp.request(
        "tandem/chat",
        {
            "messages": [{"role": "user", "content": "explain"}],
            "context": {"uri": uri},
            "maxTokens": 4,
        },
    )
    assert "result" in reply, reply
    assert lost_host(lsp) == []


# ---- "\r" alone ends a line, as LSP says ------------------------------------------------------------
async def test_lone_cr_line_endings_keep_the_server_in_step(lsp: RawLsp) -> None:
    uri = "file:///cr.py"
    lsp.open(uri, "def f():\r    return 1\rx = f()\r\ny = 2\nz")
    # Line 1 exists only if a lone CR ends line 0.
    reply = await inline(lsp, uri, 1, 4)
    assert "result" in reply, reply
    lsp.change(
        uri, 2, [{"range": {"start": position(1, 4), "end": position(1, 10)}, "text": "yield"}]
    )
    lsp.change(uri, 3, [{"range": {"start": position(3, 0), "end": position(3, 1)}, "text": "w"}])
    expected = "def f():\r    yield 1\rx = f()\r\nw = 2\nz"
    plan = await prompt(lsp, uri, 4, 1)
    assert plan["prefix"] + plan["suffix"] == expected


# ---- lone surrogates: an answer, never an error with a traceback --------------------------------------
async def test_lone_surrogates_in_a_document(lsp: RawLsp) -> None:
    uri = "file:///surrogate.py"
    lsp.open(uri, "def f():\n    s = '\ud800\udfff\udc00'\n    return ")
    reply = await inline(lsp, uri, 2, 11)
    assert "result" in reply, reply
    lsp.change(
        uri, 2, [{"range": {"start": position(1, 9), "end": position(1, 9)}, "text": "\ud801"}]
    )
    reply = await inline(lsp, uri, 1, 10)
    assert "result" in reply, reply
    assert lost_host(lsp) == []


# ---- objects nested in params are data, never messages ---------------------------------------------------
async def test_json_rpc_lookalikes_inside_params_get_no_answers(lsp: RawLsp) -> None:
    ids = []
    for i in range(20):
        msgid = 1000 + i
        nested = [
            {"jsonrpc": "2.0", "id": 5000 + i, "method": "textDocument/hover", "params": {"x": 1}},
            {"jsonrpc": "2.0", "id": msgid, "method": "tandem/status", "params": None},
            {"jsonrpc": "2.0", "id": 6000 + i, "result": {"nested": True}},
        ]
        lsp.request_nowait("tandem/status", {"junk": nested, "deeper": {"a": nested}}, msgid)
        ids.append(msgid)
    await lsp.drain()
    # Any answer to a nested look-alike would go out while its message is read, before the
    # outer request's own answer: once all of those are in, nothing more can come.
    await lsp.wait_for(lambda: all(i in lsp.responses for i in ids), 60, "the outer answers")
    for msgid in ids:
        assert len(lsp.responses.get(msgid, [])) == 1, (msgid, lsp.responses.get(msgid))
        assert "result" in lsp.responses[msgid][0]
    spurious = [k for k in lsp.responses if isinstance(k, int) and k >= 5000]
    assert spurious == []


# ---- requests after shutdown are answered InvalidRequest ------------------------------------------------------
async def test_requests_after_shutdown_get_invalid_request(host: HostProcess) -> None:
    lsp = await RawLsp.start()
    await lsp.initialize(init_options(host.address))
    assert "result" in await lsp.request("shutdown", None)
    reply = await lsp.request("tandem/status", {}, timeout=10)
    assert reply["error"]["code"] == INVALID_REQUEST
    reply = await lsp.request(
        "textDocument/inlineCompletion",
        {
            "textDocument": {"uri": "file:///x"},
            "position": position(0, 0),
            "context": {"triggerKind": 1},
        },
        timeout=10,
    )
    assert reply["error"]["code"] == INVALID_REQUEST
    lsp.notify("exit", None)
    await lsp.drain()
    assert await asyncio.wait_for(lsp.proc.wait(), 10) == 0


async def test_exit_without_shutdown_ends_with_code_1(host: HostProcess) -> None:
    lsp = await RawLsp.start()
    await lsp.initialize(init_options(host.address))
    lsp.notify("exit", None)
    await lsp.drain()
    assert await asyncio.wait_for(lsp.proc.wait(), 10) == 1


# ---- absurd Content-Length ------------------------------------------------------------------------------------
async def test_an_absurd_content_length_is_refused_and_the_server_goes_on(lsp: RawLsp) -> None:
    lsp.send_bytes(b"Content-Length: 99999999999\r\n\r\n{}")
    reply = await lsp.request("tandem/status", {}, timeout=30)
    assert "result" in reply
    refusals = lsp.responses.get(None, [])
    assert refusals and refusals[0]["error"]["code"] == INVALID_REQUEST
    assert "99999999999" in refusals[0]["error"]["message"]
    # An over-limit message whose bytes really follow is skipped exactly; the next one is read.
    body = b'{"jsonrpc": "2.0", "method": "x", "params": "' + b"a" * (70 << 20) + b'"}'
    lsp.send_bytes(frame(body))
    reply = await lsp.request("tandem/status", {}, timeout=60)
    assert "result" in reply and len(lsp.responses[None]) == 2
    assert lsp.proc.returncode is None


async def test_garbage_between_messages_is_reported_and_skipped(lsp: RawLsp) -> None:
    lsp.send_bytes(frame(b"{not json"))
    lsp.send_bytes(frame(b"[1, 2]"))
    lsp.send_bytes(frame(b'{"jsonrpc": "2.0", "id": [1], "method": "tandem/status"}'))
    lsp.send_bytes(b"Content-Type: nothing\r\n\r\n")  # a header block without a length
    reply = await lsp.request("tandem/status", {}, timeout=30)
    assert "result" in reply
    codes = sorted(r["error"]["code"] for r in lsp.responses[None])
    assert codes == [-32700, -32700, INVALID_REQUEST, INVALID_REQUEST]
