"""Walking tree-sitter trees for the shaping rules: leaves and children in a byte range,
errors, comments, and line geometry in bytes (tree-sitter counts UTF-8 bytes)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

ROOTS = frozenset({"module", "program", "source_file", "translation_unit", "chunk"})


@dataclass(frozen=True)
class Cut:
    """A rule's answer: where the suggestion ends and whether more text could move it."""

    at: int  # byte offset in the spliced document where the suggestion ends
    decided: bool  # no continuation of the candidate can move this cut


def leaves(node: Node, start: int, end: int) -> Iterator[Node]:
    """The leaves of `node` that start in [start, end), in order (MISSING ones included)."""
    for child in node.children:
        if child.start_byte >= end:
            break
        if child.end_byte < start or (
            child.end_byte == start and child.end_byte > child.start_byte
        ):
            continue
        if child.child_count == 0:
            if child.start_byte >= start:
                yield child
        else:
            yield from leaves(child, start, end)


def leaves_in(root: Node, start: int, end: int) -> Iterator[Node]:
    """The leaves of the tree that start in [start, end), walked from the smallest node
    covering the range (a big file's top level is never listed)."""
    node = root.descendant_for_byte_range(start, max(start, end - 1)) or root
    while node.parent is not None and (node.start_byte > start or node.end_byte < end):
        node = node.parent
    if node.child_count == 0:
        if start <= node.start_byte < end or node.is_missing:
            yield node
        return
    yield from leaves(node, start, end)


def children_from(node: Node, offset: int) -> Iterator[Node]:
    """The children of `node` that end after `offset` (or start at it), in order.

    A binary search over child indices: a big file's top level is never listed whole.
    (tree-sitter's own `first_child_for_byte` crashes in py-tree-sitter 0.26 when no child
    qualifies.)"""
    low, high = 0, node.child_count
    while low < high:
        middle = (low + high) // 2
        child = node.child(middle)
        assert child is not None
        if child.end_byte <= offset and child.end_byte > child.start_byte:
            low = middle + 1
        else:
            high = middle
    for index in range(low, node.child_count):
        child = node.child(index)
        assert child is not None
        yield child


def has_errors(root: Node, start: int, end: int) -> bool:
    """Whether an ERROR or MISSING node lies in [start, end): then a token there may be read
    differently once more text arrives (an unterminated string swallows a `)`)."""
    if end <= start:
        return False
    node = root.descendant_for_byte_range(start, end - 1) or root
    while node.parent is not None and (node.start_byte > start or node.end_byte < end):
        node = node.parent
    outer: Node | None = node
    while outer is not None:  # the range may sit inside an ERROR as one re-lexed token
        if outer.is_error:
            return True
        outer = outer.parent
    return _errors_under(node, start, end)


def _errors_under(node: Node, start: int, end: int) -> bool:
    if not node.has_error:
        return False
    if node.is_error or node.is_missing:
        return (node.end_byte > start and node.start_byte < end) or node.start_byte == start
    for child in node.children:
        if child.start_byte >= end:
            break
        if child.end_byte < start:
            continue
        if _errors_under(child, start, end):
            return True
    return False


def count_errors(root: Node, start: int, end: int) -> int:
    """ERROR and MISSING nodes overlapping [start, end)."""
    count = 0
    stack = [root]
    while stack:
        node = stack.pop()
        if not node.has_error or node.end_byte < start or node.start_byte > end:
            continue
        if node.is_error or node.is_missing:
            count += 1
        stack.extend(node.children)
    return count


def is_punctuation(node: Node) -> bool:
    return not any(char.isalnum() or char == "_" for char in node.type)


def children_before(node: Node, offset: int) -> Iterator[Node]:
    """The children of `node` that start before `offset`, last first (a binary search, as
    in `children_from`: a big file's top level is never listed whole)."""
    low, high = 0, node.child_count
    while low < high:
        middle = (low + high) // 2
        child = node.child(middle)
        assert child is not None
        if child.start_byte < offset:
            low = middle + 1
        else:
            high = middle
    for index in range(low - 1, -1, -1):
        child = node.child(index)
        assert child is not None
        yield child


def last_leaf_before(root: Node, offset: int) -> Node | None:
    """The last leaf ending at or before `offset` that is code: not a comment, not MISSING."""
    for child in children_before(root, offset):
        if child.is_missing or is_comment(child):
            continue
        if child.child_count == 0:
            if child.end_byte <= offset:
                return child
            continue
        found = last_leaf_before(child, offset)
        if found is not None:
            return found
    return None


def first_leaf(node: Node) -> Node:
    while node.child_count:
        child = node.child(0)
        assert child is not None
        node = child
    return node


def next_token(root: Node, start: int, end: int) -> Node | None:
    """The first real (non-extra, non-missing) leaf in [start, end)."""
    for leaf in leaves_in(root, start, end):
        if not is_comment(leaf) and not leaf.is_missing and not inside_comment(leaf):
            return leaf
    return None


def inside_comment(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if is_comment(parent):
            return True
        parent = parent.parent
    return False


def is_comment(node: Node) -> bool:
    """Extras are comments (and, in some grammars, ERROR nodes: those are code)."""
    return node.is_extra and not node.is_error


def root_of(node: Node) -> Node:
    while node.parent is not None:
        node = node.parent
    return node


def line_start(source: bytes, offset: int) -> int:
    return source.rfind(b"\n", 0, offset) + 1


def starts_line(source: bytes, offset: int) -> bool:
    """Whether only whitespace precedes `offset` on its line."""
    return not source[line_start(source, offset) : offset].strip(b" \t")


def leading_width(source: bytes, offset: int) -> int:
    """Indentation width of the line holding `offset` (a tab counts 4)."""
    start = end = line_start(source, offset)
    while end < len(source) and source[end] in (32, 9):
        end += 1
    return sum(4 if char == 9 else 1 for char in source[start:end])
