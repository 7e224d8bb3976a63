"""The structure around the cursor, as line spans the budgeter keeps or drops whole.

The outline is built from the syntax tree when there is one, from indentation and blank lines
when there is not; either way the budgeter sees the same shape:

- `focus`: the outermost function (or, outside any function, the statement or member) holding
  the cursor. It is kept line by line, nearest the cursor first.
- `levels`: the containers around the focus (class, impl, namespace, header guard ...),
  innermost first, and last the file itself. Each has the lines that open and close it and
  its other members as units: whole members, nearest the cursor first.
- `header`: imports, package clause, includes, and the comments/docstring leading the file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tree_sitter import Node

from .languages import LanguageSpec
from .syntax import DocumentSyntax
from .text import indent_width, is_blank, is_closer_line, leading_ws

# A definition's opening lines longer than this are not worth keeping as its "signature".
MAX_SIGNATURE_LINES = 6

# Lines that lead a file in most languages: imports, includes, package/use clauses, comments.
_PLAIN_HEADER = re.compile(
    r"^\s*(?:#!|#\s*include\b|#\s*import\b|import\b|from\s+\S+\s+import\b|package\b|use\b"
    r"|using\b|require\b|(?:local\s+)?[\w.]+\s*=\s*require\b|//|#|--|/\*|\*)"
)


@dataclass(frozen=True)
class Span:
    """Lines [start, end) of the document, 0-based."""

    start: int
    end: int

    def __bool__(self) -> bool:
        return self.end > self.start


@dataclass(frozen=True)
class Level:
    """One container around the cursor (or the file): its members before and after the cursor."""

    signature: Span | None
    closer: Span | None
    before: tuple[Span, ...]  # nearest the cursor first
    after: tuple[Span, ...]  # nearest the cursor first


@dataclass(frozen=True)
class Outline:
    cursor_line: int
    line_count: int
    header: Span | None
    focus: Span | None
    focus_signature: Span | None
    focus_closer: Span | None
    levels: tuple[Level, ...]  # innermost container first, the file last


def build_outline(
    lines: Sequence[str],
    cursor_line: int,
    cursor_offset: int,
    *,
    syntax: DocumentSyntax | None,
    spec: LanguageSpec | None,
) -> Outline:
    """The outline for a cursor at `cursor_offset` (a str index) on `cursor_line`."""
    if syntax is not None:
        return _TreeOutliner(syntax, lines, cursor_line).build(cursor_offset)
    return _text_outline(lines, cursor_line)


def _last_line(node: Node) -> int:
    # A node that ends at column 0 ends with the previous line's newline (C preprocessor lines).
    row, column = node.end_point
    return row - 1 if column == 0 and row > node.start_point.row else row


def _body(node: Node) -> Node:
    body = node.child_by_field_name("body")
    return body if body is not None else node


def _signature_last(node: Node) -> int:
    """The last line of a definition's opening (`def f(\\n  a,\\n):`, `class C {`)."""
    start = node.start_point.row
    body = node.child_by_field_name("body")
    if body is None:
        return start
    row = body.start_point.row
    # A Python block starts at its first statement, so the header ends the line before;
    # a brace body starts at "{", which belongs to the header (Allman style puts it below).
    if body.child_count and body.children[0].is_named:
        row -= 1
    return max(start, min(row, start + MAX_SIGNATURE_LINES - 1))


def _partition(bounds: list[int], first: int, limit: int) -> list[Span]:
    """Spans from `first` to `limit` cut at `bounds` (unit start lines), in document order.

    Lines before the first unit (a "{" line, blank lines) join it; blank lines between units
    join the one above.
    """
    inside = sorted({b for b in bounds if first <= b < limit})
    cuts = [first, *inside[1:]]
    spans = [Span(a, b) for a, b in zip(cuts, [*cuts[1:], limit], strict=True)]
    return [span for span in spans if span]


class _TreeOutliner:
    def __init__(self, syntax: DocumentSyntax, lines: Sequence[str], cursor_line: int) -> None:
        self.syntax = syntax
        self.spec = syntax.spec
        self.lines = lines
        self.cl = cursor_line

    def build(self, cursor_offset: int) -> Outline:
        spec, root = self.spec, self.syntax.root
        chain: list[Node] = []
        node: Node | None = self.syntax.node_at(cursor_offset)
        while node is not None:
            if node.type in spec.scope_types:
                chain.append(node)
            node = node.parent
        chain.reverse()
        containers: list[Node] = []
        focus: Node | None = None
        for scope in chain:
            if scope.type in spec.function_types:
                focus = scope
                break
            containers.append(scope)
        body = _body(containers[-1]) if containers else root
        if focus is None:
            focus = self._member_on_cursor_line(body)
        # The focus lines start at the member that holds it, so decorators, `export` and
        # `template <...>` stay with the function they belong to.
        member = focus
        while member is not None and member.parent is not None and member.parent != body:
            member = member.parent
        if member is None or member.parent != body:
            member = focus

        levels: list[Level] = []
        inner = focus
        for container in reversed(containers):
            levels.append(self._level(container, inner))
            inner = container
        header, root_level = self._root_level(inner)
        levels.append(root_level)
        return Outline(
            cursor_line=self.cl,
            line_count=len(self.lines),
            header=header,
            focus=Span(member.start_point.row, _last_line(member) + 1) if member else None,
            focus_signature=self._signature(focus) if focus else None,
            focus_closer=self._closer(focus) if focus else None,
            levels=tuple(levels),
        )

    def _member_on_cursor_line(self, body: Node) -> Node | None:
        for child in body.named_children:
            if child.start_point.row <= self.cl <= _last_line(child):
                return child
        return None

    def _signature(self, node: Node) -> Span | None:
        span = Span(node.start_point.row, min(_signature_last(node) + 1, self.cl))
        return span or None

    def _closer(self, node: Node) -> Span | None:
        last = _last_line(node)
        if last > self.cl and is_closer_line(self.lines[last]):
            return Span(last, last + 1)
        return None

    def _is_trivia(self, node: Node) -> bool:
        return "comment" in node.type or node.type in self.spec.trivia_types

    def _attached(self, members: Sequence[Node]) -> list[bool]:
        """Which members are comments (or attributes) leading straight into a definition."""
        attached = [False] * len(members)
        for i in range(len(members) - 2, -1, -1):
            member, following = members[i], members[i + 1]
            attached[i] = (
                self._is_trivia(member)
                and following.start_point.row <= _last_line(member) + 1
                and (following.type in self.spec.definition_types or attached[i + 1])
            )
        return attached

    def _unit_starts(self, members: Sequence[Node]) -> list[int]:
        """Start lines of units; comments glued to the definition below join its unit."""
        attached = self._attached(members)
        return [m.start_point.row for i, m in enumerate(members) if i == 0 or not attached[i - 1]]

    def _split(
        self, body: Node, inner: Node | None, before_first: int, after_limit: int
    ) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
        """A body's members as units before and after `inner` (or the cursor line)."""
        members = body.named_children
        anchor = inner
        while anchor is not None and anchor.parent is not None and anchor.parent != body:
            anchor = anchor.parent
        if anchor is not None and anchor.parent == body:
            top, bottom = anchor.start_point.row, _last_line(anchor)
        else:
            top = bottom = self.cl
        top, bottom = min(top, self.cl), max(bottom, self.cl)
        earlier = [m for m in members if m.start_point.row < top]
        later = [m for m in members if m.start_point.row > bottom]
        before = _partition(self._unit_starts(earlier), before_first, top)
        after = _partition(self._unit_starts(later), bottom + 1, after_limit)
        return tuple(reversed(before)), tuple(after)

    def _level(self, container: Node, inner: Node | None) -> Level:
        before, after = self._split(
            _body(container), inner, _signature_last(container) + 1, _last_line(container) + 1
        )
        return Level(self._signature(container), self._closer(container), before, after)

    def _is_header(self, node: Node) -> bool:
        spec = self.spec
        if node.type in spec.header_types or "comment" in node.type:
            return True
        named = node.named_children
        # A leading docstring or directive ("use strict") belongs with the imports.
        if node.type == "expression_statement" and len(named) == 1 and named[0].type == "string":
            return True
        line = self.lines[node.start_point.row]
        return spec.header_line is not None and bool(spec.header_line.match(line))

    def _root_level(self, inner: Node | None) -> tuple[Span | None, Level]:
        root = self.syntax.root
        limit = self.cl
        if inner is not None:
            anchor = inner
            while anchor.parent is not None and anchor.parent != root:
                anchor = anchor.parent
            limit = min(limit, anchor.start_point.row)
        header_end = 0
        children = root.named_children
        attached = self._attached(children)
        for i, child in enumerate(children):
            if _last_line(child) >= limit or not self._is_header(child):
                break
            if attached[i]:
                # A comment glued to a definition is that definition's, unless it is an import.
                owner = next((j for j in range(i, len(children)) if not attached[j]), None)
                if owner is None or not self._is_header(children[owner]):
                    break
            header_end = _last_line(child) + 1
        # Blank lines after the imports belong to them: the prompt keeps that separation.
        while 0 < header_end < limit and is_blank(self.lines[header_end]):
            header_end += 1
        header = Span(0, header_end) if header_end else None
        # A text ending in "\n" has an empty last "line"; it is nobody's unit.
        end = len(self.lines) - (self.lines[-1] == "" and self.cl < len(self.lines) - 1)
        before, after = self._split(root, inner, header_end, end)
        return header, Level(None, None, before, after)


def _text_outline(lines: Sequence[str], cl: int) -> Outline:
    """Plain-text rules: units are top-level paragraphs (a line at indentation 0 after a blank
    line, a dedent or a closing line starts one); the header is the leading run of
    import/include/comment lines."""
    n = len(lines)
    header_end = 0
    for i, line in enumerate(lines):
        if not is_blank(line) and not _PLAIN_HEADER.match(line):
            break
        header_end = i + 1
    if header_end > cl or all(is_blank(line) for line in lines[:header_end]):
        header_end = 0
    starts = [header_end]
    previous = ""
    for i in range(header_end, n):
        line = lines[i]
        if is_blank(line):
            continue
        top_level = not leading_ws(line) and not is_closer_line(line)
        after_break = is_blank(lines[i - 1]) if i else True
        after_dedent = bool(previous) and (
            indent_width(leading_ws(previous)) > 0 or is_closer_line(previous)
        )
        if top_level and (after_break or after_dedent) and i > starts[-1]:
            starts.append(i)
        previous = line
    units = [Span(a, b) for a, b in zip(starts, [*starts[1:], n], strict=True) if b > a]
    focus = next((u for u in units if u.start <= cl < u.end), None)
    before = tuple(u for u in reversed(units) if u.end <= cl and u != focus)
    after = tuple(u for u in units if u.start > cl and u != focus)
    signature = closer = None
    if focus is not None:
        signature = Span(focus.start, focus.start + 1) if focus.start < cl else None
        last = max((i for i in range(focus.start, focus.end) if not is_blank(lines[i])), default=-1)
        closer = Span(last, last + 1) if last > cl and is_closer_line(lines[last]) else None
    return Outline(
        cursor_line=cl,
        line_count=n,
        header=Span(0, header_end) if header_end else None,
        focus=focus,
        focus_signature=signature,
        focus_closer=closer,
        levels=(Level(None, None, before, after),),
    )
