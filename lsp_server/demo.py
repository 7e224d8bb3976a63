"""The main job from a terminal: host + LSP server as an editor runs them, one completion, one chat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from . import protocol as tp

SAMPLE = '''import math


def circle_area(radius: float) -> float:
    """Area of a circle."""
    return math.pi * radius ** 2


def fibonacci(n: int) -> int:
    """The n-th Fibonacci number."""
    '''

VSCODE_LIKE = types.ClientCapabilities(
    general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf16]),
    text_document=types.TextDocumentClientCapabilities(
        synchronization=types.TextDocumentSyncClientCapabilities(dynamic_registration=True),
        inline_completion=types.InlineCompletionClientCapabilities(dynamic_registration=True),
    ),
    window=types.WindowClientCapabilities(work_done_progress=True),
)


class DemoError(Exception):
    """The demo cannot go on; one line for the terminal, and the exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class DemoOptions:
    model: str | None
    file: Path | None
    address: str | None
    max_tokens: int


def say(line: str) -> None:
    print(line, flush=True)


def builtin_model() -> Path:
    """The tiny random checkpoint, built once into a cache folder."""
    from model_host.devtools.tiny import make_tiny

    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tandem" / "tiny-model"
    if not (cache / "config.json").exists():
        t0 = time.perf_counter()
        make_tiny(cache)
        say(f"built the tiny random model in {time.perf_counter() - t0:.1f}s at {cache}")
    return cache


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise DemoError(f"cannot read {path}: {why}", 2) from exc


async def run_demo(opts: DemoOptions) -> int:
    text = _read(opts.file) if opts.file else SAMPLE
    if opts.address:
        _check_address(opts.address)
    model = _announce_model(opts)
    path = opts.file.resolve() if opts.file else Path(tempfile.gettempdir()) / "tandem_demo.py"
    uri = path.as_uri()
    language = _LANGUAGES.get(path.suffix, "plaintext")

    with tempfile.TemporaryDirectory(prefix="tdm-") as tmp:
        address = opts.address or f"unix:{tmp}/host.sock"
        chunks: list[str] = []
        client = _demo_client(chunks)
        t0 = time.perf_counter()
        interrupted = False
        await client.start_io(sys.executable, "-m", "lsp_server")
        try:
            await _start(client, address, model, opts.max_tokens, t0)
            before = await _host_counts(client)
            suggested = await _complete(client, path, uri, language, text)
            after_completion = await _host_counts(client)
            await _chat(client, uri, opts.max_tokens, chunks)
            host = (await request(client, tp.STATUS, {}))["host"]
            say("\n" + served_line(before, after_completion, host))
            say(f"total {time.perf_counter() - t0:.1f}s")
            return 0 if suggested or opts.model is None else 1
        except asyncio.CancelledError:  # Ctrl-C: the caller says "interrupted"
            interrupted = True
            # The server may still answer requests nobody awaits now; pygls would log each.
            logging.getLogger("pygls").setLevel(logging.CRITICAL)
            raise
        finally:
            await _stop_server(client, polite=not interrupted)
            if not opts.address:
                await _stop_host(address)  # the private host the server started for the demo


_LANGUAGES = {
    ".py": "python",
    ".js": "javascript",
    ".ts": "typescript",
    ".go": "go",
    ".rs": "rust",
    ".c": "c",
    ".cpp": "cpp",
    ".java": "java",
    ".lua": "lua",
}


def _check_address(address: str) -> None:
    from model_host.rpc.address import AddressError, parse_address

    try:
        if parse_address(address).kind == "stdio":
            raise AddressError("the demo reaches a host over unix: or tcp:")
    except AddressError as exc:
        raise DemoError(f"bad --address: {exc}", 2) from exc


def _announce_model(opts: DemoOptions) -> str:
    """The model the demo loads, said to the reader."""
    model = opts.model or str(builtin_model())
    if not opts.model:
        say(
            "model: the built-in tiny RANDOM model (its output is noise; pass --model for a real checkpoint)"
        )
    else:
        say(f"model: {model}")
    return model


def _demo_client(chunks: list[str]) -> LanguageClient:
    """A client that collects streamed chat text into `chunks` and shows the server's messages."""
    client = LanguageClient("tandem-demo", "0.1.0")
    progress: list[str] = []

    @client.feature(tp.CHAT_CHUNK)
    def on_chunk(params: Any) -> None:
        chunks.append(plain(params)["text"])

    @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def on_create(params: Any) -> None:
        return None

    @client.feature(types.PROGRESS)
    def on_progress(params: Any) -> None:
        pct = getattr(params.value, "percentage", None)
        if pct is not None:
            progress.append(f"{pct}%")

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def on_message(params: types.ShowMessageParams) -> None:
        if params.type != types.MessageType.Error:  # errors end the demo with their reason
            say(f"  server says: {params.message}")

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def on_log(params: types.LogMessageParams) -> None:
        return None  # the server's log: not for the demo's reader

    return client


async def _start(
    client: LanguageClient, address: str, model: str, max_tokens: int, t0: float
) -> None:
    """Initialize the server (it starts the host) and wait until the model is loaded."""
    await client.initialize_async(
        types.InitializeParams(
            capabilities=VSCODE_LIKE,
            initialization_options={
                "host": {
                    "address": address,
                    "model": model,
                    "autoStart": True,
                    "args": ["--idle-exit", "5"],
                },
                "completion": {"maxTokensBlock": max_tokens},
            },
        )
    )
    client.initialized(types.InitializedParams())
    status = await _wait_ready(client)
    ready_s = time.perf_counter() - t0
    facts = status.get("model") or {}
    say(
        f"host + LSP server ready in {ready_s:.1f}s: {facts.get('name')} "
        f"(context {facts.get('context_window')}, infill {facts.get('can_infill')}, "
        f"chat format {facts.get('chat_format')})"
    )


async def _complete(client: LanguageClient, path: Path, uri: str, language: str, text: str) -> bool:
    """Open the file and ask for an inline completion at its end; whether one came."""
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )
    lines = text.split("\n")
    cursor = types.Position(line=len(lines) - 1, character=len(lines[-1].encode("utf-16-le")) // 2)
    say(
        f"\nopened {path.name} ({len(lines)} lines); inline completion at {cursor.line + 1}:{cursor.character + 1}"
    )
    t1 = time.perf_counter()
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=cursor,
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    completion_ms = (time.perf_counter() - t1) * 1000
    items = result.items if isinstance(result, types.InlineCompletionList) else (result or [])
    suggestion = items[0].insert_text if items else None
    shown = suggestion if isinstance(suggestion, str) else "(no suggestion)"
    say(f"ghost text ({completion_ms:.0f} ms):\n{_indent(shown)}")
    return suggestion is not None


async def _chat(client: LanguageClient, uri: str, max_tokens: int, chunks: list[str]) -> None:
    """Ask about the sample's function with its lines as context; show the answer."""
    t2 = time.perf_counter()
    answer = await request(
        client,
        tp.CHAT,
        {
            "messages": [{"role": "user", "content": "What does circle_area compute?"}],
            "context": {
                "uri": uri,
                "range": {
                    "start": {"line": 3, "character": 0},
                    "end": {"line": 6, "character": 0},
                },
            },
            "maxTokens": max_tokens,
        },
    )
    chat_ms = (time.perf_counter() - t2) * 1000
    say(
        f"\nchat answer ({chat_ms:.0f} ms, {len(chunks)} streamed chunks):\n{_indent(answer['text'])}"
    )


async def _wait_ready(client: LanguageClient, timeout: float = 180.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await request(client, tp.STATUS, {})
        host = last["host"]
        if host.get("state") == "ready":
            return dict(last)
        if host.get("state") == "failed":
            why = host.get("error") or host.get("message") or "no reason given"
            # The host's log lived in the demo's temporary folder, gone when the demo ends.
            why = re.sub(r" \(log: [^)]*\)", "", str(why))
            raise DemoError(f"could not load the model: {why}", 3)
        await asyncio.sleep(0.3)
    host = last["host"] if last else {}
    raise DemoError(
        f"the host was not ready after {timeout:.0f}s: {host.get('error') or host.get('state')}"
    )


COUNTS = ("served", "cancelled", "failed")


async def _host_counts(client: LanguageClient) -> dict[str, int]:
    host = (await request(client, tp.STATUS, {}))["host"]
    return {k: int(host.get(k) or 0) for k in COUNTS}


def _fate(before: dict[str, int], after: dict[str, int], what: str) -> str:
    """How the host ended one request, from its counters before and after it."""
    done = {k: after[k] - before[k] for k in COUNTS}
    if sum(done.values()) == 0:
        return f"the {what} asked the host nothing"
    words = {
        "served": "finished",
        # The server stops a suggestion's decode once the syntax tree says where it ends.
        "cancelled": "stopped at its decision" if what == "completion" else "cancelled",
        "failed": "failed",
    }
    return ", ".join(f"{n} {what} {words[k]}" for k, n in done.items() if n)


def served_line(before: dict[str, int], middle: dict[str, int], host: dict[str, Any]) -> str:
    """What the host did for the demo's completion (before -> middle) and chat (middle -> host)."""
    after = {k: int(host.get(k) or 0) for k in COUNTS}
    total = sum(after[k] - before[k] for k in COUNTS)
    fates = f"{_fate(before, middle, 'completion')}, {_fate(middle, after, 'chat')}"
    latency = host.get("latency_ms") or {}
    return (
        f"host served {total} request{'s' if total != 1 else ''} ({fates}); finished requests "
        f"took p50 {latency.get('p50')} ms, p95 {latency.get('p95')} ms"
    )


async def _stop_server(client: LanguageClient, *, polite: bool) -> None:
    """End the language server: `shutdown` and `exit` after a finished demo; after Ctrl-C
    (which a terminal sends the server too) a SIGINT of its own if it is still up a moment
    later, then a kill if need be."""
    proc: asyncio.subprocess.Process | None = getattr(client, "_server", None)  # pygls' handle
    if proc is not None and proc.returncode is None:
        if polite:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.shutdown_async(None), 10)
                client.exit(None)
        elif not await _exited(proc, 1.0):
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
        if not await _exited(proc, 5.0):
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.stop(), 5)


async def _exited(proc: asyncio.subprocess.Process, wait_s: float) -> bool:
    try:
        await asyncio.wait_for(proc.wait(), wait_s)
    except asyncio.TimeoutError:
        return False
    return True


async def _stop_host(address: str, wait_s: float = 10.0) -> None:
    """Ask the host at `address` to stop and wait until it has let the socket go; nothing to
    do when none listens (the demo ended before the host did)."""
    from model_host.rpc.client import HostClient
    from model_host.rpc.protocol import Method, RpcError

    try:
        host = await HostClient.connect(address, timeout=2.0)
    except (OSError, ValueError, asyncio.TimeoutError):
        return
    try:
        await asyncio.wait_for(host.hello(client_name="tandem-demo"), 5)
        await asyncio.wait_for(host.request(Method.SHUTDOWN), 5)
    except (OSError, RpcError, asyncio.TimeoutError):
        return
    finally:
        await host.close()
    path = Path(address.removeprefix("unix:"))
    deadline = time.monotonic() + wait_s
    while path.exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def plain(obj: Any) -> Any:
    """pygls hands custom results over as namedtuples; turn them back into JSON-like dicts."""
    if hasattr(obj, "_asdict"):
        return {k: plain(v) for k, v in obj._asdict().items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    return obj


async def request(client: LanguageClient, method: str, params: Any) -> Any:
    return plain(await client.protocol.send_request_async(method, params))


def _indent(text: str) -> str:
    return "\n".join("    │ " + line for line in text.splitlines() or [""])
