"""Where a block suggestion ends because it starts re-writing the code the document already
has after the cursor: before a statement of the candidate that equals the document's next
statement in the same body (`repeat_cut`), with the comments before it that repeat too.
The inexact repeats are near_copy.py's.
"""

from __future__ import annotations

from tree_sitter import Node

from .cuts import CLAUSES
from .nodes import Cut, children_from, is_comment, leaves


def next_statement(doc_body: Node, cursor: int) -> Node | None:
    """The document's first statement in the body after the cursor (not a closer/clause)."""
    for child in children_from(doc_body, cursor):
        if child.start_byte < cursor or is_comment(child) or child.is_missing or not child.is_named:
            continue
        if child.type in CLAUSES or child.is_error:
            return None
        return child
    return None


def is_trivial(statement: Node) -> bool:
    """A statement of at most two tokens besides separators: `return None`, `break;`, `i++`."""
    count = 0
    for leaf in leaves(statement, statement.start_byte, statement.end_byte):
        if leaf.type not in (";", ",") and not leaf.is_missing:
            count += 1
            if count > 2:
                return False
    return True


def last_statement_end(doc_body: Node, cursor: int) -> int:
    """Where the body's last statement after the cursor ends (its closer not included)."""
    end = cursor
    for child in children_from(doc_body, cursor):
        if child.is_named and not is_comment(child) and not child.is_missing:
            if child.type in CLAUSES:
                break
            end = max(end, child.end_byte)
    return end


def repeat_cut(
    body: Node,
    anchor: int,
    end: int,
    source: bytes,
    upcoming: bytes,
    upcoming_tail: bytes,
    closing: Cut | None,
    *,
    trivial: bool,
    column: int,
    final: bool,
    comments: tuple[bytes, ...] = (),
) -> Cut | None:
    """Before a statement of the candidate that equals the statement the document already has
    next in this body (`upcoming`): the model re-writing the code below the cursor. The
    comments the document has right before that statement (`comments`), written again right
    before the copy, are part of the repeat.

    The copy must stand where the original does (same `column`): a `return None` one level
    deeper is the body's own. A `trivial` statement repeats by chance too often (`return None`, `break;`), so such a
    match counts only when everything the candidate writes from there to the end of the body
    equals what the document has there (`upcoming_tail`)."""
    target = _normalise(upcoming)
    if not target:
        return None
    for child in children_from(body, anchor):
        if child.start_byte < anchor or is_comment(child) or not child.is_named:
            continue
        if child.start_byte >= end or (closing is not None and child.start_byte >= closing.at):
            return None
        if child.start_point.column != column:
            continue
        if _normalise(source[child.start_byte : child.end_byte]) != target:
            continue
        if child.end_byte > end or (child.end_byte == end and not final):
            return None
        if not trivial:
            return Cut(_back_over_comments(child, anchor, source, comments), True)
        stop = closing.at if closing is not None else end if final else None
        if stop is None:
            return None
        if _normalise(source[child.start_byte : stop]) == _normalise(upcoming_tail):
            at = _back_over_comments(child, anchor, source, comments)
            return Cut(at, closing.decided if closing is not None else True)
    return None


def comments_before(
    doc_body: Node, cursor: int, statement: Node, source: bytes
) -> tuple[bytes, ...]:
    """The comments between the cursor and `statement` in the document's body, normalised."""
    return tuple(
        _normalise(source[child.start_byte : child.end_byte])
        for child in children_from(doc_body, cursor)
        if cursor <= child.start_byte < statement.start_byte and is_comment(child)
    )


def _back_over_comments(
    child: Node, anchor: int, source: bytes, comments: tuple[bytes, ...]
) -> int:
    """Where a repeat starting at `child` starts once the comments before it that repeat the
    document's (`comments`, the ones right before its statement) are counted in."""
    at = child.start_byte
    node = child.prev_sibling
    for want in reversed(comments):
        if node is None or not is_comment(node) or node.start_byte < anchor:
            break
        if _normalise(source[node.start_byte : node.end_byte]) != want:
            break
        at, node = node.start_byte, node.prev_sibling
    return at


def _normalise(code: bytes) -> bytes:
    """Code compared as tokens: whitespace and a trailing list separator do not count."""
    return b" ".join(code.split()).rstrip(b",;")
