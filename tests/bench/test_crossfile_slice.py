"""A slice of the cross-file benchmark, run with every test run (the full run is in
docs/benchmarks.md): three packages of the corpus in three languages, a few holes each,
through the real `tandem-lsp`, against BM25 chunks and neighbouring tabs in the same rooms."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.bench.crossfile import runner
from tests.bench.crossfile.report import rate, recall_table
from tests.bench.shaping import corpus

pytestmark = pytest.mark.timeout(300)

SLICE = ("requests", "golang-github-pkg-errors-dev", "lua-penlight")
HOLES = 8
# What the slice must reach: a floor under the full benchmark's bar (90% at +25%, 95% at
# 4,096 characters, 80% per language), which a few holes cannot resolve finely.
FLOOR = {"25%": 75.0, "4096": 85.0}


def test_crossfile_slice(tmp_path: Path) -> None:
    projects = [p for p in corpus.PROJECTS if p.name in SLICE]
    missing = [p.key for p in projects if not (corpus.CACHE / p.key / ".complete").exists()]
    if missing:
        pytest.skip(f"the corpus is not fetched (python -m tests.bench.shaping.corpus): {missing}")
    languages = list(dict.fromkeys(p.language for p in projects))
    results = asyncio.run(runner.run(tmp_path, languages, list(SLICE), HOLES, seed=1))
    for condition in runner.CONDITIONS:
        print(recall_table(results, condition, languages))
    assert {p.key for p in results.packages} == {p.key for p in projects}
    assert all(p.index_ready for p in results.packages), results.packages
    for condition, floor in FLOOR.items():
        cases = [c for c in results.cases if c.condition == condition]
        assert len(cases) == HOLES * len(projects)
        assert all(c.requested for c in cases)
        ours = rate(cases, "tandem")
        assert ours >= floor, (condition, ours)
        for peer in ("bm25", "tabs"):
            assert ours > rate(cases, peer), (condition, peer, ours, rate(cases, peer))
        # Tandem stays in the room the peers get (its header is budgeted in tokens).
        assert rate(cases, "tandem-in-room") >= ours - 10.0, condition
    assert rate([c for c in results.cases if c.condition == "4096"], "oracle") == 100.0
