"""Tree-sitter grammars and tree walks for the benchmark's own ground truth.

Deliberately independent of `lsp_server`: the benchmark must not grade the product with the
product's own code, so it loads the grammars itself and keeps its own rules.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable, Iterator

from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree

GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "c": ("tree_sitter_c", "language"),
    "lua": ("tree_sitter_lua", "language"),
}
EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".go": "go",
    ".rs": "rust",
    ".c": "c",
    ".lua": "lua",
}


@functools.cache
def _language_ptr(language: str) -> object:
    module, function = GRAMMARS[language]
    return getattr(importlib.import_module(module), function)()


@functools.cache
def _parser(language: str) -> Parser:
    return Parser(Language(_language_ptr(language)))


def parse(language: str, text: str) -> Tree:
    return _parser(language).parse(text.encode("utf-8"))


def text_of(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def walk(node: Node) -> Iterator[Node]:
    """Every node under `node` (itself included), depth first, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def leaves(node: Node) -> Iterator[Node]:
    """The leaves under `node`, in source order (a tree cursor: far cheaper than `walk`)."""
    cursor = node.walk()
    depth = 0
    while True:
        if cursor.goto_first_child():
            depth += 1
            continue
        yield cursor.node  # type: ignore[misc]
        if depth == 0:
            return
        while not cursor.goto_next_sibling():
            if depth == 0 or not cursor.goto_parent():
                return
            depth -= 1
            if depth == 0:
                return


def matches(language: str, node: Node, kinds: Iterable[str]) -> list[Node]:
    """Every node of one of `kinds` under `node` (kinds the grammar lacks are ignored)."""
    query = _query(language, tuple(sorted(kinds)))
    if query is None:
        return []
    return list(QueryCursor(query).captures(node).get("n", []))


def nodes(root: Node, language: str, kinds: Iterable[str]) -> list[Node]:
    """`matches`, in source order."""
    return sorted(matches(language, root, kinds), key=lambda n: (n.start_byte, -n.end_byte))


@functools.cache
def _query(language: str, kinds: tuple[str, ...]) -> Query | None:
    lang = Language(_language_ptr(language))
    known = [k for k in kinds if lang.id_for_node_kind(k, True)]
    if not known:
        return None
    return Query(lang, "[" + " ".join(f"({k})" for k in known) + "] @n")


def field(node: Node, name: str) -> Node | None:
    return node.child_by_field_name(name)


def fields(node: Node, name: str) -> list[Node]:
    return list(node.children_by_field_name(name))


def string_value(node: Node | None) -> str:
    """The contents of a string literal node, without quotes."""
    if node is None:
        return ""
    raw = text_of(node)
    for quote in ('"""', "'''", '"', "'", "`", "[["):
        if raw.startswith(quote) and len(raw) >= 2 * len(quote):
            close = "]]" if quote == "[[" else quote
            if raw.endswith(close):
                return raw[len(quote) : len(raw) - len(close)]
    return raw


def split_words(text: str) -> list[str]:
    """A word list written as one string (long keyword lists stay readable)."""
    return text.split()
