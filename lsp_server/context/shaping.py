"""Turning a model's raw infill into the suggestion an editor shows, as it streams in.

In order: cut at the first control marker; keep one line (line mode); find where the
suggestion ends from the syntax tree of the document with the candidate in place
(line_cuts.py, cuts.py; the text rules of text_cuts.py where no grammar exists); trim what
the rest of the cursor line already holds; strip trailing whitespace; cap the lines.
Nothing left but whitespace -> None.

A `Shaper` takes the text piece by piece and says as soon as the suggestion is decided, so
the caller can stop the model instead of paying for tokens it would throw away.
"""

from __future__ import annotations

import re

from tree_sitter import Tree

from . import cuts, line_cuts, near_copy, nodes
from .languages import LanguageSpec
from .mode import CompletionMode
from .splice import Splice
from .text import decode_utf8, encode_utf8, indent_width
from .text_cuts import cut_repeated_suffix, text_block, trim_line_overlap

# A safety limit far above ordinary code: the syntax decides where a block ends.
DEFAULT_MAX_LINES = 400

CONTROL_MARKERS: tuple[str, ...] = (
    "<PRE>",
    "<SUF>",
    "<MID>",
    "<EOT>",
    "<step>",
    "</s>",
    "<s>",
    "[INST]",
    "[/INST]",
)
# A generation cut off inside a marker leaves its start behind: "<EO", "[/IN".
_PARTIAL_MARKERS = tuple(m[:n] for m in CONTROL_MARKERS for n in range(3, len(m)))
# Characters after which a line suggestion may be complete (closers, quotes, `;`, a line
# break) and, in both modes, the `<`/`[` of a control marker and control characters. A
# block's closer, clause or dedent starts a line: the line's first token is checked.
_LINE_DECISIVE = re.compile(r"[\n)\]}\"'`;<\[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLOCK_DECISIVE = re.compile(r"[<\[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FIRST_TOKEN = re.compile(r"\w+|\S")
# Control characters other than tab and newline never belong in code an editor inserts.
_CONTROL_CHAR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def cut_control(text: str) -> tuple[str, bool]:
    """The text before the first control marker or control character (and whether one was
    there: nothing after it counts), without a half-generated marker at its end."""
    text = text.replace("\r\n", "\n")
    cut = min((i for i in (text.find(m) for m in CONTROL_MARKERS) if i >= 0), default=len(text))
    bad = _CONTROL_CHAR.search(text, 0, cut)
    end = bad.start() if bad else cut
    if end < len(text):
        return text[:end], True
    for partial in _PARTIAL_MARKERS:
        if text.endswith(partial):
            return text[: -len(partial)], False
    return text, False


def strip_control_markers(text: str) -> str:
    """The text before the first control marker or control character."""
    return cut_control(text)[0]


class Shaper:
    """Shapes one suggestion from streamed text; `feed` says when it is decided.

    `prefix` and `suffix` are the whole document on either side of the cursor; `doc_tree`
    (the document's tree, if the caller has one) saves a parse. Languages without a grammar
    use the text rules and are decided only by the end of the stream, a line break in line
    mode, or the line cap.
    """

    def __init__(
        self,
        *,
        mode: CompletionMode,
        prefix: str,
        suffix: str,
        lang: LanguageSpec | None,
        max_lines: int = DEFAULT_MAX_LINES,
        doc_tree: Tree | None = None,
        parse: bool = True,
    ) -> None:
        self.mode = mode
        self.prefix = prefix
        self.suffix = suffix
        self.lang = lang
        self.max_lines = max(1, max_lines)
        self.line_suffix = suffix.partition("\n")[0]
        self.raw = ""
        self.decided = False
        self._final_text: str | None = None
        self._fallback = False  # the tree could not place the candidate: text rules decide
        # `parse=False`: a document too big to keep a tree for (documents.MAX_TREE_CHARS) is
        # never parsed whole here either; the text rules decide.
        language = lang.ts_language() if lang is not None and parse else None
        self._language = language
        self._splice: Splice | None = None
        self._line_broken = False
        if language is not None:
            line = mode.mode == "line"
            removed = len(encode_utf8(self.line_suffix)) if line else 0
            after = suffix[len(self.line_suffix) :] if line else suffix
            brace = lang is not None and lang.block_style == "brace"
            self._splice = Splice(
                language, prefix, after, doc_tree=doc_tree, doc_removed=removed, inner=brace
            )
            if doc_tree is None and line:
                # The document's tree (with the rest of the line) for the line rules below.
                doc_tree = self._splice.parser.parse(encode_utf8(prefix + suffix))
            self._doc_tree = doc_tree if doc_tree is not None else self._splice.doc_tree
            self._prepare_rules()

    # ---- streaming -------------------------------------------------------------------------
    def feed(self, text: str) -> bool:
        """Add streamed text; True once the suggestion is decided (more text cannot change it)."""
        if self.decided:
            return True
        before = self.raw
        self.raw += text
        if not self._may_decide(before, text):
            return False
        shaped, decided = self._evaluate(final=False)
        if decided:
            self.decided = True
            self._final_text = shaped
        return self.decided

    def _may_decide(self, before: str, text: str) -> bool:
        """Whether `text` (appended to `before`) can make the suggestion decided, so the tree
        is consulted a few times a line, not once a token: at a closing character, a line
        break, a control marker, and where the first token of a line starts or ends (a
        dedent, `end`, `else:` and a repeated statement all show there)."""
        if (_LINE_DECISIVE if self.mode.mode == "line" else _BLOCK_DECISIVE).search(text):
            return True
        if "\n" in text:
            # A line that is a single token (`end`, `}`) is complete once it ends.
            ended = before + text[: text.index("\n")]
            last = ended[ended.rfind("\n") + 1 :].strip()
            token = _FIRST_TOKEN.match(last)
            if token is not None and token.end() == len(last):
                return True
        line = self.raw[self.raw.rfind("\n") + 1 :]
        head = line.lstrip()
        if not head:
            return False
        old_head = before[before.rfind("\n") + 1 :].lstrip()
        if not old_head:
            return True  # the line's first character
        first = _FIRST_TOKEN.match(head)
        old_first = _FIRST_TOKEN.match(old_head)
        # The line's first token was still open before this piece and ends in it.
        return bool(
            first and old_first and old_first.end() == len(old_head) and first.end() < len(head)
        )

    def result(self) -> str | None:
        """The suggestion: the decided one, or the best for everything fed (the stream ended)."""
        text = self._final_text
        if text is None:
            text, _ = self._evaluate(final=True)
        return self._finish(text)

    # ---- rules ------------------------------------------------------------------------------
    def _prepare_rules(self) -> None:
        assert self._splice is not None
        cursor = self._splice.cursor
        root = self._doc_tree.root_node
        if self.mode.mode == "line":
            rest = encode_utf8(self.line_suffix)
            line_end = cursor + len(rest)
            # The hole can leave the rest of the line unparsable (`f(‸, b)`): then its tokens
            # say nothing, and each cut is checked by how well the line parses with it.
            self._line_broken = nodes.has_errors(root, cursor, line_end)
            closers = [] if self._line_broken else line_cuts.line_closers(root, cursor, line_end)
            self._closes_on_line = bool(closers)
            cut = closers[0] - cursor if closers else len(rest)
            self._line_repeat = decode_utf8(rest[:cut]).rstrip()
            assert self._language is not None
            self._whole_line = Splice(
                self._language,
                self.prefix,
                self.suffix,
                doc_tree=self._doc_tree,
                inner=self.lang is not None and self.lang.block_style == "brace",
            )
            return
        self._doc_source = self._splice.prefix + self._splice.after
        box = cuts.container(root, cursor, cursor)
        body = cuts.body_of(box, cursor) if box is not None else None
        upcoming = cuts.next_statement(body, cursor) if body is not None else None
        self._upcoming = self._upcoming_tail = b""
        self._trivial = True
        self._upcoming_column = -1
        self._near: near_copy.Upcoming | None = None
        self._comments: tuple[bytes, ...] = ()
        if body is not None and upcoming is not None:
            self._near = near_copy.upcoming(
                body, cursor, self._doc_source, cuts.CLAUSES, cuts.CLOSER_TOKENS
            )
            self._trivial = cuts.is_trivial(upcoming)
            self._upcoming_column = upcoming.start_point.column
            tail_end = cuts.last_statement_end(body, cursor)
            self._upcoming = self._doc_source[upcoming.start_byte : upcoming.end_byte]
            self._upcoming_tail = self._doc_source[upcoming.start_byte : tail_end]
            self._comments = cuts.comments_before(body, cursor, upcoming, self._doc_source)

    def _evaluate(self, *, final: bool) -> tuple[str, bool]:
        """(candidate text up to where the suggestion ends, whether that is decided)."""
        text, stopped = cut_control(self.raw)
        final = final or stopped
        if self.mode.mode == "line":
            if "\n" in text:
                text, final = text[: text.index("\n")], True
        elif text.count("\n") >= self.max_lines:
            text = "\n".join(text.split("\n")[: self.max_lines])
            final = True
        if self._splice is None:
            return text, final
        cut = self._tree_cut(text, final=final)
        if cut is None:
            return text, final
        return cut

    def _tree_cut(self, text: str, *, final: bool) -> tuple[str, bool] | None:
        assert self._splice is not None
        candidate = encode_utf8(text)
        if not candidate.strip():
            return None
        if self.mode.mode == "line" and not (self._closes_on_line or self._line_broken):
            return None  # nothing on the line for the tree to decide: no parse
        tree = self._splice.parse(candidate)
        root = tree.root_node
        cursor = self._splice.cursor
        end = cursor + len(candidate)
        if self.mode.mode == "line":
            cut = line_cuts.line_cut(root, cursor, end, encode_utf8(self.line_suffix))
            if cut is None:
                return None
            if not self._parses_better(candidate, cut.at - cursor):
                return None
            decided = cut.decided and not nodes.has_errors(root, cursor, cut.at)
            return decode_utf8(candidate[: cut.at - cursor]), final or decided
        anchor = cursor + len(candidate) - len(candidate.lstrip())
        box = cuts.container(root, cursor, anchor)
        if box is None:
            if final:
                self._fallback = True
            return None
        if box.type in nodes.ROOTS:
            closing = cuts.top_level_cut(root, anchor, end, final=final)
        else:
            closing = cuts.closing_cut(
                box,
                cursor,
                end,
                self._splice.source,
                layout=self.lang is not None and self.lang.block_style == "indent",
                final=final,
            )
        body = cuts.body_of(box, cursor)
        repeat = cuts.repeat_cut(
            body,
            anchor,
            end,
            self._splice.source,
            self._upcoming,
            self._upcoming_tail,
            closing,
            trivial=self._trivial,
            column=self._upcoming_column,
            final=final,
            comments=self._comments,
        )
        if repeat is None and self._near is not None:
            source = self._splice.source
            repeat = near_copy.near_copy_cut(
                body, anchor, end, source, self._near, closing, final=final
            )
        cut = repeat or closing
        if cut is None:
            return None
        at = cut.at
        closer = root.descendant_for_byte_range(at, at)
        if (
            closer is not None
            and closer.start_byte == at
            and closer.child_count == 0
            and closer.type in cuts.CLOSER_TOKENS
            and closer.parent == box
            and not cuts.doc_has_closer(self._doc_tree.root_node, box, cursor, self._doc_source)
        ):
            # The document lacks this block's closer: the suggestion writes it, with the
            # brackets and separator that end its line (`});`).
            at = closer.end_byte
            if box.type not in cuts.BLOCK_BODIES:
                # A list's statement ends on its closer's line: `import { a } from 'x';`.
                at = min(cuts.statement_end(box, at, self._splice.source), end)
            while at < end and candidate[at - cursor : at - cursor + 1] in (b")", b"]", b";", b","):
                at += 1
            if at == end and not final:
                return None  # the closer's line may go on with more of them
        decided = cut.decided and not nodes.has_errors(root, cursor, cut.at)
        return decode_utf8(candidate[: at - cursor]), final or decided

    def _parses_better(self, candidate: bytes, cut: int) -> bool:
        """Whether the document parses at least as well cut at `cut` as with the whole
        candidate line, each followed by the rest of the line it already has (strictly
        better where that rest is unparsable on its own: then the tokens proved nothing)."""
        counts = [self._errors_with(text) for text in (candidate[:cut], candidate)]
        return counts[0] < counts[1] if self._line_broken else counts[0] <= counts[1]

    def _line_tail(self, line: str) -> str:
        """`line` without its end where that repeats the start of the rest of the line: the
        model ran on into the code the editor already shows after the cursor. The repeat is
        the whole rest of the line or its part before the first real closer; where the rest
        of the line does not parse, the longest end of `line` the rest starts with. Never a
        piece of a token, nor one closing a bracket the kept text opens."""
        assert self._splice is not None
        data = encode_utf8(line)
        root = self._splice.parse(data).root_node
        cursor = self._splice.cursor
        leaves = list(nodes.leaves_in(root, cursor, cursor + len(data)))
        starts = {leaf.start_byte - cursor for leaf in leaves}

        def cut_at(at: int) -> bool:
            return (
                at > 0
                and at in starts
                and not any(line_cuts.closes_between(o, cursor, cursor + at) for o in leaves)
            )

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
        if not options:
            return line
        # Drop the repeat that leaves the line parsing best; keeping everything wins only
        # when strictly better (`f(x)` before the editor's `)` keeps its own `)`).
        errors = {at: self._errors_with(data[:at]) for at in [*options, len(data)]}
        best = min(options, key=lambda at: (errors[at], at))
        if errors[best] <= errors[len(data)]:
            return decode_utf8(data[:best]).rstrip()
        return line

    def _errors_with(self, text: bytes) -> int:
        """Errors in the document with `text` inserted at the cursor (the rest of the line
        and everything after it kept)."""
        root = self._whole_line.parse(text).root_node
        return nodes.count_errors(root, 0, root.end_byte)

    # ---- finishing --------------------------------------------------------------------------
    def _finish(self, text: str) -> str | None:
        cursor_line = self.prefix[self.prefix.rfind("\n") + 1 :]
        lines = text.split("\n")
        if self.mode.mode == "line":
            lines = lines[:1]
        elif not cursor_line.strip() and indent_width(cursor_line) >= indent_width(
            self.mode.indent
        ):
            # The cursor already stands at the block's indentation (the editor auto-indented):
            # the first line must not indent again. Editors also treat ghost text that starts
            # with whitespace as indentation, so Tab would indent instead of accepting it.
            lines[0] = lines[0].lstrip(" \t")
        if self._splice is None or self._fallback:
            lines = self._text_rules(lines, cursor_line)
        lines = [line.rstrip() for line in lines][: self.max_lines]
        if lines and self.line_suffix.strip():
            if self._splice is not None and self.mode.mode == "line":
                lines[-1] = self._line_tail(lines[-1])
            else:
                lines[-1] = trim_line_overlap(lines[-1], self.line_suffix)
        shaped = "\n".join(lines).rstrip()
        return shaped if shaped.strip() else None

    def _text_rules(self, lines: list[str], cursor_line: str) -> list[str]:
        if self.mode.mode == "line":
            return lines
        lang = self.lang
        brace = lang.block_style == "brace" if lang else self.prefix.rstrip().endswith("{")
        lines = text_block(
            lines, self.mode, self.prefix, self.suffix, brace=brace, max_lines=self.max_lines
        )
        below = self.suffix.partition("\n")[2]
        return cut_repeated_suffix(lines, below, first_is_whole=not cursor_line.strip())


def shape_suggestion(
    raw: str,
    *,
    mode: CompletionMode,
    prefix: str,
    suffix: str,
    lang: LanguageSpec | None,
    max_lines: int = DEFAULT_MAX_LINES,
) -> str | None:
    """The suggestion to show for `raw` infill between `prefix` and `suffix`, or None."""
    shaper = Shaper(mode=mode, prefix=prefix, suffix=suffix, lang=lang, max_lines=max_lines)
    shaper.feed(raw)
    return shaper.result()
