"""What every language's definition walker shares: source lines, headers, doc lines, records."""

from __future__ import annotations

import re
import sys

from tree_sitter import Node

from .model import Definition

MAX_HEAD_LINES = 6  # a longer header keeps its first lines only
WHOLE_MAX_LINES = 12  # a definition this short is kept whole ...
WHOLE_MAX_CHARS = 480  # ... when it is also this small
MAX_DEPTH = 3  # classes in classes in namespaces ... (Python, JavaScript/TypeScript walkers)
_WORDS = re.compile(r"[A-Za-z0-9]")
_DOC_MARKERS = re.compile(r"^\s*(?:/\*\*?|\*+/?|///?!?|//|--+\[*=*\[*|#|\"\"\"|''')\s*")


class Builder:
    """One file's source and the definitions found in it so far."""

    def __init__(self, source: bytes) -> None:
        self.source = source
        self.lines = [line.rstrip("\r") for line in source.decode("utf-8", "replace").split("\n")]
        self.out: list[Definition] = []

    def text(self, node: Node | None) -> str:
        if node is None:
            return ""
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def add(
        self,
        node: Node,
        name: str,
        kind: str,
        container: str | None,
        *,
        body: Node | None = None,
        head_until: Node | None = None,
        exported: bool = True,
        doc: tuple[int, str] | None = None,
    ) -> None:
        """Record `node` as a definition. The header ends where `body` starts (a brace body's
        `{` line belongs to it) or on the line where `head_until` starts."""
        if not name:
            return
        start = node.start_point.row
        end = max(start, node.end_point.row - (node.end_point.column == 0))
        head_end = self._head_end(node, start, end, body, head_until)
        whole_rows = self.lines[start : end + 1]
        if end - start < WHOLE_MAX_LINES and sum(map(len, whole_rows)) <= WHOLE_MAX_CHARS:
            lines = tuple(whole_rows)
        else:
            lines = tuple(self.lines[start : head_end + 1])
        if doc is None:
            doc = self.doc_before(node)
        name_line = -1
        if name not in self.lines[start]:
            name_line = self._name_row(name, start, end, head_end)
        self.out.append(
            Definition(
                name=sys.intern(name),
                kind=kind,
                container=sys.intern(container) if container else None,
                start_line=start,
                end_line=end,
                head=head_end - start + 1,
                lines=lines,
                doc_line=doc[0] if doc else -1,
                doc=doc[1] if doc else "",
                exported=exported,
                name_line=name_line,
                name_text=self.lines[name_line] if name_line > head_end else "",
            )
        )

    def _name_row(self, name: str, start: int, end: int, head_end: int) -> int:
        """The row that spells the name, when the first does not (a return type above it, a
        typedef's name after its body): the header's rows first, then the last row."""
        for row in (*range(start + 1, head_end + 1), end):
            if name in self.lines[row]:
                return row
        return -1

    def _head_end(
        self, node: Node, start: int, end: int, body: Node | None, head_until: Node | None
    ) -> int:
        if body is not None:
            if self.source[body.start_byte : body.start_byte + 1] == b"{":
                row = body.start_point.row
            else:
                before = body.prev_sibling
                while before is not None and "comment" in before.type:
                    before = before.prev_sibling
                row = before.end_point.row if before is not None else body.start_point.row - 1
        elif head_until is not None:
            row = head_until.start_point.row
        else:
            row = end
        return max(start, min(row, end, start + MAX_HEAD_LINES - 1))

    def doc_line(self, first_row: int, last_row: int) -> tuple[int, str] | None:
        """The first line with words in rows first..last (a comment block or docstring)."""
        for row in range(first_row, min(last_row, first_row + 3) + 1):
            if row < len(self.lines) and _WORDS.search(_DOC_MARKERS.sub("", self.lines[row])):
                return row, self.lines[row]
        return None

    def _starts_line(self, node: Node) -> bool:
        row, column = node.start_point
        return row < len(self.lines) and not self.lines[row][:column].strip()

    def doc_before(self, node: Node) -> tuple[int, str] | None:
        """The first line of the comment block right above `node` (attributes in between)."""
        anchor = node
        while anchor.parent is not None and anchor.parent.type in _WRAPPERS:
            anchor = anchor.parent
        row = anchor.start_point.row
        sibling = anchor.prev_named_sibling
        while sibling is not None and sibling.type in _ANNOTATIONS:
            row = sibling.start_point.row
            sibling = sibling.prev_named_sibling
        first: Node | None = None
        while (
            sibling is not None
            and "comment" in sibling.type
            and sibling.end_point.row >= row - 1
            and self._starts_line(sibling)
        ):
            first, row = sibling, sibling.start_point.row
            sibling = sibling.prev_named_sibling
        if first is None:
            return None
        return self.doc_line(first.start_point.row, anchor.start_point.row - 1)


# Nodes that wrap a definition: its comment sits above the wrapper.
_WRAPPERS = frozenset(
    {"export_statement", "decorated_definition", "template_declaration", "ambient_declaration"}
)
_ANNOTATIONS = frozenset({"attribute_item", "decorator", "annotation", "marker_annotation"})


def field_text(builder: Builder, node: Node, field: str) -> str:
    return builder.text(node.child_by_field_name(field))


def has_child(node: Node, kind: str, text: bytes | None = None) -> bool:
    return any(c.type == kind and (text is None or c.text == text) for c in node.children)
