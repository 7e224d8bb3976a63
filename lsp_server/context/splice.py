"""The document parsed with a model's candidate spliced in at the cursor, re-parsed incrementally.

Shaping asks the syntax tree where a suggestion ends, so every candidate (and, while a
suggestion streams, every longer version of it) is parsed in place: prefix + candidate +
the text after the cursor. Parsing starts from the document's own tree and edits it, so a
keystroke-sized change costs a re-parse of the changed region, not of the file.

A candidate still being written leaves brackets open, so each re-parse runs on to the end
of the file in an unbalanced state. In a big file only a window is parsed (tree-sitter's
included ranges, so byte offsets stay the document's): from the top-level node before the
one at the cursor to the end of the first node after the cursor, as deep in the tree as
one is, that reaches a few KiB past it (or the end of the top-level node holding the
cursor). In brace languages a window inside a node of more than BIG_BYTES starts at the
statement before the cursor's in it. Both ends are node boundaries, so the code at the
cursor parses as it does in the whole file. The last few candidates' trees are kept: a
candidate checked again is not parsed again.
"""

from __future__ import annotations

import os
from collections import OrderedDict

from tree_sitter import Language, Node, Parser, Point, Range, Tree

from . import cuts
from .text import encode_utf8

# Top-level nodes kept before the one at the cursor; after the cursor, the window ends
# with the first node past the hole, at the deepest level that has one, that reaches this
# far past it, or with the top-level node that holds the hole, whichever comes first.
WINDOW_BEFORE, WINDOW_AFTER, AFTER_BYTES = 1, 0, 4096
# In a brace language, a node this big around the cursor (a file wrapped in one function, a
# huge class) holds the window's start too: from the statement before the cursor's in it.
BIG_BYTES = 16384
# Candidates whose trees a Splice keeps (each shares most of its nodes with the others).
KEPT_TREES = 8
# Benchmarks compare against parsing the whole file (`TANDEM_SHAPING_FAST=0`).
WINDOWED = os.environ.get("TANDEM_SHAPING_FAST", "1") != "0"


def window(
    root: Node, cursor: int, removed: int = 0, *, inner: bool = False
) -> tuple[Node, Node] | None:
    """The node the window starts with and the one it ends with, around `cursor` (a hole
    of `removed` bytes after it), or None when the window would hold the whole file.
    `inner`: the window may start inside a big node (`inner_start`)."""
    children = root.children
    if not children:
        return None
    hole_end = cursor + removed
    at = 0  # the first top-level node that ends past the hole (or the last one)
    while at < len(children) - 1 and children[at].end_byte < max(hole_end, cursor + 1):
        at += 1
    first = children[max(0, at - WINDOW_BEFORE - (children[at].start_byte >= cursor))]
    last = children[min(len(children) - 1, at + WINDOW_AFTER)]
    node = root.descendant_for_byte_range(hole_end, hole_end)
    while node is not None and node != root:
        # The first node from here on at this level that reaches far enough.
        end: Node | None = node
        while end is not None and end.end_byte < hole_end + AFTER_BYTES:
            end = end.next_sibling
        if end is not None:
            if end.end_byte < last.end_byte:
                last = end
            break
        node = node.parent
    if first.start_byte > cursor or last.end_byte < hole_end:
        return None  # the cursor lies outside every node (blank lines at the file's end)
    start = inner_start(root, cursor, hole_end) if inner else None
    if start is not None and start.start_byte > first.start_byte:
        first = start
    if first.start_byte == children[0].start_byte and last.end_byte >= children[-1].end_byte:
        return None
    return first, last


def inner_start(root: Node, cursor: int, hole_end: int) -> Node | None:
    """Where the window starts inside the deepest node bigger than BIG_BYTES around the
    cursor: at the child before the one holding the cursor. Only where the cursor lies inside
    that child and so does the container it fills (`cuts.container`), so the nodes the cuts
    read parse as in the whole file; braces end every statement, so the child parses alone as
    it does in place (indentation would not: hence brace languages only)."""
    big = root.descendant_for_byte_range(cursor, hole_end)
    while big is not None and big != root and big.end_byte - big.start_byte <= BIG_BYTES:
        big = big.parent
    if big is None or big == root:
        return None
    child = next((c for c in big.children if c.start_byte < cursor and hole_end < c.end_byte), None)
    if child is None:
        return None
    box = cuts.container(root, cursor, cursor)
    if box is None or box.start_byte < child.start_byte or box.end_byte > child.end_byte:
        return None
    before = child.prev_sibling
    return before if before is not None else child


def _point_after(base: tuple[int, int], data: bytes) -> tuple[int, int]:
    """The (row, byte column) reached by writing `data` at point `base`."""
    rows = data.count(b"\n")
    if rows:
        return base[0] + rows, len(data) - data.rfind(b"\n") - 1
    return base[0], base[1] + len(data)


class Splice:
    """Parses `prefix + candidate + after` for growing candidates.

    `after` is the document text that stays after the candidate: the whole suffix for a
    block suggestion, the suffix without the rest of the cursor line for a line suggestion
    (the candidate takes that line's place). Byte offsets are UTF-8, as tree-sitter counts.
    """

    def __init__(
        self,
        language: Language,
        prefix: str,
        after: str,
        *,
        doc_tree: Tree | None = None,
        doc_removed: int = 0,
        inner: bool = False,
    ) -> None:
        """`doc_tree`, if given, is the tree of prefix + `doc_removed` bytes + `after`: the
        document as it is. It is edited, never re-parsed from scratch. `inner`: a brace
        language, whose window may start inside a big node (`inner_start`)."""
        self.parser = Parser(language)
        self.prefix = encode_utf8(prefix)
        self.after = encode_utf8(after)
        self.cursor = len(self.prefix)
        self._cursor_point = _point_after((0, 0), self.prefix)
        if doc_tree is None:
            doc_tree = self.parser.parse(self.prefix + self.after)
            doc_removed = 0
        self._doc_tree = doc_tree
        self._doc_removed = doc_removed
        self._candidate = b""
        self._tree: Tree | None = None
        # The last few candidates' trees: a cut of the candidate and the whole candidate are
        # often checked in turn, and each tree is then parsed once.
        self._trees: OrderedDict[bytes, Tree] = OrderedDict()
        self.source = b""  # what the last tree was parsed from
        # The window's start in the document, and its end as bytes and a point counted
        # from the end of the removed bytes (both stay put as the candidate grows).
        self._window: tuple[Range, int, tuple[int, int]] | None = None
        span = (
            window(doc_tree.root_node, self.cursor, doc_removed, inner=inner) if WINDOWED else None
        )
        if span is not None:
            first, last = span
            start = Range(first.start_point, first.start_point, first.start_byte, first.start_byte)
            end = self.cursor + doc_removed
            tail = (last.end_point.row - self._cursor_point[0], last.end_point.column)
            if tail[0] == 0:
                tail = (0, last.end_point.column - self._removed_end_point()[1])
            self._window = (start, last.end_byte - end, tail)

    @property
    def doc_tree(self) -> Tree:
        return self._doc_tree

    def parse(self, candidate: bytes) -> Tree:
        """The tree of prefix + candidate + after (of its window only, in a big file)."""
        tree = self._trees.get(candidate)
        if tree is not None:
            self._trees.move_to_end(candidate)
            self._candidate, self._tree = candidate, tree
            self.source = self.prefix + candidate + self.after
            return tree
        grown = self._grown_from(candidate)
        if grown is not None:
            # An insertion at the end of a candidate parsed before (the stream grew).
            before, old = grown
            base = old.copy()  # edited in place: the cached tree stays as it was
            start = self.cursor + len(before)
            start_point = _point_after(self._cursor_point, before)
            old_end, old_end_point = start, start_point
        else:
            base = self._doc_tree.copy()
            start, start_point = self.cursor, self._cursor_point
            old_end = self.cursor + self._doc_removed
            old_end_point = self._removed_end_point()
        new_end = self.cursor + len(candidate)
        base.edit(
            start_byte=start,
            old_end_byte=old_end,
            new_end_byte=new_end,
            start_point=Point(*start_point),
            old_end_point=Point(*old_end_point),
            new_end_point=Point(*_point_after(self._cursor_point, candidate)),
        )
        if self._window is not None:
            self.parser.included_ranges = [self._window_range(candidate)]
        self.source = self.prefix + candidate + self.after
        tree = self.parser.parse(self.source, base)
        self._candidate, self._tree = candidate, tree
        self._trees[candidate] = tree
        if len(self._trees) > KEPT_TREES:
            self._trees.popitem(last=False)
        return tree

    def _grown_from(self, candidate: bytes) -> tuple[bytes, Tree] | None:
        """The longest candidate parsed before that `candidate` extends, with its tree: the
        last one while a suggestion streams; the whole line after a cut of it was checked."""
        if self._tree is not None and candidate.startswith(self._candidate):
            return self._candidate, self._tree
        found = [(c, t) for c, t in self._trees.items() if candidate.startswith(c)]
        return max(found, key=lambda item: len(item[0]), default=None)

    def _window_range(self, candidate: bytes) -> Range:
        """The window in the spliced text: its end moves with the candidate's length."""
        assert self._window is not None
        start, tail_bytes, tail = self._window
        row, column = _point_after(self._cursor_point, candidate)
        end_point = (row + tail[0], tail[1]) if tail[0] else (row, column + tail[1])
        end_byte = self.cursor + len(candidate) + tail_bytes
        return Range(start.start_point, Point(*end_point), start.start_byte, end_byte)

    def _removed_end_point(self) -> tuple[int, int]:
        # The removed bytes are the rest of the cursor line: no newline, same row.
        return self._cursor_point[0], self._cursor_point[1] + self._doc_removed
