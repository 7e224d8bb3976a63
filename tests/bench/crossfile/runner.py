"""The recall run: every package through the real `tandem-lsp`, and the baselines on the same holes.

Per package: its workspace is copied out (workspace.py), its holes drawn (holes.py), a fresh
`tandem-lsp` started on it and given time to index (`tandem/status` `crossFile.ready`, at most
`INDEX_WAIT_S`). Per file with holes, its neighbours are opened; per hole and room, the
settings are sent, the file is opened without the hole's code, an inline completion is asked
at the hole, and the recorded `complete` params are taken from the host.

The two rooms. **+25%**, in tokens (Code Llama's tokenizer, the host's): Tandem's header gets
`context.crossFile.share` 0.2 of a prompt budget (`completion.contextTokens`) of 1.25x the
document's tokens, no floor, i.e. a quarter of what the file itself may take; every other
method gets 25% of the tokens of the prefix and suffix the server sent, each item counted as
the host renders it (`model_host.text.header.render_header`: a `Path:` line, every line commented).
**4,096**, in characters: the header gets a floor of 1,365 tokens and no share, so `select`
may take 4,095 characters (its own measure, `len(path) + len(text) + 8` per snippet); every
other method gets 4,096 by that measure.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model_host.text.header import render_header
from tests.bench.shaping import corpus

from . import baselines as bl
from .driver import Editor, recording_host, taken
from .holes import Hole, neighbours, sample
from .package import Package
from .recall import delivered
from .record_host import token_counter
from .workspace import materialize, package_source

CONDITIONS = ("25%", "4096")
ROOM_TITLES = {
    "25%": "+25% of the file's own prompt (in tokens)",
    "4096": "4,096 characters",
}
FIXED_ROOM = 4096
HEADER_FLOOR_4096 = 1365  # tokens; `select` gets 3 characters per token: 4,095
INDEX_WAIT_S = 120.0
METHODS = ("tandem", "tandem-in-room", "bm25", "bm25-hit", "tabs", "tabs-wide", "oracle")


@dataclass
class Case:
    """One hole in one room: what each method delivered."""

    hole: Hole
    condition: str
    room: int  # what every other method may fill: tokens (+25%) or characters (4,096)
    tandem_used: int  # what Tandem's items take, in the same measure
    requested: bool  # the host received a `complete` for it
    items: list[bl.Item]  # what Tandem sent
    found: dict[str, list[bool]] = field(default_factory=dict)  # method -> per need
    need_costs: list[int] = field(default_factory=list)  # each needed signature line's own cost


@dataclass
class PackageRun:
    key: str
    language: str
    files: int
    holes: int
    index_ready: bool
    index_s: float
    index_stats: dict[str, Any]
    neighbours: dict[str, list[str]]
    closures: dict[str, list[str]]
    truth_s: float = 0.0  # parsing the package and drawing its holes (the benchmark's own work)
    seconds: float = 0.0  # the whole package, server start to stop


@dataclass
class Results:
    cases: list[Case] = field(default_factory=list)
    packages: list[PackageRun] = field(default_factory=list)


def _settings(condition: str, document_tokens: int) -> dict[str, Any]:
    if condition == "25%":
        budget = math.ceil(1.25 * document_tokens) + 8
        return {
            "completion": {"contextTokens": budget},
            "context": {"crossFile": {"share": 0.2, "minTokens": 0}},
        }
    return {
        "completion": {"contextTokens": 0},
        "context": {"crossFile": {"share": 0.0, "minTokens": HEADER_FLOOR_4096}},
    }


async def run(
    tmp: Path, languages: list[str], names: list[str], per_package: int, seed: int
) -> Results:
    results = Results()
    _, count = token_counter()
    async with recording_host(tmp) as (address, control):
        for project in corpus.PROJECTS:
            if project.language not in languages or (names and project.name not in names):
                continue
            started = time.perf_counter()
            source = package_source(project)
            root = materialize(source, tmp / "workspaces")
            package = Package.load(source.key, source.language, root, list(source.paths))
            holes = sample(package, per_package, seed)
            if not holes:
                continue
            truth_s = time.perf_counter() - started
            editor = Editor(address, root, _settings("4096", 0))
            await editor.start()
            try:
                ready, waited, stats = await editor.wait_index(INDEX_WAIT_S)
                run_info = PackageRun(
                    source.key,
                    source.language,
                    len(source.paths),
                    len(holes),
                    ready,
                    waited,
                    stats,
                    {},
                    {},
                )
                run_info.truth_s = truth_s
                results.packages.append(run_info)
                await _holes(editor, control, package, holes, count, results, run_info)
            finally:
                await editor.stop()
            run_info.seconds = time.perf_counter() - started
            await taken(control, drop=True)
    return results


async def _holes(
    editor: Editor,
    control: Any,
    package: Package,
    holes: list[Hole],
    count: Any,
    results: Results,
    run_info: PackageRun,
) -> None:
    by_file: dict[str, list[Hole]] = defaultdict(list)
    for hole in holes:
        by_file[hole.path].append(hole)
    texts = {p: f.text for p, f in package.files.items()}
    file_chunks = {p: bl.file_chunks(t) for p, t in texts.items()}
    for path, file_holes in by_file.items():
        near = neighbours(package, path)
        run_info.neighbours[path] = near
        run_info.closures[path] = package.closure(path)
        opened = [editor.open(package.root / p, texts[p], package.language) for p in near]
        chunks = bl.chunks_for(file_chunks, path)
        tabs = [(p, texts[p]) for p in near]
        for hole in file_holes:
            document = hole.document(texts[path])
            doc_tokens = count(document)
            prefix = document[: hole.start]
            after_hits, hits = bl.bm25(prefix, chunks)
            ranked = {
                "bm25": after_hits,
                "bm25-hit": hits,
                "tabs": bl.neighbour_tabs(prefix, tabs),
                "tabs-wide": bl.neighbour_tabs(
                    prefix, tabs, max_chars=100_000, top=16, per_file=4, max_files=200
                ),
                "oracle": bl.oracle(
                    [(n.definition.path, n.definition.signature) for n in hole.needs]
                ),
            }
            for condition in CONDITIONS:
                editor.configure(_settings(condition, doc_tokens))
                uri = editor.open(package.root / path, document, package.language)
                await editor.complete(uri, document, hole.start)
                requests = await taken(control)
                editor.close(uri)
                results.cases.append(_case(hole, condition, requests, ranked, count))
        for uri in opened:
            editor.close(uri)


def _case(
    hole: Hole,
    condition: str,
    requests: list[dict[str, Any]],
    ranked: dict[str, list[bl.Item]],
    count: Callable[[str], int],
) -> Case:
    sent = requests[-1] if requests else {}
    items = [(str(c.get("path", "")), str(c.get("text", ""))) for c in sent.get("context") or []]
    measure: Callable[[bl.Item], int] = bl.cost
    room = FIXED_ROOM
    if condition == "25%":

        def measure(item: bl.Item) -> int:
            return count(render_header([item], hole.language))

        room = int(
            0.25 * (count(str(sent.get("prefix") or "")) + count(str(sent.get("suffix") or "")))
        )
    used = (
        count(render_header(items, hole.language))
        if condition == "25%"
        else sum(map(bl.cost, items))
    )
    case = Case(hole, condition, room, used, bool(requests), items)
    needs = hole.needs
    case.need_costs = [measure((n.definition.path, n.definition.signature.strip())) for n in needs]
    case.found["tandem"] = delivered(needs, items)
    case.found["tandem-in-room"] = delivered(needs, bl.pack(items, room, measure))
    for method, found in ranked.items():
        case.found[method] = delivered(needs, bl.pack(found, room, measure))
    return case
