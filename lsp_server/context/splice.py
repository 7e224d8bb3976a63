"""The document parsed with a model's candidate spliced in at the cursor, re-parsed incrementally.

Shaping asks the syntax tree where a suggestion ends, so every candidate (and, while a
suggestion streams, every longer version of it) is parsed in place: prefix + candidate +
the text after the cursor. Parsing starts from the document's own tree and edits it, so a
keystroke-sized change costs a re-parse of the changed region, not of the file.
"""

from __future__ import annotations

from tree_sitter import Language, Parser, Point, Tree

from .text import encode_utf8


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
    ) -> None:
        """`doc_tree`, if given, is the tree of prefix + `doc_removed` bytes + `after`: the
        document as it is. It is edited, never re-parsed from scratch."""
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
        self.source = b""  # what the last tree was parsed from

    @property
    def doc_tree(self) -> Tree:
        return self._doc_tree

    def parse(self, candidate: bytes) -> Tree:
        """The tree of prefix + candidate + after."""
        if self._tree is not None and candidate == self._candidate:
            return self._tree
        if self._tree is not None and candidate.startswith(self._candidate):
            # The stream grew: an insertion at the end of the previous candidate.
            base = self._tree
            start = self.cursor + len(self._candidate)
            start_point = _point_after(self._cursor_point, self._candidate)
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
        self.source = self.prefix + candidate + self.after
        tree = self.parser.parse(self.source, base)
        self._candidate, self._tree = candidate, tree
        return tree

    def _removed_end_point(self) -> tuple[int, int]:
        # The removed bytes are the rest of the cursor line: no newline, same row.
        return self._cursor_point[0], self._cursor_point[1] + self._doc_removed
