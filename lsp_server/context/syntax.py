"""One document's syntax tree, kept current by incremental reparses as the text changes."""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node, Parser, Point, Range, Tree

from .languages import LanguageSpec
from .text import byte_offset, encode_utf8, point_at, utf8_len


@dataclass(frozen=True)
class InputEdit:
    """A text change in tree-sitter's terms: UTF-8 byte offsets and (row, byte column) points."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: tuple[int, int]
    old_end_point: tuple[int, int]
    new_end_point: tuple[int, int]


def compute_edit(old_text: str, start: int, end: int, new_text: str) -> InputEdit:
    """The InputEdit for replacing old_text[start:end] (str indices) with new_text.

    The caller converts LSP positions (UTF-16 by default) to str indices; from here on
    everything is UTF-8 bytes, which is what tree-sitter counts in.
    """
    if not 0 <= start <= end <= len(old_text):
        raise ValueError(f"edit range {start}..{end} outside a text of {len(old_text)} chars")
    start_byte = byte_offset(old_text, start)
    start_point = point_at(old_text, start)
    old_end_point = point_at(old_text, end)
    inserted_rows = new_text.count("\n")
    if inserted_rows:
        tail = new_text[new_text.rfind("\n") + 1 :]
        new_end_point = (start_point[0] + inserted_rows, utf8_len(tail))
    else:
        new_end_point = (start_point[0], start_point[1] + utf8_len(new_text))
    return InputEdit(
        start_byte=start_byte,
        old_end_byte=start_byte + utf8_len(old_text[start:end]),
        new_end_byte=start_byte + utf8_len(new_text),
        start_point=start_point,
        old_end_point=old_end_point,
        new_end_point=new_end_point,
    )


class DocumentSyntax:
    """The text and tree of one open document.

    Build it with `DocumentSyntax.create` when the document opens and feed every change to
    `apply_change`: the old tree is edited and handed back to the parser, so a keystroke costs
    a reparse of the changed region, not of the file.
    """

    def __init__(self, text: str, spec: LanguageSpec, parser: Parser) -> None:
        self.spec = spec
        self._parser = parser
        self._text = text
        self._source = encode_utf8(text)
        self._tree: Tree = parser.parse(self._source)
        self._previous: Tree | None = None  # the edited old tree, kept for changed_ranges()
        self.full_parses = 1
        self.incremental_parses = 0

    @classmethod
    def create(cls, text: str, spec: LanguageSpec | None) -> DocumentSyntax | None:
        """None when the language is unknown or its grammar missing: callers use text rules."""
        if spec is None:
            return None
        language = spec.ts_language()
        if language is None:
            return None
        return cls(text, spec, Parser(language))

    @property
    def text(self) -> str:
        return self._text

    @property
    def tree(self) -> Tree:
        return self._tree

    @property
    def root(self) -> Node:
        return self._tree.root_node

    def apply_change(self, start: int, end: int, new_text: str) -> None:
        """Replace text[start:end] (str indices) with new_text and reparse incrementally."""
        edit = compute_edit(self._text, start, end, new_text)
        self._text = self._text[:start] + new_text + self._text[end:]
        self._reparse(edit, encode_utf8(new_text))

    def _reparse(self, edit: InputEdit, new_bytes: bytes) -> None:
        self._source = (
            self._source[: edit.start_byte] + new_bytes + self._source[edit.old_end_byte :]
        )
        old_tree = self._tree
        old_tree.edit(
            start_byte=edit.start_byte,
            old_end_byte=edit.old_end_byte,
            new_end_byte=edit.new_end_byte,
            start_point=Point(*edit.start_point),
            old_end_point=Point(*edit.old_end_point),
            new_end_point=Point(*edit.new_end_point),
        )
        self._tree = self._parser.parse(self._source, old_tree)
        self._previous = old_tree
        self.incremental_parses += 1

    def changed_ranges(self) -> list[Range]:
        """Where the last change altered the tree's structure (computed on demand: it costs)."""
        if self._previous is None:
            return []
        return self._previous.changed_ranges(self._tree)

    def replace(self, text: str) -> None:
        """Take a whole new text (full-document sync): the one path that parses from scratch."""
        self._text = text
        self._source = encode_utf8(text)
        self._tree = self._parser.parse(self._source)
        self._previous = None
        self.full_parses += 1

    def node_at(self, offset: int) -> Node:
        """The smallest named node spanning the str index `offset`."""
        point = Point(*point_at(self._text, offset))
        node = self.root.named_descendant_for_point_range(point, point)
        return node if node is not None else self.root

    def inside_string_or_comment(self, offset: int) -> bool:
        """Whether the character at `offset` lies in a string or comment node."""
        node: Node | None = self.node_at(offset)
        while node is not None:
            if "comment" in node.type or "string" in node.type:
                return True
            node = node.parent
        return False

    def sexp(self) -> str:
        """The tree as an s-expression, for comparing trees in tests and logs."""
        return str(self.root)
