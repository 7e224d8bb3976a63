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
level, after the first complete statement (`top_level_cut`). The rules that stop before a
re-write of the code after the cursor are in repeat_cuts.py (and near_copy.py); whether the
suggestion writes the container's own closer, in closers.py.
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
