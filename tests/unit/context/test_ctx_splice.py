"""The spliced parse's window: which part of a big file a streaming candidate re-parses, and
that shaping in the window gives what shaping the whole file gives."""

from __future__ import annotations

import pytest
from tree_sitter import Parser

from lsp_server.context import (
    DocumentSyntax,
    detect_mode,
    shape_suggestion,
    spec_for_language_id,
    splice,
)

FUNCS = [f"def f{n}(a, b):\n    x = a + {n}\n    return x * b\n\n\n" for n in range(8)]
PY = "".join(FUNCS)


def test_the_window_is_the_top_level_nodes_around_the_cursor() -> None:
    spec = spec_for_language_id("python")
    assert spec is not None
    root = Parser(spec.ts_language()).parse(PY.encode()).root_node
    cursor = PY.index("x = a + 3")
    span = splice.window(root, cursor)
    assert span is not None
    first, last = span
    assert first.start_byte == PY.index("def f2")  # one before the cursor's
    assert last.end_byte == PY.index("def f5") + len(FUNCS[5].rstrip())  # two after it
    # A file of one node, or a window that would hold everything: no window.
    one = Parser(spec.ts_language()).parse(FUNCS[0].encode()).root_node
    assert splice.window(one, FUNCS[0].index("x =")) is None


def test_far_text_after_the_cursor_ends_the_window_at_a_node_past_the_cursor() -> None:
    spec = spec_for_language_id("python")
    assert spec is not None
    body = "".join(f"    y{n} = {n}\n" for n in range(800))
    text = f"def big():\n{body}\n\ndef after():\n    pass\n"
    root = Parser(spec.ts_language()).parse(text.encode()).root_node
    cursor = text.index("y3 = 3")
    span = splice.window(root, cursor)
    assert span is not None
    _, last = span
    assert cursor + splice.AFTER_BYTES <= last.end_byte < len(text.encode())


CASES = [
    # (cursor at, raw answer): block and line suggestions in the middle of a big file.
    ("    x = a + 3\n", "    x = a + 3\n    return x * b\n\n\ndef g():\n    pass\n"),
    ("    return x * b\n\n\ndef f4", "    return x * b + 1\n"),
    ("a + 5\n", "a + 5 - (b\n"),
]


@pytest.mark.parametrize(("at", "raw"), CASES)
def test_shaping_in_the_window_equals_shaping_the_whole_file(
    at: str, raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = spec_for_language_id("python")
    offset = PY.index(at)
    prefix, suffix = PY[:offset], PY[offset + len(at) :]
    text = prefix + suffix
    mode = detect_mode(text, offset, syntax=DocumentSyntax.create(text, spec), lang=spec)

    def shaped() -> str | None:
        return shape_suggestion(raw, mode=mode, prefix=prefix, suffix=suffix, lang=spec)

    windowed = shaped()
    monkeypatch.setattr(splice, "WINDOWED", False)
    assert windowed == shaped()
    assert windowed
