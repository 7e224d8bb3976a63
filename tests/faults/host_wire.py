"""A raw msgpack-rpc connection to the real host, for tests that send what no client should."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import msgpack

from model_host.rpc.protocol import Method


async def open_raw(address: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    # A small stream buffer: a connection that is not being read really stops reading.
    kind, _, rest = address.partition(":")
    if kind == "unix":
        return await asyncio.open_unix_connection(rest, limit=1 << 16)
    host, _, port = rest.rpartition(":")
    return await asyncio.open_connection(host, int(port), limit=1 << 16)


class RawHost:
    """Everything the host sends on one connection, collected as it arrives.

    `responses` maps msgid to every response seen for it (so a duplicate shows), `notes`
    keeps notifications in order, `closed` is set when the host hangs up.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.responses: dict[int, list[list[Any]]] = {}
        self.notes: list[list[Any]] = []
        self.closed = asyncio.Event()
        self.reading = asyncio.Event()
        self.reading.set()
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, address: str, *, reading: bool = True) -> RawHost:
        conn = cls(*await open_raw(address))
        if not reading:
            conn.reading.clear()
        return conn

    def send(self, message: Any) -> None:
        self.writer.write(msgpack.packb(message, use_bin_type=True))

    def send_bytes(self, data: bytes) -> None:
        self.writer.write(data)

    def request(self, msgid: int, method: str, params: Any = None) -> None:
        self.send([0, msgid, method, {} if params is None else params])

    async def hello(self, msgid: int = 0, **params: Any) -> list[Any]:
        self.request(msgid, Method.HELLO, {"client": "raw", **params})
        return await self.response(msgid)

    async def _read(self) -> None:
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=1 << 26)
        with contextlib.suppress(ConnectionError, OSError):
            while True:
                await self.reading.wait()
                data = await self.reader.read(65536)
                if not data:
                    break
                unpacker.feed(data)
                for msg in unpacker:
                    if msg[0] == 1:
                        self.responses.setdefault(msg[1], []).append(msg)
                    else:
                        self.notes.append(msg)
        self.closed.set()

    async def response(self, msgid: int, timeout: float = 30.0) -> list[Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while msgid not in self.responses:
            if self.closed.is_set():
                raise AssertionError(f"connection closed before the answer to {msgid}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no answer to {msgid} in {timeout}s")
            await asyncio.sleep(0.01)
        return self.responses[msgid][0]

    async def wait_closed(self, timeout: float = 10.0) -> bool:
        """True if the host closed the connection within `timeout`."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.closed.wait(), timeout)
        return self.closed.is_set()

    def answered(self) -> int:
        return sum(len(v) for v in self.responses.values())

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()
        self.reading.set()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(self._task, 5)
