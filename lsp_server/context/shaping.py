"""Turning a model's raw infill into the suggestion an editor shows, as it streams in.

In order: cut at the first control marker; keep one line (line mode); find where the
suggestion ends from the syntax tree of the document with the candidate in place
(line_shaping.py over line_cuts.py, block_shaping.py over cuts.py, repeat_cuts.py,
near_copy.py and closers.py; the text rules of text_cuts.py where no grammar exists); trim
what the rest of the cursor line already holds; strip trailing whitespace; cap the lines.
Nothing left but whitespace -> None.

A `Shaper` takes the text piece by piece and says as soon as the suggestion is decided, so
the caller can stop the model instead of paying for tokens it would throw away.
"""

from __future__ import annotations

import re

from tree_sitter import Tree

from .block_shaping import BlockRules
from .languages import LanguageSpec
from .line_shaping import LineRules
from .mode import CompletionMode
from .splice import Splice
from .text import encode_utf8, indent_width
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
        # The tree rules of the mode; None where the text rules decide. `parse=False`: a
        # document too big to keep a tree for (documents.MAX_TREE_CHARS) is never parsed whole
        # here either.
        self._rules: LineRules | BlockRules | None = None
        language = lang.ts_language() if lang is not None and parse else None
        if language is None:
            return
        line = mode.mode == "line"
        removed = len(encode_utf8(self.line_suffix)) if line else 0
        after = suffix[len(self.line_suffix) :] if line else suffix
        brace = lang is not None and lang.block_style == "brace"
        splice = Splice(
            language, prefix, after, doc_tree=doc_tree, doc_removed=removed, inner=brace
        )
        if not line:
            tree = doc_tree if doc_tree is not None else splice.doc_tree
            self._rules = BlockRules(splice=splice, doc_tree=tree, lang=lang)
            return
        if doc_tree is None:
            # The document's tree (with the rest of the line) for the line rules.
            doc_tree = splice.parser.parse(encode_utf8(prefix + suffix))
        self._rules = LineRules(
            splice=splice,
            language=language,
            prefix=prefix,
            suffix=suffix,
            line_suffix=self.line_suffix,
            doc_tree=doc_tree,
            lang=lang,
        )

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
        if self._rules is None:
            return text, final
        candidate = encode_utf8(text)
        cut = self._rules.cut(candidate, final=final) if candidate.strip() else None
        if cut is None:
            return text, final
        return cut

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
        if self._rules is None or self._rules.fallback:
            lines = self._text_rules(lines, cursor_line)
        lines = [line.rstrip() for line in lines][: self.max_lines]
        if lines and self.line_suffix.strip():
            if isinstance(self._rules, LineRules):
                lines[-1] = self._rules.line_tail(lines[-1])
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
