"""Where a suggestion ends, read from the syntax tree of the document with the candidate in place.

Every rule is a plain function over tree-sitter nodes and byte offsets (UTF-8, as tree-sitter
counts). `cursor` is where the candidate starts, `end` where it stops; a rule answers a `Cut`:
the byte offset where the suggestion ends, and whether more text could still move it
(`decided`), which is what lets a streaming request be stopped the moment it is done.

- Line suggestions: the candidate replaces the rest of the cursor line. It ends before a
  token that closes a bracket, string or statement opened before the cursor when the rest
  of the line already holds the real closer (`line_cut`).
- Block suggestions: the container being filled is the nearest node that starts before the
  cursor and holds a body or a bracketed list (`container`). The suggestion ends before the
  container's first closer or continuation clause after the cursor (`}` `)` `]` `end`,
  `else`/`elif`/`except`), or where the container itself ends in languages whose blocks have
  no closer (`closing_cut`); at the top level, after the first complete statement
  (`top_level_cut`); and before a statement that re-writes the one the document already has
  next (`repeat_cut`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

# Leaves that close a container: brackets, and the keywords of keyword-delimited blocks.
CLOSER_TOKENS = frozenset({")", "]", "}", "end", "until"})
# Leaves that end a pair opened before them: brackets, quotes, a statement's `;`, `end`.
PAIR_CLOSERS = frozenset(
    {")", "]", "}", ";", "end", '"', "'", "`", '"""', "'''", "string_end", "raw_string_end"}
)
# Clauses that continue a statement after its first body: the body ends where they start.
CLAUSES = frozenset(
    {
        "else_clause",
        "elif_clause",
        "except_clause",
        "except_group_clause",
        "finally_clause",
        "catch_clause",
        "else_statement",
        "elseif_statement",
        "case_clause",
    }
)
ROOTS = frozenset({"module", "program", "source_file", "translation_unit", "chunk"})
# Bodies without closers of their own (Python and Lua blocks).
BODIES = frozenset({"block"})


@dataclass(frozen=True)
class Cut:
    at: int  # byte offset in the spliced document where the suggestion ends
    decided: bool  # no continuation of the candidate can move this cut
    keep_closer: bool = False  # the cut follows a closer the document lacks (and keeps it)


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


def last_leaf_before(root: Node, offset: int) -> Node | None:
    """The last leaf ending at or before `offset` that is code: not a comment, not MISSING."""
    for child in reversed(root.children):
        if child.start_byte >= offset or child.is_missing or is_comment(child):
            continue
        if child.child_count == 0:
            if child.end_byte <= offset:
                return child
            continue
        found = last_leaf_before(child, offset)
        if found is not None:
            return found
    return None


# ---- line suggestions -----------------------------------------------------------------------
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


_OPENER_OF = {")": "(", "]": "[", "}": "{", "string_end": "string_start"}


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


# ---- block suggestions ----------------------------------------------------------------------
def _has_block_child(node: Node, cursor: int) -> bool:
    return any(c.type in BODIES and c.end_byte >= cursor for c in node.children)


def is_container(node: Node, cursor: int) -> bool:
    """A node whose body or list the cursor is filling: the root, a bracketed or keyword-closed
    node with its closer (or a MISSING one) after the cursor, a body, or a statement whose
    body starts after the cursor (Python `def f():`, Lua `function f()`)."""
    if node.type in ROOTS or node.type in BODIES:
        return True
    if node.is_error or node.child_count == 0:
        return False
    last = node.child(node.child_count - 1)
    if (
        last is not None
        and last.type in CLOSER_TOKENS
        and last.child_count == 0
        and last.start_byte >= cursor
    ):
        return True
    return _has_block_child(node, cursor)


def container(root: Node, cursor: int, anchor: int, opener: Node | None = None) -> Node | None:
    """The container the candidate fills: from the opener just before the cursor (`{`, `:`,
    `then`, a Lua function's `)`), or from the cursor itself, the nearest container that
    starts before the cursor. None inside an ERROR node (the text rules take over)."""
    node: Node | None
    if opener is not None:
        node = opener.parent
    else:
        probe = min(anchor, root.end_byte)
        node = root.descendant_for_byte_range(probe, probe)
    while node is not None:
        if node.is_error:
            return None
        if node.start_byte < cursor and is_container(node, cursor):
            parent = node.parent
            if node.type in BODIES and parent is not None and _closed_after(parent, cursor):
                # A body without brackets of its own ends where its statement's closer or
                # next clause begins (Lua `end`, Python `else:`): that statement decides.
                return parent
            return node
        node = node.parent
    return None


def _closed_after(node: Node, cursor: int) -> bool:
    for child in children_from(node, cursor):
        if child.start_byte < cursor:
            continue
        if child.type in CLAUSES or (child.child_count == 0 and child.type in CLOSER_TOKENS):
            return True
    return False


def _first_leaf(node: Node) -> Node:
    while node.child_count:
        child = node.child(0)
        assert child is not None
        node = child
    return node


def _next_token(root: Node, start: int, end: int) -> Node | None:
    """The first real (non-extra, non-missing) leaf in [start, end)."""
    for leaf in leaves_in(root, start, end):
        if not is_comment(leaf) and not leaf.is_missing and not _inside_extra(leaf):
            return leaf
    return None


def _inside_extra(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if is_comment(parent):
            return True
        parent = parent.parent
    return False


def is_comment(node: Node) -> bool:
    """Extras are comments (and, in some grammars, ERROR nodes: those are code)."""
    return node.is_extra and not node.is_error


def _complete(leaf: Node, end: int, final: bool) -> bool:
    """A token nothing more can extend: punctuation, or followed by a character."""
    return final or is_punctuation(leaf) or leaf.end_byte < end


def closing_cut(
    box: Node, cursor: int, end: int, source: bytes, *, layout: bool, final: bool
) -> Cut | None:
    """Before the container's first closer or clause after the cursor; or, where blocks are
    laid out by indentation (`layout`: Python), where the container ends: at the first line
    that starts less indented than the body's statements."""
    for child in children_from(box, cursor):
        if child.start_byte >= end:
            break
        if child.start_byte < cursor:
            continue
        if child.is_missing:
            continue
        if child.child_count == 0 and child.type in CLOSER_TOKENS:
            return Cut(child.start_byte, _complete(child, end, final))
        if child.type in CLAUSES:
            return Cut(child.start_byte, _complete(_first_leaf(child), end, final))
    if not layout or box.type in ROOTS:
        return None
    # The body holding the cursor ends at the first line that starts less indented.
    body = body_of(box, cursor)
    if body.end_byte >= end:
        return None
    first = next((c for c in body.children if c.is_named and not is_comment(c)), None)
    if first is None:
        return None
    following = _next_token(_root(box), body.end_byte, end)
    if following is None and final:
        # Only comments follow: one that starts a line less indented ends the body too.
        following = next(
            (
                leaf
                for leaf in leaves_in(_root(box), body.end_byte, end)
                if is_comment(leaf) and starts_line(source, leaf.start_byte)
            ),
            None,
        )
    if following is None or not starts_line(source, following.start_byte):
        return None
    if following.start_point.column >= first.start_point.column:
        return None
    return Cut(body.end_byte, _complete(following, end, final))


def _root(node: Node) -> Node:
    while node.parent is not None:
        node = node.parent
    return node


def top_level_cut(root: Node, anchor: int, end: int, *, final: bool) -> Cut | None:
    """At the top level: after the first complete statement the candidate writes."""
    for child in children_from(root, anchor):
        if child.end_byte <= anchor or is_comment(child):
            continue
        if child.start_byte >= end:
            return None
        following = _next_token(root, child.end_byte, end)
        if following is None or following.start_byte < child.end_byte:
            return None
        return Cut(child.end_byte, _complete(following, end, final))
    return None


def body_of(box: Node, cursor: int) -> Node:
    """The node whose children are the statements being written: the container itself, or
    its body when the body starts after the cursor (Python `def f():`, Lua `function f()`)."""
    for child in children_from(box, cursor):
        if child.type in BODIES or child.type == "statement_list":  # Go wraps statements
            return child
    return box


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
) -> Cut | None:
    """Before a statement of the candidate that equals the statement the document already has
    next in this body (`upcoming`): the model re-writing the code below the cursor.

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
            return Cut(child.start_byte, True)
        stop = closing.at if closing is not None else end if final else None
        if stop is None:
            return None
        if _normalise(source[child.start_byte : stop]) == _normalise(upcoming_tail):
            return Cut(child.start_byte, closing.decided if closing is not None else True)
    return None


def _normalise(code: bytes) -> bytes:
    return b" ".join(code.split())


def doc_has_closer(doc_root: Node, box: Node, cursor: int, source: bytes) -> bool:
    """Whether the document's own version of `box` (same start and kind) has a real closer
    after the cursor. When a container around it lacks its closer, or the braces around it
    do not parse and its closer starts a line less indented than its header, the braces
    only pair up by accident (the block opened at the cursor took an outer one's closer):
    then `box` lacks it. Unknown (no such node) counts as yes: editors close brackets."""
    node: Node | None = doc_root.descendant_for_byte_range(box.start_byte, box.start_byte)
    while node is not None and not (node.start_byte == box.start_byte and node.type == box.type):
        if node.start_byte < box.start_byte:
            return True
        node = node.parent
    if node is None:
        return True
    closer = None
    for child in children_from(node, cursor):
        if child.start_byte >= cursor and child.child_count == 0 and child.type in CLOSER_TOKENS:
            closer = child
            break
    if closer is None or closer.is_missing:
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


def _line_start(source: bytes, offset: int) -> int:
    return source.rfind(b"\n", 0, offset) + 1


def starts_line(source: bytes, offset: int) -> bool:
    """Whether only whitespace precedes `offset` on its line."""
    return not source[_line_start(source, offset) : offset].strip(b" \t")


def leading_width(source: bytes, offset: int) -> int:
    """Indentation width of the line holding `offset` (a tab counts 4)."""
    start = end = _line_start(source, offset)
    while end < len(source) and source[end] in (32, 9):
        end += 1
    return sum(4 if char == 9 else 1 for char in source[start:end])
