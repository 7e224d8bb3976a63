"""Where a block suggestion ends, read from the syntax tree of the document with the
candidate in place.

Every rule is a plain function over tree-sitter nodes and byte offsets (UTF-8, as
tree-sitter counts). `cursor` is where the candidate starts, `end` where it stops; a rule
answers a `Cut`: where the suggestion ends, and whether more text could still move it
(`decided`), which is what lets a streaming request be stopped the moment it is done.

The container being filled is the nearest node that starts before the cursor and holds a
body or a bracketed list (`container`). The suggestion ends before the container's first
closer or continuation clause after the cursor (`}` `)` `]` `end`, `else`/`elif`/`except`),
or where the body ends in languages whose blocks have no closer (`closing_cut`); at the top
level, after the first complete statement (`top_level_cut`); and before a statement that
re-writes the one the document already has next (`repeat_cut`). The container's own closer
is kept only when the document lacks it (`doc_has_closer`).
"""

from __future__ import annotations

from tree_sitter import Node

from .nodes import (
    ROOTS,
    Cut,
    children_from,
    first_leaf,
    is_comment,
    is_punctuation,
    leading_width,
    leaves,
    leaves_in,
    next_token,
    root_of,
    starts_line,
)

# Leaves that close a container: brackets, and the keywords of keyword-delimited blocks.
CLOSER_TOKENS = frozenset({")", "]", "}", "end", "until"})
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
# Bodies without closers of their own (Python and Lua blocks; Go and Rust blocks too).
BODIES = frozenset({"block"})
# Nodes holding a block's statements, braced or not: everything else bracketed is a list.
BLOCK_BODIES = frozenset(
    {
        "block",
        "statement_block",
        "compound_statement",
        "class_body",
        "declaration_list",
        "field_declaration_list",
        "switch_body",
        "match_block",
        "statement_list",
        "enum_body",
        "interface_body",
        "object_type",
    }
)


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


def container(root: Node, cursor: int, anchor: int) -> Node | None:
    """The container the candidate fills: from the node at `anchor` (the candidate's first
    code), the nearest container that starts before the cursor. None inside an ERROR node
    (the text rules take over)."""
    probe = min(anchor, root.end_byte)
    node: Node | None = root.descendant_for_byte_range(probe, probe)
    while node is not None:
        if node.is_error:
            return None
        if node.start_byte < cursor and is_container(node, cursor):
            parent = node.parent
            if (
                node.type in BODIES
                and parent is not None
                and not _closes_itself(node)
                and _closed_after(parent, cursor)
            ):
                # A body without brackets of its own ends where its statement's closer or
                # next clause begins (Lua `end`, Python `else:`): that statement decides.
                # A braced body (Rust, Go) ends at its own `}`, before any `else`.
                return parent
            return node
        node = node.parent
    return None


def _closes_itself(body: Node) -> bool:
    """Whether a body has its own closing bracket (`{ … }` in Rust and Go)."""
    last = body.child(body.child_count - 1) if body.child_count else None
    return last is not None and last.child_count == 0 and last.type in CLOSER_TOKENS


def _closed_after(node: Node, cursor: int) -> bool:
    for child in children_from(node, cursor):
        if child.start_byte < cursor:
            continue
        if child.type in CLAUSES or (child.child_count == 0 and child.type in CLOSER_TOKENS):
            return True
    return False


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
            at = child.start_byte
            previous = child.prev_sibling
            while previous is not None and is_comment(previous):
                previous = previous.prev_sibling
            if layout and previous is not None and previous.type in BODIES:
                at = _body_end(previous, source)  # not the comments that lead the clause
            return Cut(at, _complete(first_leaf(child), end, final))
    if box.type in ROOTS:
        return None
    if not layout:
        return _next_branch_cut(box, end, final=final)
    # The body holding the cursor ends at the first line that starts less indented.
    body = body_of(box, cursor)
    if body.end_byte >= end:
        return None
    first = next((c for c in body.children if c.is_named and not is_comment(c)), None)
    if first is None:
        return None
    following = next_token(root_of(box), body.end_byte, end)
    if following is None and final:
        # Only comments follow: one that starts a line less indented ends the body too.
        following = next(
            (
                leaf
                for leaf in leaves_in(root_of(box), body.end_byte, end)
                if is_comment(leaf) and starts_line(source, leaf.start_byte)
            ),
            None,
        )
    if following is None or not starts_line(source, following.start_byte):
        return None
    if following.start_point.column >= first.start_point.column:
        return None
    return Cut(_body_end(body, source), _complete(following, end, final))


def _next_branch_cut(box: Node, end: int, *, final: bool) -> Cut | None:
    """A branch whose siblings carry the closers (Lua's `elseif … then` body: the next
    `elseif`/`else` or the `end` belong to the `if` around it) ends where the next sibling
    branch or the statement's closer begins."""
    branch = box.parent if box.type in BODIES and box.parent is not None else box
    if branch.type not in CLAUSES or branch.parent is None:
        return None
    for sibling in children_from(branch.parent, branch.end_byte):
        if sibling.start_byte < branch.end_byte or sibling.is_missing or is_comment(sibling):
            continue
        if sibling.start_byte >= end:
            return None
        if sibling.type in CLAUSES or (sibling.child_count == 0 and sibling.type in CLOSER_TOKENS):
            return Cut(sibling.start_byte, _complete(first_leaf(sibling), end, final))
        return None
    return None


def _body_end(body: Node, source: bytes) -> int:
    """Where an indented body ends: comments less indented than its statements, before the
    dedent, are the next code's, not the body's."""
    first = next((c for c in body.children if c.is_named and not is_comment(c)), None)
    if first is None:
        return body.end_byte
    column = first.start_point.column
    kept = [
        c.end_byte
        for c in body.children
        if not is_comment(c)
        or c.start_point.column >= column
        or not starts_line(source, c.start_byte)
    ]
    return max(kept, default=body.end_byte)


def top_level_cut(root: Node, anchor: int, end: int, *, final: bool) -> Cut | None:
    """At the top level: after the first complete statement the candidate writes."""
    for child in children_from(root, anchor):
        if child.end_byte <= anchor or is_comment(child):
            continue
        if child.start_byte >= end:
            return None
        following = next_token(root, child.end_byte, end)
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
