"""The tree rules of block mode for a `Shaper`: where a block suggestion ends at its
block's closer, dedent or next clause, or before a repeat (exact or near) of the code after
the cursor, and the closer it writes where the document lacks one."""

from __future__ import annotations

from tree_sitter import Node, Tree

from . import closers, cuts, near_copy, nodes, repeat_cuts
from .languages import LanguageSpec
from .nodes import Cut
from .splice import Splice
from .text import decode_utf8

_CLOSER_TAIL = (b")", b"]", b";", b",")


class BlockRules:
    """Block mode's cuts for one cursor: `splice` holds the document around the hole,
    `doc_tree` its tree. `fallback` turns True once the tree could not place a final
    candidate: then the text rules decide."""

    def __init__(self, *, splice: Splice, doc_tree: Tree, lang: LanguageSpec | None) -> None:
        self._splice = splice
        self._doc_tree = doc_tree
        self._layout = lang is not None and lang.block_style == "indent"
        self.fallback = False
        cursor = splice.cursor
        root = doc_tree.root_node
        self._doc_source = splice.prefix + splice.after
        box = cuts.container(root, cursor, cursor)
        body = cuts.body_of(box, cursor) if box is not None else None
        upcoming = repeat_cuts.next_statement(body, cursor) if body is not None else None
        self._upcoming = self._upcoming_tail = b""
        self._trivial = True
        self._upcoming_column = -1
        self._near: near_copy.Upcoming | None = None
        self._comments: tuple[bytes, ...] = ()
        if body is not None and upcoming is not None:
            self._near = near_copy.upcoming(
                body, cursor, self._doc_source, cuts.CLAUSES, cuts.CLOSER_TOKENS
            )
            self._trivial = repeat_cuts.is_trivial(upcoming)
            self._upcoming_column = upcoming.start_point.column
            tail_end = repeat_cuts.last_statement_end(body, cursor)
            self._upcoming = self._doc_source[upcoming.start_byte : upcoming.end_byte]
            self._upcoming_tail = self._doc_source[upcoming.start_byte : tail_end]
            self._comments = repeat_cuts.comments_before(body, cursor, upcoming, self._doc_source)

    def cut(self, candidate: bytes, *, final: bool) -> tuple[str, bool] | None:
        """(the candidate up to where its block ends or a repeat starts, whether that is
        decided), or None where the tree says nothing."""
        tree = self._splice.parse(candidate)
        root = tree.root_node
        cursor = self._splice.cursor
        end = cursor + len(candidate)
        anchor = cursor + len(candidate) - len(candidate.lstrip())
        box = cuts.container(root, cursor, anchor)
        if box is None:
            if final:
                self.fallback = True
            return None
        closing = self._closing_cut(root, box, anchor, end, final=final)
        cut = self._repeat_cut(box, anchor, end, closing, final=final) or closing
        if cut is None:
            return None
        at = self._past_written_closer(root, box, candidate, cut.at, final=final)
        if at is None:
            return None  # the closer's line may go on with more of them
        decided = cut.decided and not nodes.has_errors(root, cursor, cut.at)
        return decode_utf8(candidate[: at - cursor]), final or decided

    def _closing_cut(
        self, root: Node, box: Node, anchor: int, end: int, *, final: bool
    ) -> Cut | None:
        """Where the candidate's block (or, at the top level, its statement) ends."""
        if box.type in nodes.ROOTS:
            return cuts.top_level_cut(root, anchor, end, final=final)
        return cuts.closing_cut(
            box,
            self._splice.cursor,
            end,
            self._splice.source,
            layout=self._layout,
            final=final,
        )

    def _repeat_cut(
        self, box: Node, anchor: int, end: int, closing: Cut | None, *, final: bool
    ) -> Cut | None:
        """Where the candidate starts repeating the code after the cursor, exactly or as a
        near copy."""
        body = cuts.body_of(box, self._splice.cursor)
        source = self._splice.source
        repeat = repeat_cuts.repeat_cut(
            body,
            anchor,
            end,
            source,
            self._upcoming,
            self._upcoming_tail,
            closing,
            trivial=self._trivial,
            column=self._upcoming_column,
            final=final,
            comments=self._comments,
        )
        if repeat is None and self._near is not None:
            repeat = near_copy.near_copy_cut(
                body, anchor, end, source, self._near, closing, final=final
            )
        return repeat

    def _past_written_closer(
        self, root: Node, box: Node, candidate: bytes, at: int, *, final: bool
    ) -> int | None:
        """The cut `at`, moved past the block's closer where the document lacks it (with the
        brackets and separator that end its line, `});`); None where that line may still go
        on."""
        cursor = self._splice.cursor
        end = cursor + len(candidate)
        closer = root.descendant_for_byte_range(at, at)
        if not (
            closer is not None
            and closer.start_byte == at
            and closer.child_count == 0
            and closer.type in cuts.CLOSER_TOKENS
            and closer.parent == box
            and not closers.doc_has_closer(self._doc_tree.root_node, box, cursor, self._doc_source)
        ):
            return at
        # The document lacks this block's closer: the suggestion writes it, with the
        # brackets and separator that end its line (`});`).
        at = closer.end_byte
        if box.type not in cuts.BLOCK_BODIES:
            # A list's statement ends on its closer's line: `import { a } from 'x';`.
            at = min(closers.statement_end(box, at, self._splice.source), end)
        while at < end and candidate[at - cursor : at - cursor + 1] in _CLOSER_TAIL:
            at += 1
        if at == end and not final:
            return None
        return at
