"""Whether a block suggestion writes its container's closer: the document may lack it
(`doc_has_closer`), and then the suggestion ends with the closer and the rest of the
statement on its line (`statement_end`).
"""

from __future__ import annotations

from tree_sitter import Node

from .cuts import BLOCK_BODIES, CLOSER_TOKENS
from .nodes import ROOTS, children_from, is_comment, leading_width, leaves, starts_line


def doc_has_closer(doc_root: Node, box: Node, cursor: int, source: bytes) -> bool:
    """Whether the document's own version of `box` (same start and kind) has a real closer
    after the cursor. When a container around it lacks its closer, or the braces around it
    do not parse and its closer starts a line less indented than its header, the braces
    only pair up by accident (the block opened at the cursor took an outer one's closer):
    then `box` lacks it. A list opened on the cursor line (`import { ‸`) is closed only by
    what the rest of that line holds: editors close brackets on the line they open them.
    Otherwise unknown (no such node) counts as yes: editors close brackets."""
    line_list = box.type not in BLOCK_BODIES and _same_line(source, box.start_byte, cursor)
    node: Node | None = doc_root.descendant_for_byte_range(box.start_byte, box.start_byte)
    while node is not None and not (node.start_byte == box.start_byte and node.type == box.type):
        if node.start_byte < box.start_byte:
            return not line_list or _closes_on_line(source, cursor)
        node = node.parent
    if node is None:
        return not line_list or _closes_on_line(source, cursor)
    closer = None
    for child in children_from(node, cursor):
        if child.start_byte >= cursor and child.child_count == 0 and child.type in CLOSER_TOKENS:
            closer = child
            break
    if closer is None or closer.is_missing:
        return False
    if line_list and node.has_error and not _same_line(source, cursor, closer.start_byte):
        # The parser found its `}` only on a later line, past code it could not place: that
        # `}` closes something else.
        return False
    outdented = starts_line(source, closer.start_byte) and leading_width(
        source, closer.start_byte
    ) < leading_width(source, _owner(node).start_byte)
    outer = node.parent
    while outer is not None:
        last = outer.child(outer.child_count - 1) if outer.child_count else None
        if last is not None and last.is_missing and last.type in CLOSER_TOKENS:
            return False
        if outer.is_error and outdented:
            return False
        outer = outer.parent
    return True


def _closes_on_line(source: bytes, cursor: int) -> bool:
    """Whether the rest of the cursor line holds a closing bracket."""
    end = source.find(b"\n", cursor)
    rest = source[cursor : len(source) if end < 0 else end]
    return any(char in rest for char in (b")", b"]", b"}"))


def _same_line(source: bytes, start: int, end: int) -> bool:
    return b"\n" not in source[start:end]


def statement_end(box: Node, at: int, source: bytes) -> int:
    """Where the statement holding `box` ends, when that is on the line of `at` (the closer
    the suggestion writes): `import { a } from 'x';`, `foo({ a: 1 });`. Else `at`."""
    node = box
    while node.parent is not None and node.parent.type not in ROOTS | BLOCK_BODIES:
        node = node.parent
    if node.end_byte > at and _same_line(source, at, node.end_byte):
        return node.end_byte
    # The statement goes on past the line (a `;` on the next one): its tokens on this line,
    # up to a bracket that would open more.
    for leaf in leaves(node, at, node.end_byte):
        if not _same_line(source, at, leaf.start_byte) or leaf.type in ("(", "[", "{"):
            break
        if not leaf.is_missing and not is_comment(leaf):
            at = leaf.end_byte
    return at


def _owner(box: Node) -> Node:
    """The statement whose header opens `box` (`if (...) {`, a function), or `box` itself
    when it sits directly in another bracketed body (a bare `{ }` block, an element)."""
    parent = box.parent
    if parent is None or parent.parent is None or parent.child_count == 0:
        return box
    first = parent.child(0)
    if first is not None and first.type in ("{", "(", "["):
        return box
    return parent
