"""DocumentSyntax: byte/point edit math, incremental reparses, equality with fresh parses."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tree_sitter import Node, Parser, Tree

from lsp_server.context import DocumentSyntax, compute_edit, spec_for_language_id
from lsp_server.context.languages import JAVASCRIPT, LUA, PYTHON, LanguageSpec


def _dump(node: Node) -> list[tuple[str, int, int]]:
    """Every node with its byte range: a tree equality that also checks positions."""
    out = [(node.type, node.start_byte, node.end_byte)]
    for child in node.children:
        out.extend(_dump(child))
    return out


def _fresh(syntax: DocumentSyntax) -> DocumentSyntax:
    fresh = DocumentSyntax.create(syntax.text, syntax.spec)
    assert fresh is not None
    return fresh


def test_compute_edit_counts_utf8_bytes_and_byte_columns() -> None:
    old = "a = 1\n# 日本 😀 x\nz"
    start = old.index("x")
    edit = compute_edit(old, start, start + 1, "é\n🎉y")
    # Line 1 before "x": "# " (2) + "日本" (6) + " " (1) + "😀" (4) + " " (1) = 14 bytes.
    assert edit.start_point == (1, 14)
    assert edit.start_byte == len(old[:start].encode())
    assert edit.old_end_byte == edit.start_byte + 1
    assert edit.new_end_byte == edit.start_byte + len("é\n🎉y".encode())
    assert edit.old_end_point == (1, 15)
    assert edit.new_end_point == (2, len("🎉y".encode()))


def test_compute_edit_rejects_ranges_outside_the_text() -> None:
    with pytest.raises(ValueError):
        compute_edit("abc", 2, 5, "")


def test_unknown_language_has_no_syntax() -> None:
    assert DocumentSyntax.create("anything", None) is None
    assert DocumentSyntax.create("anything", spec_for_language_id("ruby")) is None


def test_apply_change_with_emoji_and_cjk_matches_a_fresh_parse() -> None:
    text = 'def greet(name):\n    return "héllo 😀 " + name  # 日本語\n\nx = greet("世界")\n'
    syntax = DocumentSyntax.create(text, PYTHON)
    assert syntax is not None
    start = text.index("name  #")
    syntax.apply_change(start, start + 4, "name.upper() + '🎉'")
    end_of_file = len(syntax.text)
    syntax.apply_change(end_of_file, end_of_file, "def 関数(a):\n    return a\n")
    assert "'🎉'" in syntax.text and syntax.text.endswith("return a\n")
    assert not syntax.root.has_error
    assert _dump(syntax.root) == _dump(_fresh(syntax).root)


class _SpyParser:
    """Wraps a real parser and records the old tree each parse was given."""

    def __init__(self, parser: Parser) -> None:
        self.parser = parser
        self.old_trees: list[Tree | None] = []

    def parse(self, source: bytes, old_tree: Tree | None = None) -> Tree:
        self.old_trees.append(old_tree)
        if old_tree is None:
            return self.parser.parse(source)
        return self.parser.parse(source, old_tree)


def test_each_change_reparses_with_the_previous_tree() -> None:
    language = PYTHON.ts_language()
    assert language is not None
    spy = _SpyParser(Parser(language))
    parser: Any = spy
    syntax = DocumentSyntax("def f(a):\n    return a\n", PYTHON, parser)
    trees = [syntax.tree]
    for _ in range(3):
        at = syntax.text.index("return a") + len("return a")
        syntax.apply_change(at, at, " + 1")
        trees.append(syntax.tree)
    assert spy.old_trees[0] is None  # the one full parse, at open
    assert spy.old_trees[1:] == trees[:-1]
    assert (syntax.full_parses, syntax.incremental_parses) == (1, 3)
    assert syntax.text == "def f(a):\n    return a + 1 + 1 + 1\n"


def test_changed_ranges_stay_near_the_edit_in_a_large_file() -> None:
    text = "".join(f"def f{i}(a):\n    return a + {i}\n\n" for i in range(2000))
    syntax = DocumentSyntax.create(text, PYTHON)
    assert syntax is not None
    at = text.index("return a + 1000")
    syntax.apply_change(at, at, "if a:\n        pass\n    ")
    changed = syntax.changed_ranges()
    assert changed, "a new statement changes the structure"
    edit_row = text.count("\n", 0, at)
    for changed_range in changed:
        assert edit_row - 3 <= changed_range.start_point.row
        assert changed_range.end_point.row <= edit_row + 4
    assert _dump(syntax.root) == _dump(_fresh(syntax).root)


def test_replace_is_the_full_parse_path() -> None:
    syntax = DocumentSyntax.create("local x = 1\n", LUA)
    assert syntax is not None
    syntax.replace("local y = 2\nreturn y\n")
    assert syntax.full_parses == 2 and syntax.changed_ranges() == []
    assert _dump(syntax.root) == _dump(_fresh(syntax).root)


def test_inside_string_or_comment() -> None:
    text = 'x = "a: b"  # note: {\ny = 1\n'
    syntax = DocumentSyntax.create(text, PYTHON)
    assert syntax is not None
    assert syntax.inside_string_or_comment(text.index(": b"))
    assert syntax.inside_string_or_comment(text.index("{"))
    assert not syntax.inside_string_or_comment(text.index("y"))


_SOURCES: dict[str, tuple[LanguageSpec, str]] = {
    "python": (
        PYTHON,
        'import os\n\ndef f(a, b):\n    """Doc 😀."""\n    if a:\n        return b  # 日本\n'
        "    return [a, b]\n\nclass C:\n    x = 1\n",
    ),
    "javascript": (
        JAVASCRIPT,
        'import a from "a";\nfunction f(x) {\n  if (x) { return `t${x}`; }\n  return 1; // 😀\n}\n'
        "class C { m() { return 2; } }\n",
    ),
    "lua": (
        LUA,
        'local M = {}\nfunction M.f(a)\n  if a then return "😀" end\n  return 2\nend\nreturn M\n',
    ),
}
_FRAGMENTS = st.lists(
    st.sampled_from(
        ["a", " ", "\n", "(", ")", "{", "}", ":", '"', "#", "def ", "if ", "end", "😀", "日本", "é"]
    ),
    max_size=3,
).map("".join)


@st.composite
def _edits(draw: st.DrawFn) -> tuple[str, list[tuple[float, int, str]]]:
    language = draw(st.sampled_from(sorted(_SOURCES)))
    edits = draw(
        st.lists(
            st.tuples(st.floats(0, 1), st.integers(0, 6), _FRAGMENTS),
            min_size=1,
            max_size=8,
        )
    )
    return language, edits


@settings(
    max_examples=150,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the checkout
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_edits())
def test_random_edits_keep_the_tree_equal_to_a_fresh_parse(
    case: tuple[str, list[tuple[float, int, str]]],
) -> None:
    """After every edit the incremental tree equals a full reparse.

    On broken text tree-sitter's error recovery may legitimately pick another repair when it
    reparses incrementally, so trees are compared exactly whenever the fresh parse is
    error-free; and undoing every edit, which restores valid code, must give back exactly
    the original tree.
    """
    language, edits = case
    spec, original = _SOURCES[language]
    syntax = DocumentSyntax.create(original, spec)
    assert syntax is not None
    undo: list[tuple[int, int, str]] = []
    for where, length, fragment in edits:
        text = syntax.text
        start = round(where * len(text))
        end = min(len(text), start + length)
        undo.append((start, start + len(fragment), text[start:end]))
        syntax.apply_change(start, end, fragment)
        assert syntax.text == text[:start] + fragment + text[end:]
        assert syntax.root.end_byte == len(syntax.text.encode())
        fresh = _fresh(syntax)
        if not fresh.root.has_error:
            assert _dump(syntax.root) == _dump(fresh.root)
    for start, end, old in reversed(undo):
        syntax.apply_change(start, end, old)
    assert syntax.text == original
    assert syntax.sexp() == _fresh(syntax).sexp()
    assert _dump(syntax.root) == _dump(_fresh(syntax).root)
    assert syntax.full_parses == 1
