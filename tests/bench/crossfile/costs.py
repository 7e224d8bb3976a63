"""What cross-file context costs: index time and memory, `select` time, completion latency while a
big workspace indexes, and tokens recomputed per keystroke.

- **Index**: a fresh `tandem-lsp` on the workspace; time from `initialize` until `tandem/status`
  says `crossFile.ready`; memory = the server's VmRSS then, minus a server on an empty folder
  (same settings, same moment after start); the index's own counts from `tandem/status`.
  For the corpus's largest package and for a synthetic workspace (`workspace.synthetic`:
  half Python, half TypeScript, each file importing 2–4 others).
- **While indexing vs idle** (same run): on the synthetic workspace, inline completions in an
  open file of it, one after another from the moment the server is initialized until the index
  is ready, then as many again once it is idle; and, on the same idle server with
  `context.crossFile.enable` off, the baseline. Round trips at the editor, host answering at once.
- **select**: `crossFile.selectMs` of `tandem/status` (the server times each `select`) after the
  idle phase.
- **Typing**: bench_typing's replay inside a workspace: a real `tandem-host` (random weights of
  the `tiny` shape, Code Llama's tokenizer), click's core.py open in the click workspace, Enter
  and a line that calls imported names typed key by key; per keystroke the host's prompt tokens,
  tokens recomputed (not from its prefix cache) and time to first token; cross-file on and off.

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

from .driver import Editor, recording_host, rss_kib, taken
from .workspace import materialize, package_source, synthetic

INDEX_WAIT_S = 600.0
IDLE_SETTLE_S = 0.5
TYPING_FILE = "click/core.py"
TYPING_ANCHOR = '            echo(style(message, fg="red"), err=True)\n'
TYPED = "            raise UsageError(make_str(message), ctx=ctx)"


@dataclass
class IndexRun:
    seconds: float
    ready: bool
    rss_delta_kib: int
    stats: dict[str, Any]
    while_indexing_ms: list[float] = field(default_factory=list)
    idle_ms: list[float] = field(default_factory=list)
    off_ms: list[float] = field(default_factory=list)
    select_ms: dict[str, Any] = field(default_factory=dict)


def _settings(enable: bool = True) -> dict[str, Any]:
    return {"context": {"crossFile": {"enable": enable}}}


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


async def index_run(
    address: str, control: Any, root: Path, empty: Path, probe: str, language: str, *, latency: bool
) -> IndexRun:
    """One fresh server on `root`: index time, memory, and (with `latency`) completions in
    `probe` while it indexes, idle, and idle with cross-file off."""
    base = await _baseline_rss(address, empty, root / probe, language)
    editor = Editor(address, root, _settings())
    loop = asyncio.get_running_loop()
    await editor.start()
    started = loop.time()
    try:
        text = (root / probe).read_text()
        offset = _middle(text)
        uri = editor.open(root / probe, text, language)
        run = IndexRun(0.0, False, 0, {})
        if latency:
            while loop.time() - started < INDEX_WAIT_S:
                cross = (await editor.status()).get("crossFile") or {}
                if cross.get("ready"):
                    break
                run.while_indexing_ms.append(await editor.complete(uri, text, offset))
                if len(run.while_indexing_ms) % 100 == 0:
                    await taken(control, drop=True)
        else:
            await editor.complete(uri, text, offset)
        run.ready, run.seconds, run.stats = await editor.wait_index(INDEX_WAIT_S)
        await asyncio.sleep(IDLE_SETTLE_S)
        run.rss_delta_kib = rss_kib(editor.pid) - base
        if latency:
            count = max(30, min(200, len(run.while_indexing_ms)))
            run.idle_ms = [await editor.complete(uri, text, offset) for _ in range(count)]
            run.select_ms = dict(
                ((await editor.status()).get("crossFile") or {}).get("selectMs") or {}
            )
            editor.configure(_settings(enable=False))
            run.off_ms = [await editor.complete(uri, text, offset) for _ in range(count)]
        await taken(control, drop=True)
        return run
    finally:
        await editor.stop()


def _middle(text: str) -> int:
    """The offset of the first non-blank character of the file's middle line."""
    lines = text.split("\n")
    row = len(lines) // 2
    start = sum(len(line) + 1 for line in lines[:row])
    return start + len(lines[row]) - len(lines[row].lstrip())


def _largest(tmp: Path) -> tuple[Path, str, str]:
    """The corpus package with the most source bytes: (workspace root, a file of it, language)."""
    best = None
    for project in corpus.PROJECTS:
        source = package_source(project)
        size = sum((source.root / p).stat().st_size for p in source.paths)
        if best is None or size > best[0]:
            best = (size, source)
    assert best is not None
    source = best[1]
    root = materialize(source, tmp / "largest")
    probe = max(
        source.paths,
        key=lambda p: (root / p).stat().st_size if (root / p).stat().st_size < 50_000 else 0,
    )
    return root, probe, source.language


def _index_rows(name: str, runs: Sequence[IndexRun]) -> list[Any]:
    stats = runs[-1].stats
    return [
        name,
        stats.get("files", "?"),
        stats.get("definitions", "?"),
        f"{median([r.seconds for r in runs]):.2f}",
        f"{median([r.rss_delta_kib for r in runs]) / 1024:.1f}",
        f"{int(stats.get('bytes', 0)) / 2**20:.1f}" if isinstance(stats.get("bytes"), int) else "?",
        all(r.ready for r in runs),
    ]


async def typing_replay(tmp: Path, keys: int, enable: bool) -> dict[str, list[float]]:
    """Keystrokes in click's core.py through a real host: prompt tokens, recomputed, TTFT, e2e."""
    project = next(p for p in corpus.PROJECTS if p.name == "click")
    source = package_source(project)
    root = materialize(source, tmp / f"typing-{enable}")
    text = (root / TYPING_FILE).read_text()
    at = text.index(TYPING_ANCHOR) + len(TYPING_ANCHOR) - 1  # the end of that line
    args = argparse.Namespace(shape="tiny", context=16384, device="cpu", threads=0)
    out: dict[str, list[float]] = {
        "prompt": [],
        "recomputed": [],
        "ttft": [],
        "e2e": [],
        "header": [],
    }
    async with host(args) as proc:
        settings = {
            "completion": {"contextTokens": 4096, "maxTokensLine": 8, "maxTokensBlock": 8},
            **_settings(enable),
        }
        editor = Editor(proc.address, root, settings)
        await editor.start()
        try:
            await editor.wait_index(60)
            uri = editor.open(root / TYPING_FILE, text, "python")
            document = text
            for n, char in enumerate(["\n", *TYPED[:keys]]):
                editor.change(uri, document, at, char)
                document = document[:at] + char + document[at:]
                at += 1
                before = await editor.status()
                e2e = await editor.complete(uri, document, at)
                after = await editor.status()
                timings = after["suggestions"]["lastHostTimings"]
                same = timings is None or timings == before["suggestions"]["lastHostTimings"]
                hits = after["suggestions"]["cacheHits"] - before["suggestions"]["cacheHits"]
                if n == 0 or same or hits:
                    continue  # the first request after opening is cold; cache answers skip the host
                out["prompt"].append(timings["prompt_tokens"])
                out["recomputed"].append(timings["prompt_tokens"] - timings["cached_tokens"])
                out["ttft"].append(timings["first_token_ms"])
                out["e2e"].append(e2e)
            cross = after.get("crossFile") or {}
            out["header"] = [
                float(cross.get("headersSelected", 0)),
                float(cross.get("headersReused", 0)),
            ]
        finally:
            await editor.stop()
    return out


async def run(tmp: Path, synthetic_files: int, repeats: int, typing_keys: int) -> str:
    empty = tmp / "empty"
    empty.mkdir(parents=True, exist_ok=True)
    sections: list[str] = []
    largest_root, largest_probe, largest_language = _largest(tmp)
    synth = synthetic(tmp / "synthetic-ws", synthetic_files)
    synth_probe = "pkg000/m00050.py"
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
            await index_run(address, control, synth, empty, synth_probe, "python", latency=True)
            for _ in range(repeats)
        ]
    sections.append("### Index: time and memory (median of runs)")
    sections.append(
        table(
            [
                "workspace",
                "files",
                "definitions",
                "index s",
                "RSS delta MiB",
                "index bytes MiB",
                "ready",
            ],
            [
                _index_rows(f"largest package ({largest_root.name})", largest),
                _index_rows(f"synthetic, {synthetic_files} files", big),
            ],
        )
    )
    sections.append(
        f"\n### Inline completion round trip on the {synthetic_files}-file workspace, ms (median of runs)"
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
    sections.append(table(["phase", "requests", "p50", "p95"], rows))
    p50s = [r.select_ms.get("p50") for r in big if r.select_ms.get("p50") is not None]
    p95s = [r.select_ms.get("p95") for r in big if r.select_ms.get("p95") is not None]
    sections.append(
        f"\n`select` (the server's own timing, idle phase): p50 {median(p50s):.2f} ms, "
        f"p95 {median(p95s):.2f} ms (median of {len(p50s)} runs)"
    )
    sections.append(
        "\n### Typing replay in click/core.py, real host (tiny shape), budget 4,096 tokens"
    )
    rows = []
    for enable in (True, False):
        runs = [await typing_replay(tmp, typing_keys, enable) for _ in range(repeats)]
        rows.append(
            [
                "on" if enable else "off (baseline)",
                median([len(r["recomputed"]) for r in runs]),
                int(median([median(r["prompt"]) for r in runs])),
                median([median(r["recomputed"]) for r in runs]),
                median([pct(r["recomputed"], 95) for r in runs]),
                median([median(r["ttft"]) for r in runs]),
                median([median(r["e2e"]) for r in runs]),
                f"{int(runs[-1]['header'][0])} / {int(runs[-1]['header'][1])}"
                if runs[-1]["header"]
                else "-",
            ]
        )
    sections.append(
        table(
            [
                "cross-file",
                "keys",
                "prompt tok",
                "recomputed p50",
                "p95",
                "TTFT ms p50",
                "e2e ms p50",
                "headers made / reused",
            ],
            rows,
        )
    )
    return "\n".join(sections)
