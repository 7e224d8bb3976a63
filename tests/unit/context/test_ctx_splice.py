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
    assert last.end_byte == PY.index("def f3") + len(FUNCS[3].rstrip())  # the cursor's
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


def test_a_candidate_checked_again_is_not_parsed_again() -> None:
    """A cut of the candidate and the whole candidate, checked in turn (as a line suggestion
    is): a tree parsed once is handed back again, and each is the tree a fresh splice of
    that candidate gives."""
    spec = spec_for_language_id("python")
    assert spec is not None
    offset = PY.index("x * b", PY.index("def f4"))
    prefix, after = PY[:offset], PY[offset:]
    spliced = splice.Splice(spec.ts_language(), prefix, after)
    trees = {}
    for candidate in (b"(a", b"(a + 1", b"(a", b"(a + 1) ", b"(a", b"(a + 1"):
        tree = spliced.parse(candidate)
        assert trees.setdefault(candidate, tree) is tree
        assert spliced.source == (prefix + candidate.decode() + after).encode()
        fresh = splice.Splice(spec.ts_language(), prefix, after).parse(candidate)
        assert str(tree.root_node) == str(fresh.root_node)
    assert len(trees) == 3


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


JS_FUNCS = [
    f"  function f{n}(a, b) {{\n    const x = a + {n};\n    return x * b;\n  }}\n"
    for n in range(400)
]
JS = "(function () {\n" + "".join(JS_FUNCS) + "})();\n"


def test_inside_a_big_wrapper_the_window_starts_at_the_statement_before_the_cursors() -> None:
    spec = spec_for_language_id("javascript")
    assert spec is not None
    root = Parser(spec.ts_language()).parse(JS.encode()).root_node
    cursor = JS.index("return x * b", JS.index("function f200"))
    assert len(root.children) == 1  # one top-level statement: the whole file
    span = splice.window(root, cursor, inner=True)
    assert span is not None
    first, _ = span
    assert first.start_byte == JS.index("function f199")
    assert splice.window(root, cursor) is not None
    assert splice.window(root, cursor)[0].start_byte == 0  # type: ignore[index]
    # Between the wrapper's statements the container is the wrapper's body: no inner start.
    between = JS.index("  function f201")
    assert splice.inner_start(root, between, between) is None


@pytest.mark.parametrize(
    ("at", "raw"),
    [
        ("return x * b;\n  }\n  function f201", "return x * b;\n  }\n  function f201(a, b) {\n"),
        ("a + 200;", "a + 200 + g(b;"),
    ],
)
def test_shaping_from_inside_a_big_wrapper_equals_shaping_the_whole_file(
    at: str, raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = spec_for_language_id("javascript")
    offset = JS.index(at)
    cut = len(at.partition("\n")[0]) if "\n" not in raw else len("return x * b;")
    prefix, suffix = JS[:offset], JS[offset + cut :]
    text = prefix + suffix
    mode = detect_mode(text, offset, syntax=DocumentSyntax.create(text, spec), lang=spec)

    def shaped() -> str | None:
        return shape_suggestion(raw, mode=mode, prefix=prefix, suffix=suffix, lang=spec)

    windowed = shaped()
    monkeypatch.setattr(splice, "WINDOWED", False)
    assert windowed == shaped()
    assert windowed
