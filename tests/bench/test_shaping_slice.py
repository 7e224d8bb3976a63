"""A small slice of the shaping benchmark, run with every test run (the full run is in
docs/benchmarks.md): real code from the registries, every language x kind, every style,
through the real `tandem-lsp`, against the indentation heuristic."""

from __future__ import annotations

import asyncio

import pytest

from tests.bench.bench_shaping import HEURISTIC, TANDEM, run, table
from tests.bench.shaping import corpus
from tests.bench.shaping.holes import IMPORT_LISTS, KINDS, STYLES

pytestmark = pytest.mark.timeout(900)


def test_shaping_slice() -> None:
    languages = list(corpus.LANGUAGES)
    results = asyncio.run(run(languages, list(KINDS), per_cell=3, seed=1))
    print(table(results, languages, list(KINDS)))
    # Every cell has its holes (import lists only where the language has them).
    cells = [
        (language, kind)
        for language in languages
        for kind in KINDS
        if kind != "import-line" or IMPORT_LISTS[language]
    ]
    empty = [cell for cell in cells if results.total[(*cell, STYLES[0])] < 3]
    assert len(empty) <= 1, empty
    for style in STYLES:
        ours, theirs = results.rate(TANDEM, style), results.rate(HEURISTIC, style)
        assert ours >= 99.0, (style, ours, results.misses)
        assert ours >= theirs, (style, ours, theirs)
