"""The tree rules of line mode for a `Shaper`: where a one-line suggestion ends before a
closer the rest of the cursor line already holds, and what of that rest it repeats."""

from __future__ import annotations

from tree_sitter import Language, Tree

from . import line_cuts, nodes
from .languages import LanguageSpec
from .splice import Splice
from .text import decode_utf8, encode_utf8


class LineRules:
    """Line mode's cuts for one cursor: `splice` holds the document without the rest of the
    cursor line, `doc_tree` the document's tree with it."""

    fallback = False  # the tree places every line candidate: the text rules never take over

    def __init__(
        self,
        *,
        splice: Splice,
        language: Language,
        prefix: str,
        suffix: str,
        line_suffix: str,
        doc_tree: Tree,
        lang: LanguageSpec | None,
    ) -> None:
        self._splice = splice
        self.line_suffix = line_suffix
        cursor = splice.cursor
        root = doc_tree.root_node
        rest = encode_utf8(line_suffix)
        line_end = cursor + len(rest)
        # The hole can leave the rest of the line unparsable (`f(‸, b)`): then its tokens
        # say nothing, and each cut is checked by how well the line parses with it.
        self._line_broken = nodes.has_errors(root, cursor, line_end)
        closers = [] if self._line_broken else line_cuts.line_closers(root, cursor, line_end)
        self._closes_on_line = bool(closers)
        cut = closers[0] - cursor if closers else len(rest)
        self._line_repeat = decode_utf8(rest[:cut]).rstrip()
        self._whole_line = Splice(
            language,
            prefix,
            suffix,
            doc_tree=doc_tree,
            inner=lang is not None and lang.block_style == "brace",
        )

    def cut(self, candidate: bytes, *, final: bool) -> tuple[str, bool] | None:
        """(the candidate line up to where the tree ends it, whether that is decided), or
        None where the tree says nothing."""
        if not (self._closes_on_line or self._line_broken):
            return None  # nothing on the line for the tree to decide: no parse
        tree = self._splice.parse(candidate)
        root = tree.root_node
        cursor = self._splice.cursor
        end = cursor + len(candidate)
        cut = line_cuts.line_cut(root, cursor, end, encode_utf8(self.line_suffix))
        if cut is None:
            return None
        if not self._parses_better(candidate, cut.at - cursor):
            return None
        decided = cut.decided and not nodes.has_errors(root, cursor, cut.at)
        return decode_utf8(candidate[: cut.at - cursor]), final or decided

    def _parses_better(self, candidate: bytes, cut: int) -> bool:
        """Whether the document parses at least as well cut at `cut` as with the whole
        candidate line, each followed by the rest of the line it already has (strictly
        better where that rest is unparsable on its own: then the tokens proved nothing)."""
        counts = [self._errors_with(text) for text in (candidate[:cut], candidate)]
        return counts[0] < counts[1] if self._line_broken else counts[0] <= counts[1]

    def line_tail(self, line: str) -> str:
        """`line` without its end where that repeats the start of the rest of the line: the
        model ran on into the code the editor already shows after the cursor. The repeat is
        the whole rest of the line or its part before the first real closer; where the rest
        of the line does not parse, the longest end of `line` the rest starts with. Never a
        piece of a token, nor one closing a bracket the kept text opens."""
        data = encode_utf8(line)
        options = self._repeat_starts(data)
        if not options:
            return line
        # Drop the repeat that leaves the line parsing best; keeping everything wins only
        # when strictly better (`f(x)` before the editor's `)` keeps its own `)`).
        errors = {at: self._errors_with(data[:at]) for at in [*options, len(data)]}
        best = min(options, key=lambda at: (errors[at], at))
        if errors[best] <= errors[len(data)]:
            return decode_utf8(data[:best]).rstrip()
        return line

    def _repeat_starts(self, data: bytes) -> set[int]:
        """Where in `data` (the last line, encoded) a repeat of the rest of the line may start,
        each at a token's start."""
        root = self._splice.parse(data).root_node
        cursor = self._splice.cursor
        leaves = list(nodes.leaves_in(root, cursor, cursor + len(data)))
        starts = {leaf.start_byte - cursor for leaf in leaves}
        stripped = data.rstrip()
        options: set[int] = set()
        if not self._line_broken:
            # The whole rest of the line, or its part before the first real closer.
            for repeat in (self.line_suffix, self._line_repeat):
                tail = encode_utf8(repeat.strip())
                at = len(stripped) - len(tail)
                if tail and stripped.endswith(tail) and at in starts and at > 0:
                    options.add(at)
        else:
            # The rest of the line does not parse on its own: any end of `line` it starts with.
            rest = encode_utf8(self.line_suffix.strip())
            for at in starts:
                tail = data[at:].strip()
                if at > 0 and tail and rest.startswith(tail):
                    options.add(at)
        return options

    def _errors_with(self, text: bytes) -> int:
        """Errors in the document with `text` inserted at the cursor (the rest of the line
        and everything after it kept)."""
        root = self._whole_line.parse(text).root_node
        return nodes.count_errors(root, 0, root.end_byte)
