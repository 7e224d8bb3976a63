"""Where a line suggestion ends: before a token closing something opened before the cursor
whose real closer the rest of the line already holds.

The candidate replaces the rest of the cursor line; the document's own tree says which
brackets, strings and statements are open at the cursor and closed on that line.
"""

from __future__ import annotations

from tree_sitter import Node

from .nodes import ROOTS, Cut, children_from, is_comment, is_punctuation, leaves_in

# Leaves that end a pair opened before them: brackets, quotes, a statement's `;`, `end`.
PAIR_CLOSERS = frozenset(
    {")", "]", "}", ";", "end", '"', "'", "`", '"""', "'''", "string_end", "raw_string_end"}
)


_OPENER_OF = {")": "(", "]": "[", "}": "{", "string_end": "string_start"}


def open_pairs(root: Node, cursor: int) -> list[Node]:
    """Nodes opened before the cursor and closed after it by a leaf, innermost first:
    brackets, strings, and statements ending in a `;` (`return ‸x;`)."""
    node: Node | None = root.descendant_for_byte_range(cursor, cursor)
    pairs: list[Node] = []
    while node is not None:
        if _pair_closer(node, cursor) is not None:
            pairs.append(node)
        node = node.parent
    return pairs


def _pair_closer(node: Node, cursor: int) -> Node | None:
    """The leaf that closes `node` after the cursor, when `node` opened before it: a bracket
    with its opening bracket before the cursor, a quote, a statement's `;`, a Lua `end`."""
    if node.child_count < 2 or node.is_error or node.type in ROOTS:
        return None
    first, last = node.child(0), node.child(node.child_count - 1)
    assert first is not None and last is not None
    if first.child_count or first.end_byte > cursor or node.start_byte >= cursor:
        return None
    if last.child_count or last.is_missing or last.start_byte < cursor:
        return None
    if last.type not in PAIR_CLOSERS:
        return None
    opener = _OPENER_OF.get(last.type)
    if opener is None:
        # A quote closes what the same quote opened; `;` and `end` close their statement.
        return last if last.type in (";", "end") or first.type == last.type else None
    for child in children_from(node, 0):
        if child.start_byte >= cursor:
            return None
        if child.child_count == 0 and (child.type == opener or child.type.endswith(opener)):
            return last
    return None


def line_closers(root: Node, cursor: int, line_end: int) -> list[int]:
    """Byte offsets of the closers in [cursor, line_end) of pairs open at the cursor: the
    real closers the rest of the line already holds. Read from the document's own tree, and
    from its tokens where the hole leaves the tree broken (`f(‸, b)`): a closing bracket the
    rest of the line does not open itself."""
    found: set[int] = set()
    for pair in open_pairs(root, cursor):
        closer = _pair_closer(pair, cursor)
        if closer is not None and closer.start_byte < line_end:
            found.add(closer.start_byte)
    depth = 0
    for leaf in leaves_in(root, cursor, line_end):
        if leaf.is_missing or is_comment(leaf) or _inside_string(leaf):
            continue
        if leaf.type in ("(", "[", "{"):
            depth += 1
        elif leaf.type in (")", "]", "}"):
            if depth:
                depth -= 1
            else:
                found.add(leaf.start_byte)
    return sorted(found)


def _inside_string(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if "string" in parent.type and parent.type != "string_start":
            return True
        parent = parent.parent
    return False


def line_cut(root: Node, cursor: int, end: int, rest: bytes) -> Cut | None:
    """Before the first token of the candidate [cursor, end) that closes something opened
    before the cursor: a bracket whose opening bracket (its sibling in the tree: `for (`, a
    cast's `(`, a call's arguments) lies before the cursor, a quote, a statement's `;`.
    Only closers that the rest of the line (`rest`) also has count: it holds the real ones."""
    for leaf in leaves_in(root, cursor, end):
        if leaf.is_missing or is_comment(leaf) or (leaf.text or b"") not in rest:
            continue
        parent = leaf.parent
        if parent is None or parent.is_error:
            continue
        if leaf.type in _OPENER_OF and leaf.type != "string_end":
            opener = _matching_opener(parent, leaf)
            if opener is not None and opener.start_byte < cursor:
                return Cut(leaf.start_byte, True)
        elif parent.child(parent.child_count - 1) == leaf and _pair_closer(parent, cursor):
            return Cut(leaf.start_byte, is_punctuation(leaf) or leaf.end_byte < end)
    return None


def closes_between(leaf: Node, low: int, start: int) -> bool:
    """Whether `leaf`, at or after `start`, is a bracket closing one opened in [low, start)."""
    parent = leaf.parent
    if leaf.start_byte < start or leaf.type not in (")", "]", "}") or parent is None:
        return False
    opener = _matching_opener(parent, leaf)
    return opener is not None and low <= opener.start_byte < start


def _matching_opener(parent: Node, closer: Node) -> Node | None:
    """The opening bracket among `parent`'s children that `closer` (also a child) closes."""
    want = _OPENER_OF[closer.type]
    depth = 0
    for index in range(parent.child_count - 1, -1, -1):
        child = parent.child(index)
        assert child is not None
        if child.start_byte >= closer.start_byte or child.child_count:
            continue
        if child.type == closer.type and not child.is_missing:
            depth += 1
        elif child.type == want or child.type.endswith(want):
            if depth == 0:
                return child
            depth -= 1
    return None
