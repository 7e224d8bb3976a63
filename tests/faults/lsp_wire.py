"""A raw LSP client for fault tests: the real `tandem-lsp` over stdio, framed byte by byte."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from tests.faults.measure import rss_bytes
from tests.paths import ROOT


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def encode(message: dict[str, Any]) -> bytes:
    # ensure_ascii keeps lone surrogates as \\ud800 escapes, as a JSON editor would send them.
    return frame(json.dumps(message).encode("utf-8"))


class RawLsp:
    """Speaks LSP to a real server process; never trusts it to frame or answer correctly.

    Every message the server sends is kept: responses by id (a list, so duplicates show)
    and all of them in order of arrival (`answers`), notifications in order. A response
    with no `id` member at all (JSON-RPC requires one, null when the request's id could
    not be read) is kept in `without_id` only. Requests from the server
    (`workspace/configuration`, `window/workDoneProgress/create`) are answered with null
    so it never waits on us.
    """

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.responses: dict[Any, list[dict[str, Any]]] = {}
        self.answers: list[dict[str, Any]] = []
        self.without_id: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.unparsable: list[bytes] = []
        self.sent_ids: set[Any] = set()
        self._ids = itertools.count(1)
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())
        self._stderr = bytearray()
        self._pump = asyncio.create_task(self._pump_stderr())

    @classmethod
    async def start(
        cls, *args: str, env: dict[str, str] | None = None, command: list[str] | None = None
    ) -> RawLsp:
        """Start the server: `python -m lsp_server ARGS`, or `command` + ARGS."""
        proc = await asyncio.create_subprocess_exec(
            *(command or [sys.executable, "-m", "lsp_server"]),
            *args,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            limit=1 << 20,
        )
        return cls(proc)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss(self) -> int:
        return rss_bytes(self.proc.pid)

    # ---- sending -------------------------------------------------------------------
    def send_bytes(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)

    def send(self, message: dict[str, Any]) -> None:
        self.send_bytes(encode(message))

    async def drain(self) -> None:
        assert self.proc.stdin is not None
        await self.proc.stdin.drain()

    def next_id(self) -> int:
        return next(self._ids)

    def request_nowait(self, method: str, params: Any, msgid: Any = None) -> Any:
        msgid = self.next_id() if msgid is None else msgid
        self.sent_ids.add(msgid)
        self.send({"jsonrpc": "2.0", "id": msgid, "method": method, "params": params})
        return msgid

    async def request(
        self, method: str, params: Any, *, timeout: float = 60.0, msgid: Any = None
    ) -> dict[str, Any]:
        """Send a request and wait for its (first) response message, error or result."""
        msgid = self.request_nowait(method, params, msgid)
        await self.drain()
        return await self.response(msgid, timeout=timeout)

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    # ---- receiving -----------------------------------------------------------------
    async def response(self, msgid: Any, *, timeout: float = 60.0) -> dict[str, Any]:
        await self.wait_for(lambda: bool(self.responses.get(msgid)), timeout, f"response {msgid}")
        return self.responses[msgid][0]

    async def wait_for(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not check():
            if self._reader.done():
                raise AssertionError(f"server stdout closed while waiting for {what}")
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"no {what} after {timeout}s")
            self._arrived.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(left, 0.5))

    @property
    def stderr(self) -> str:
        return self._stderr.decode("utf-8", "replace")

    async def _pump_stderr(self) -> None:
        # A full stderr pipe would block the server's logging: keep reading, keep the tail.
        err = self.proc.stderr
        assert err is not None
        while chunk := await err.read(65536):
            self._stderr += chunk
            del self._stderr[: max(0, len(self._stderr) - (1 << 20))]

    async def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = -1
            while True:
                line = await out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii", "replace").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = await out.readexactly(length)
            try:
                message = json.loads(body)
            except ValueError:
                self.unparsable.append(body)
                continue
            self._received(message)
            self._arrived.set()

    def _received(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:  # a request from the server
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
        elif "method" in message:
            self.notifications.append(message)
        else:
            self.answers.append(message)
            if "id" in message:
                self.responses.setdefault(message["id"], []).append(message)
            else:
                self.without_id.append(message)

    # ---- lifecycle -----------------------------------------------------------------
    async def initialize(
        self, init_options: dict[str, Any] | None = None, capabilities: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        caps = capabilities or {
            "general": {"positionEncodings": ["utf-16"]},
            "textDocument": {"inlineCompletion": {}, "synchronization": {}},
            "window": {"workDoneProgress": False},
        }
        reply = await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": None,
                "capabilities": caps,
                "initializationOptions": init_options or {},
            },
        )
        self.notify("initialized", {})
        await self.drain()
        return reply

    def open(self, uri: str, text: str, language: str = "python", version: int = 1) -> None:
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": language,
                    "version": version,
                    "text": text,
                }
            },
        )

    def change(self, uri: str, version: int, changes: list[dict[str, Any]]) -> None:
        self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": changes},
        )

    async def barrier(self, timeout: float = 120.0) -> None:
        """Wait until the server has handled every notification sent so far: it takes
        messages in order, so they are done when a later request is answered (earlier
        *requests* may still be running: wait for their answers instead)."""
        await self.request("tandem/status", {}, timeout=timeout)

    async def close(self, timeout: float = 10.0) -> int:
        with contextlib.suppress(Exception):
            if self.proc.returncode is None:
                await asyncio.wait_for(self.request("shutdown", None), timeout)
                self.notify("exit", None)
                await self.drain()
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        for task in (self._reader, self._pump):
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(task, 2)
        return self.proc.returncode if self.proc.returncode is not None else -1
