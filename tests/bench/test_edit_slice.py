"""A small slice of the edit extraction benchmark, run with every test run (the full run is in
docs/benchmarks.md): selections of real code, every answer shape, the server's extraction and
line diff against the naive first-fenced-block rule."""

from __future__ import annotations

import pytest

from tests.bench.bench_edit import SHAPES, make_cases, naive, tandem


def test_edit_extraction_slice() -> None:
    cases = make_cases(per_language=2, per_file=2, seed=1)
    assert len({c.language for c in cases}) >= 3 and len(cases) >= 10
    ours = theirs = answers = 0
    misses = []
    for case in cases:
        for name, shape in SHAPES.items():
            answer = shape(case)
            if answer is None:
                continue
            answers += 1
            got = tandem(case, answer)
            ours += got == case.intended
            theirs += naive(case, answer) == case.intended
            if got != case.intended:
                misses.append((name, case.language))
    assert ours / answers >= 0.97, misses
    assert ours > theirs


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_is_recovered_on_a_plain_case(shape: str) -> None:
    """One nested Python selection, answered in every shape, gives the intended rewrite."""
    from tests.bench.bench_edit import Case, rewrite_of

    text = "def f(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n\n\nf([])\n"
    start, end = text.index("    total = 0"), text.index("    return total")
    lines = text[start:end].splitlines(keepends=True)
    case = Case("python", text, start, end, rewrite_of(lines, "python", "\n"))
    answer = SHAPES[shape](case)
    if answer is not None:
        assert tandem(case, answer) == case.intended
