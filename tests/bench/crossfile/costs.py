"""What cross-file context costs: index time and memory, `select` time, completion latency while a
big workspace indexes, and tokens recomputed per keystroke.

- **Index**: a fresh `tandem-lsp` on the workspace; time from the answer to `initialize`
  (indexing starts there) until `tandem/status` says `crossFile.ready`; memory = the server's
  VmRSS then, minus that of a server on an empty folder that opened and completed in the same
  file; the index's own counts from `tandem/status`. For the corpus's largest package and for
  a synthetic workspace (`workspace.synthetic`: half Python, half TypeScript, each file
  importing 2–4 others).
- **select**: the server's own timing (`crossFile.selectMs`) over completions at lines all
  through a file of the largest package, idle index.
- **While indexing vs idle** (same server): on the synthetic workspace, inline completions in
  an open file of it one after another from `initialize` until the index is ready, then as
  many again once it is idle, then with `context.crossFile.enable` off (the baseline). Round
  trips at the editor, the host answering at once.
- **Typing**: bench_typing's replay inside a workspace: a real `tandem-host` (random weights of
  the `tiny` shape, Code Llama's tokenizer), click's core.py open in the click workspace, Enter
  and a line that calls imported names typed key by key; per keystroke the host's prompt
  tokens, tokens recomputed (not from its prefix cache), time to first token; on and off.
  Also the server's own CPU time (`/proc`) from the buffer's opening (indexed) to 2.5 s after
  the last key (past the index's debounce and re-parse interval), per key, and how many times
  the index parsed the typed buffer or found an edit could not change its record.

Each timing figure is the median over `repeats` runs.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench.common import host, median, pct, table
from tests.bench.shaping import corpus

from .driver import Editor, cpu_ms, recording_host, rss_kib, taken
from .workspace import materialize, package_source, synthetic

INDEX_WAIT_S = 600.0
IDLE_SETTLE_S = 0.5
SELECT_PROBES = 100
SYNTHETIC_PROBE = "pkg000/m00050.py"
TYPING_FILE = "click/core.py"
TYPING_SETTLE_S = 2.5  # past the index's debounce and its re-parse interval for a buffer
TYPING_ANCHOR = '            echo(style(message, fg="red"), err=True)\n'
TYPED = "            raise UsageError(make_str(message), ctx=ctx)"


@dataclass
class IndexRun:
    seconds: float = 0.0
    ready: bool = False
    rss_delta_kib: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    select_ms: dict[str, Any] = field(default_factory=dict)
    while_indexing_ms: list[float] = field(default_factory=list)
    idle_ms: list[float] = field(default_factory=list)
    off_ms: list[float] = field(default_factory=list)


def _settings(enable: bool = True) -> dict[str, Any]:
    return {"context": {"crossFile": {"enable": enable}}}


def _line_starts(text: str) -> list[int]:
    """Offsets of the first non-blank character of every line."""
    starts, at = [], 0
    for line in text.split("\n"):
        starts.append(at + len(line) - len(line.lstrip()))
        at += len(line) + 1
    return starts


def _middle(text: str) -> int:
    starts = _line_starts(text)
    return starts[len(starts) // 2]


async def _baseline_rss(address: str, empty: Path, probe: Path, language: str) -> int:
    """VmRSS of a server on an empty folder that has opened and completed in `probe` once."""
    editor = Editor(address, empty, _settings())
    await editor.start()
    try:
        await editor.wait_index(30)
        text = probe.read_text()
        uri = editor.open(empty / probe.name, text, language)
        await editor.complete(uri, text, _middle(text))
        await asyncio.sleep(IDLE_SETTLE_S)
        return rss_kib(editor.pid)
    finally:
        await editor.stop()


async def _status_select(editor: Editor) -> dict[str, Any]:
    return dict(((await editor.status()).get("crossFile") or {}).get("selectMs") or {})


async def index_run(
    address: str, control: Any, root: Path, empty: Path, probe: str, language: str, *, latency: bool
) -> IndexRun:
    """One fresh server on `root`: index time and memory; then either `select` timings at
    lines all through `probe`, or (`latency`) completions in `probe` while the index is built,
    idle, and idle with cross-file off."""
    base = await _baseline_rss(address, empty, root / probe, language)
    editor = Editor(address, root, _settings())
    await editor.start()
    run = IndexRun()
    try:
        text = (root / probe).read_text()
        offset = _middle(text)
        uri = editor.open(root / probe, text, language)
        if latency:
            while not ((await editor.status()).get("crossFile") or {}).get("ready"):
                run.while_indexing_ms.append(await editor.complete(uri, text, offset))
                if len(run.while_indexing_ms) % 100 == 0:
                    await taken(control, drop=True)
        run.ready, run.seconds, run.stats = await editor.wait_index(INDEX_WAIT_S)
        await editor.complete(uri, text, offset)
        await asyncio.sleep(IDLE_SETTLE_S)
        run.rss_delta_kib = rss_kib(editor.pid) - base
        if latency:
            count = max(30, min(200, len(run.while_indexing_ms)))
            run.idle_ms = [await editor.complete(uri, text, offset) for _ in range(count)]
            editor.configure(_settings(enable=False))
            run.off_ms = [await editor.complete(uri, text, offset) for _ in range(count)]
        else:
            starts = _line_starts(text)
            for at in starts[:: max(1, len(starts) // SELECT_PROBES)][:SELECT_PROBES]:
                await editor.complete(uri, text, at)
            run.select_ms = await _status_select(editor)
        await taken(control, drop=True)
        return run
    finally:
        await editor.stop()


def _largest(tmp: Path) -> tuple[Path, str, str]:
    """The corpus package with the most source bytes: (workspace root, its largest file under
    50 kB, language)."""
    sizes = []
    for project in corpus.PROJECTS:
        source = package_source(project)
        sizes.append((sum((source.root / p).stat().st_size for p in source.paths), source))
    source = max(sizes, key=lambda s: s[0])[1]
    root = materialize(source, tmp / "largest")
    sized = [((root / p).stat().st_size, p) for p in source.paths]
    probe = max((s, p) for s, p in sized if s < 50_000)[1]
    return root, probe, source.language


async def typing_replay(address: str, root: Path, keys: int, enable: bool) -> dict[str, Any]:
    """Keystrokes in click's core.py through a real host: prompt tokens, recomputed, TTFT, e2e."""
    text = (root / TYPING_FILE).read_text()
    at = text.index(TYPING_ANCHOR) + len(TYPING_ANCHOR) - 1  # the end of that line
    out: dict[str, Any] = {"prompt": [], "recomputed": [], "ttft": [], "e2e": []}
    settings = {
        "completion": {"contextTokens": 4096, "maxTokensLine": 8, "maxTokensBlock": 8},
        **_settings(enable),
    }
    editor = Editor(address, root, settings)
    await editor.start()
    try:
        await editor.wait_index(60)
        uri = editor.open(root / TYPING_FILE, text, "python")
        await asyncio.sleep(TYPING_SETTLE_S)  # the opened buffer indexed
        started_cpu = cpu_ms(editor.pid)
        document = text
        for n, char in enumerate(["\n", *TYPED[:keys]]):
            editor.change(uri, document, at, char)
            document = document[:at] + char + document[at:]
            at += 1
            before = (await editor.status())["suggestions"]
            e2e = await editor.complete(uri, document, at)
            status = await editor.status()
            after = status["suggestions"]
            timings = after["lastHostTimings"]
            fresh = timings is not None and timings != before["lastHostTimings"]
            if n == 0 or not fresh or after["cacheHits"] > before["cacheHits"]:
                continue  # the first request after opening is cold; cache answers skip the host
            out["prompt"].append(timings["prompt_tokens"])
            out["recomputed"].append(timings["prompt_tokens"] - timings["cached_tokens"])
            out["ttft"].append(timings["first_token_ms"])
            out["e2e"].append(e2e)
        await asyncio.sleep(TYPING_SETTLE_S)  # the typed buffer's debounced re-index, if any
        out["cpu_ms"] = cpu_ms(editor.pid) - started_cpu
        out["keys"] = n + 1
        cross = (await editor.status()).get("crossFile") or {}
        out["headers"] = (int(cross.get("headersSelected", 0)), int(cross.get("headersReused", 0)))
        out["parses"] = (int(cross.get("doc_parses", 0)), int(cross.get("doc_skips", 0)))
    finally:
        await editor.stop()
    return out


def _index_row(name: str, runs: Sequence[IndexRun]) -> list[Any]:
    stats = runs[-1].stats
    index_bytes = stats.get("bytes")
    return [
        name,
        stats.get("files", "?"),
        stats.get("definitions", "?"),
        f"{median([r.seconds for r in runs]):.2f}",
        f"{median([r.rss_delta_kib for r in runs]) / 1024:.1f}",
        f"{index_bytes / 2**20:.1f}" if isinstance(index_bytes, int) else "?",
        all(r.ready for r in runs),
    ]


async def run(tmp: Path, synthetic_files: int, repeats: int, typing_keys: int) -> str:
    empty = tmp / "empty"
    empty.mkdir(parents=True, exist_ok=True)
    largest_root, largest_probe, largest_language = _largest(tmp)
    synth = synthetic(tmp / "synthetic-ws", synthetic_files)
    async with recording_host(tmp) as (address, control):
        largest = [
            await index_run(
                address,
                control,
                largest_root,
                empty,
                largest_probe,
                largest_language,
                latency=False,
            )
            for _ in range(repeats)
        ]
        big = [
            await index_run(address, control, synth, empty, SYNTHETIC_PROBE, "python", latency=True)
            for _ in range(repeats)
        ]
    click = materialize(
        package_source(next(p for p in corpus.PROJECTS if p.name == "click")), tmp / "typing"
    )
    async with host(
        argparse.Namespace(shape="tiny", context=16384, device="cpu", threads=0)
    ) as proc:
        typing = {
            enable: [
                await typing_replay(proc.address, click, typing_keys, enable)
                for _ in range(repeats)
            ]
            for enable in (True, False)
        }
    return "\n".join(_report(synthetic_files, largest_root.name, largest, big, typing))


def _report(
    files: int,
    largest_name: str,
    largest: Sequence[IndexRun],
    big: Sequence[IndexRun],
    typing: dict[bool, list[dict[str, Any]]],
) -> list[str]:
    out = [f"### Index: time and memory (median of {len(big)} runs)"]
    headers = [
        "workspace",
        "files",
        "definitions",
        "index s",
        "RSS delta MiB",
        "index bytes MiB",
        "ready",
    ]
    rows = [
        _index_row(f"largest package ({largest_name})", largest),
        _index_row(f"synthetic, {files} files", big),
    ]
    out.append(table(headers, rows))
    p50 = median([r.select_ms["p50"] for r in largest if r.select_ms.get("p50") is not None])
    p95 = median([r.select_ms["p95"] for r in largest if r.select_ms.get("p95") is not None])
    out.append(
        f"\n`select` (the server's own timing, {SELECT_PROBES} completions through a file of the "
        f"largest package, idle): p50 {p50:.2f} ms, p95 {p95:.2f} ms"
    )
    out.append(
        f"\n### Inline completion round trip on the {files}-file workspace, ms (median of runs)"
    )
    rows = []
    for title, key in (
        ("while it indexes", "while_indexing_ms"),
        ("idle", "idle_ms"),
        ("idle, cross-file off (baseline)", "off_ms"),
    ):
        samples = [getattr(r, key) for r in big]
        rows.append(
            [
                title,
                median([len(s) for s in samples]),
                median([pct(s, 50) for s in samples]),
                median([pct(s, 95) for s in samples]),
            ]
        )
    out.append(table(["phase", "requests", "p50", "p95"], rows))
    out.append("\n### Typing replay in click/core.py, real host (tiny shape), budget 4,096 tokens")
    rows = []
    for enable, runs in typing.items():
        made, reused = runs[-1]["headers"]
        rows.append(
            [
                "on" if enable else "off (baseline)",
                median([len(r["recomputed"]) for r in runs]),
                int(median([median(r["prompt"]) for r in runs])),
                median([median(r["recomputed"]) for r in runs]),
                median([pct(r["recomputed"], 95) for r in runs]),
                median([median(r["ttft"]) for r in runs]),
                median([pct(r["ttft"], 95) for r in runs]),
                median([median(r["e2e"]) for r in runs]),
                f"{made} / {reused}" if enable else "-",
                "{} / {}".format(*runs[-1]["parses"]) if enable else "-",
                median([r["cpu_ms"] / r["keys"] for r in runs]),
            ]
        )
    headers = [
        "cross-file",
        "keys",
        "prompt tok",
        "recomputed p50",
        "p95",
        "TTFT ms p50",
        "p95",
        "e2e ms p50",
        "headers made / reused",
        "buffer parses / skipped",
        "server CPU ms per key",
    ]
    out.append(table(headers, rows))
    return out
