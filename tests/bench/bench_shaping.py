"""Shaping benchmark: do suggestions end exactly where the code should?

Real code from pinned packages (tests/bench/shaping/corpus.py, fetched from PyPI, npm and
Debian), holes of ten kinds cut into it (holes.py), each answered by a simulated model
that writes the right text and then goes on in one of three styles: running on into the
code after the cursor, closing what it filled and writing new code, or running on into a
near copy of the code after the cursor (a name renamed, a literal changed, a line dropped).
Every hole goes through the real `tandem-lsp` (inline completion, a real host protocol
connection to a host that replays the scripted answer token by token, streaming and
cancelling as with a model), and the suggestion must equal the hole exactly. Tabby's
indentation rule and stop words (baseline.py) shape the same answers in the same run, with
the newline stop of a line suggestion. The worst misses are printed with their text.

    .venv/bin/python tests/bench/bench_shaping.py                 # 100 holes per cell
    .venv/bin/python tests/bench/bench_shaping.py --per-cell 5 --languages python,go
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from lsp_server.context.languages import spec_for_language_id
from lsp_server.context.mode import detect_mode
from model_host.rpc.client import HostClient
from tests.bench import common
from tests.bench.shaping import corpus
from tests.bench.shaping.baseline import tabby_like
from tests.bench.shaping.holes import KINDS, STYLES, Hole, sample
from tests.bench.shaping.replay_host import SCRIPT
from tests.paths import ROOT

TANDEM, HEURISTIC = "tandem", "heuristic"
CELL_TARGET = 99.5  # % exact, every language x kind x style
OVERALL_TARGET = 99.9  # % exact, every style over all cells


@dataclass
class Results:
    exact: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    total: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    misses: dict[tuple[str, str, str], list[tuple[Hole, str | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, hole: Hole, style: str, tandem: str | None, heuristic: str | None) -> None:
        cell = (hole.language, hole.kind, style)
        self.total[cell] += 1
        self.exact[(*cell, TANDEM)] += tandem == hole.answer
        self.exact[(*cell, HEURISTIC)] += heuristic == hole.answer
        if tandem != hole.answer:
            self.misses[cell].append((hole, tandem))

    def rate(
        self, who: str, style: str, language: str | None = None, kind: str | None = None
    ) -> float:
        cells = [
            c
            for c in self.total
            if c[2] == style and language in (None, c[0]) and kind in (None, c[1])
        ]
        total = sum(self.total[c] for c in cells)
        return 100.0 * sum(self.exact[(*c, who)] for c in cells) / total if total else 100.0


def _position(text: str, offset: int) -> types.Position:
    """An LSP position in UTF-32 (code points), the encoding the client negotiates."""
    line = text.count("\n", 0, offset)
    return types.Position(line=line, character=offset - (text.rfind("\n", 0, offset) + 1))


class Bench:
    def __init__(
        self, client: LanguageClient, script: HostClient, costs: list[dict[str, Any]] | None = None
    ) -> None:
        self.client = client
        self.script = script
        self.version = 1
        # Given: each model-backed suggestion's `serverCost.last` from `tandem/status`,
        # with the client's wall time for the request as `clientMs`.
        self.costs = costs
        self._counted = 0

    def _change(self, uri: str, text: str, start: int, end: int, new: str) -> None:
        self.version += 1
        change = types.TextDocumentContentChangePartial(
            range=types.Range(start=_position(text, start), end=_position(text, end)), text=new
        )
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.version),
                content_changes=[change],
            )
        )

    async def suggest(self, uri: str, document: str, offset: int, answer: str) -> str | None:
        await self.script.request(SCRIPT, {"text": answer})
        asked = time.perf_counter()
        result = await self.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=_position(document, offset),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Invoked
                ),
            )
        )
        client_ms = (time.perf_counter() - asked) * 1000
        items = result.items if isinstance(result, types.InlineCompletionList) else result or []
        shown = items[0].insert_text if items else None
        text = shown if shown is None or isinstance(shown, str) else shown.value
        if self.costs is not None:
            await self._record_cost(client_ms, f"{uri}:{offset}:{hash(answer)}", text)
        return text

    async def _record_cost(self, client_ms: float, key: str, text: str | None) -> None:
        assert self.costs is not None
        status = await common.lsp_status(self.client)
        cost = status["suggestions"]["serverCost"]
        if cost["count"] > self._counted and cost["last"] is not None:  # a model call was made
            self._counted = cost["count"]
            self.costs.append({**cost["last"], "clientMs": client_ms, "key": key, "text": text})

    async def run_file(self, path: str, holes: list[Hole], results: Results) -> None:
        text = holes[0].text
        uri = Path(path).as_uri()
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=holes[0].language, version=self.version, text=text
                )
            )
        )
        for hole in holes:
            self._change(uri, text, hole.start, hole.end, "")
            document = hole.document
            spec = spec_for_language_id(hole.language)
            line_mode = detect_mode(document, hole.start, syntax=None, lang=spec).mode == "line"
            for style in STYLES:
                raw = hole.raw(style)
                tandem = await self.suggest(uri, document, hole.start, raw)
                prefix, suffix = document[: hole.start], document[hole.start :]
                heuristic = tabby_like(raw, prefix, suffix, hole.language, line_mode=line_mode)
                results.add(hole, style, tandem, heuristic)
            self._change(uri, document, hole.start, hole.start, text[hole.start : hole.end])
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )


async def _worker(
    holes: list[Hole],
    results: Results,
    tmp: Path,
    name: str,
    costs: list[dict[str, Any]] | None = None,
) -> None:
    """One replay host and one real `tandem-lsp`, working through these holes file by file."""
    sock = tmp / f"{name}.sock"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    host = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bench.shaping.replay_host",
        f"unix:{sock}",
        cwd=ROOT,
        env=env,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(400):  # the socket file appears before it listens: retry refusals
            try:
                script = await HostClient.connect(f"unix:{sock}")
                break
            except (FileNotFoundError, ConnectionRefusedError):
                await asyncio.sleep(0.05)
        else:
            raise RuntimeError(f"the replay host did not listen at {sock}")
        async with common.lsp(
            f"unix:{sock}", encoding=types.PositionEncodingKind.Utf32, env=env
        ) as client:
            bench = Bench(client, script, costs)
            by_file: dict[str, list[Hole]] = defaultdict(list)
            for hole in holes:
                by_file[hole.path].append(hole)
            for path, file_holes in by_file.items():
                await bench.run_file(path, sorted(file_holes, key=lambda h: h.start), results)
        await script.close()
    finally:
        host.terminate()
        await host.wait()


async def run(
    languages: list[str],
    kinds: list[str],
    per_cell: int,
    seed: int,
    jobs: int = 2,
    costs: list[dict[str, Any]] | None = None,
) -> Results:
    """Sample the holes, then run them through `jobs` servers side by side (by file)."""
    holes: list[Hole] = []
    for language in languages:
        projects = [
            corpus.source_files(p) for p in corpus.SHAPING_PROJECTS if p.language == language
        ]
        for kind, found in sample(language, projects, per_cell, seed).items():
            if kind in kinds:
                holes.extend(found)
    paths = sorted({h.path for h in holes})
    shares: list[list[Hole]] = [[] for _ in range(max(1, jobs))]
    for index, path in enumerate(paths):
        shares[index % len(shares)].extend(h for h in holes if h.path == path)
    results = Results()
    with tempfile.TemporaryDirectory(prefix="tdm-bench-") as tmp:
        await asyncio.gather(
            *(
                _worker(share, results, Path(tmp), f"w{i}", costs)
                for i, share in enumerate(shares)
                if share
            )
        )
    return results


def table(results: Results, languages: list[str], kinds: list[str]) -> str:
    """Exact match per language x kind, Tandem and the heuristic, every style."""
    head = "| language | kind | holes | " + " | ".join(
        f"{style}: tandem | heuristic" for style in STYLES
    )
    rows = [head + " |", "|" + "---|" * (3 + 2 * len(STYLES))]
    for language in languages:
        for kind in kinds:
            n = results.total[(language, kind, STYLES[0])]
            if not n:
                continue
            cells = []
            for style in STYLES:
                ours = results.rate(TANDEM, style, language, kind)
                theirs = results.rate(HEURISTIC, style, language, kind)
                mark = " !" if ours < CELL_TARGET or ours < theirs else ""
                cells += [f"{ours:6.1f}%{mark}", f"{theirs:6.1f}%"]
            rows.append(f"| {language} | {kind} | {n} | " + " | ".join(cells) + " |")
    overall = [
        f"{results.rate(who, style):6.2f}%" for style in STYLES for who in (TANDEM, HEURISTIC)
    ]
    holes = sum(results.total[c] for c in results.total if c[2] == STYLES[0])
    rows.append(f"| **all** | | {holes} | " + " | ".join(overall) + " |")
    return "\n".join(rows)


def targets(results: Results) -> list[str]:
    """The bar shaping must clear: >= 99.9% overall per style, no cell under 99.5% or under
    the heuristic."""
    problems = []
    for style in STYLES:
        if results.rate(TANDEM, style) < OVERALL_TARGET:
            problems.append(
                f"{style}: {results.rate(TANDEM, style):.2f}% overall < {OVERALL_TARGET}%"
            )
    for language, kind, style in results.total:
        ours = results.rate(TANDEM, style, language, kind)
        theirs = results.rate(HEURISTIC, style, language, kind)
        if ours < CELL_TARGET or ours < theirs:
            problems.append(f"{language} {kind} {style}: {ours:.1f}% (heuristic {theirs:.1f}%)")
    return problems


def worst_misses(results: Results, count: int) -> list[str]:
    """`count` misses, from the worst cells first, each with the text wanted and got."""
    cells = sorted(results.misses, key=lambda c: results.rate(TANDEM, c[2], c[0], c[1]))
    out: list[str] = []
    depth = 0
    while len(out) < count and any(len(results.misses[c]) > depth for c in cells):
        for cell in cells:
            if depth < len(results.misses[cell]) and len(out) < count:
                hole, got = results.misses[cell][depth]
                out.append(
                    f"--- miss {' '.join(cell)} {hole.path}:{hole.start}\n"
                    f"want {hole.answer[:300]!r}\ngot  {(got or '')[:300]!r}"
                )
        depth += 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-cell", type=int, default=100, help="holes per language x kind")
    parser.add_argument("--languages", default=",".join(corpus.LANGUAGES))
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show-misses", type=int, default=10, help="print the N worst misses")
    parser.add_argument("--jobs", type=int, default=2, help="servers run side by side")
    args = parser.parse_args(argv)
    languages, kinds = args.languages.split(","), args.kinds.split(",")
    started = time.perf_counter()
    results = asyncio.run(run(languages, kinds, args.per_cell, args.seed, args.jobs))
    took = time.perf_counter() - started
    print(
        f"shaping benchmark: {args.per_cell} holes per cell, seed {args.seed}, "
        f"{args.jobs} servers, {took:.0f} s"
    )
    print(table(results, languages, kinds))
    for miss in worst_misses(results, args.show_misses):
        print("\n" + miss)
    problems = targets(results)
    for problem in problems:
        print("below target:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
