"""The real `tandem-lsp` as an editor drives it, with the recording stand-in host behind it.

`recording_host` runs `record_host.py` in its own process; `Editor` starts `python -m
lsp_server` with a workspace (rootUri + workspaceFolders), VS Code-like capabilities (inline
completion, `$/progress`, UTF-32 positions), settings in `initializationOptions` and later
through `workspace/didChangeConfiguration`, and asks for inline completions; what the host
received for each is taken back from the host.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from lsp_server.demo import request as lsp_request
from model_host.rpc.client import HostClient
from tests.paths import ROOT

from .record_host import TAKE

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@contextlib.asynccontextmanager
async def recording_host(tmp: Path) -> AsyncIterator[tuple[str, HostClient]]:
    """(address, a control connection) of a fresh recording host."""
    sock = tmp / "record.sock"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bench.crossfile.record_host",
        f"unix:{sock}",
        cwd=ROOT,
        env=ENV,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(400):  # the socket file appears before it listens: retry refusals
            try:
                control = await HostClient.connect(f"unix:{sock}")
                break
            except (FileNotFoundError, ConnectionRefusedError):
                await asyncio.sleep(0.05)
        else:
            raise RuntimeError(f"the recording host did not listen at {sock}")
        try:
            yield f"unix:{sock}", control
        finally:
            await control.close()
    finally:
        proc.terminate()
        await proc.wait()


def position(text: str, offset: int) -> types.Position:
    """An LSP position in UTF-32 (code points), the encoding the editor negotiates."""
    line = text.count("\n", 0, offset)
    return types.Position(line=line, character=offset - (text.rfind("\n", 0, offset) + 1))


def rss_kib(pid: int) -> int:
    """Resident memory of a process (VmRSS), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_ms(pid: int) -> float:
    """CPU time a process has used (user + system), in milliseconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


class Editor:
    """One `tandem-lsp` with one workspace folder (or none)."""

    def __init__(self, address: str, root: Path | None, settings: dict[str, Any]) -> None:
        self.address = address
        self.root = root
        self.settings = settings
        self.client = LanguageClient("tandem-crossfile-bench", "0.1.0")
        self.progress_ended = asyncio.Event()
        self.version = 0
        self.pid = 0
        self.initialize_sent = 0.0  # perf_counter when `initialize` was answered

        @self.client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def on_create(params: Any) -> None:
            return None

        @self.client.feature(types.PROGRESS)
        def on_progress(params: Any) -> None:
            if getattr(params.value, "kind", None) == "end":
                self.progress_ended.set()

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def on_log(params: Any) -> None:
            return None

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)
        def on_message(params: Any) -> None:
            return None

    async def start(self) -> None:
        await self.client.start_io(sys.executable, "-m", "lsp_server", cwd=str(ROOT), env=ENV)
        process = getattr(self.client, "_server", None)
        self.pid = int(getattr(process, "pid", 0) or 0)
        folders = (
            [types.WorkspaceFolder(uri=self.root.as_uri(), name=self.root.name)]
            if self.root
            else None
        )
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    general=types.GeneralClientCapabilities(
                        position_encodings=[types.PositionEncodingKind.Utf32]
                    ),
                    text_document=types.TextDocumentClientCapabilities(
                        inline_completion=types.InlineCompletionClientCapabilities()
                    ),
                    window=types.WindowClientCapabilities(work_done_progress=True),
                    workspace=types.WorkspaceClientCapabilities(workspace_folders=True),
                ),
                root_uri=self.root.as_uri() if self.root else None,
                workspace_folders=folders,
                initialization_options=self._options(self.settings),
            )
        )
        # Indexing starts at `initialize`; counting from its answer leaves out the
        # interpreter's start-up (seconds on a busy machine), which is not indexing.
        self.initialize_sent = time.perf_counter()
        self.client.initialized(types.InitializedParams())

    def _options(self, settings: dict[str, Any]) -> dict[str, Any]:
        completion = {"debounceMs": 0, "temperature": 0, **settings.get("completion", {})}
        return {
            "host": {"address": self.address, "autoStart": False, "requestTimeout": 600},
            "completion": completion,
            "context": settings.get("context", {}),
        }

    def configure(self, settings: dict[str, Any]) -> None:
        self.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"tandem": self._options(settings)})
        )

    async def status(self) -> dict[str, Any]:
        return dict(await lsp_request(self.client, "tandem/status", {}))

    async def wait_index(self, timeout: float) -> tuple[bool, float, dict[str, Any]]:
        """(ready, seconds since `initialize`, the index's status): ready when `tandem/status`
        says so (polled every 20 ms), at most `timeout` seconds from now."""
        started = time.perf_counter()
        cross: dict[str, Any] = {}
        while time.perf_counter() - started < timeout:
            cross = dict((await self.status()).get("crossFile") or {})
            if cross.get("ready"):
                return True, time.perf_counter() - self.initialize_sent, cross
            await asyncio.sleep(0.02)
        return False, time.perf_counter() - self.initialize_sent, cross

    def open(self, path: Path, text: str, language: str) -> str:
        uri = path.as_uri()
        self.version += 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language, version=self.version, text=text
                )
            )
        )
        return uri

    def change(self, uri: str, text: str, offset: int, inserted: str) -> None:
        """Type `inserted` at `offset` of the document (whose text before the edit is `text`)."""
        self.version += 1
        at = position(text, offset)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=at, end=at), text=inserted
                    )
                ],
            )
        )

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    async def complete(self, uri: str, text: str, offset: int) -> float:
        """An invoked inline completion at `offset`; returns its round trip in ms."""
        started = time.perf_counter()
        await self.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=position(text, offset),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Invoked
                ),
            )
        )
        return (time.perf_counter() - started) * 1000

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.shutdown_async(None), 10)
            self.client.exit(None)
            await asyncio.sleep(0.05)
        with contextlib.suppress(Exception):
            await self.client.stop()


async def taken(control: HostClient, *, drop: bool = False) -> list[dict[str, Any]]:
    """The `complete` params the host received since the last call (`drop`: forget them unread)."""
    result = await control.request(TAKE, {"drop": drop})
    return list(result.get("requests", []))
