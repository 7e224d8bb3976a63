"""The language server's transport and pygls protocol fixes, on their own (no process)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server.jsonrpc import TandemProtocol
from lsp_server.transport import BoundedLanguageServer, FramingProblem, MessageReader


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def chunked(data: bytes, cuts: list[int]) -> Any:
    pieces = []
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        pieces.append(data[start:cut])
        start = cut
    pieces = [p for p in pieces if p]

    async def read() -> bytes:
        return pieces.pop(0) if pieces else b""

    return read


async def read_all(reader: MessageReader) -> list[bytes | FramingProblem]:
    out: list[bytes | FramingProblem] = []
    while (item := await reader.next()) is not None:
        out.append(item)
    return out


bodies = st.lists(st.binary(min_size=1, max_size=200), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(bodies, st.data())
async def test_any_chunking_gives_the_bodies_back(messages: list[bytes], data: Any) -> None:
    stream = b"".join(frame(m) for m in messages)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=10))
    assert await read_all(MessageReader(chunked(stream, cuts))) == messages


async def test_over_limit_bodies_are_skipped_and_absurd_lengths_resynchronised() -> None:
    stream = (
        frame(b"x" * 100)  # over the limit of 50: refused, skipped exactly
        + frame(b"ok-1")
        + b"Content-Length: 99999999999\r\n\r\n{garbage"  # absurd: find the next header
        + frame(b"ok-2")
        + b"Content-Type: x\r\n\r\n"  # no length
        + frame(b"ok-3")
    )
    items = await read_all(MessageReader(chunked(stream, [7, 33, 140]), max_body=50))
    assert [i for i in items if isinstance(i, bytes)] == [b"ok-1", b"ok-2", b"ok-3"]
    problems = [i for i in items if isinstance(i, FramingProblem)]
    assert [p.code for p in problems] == [-32600, -32600, -32700]


class Capture:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        pass

    def messages(self) -> list[dict[str, Any]]:
        out = []
        rest = self.data
        while rest:
            head, _, rest = rest.partition(b"\r\n\r\n")
            length = int(head.split(b":")[1].split(b"\r\n")[0])
            out.append(json.loads(rest[:length]))
            rest = rest[length:]
        return out


async def test_an_unexpected_exception_is_answered_without_its_traceback() -> None:
    server = BoundedLanguageServer("t", "0", protocol_cls=TandemProtocol)
    protocol = server.protocol
    assert isinstance(protocol, TandemProtocol)
    out = Capture()
    protocol.set_writer(out)

    @server.feature("test/boom")
    def boom(ls: Any, params: Any) -> None:
        raise RuntimeError("boom")

    protocol.receive(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "test/boom"}).encode())
    [reply] = out.messages()
    assert reply["error"]["code"] == -32603 and "boom" in reply["error"]["message"]
    assert "data" not in reply["error"]
