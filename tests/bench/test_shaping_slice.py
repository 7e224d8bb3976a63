"""A small slice of the shaping benchmark, run with every test run (the full run is in
docs/benchmarks.md): real code from the registries, every language x kind, both styles,
through the real `tandem-lsp`, against the indentation heuristic."""

from __future__ import annotations

import asyncio

import pytest

from tests.bench.bench_shaping import HEURISTIC, TANDEM, run, table
from tests.bench.shaping import corpus
from tests.bench.shaping.holes import KINDS, STYLES

pytestmark = pytest.mark.timeout(900)


def test_shaping_slice() -> None:
    languages = list(corpus.LANGUAGES)
    results = asyncio.run(run(languages, list(KINDS), per_cell=3, seed=1))
    print(table(results, languages, list(KINDS)))
    holes = sum(n for (_, _, style), n in results.total.items() if style == STYLES[0])
    assert holes >= len(languages) * len(KINDS) * 3 - 3  # every cell has its holes
    for style in STYLES:
        ours, theirs = results.rate(TANDEM, style), results.rate(HEURISTIC, style)
        assert ours >= 99.0, (style, ours, results.misses)
        assert ours >= theirs, (style, ours, theirs)
