"""Whether the spot under the cursor wants the rest of a line or a block, and how it is indented.

The rules, in order (`before`/`after` are the cursor line's text on either side):

1. "mid-line" -> line: `after` holds code, i.e. anything but closing brackets, quotes and
   `;`, `,`, `:`. The suggestion completes this line only.
2. "opener" -> block: `before` ends a block header: Python `def f():`/`if x:`/`class C:`
   (a colon outside brackets), `{` in brace languages, Lua `then`/`do`/`else`/`repeat`/
   `function f(a)`; a plain-text file opens on `:` or `{`. Openers in strings and comments
   do not count (the syntax tree says which those are). The body is one indent deeper.
3. "end-of-line" -> line: `before` holds other code; the line may still be unfinished.
4. "empty-body" -> block: the cursor line is blank up to the cursor, the line above opens a
   block and nothing is in its body yet (what follows is at the opener's indentation or
   shallower, or a closer). The body is one indent deeper than the opener.
5. "blank-line" -> block of a few lines at the cursor's indentation: any other blank line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .languages import PLAIN_OPENER, LanguageSpec
from .syntax import DocumentSyntax
from .text import (
    code_part,
    detect_indent_unit,
    indent_width,
    is_blank,
    leading_ws,
    split_lines,
    unquoted,
)

# How many lines a suggestion may span, after a block opener and on a blank line.
BLOCK_MAX_LINES = 24
BLANK_LINE_MAX_LINES = 8
# Text after the cursor that an editor auto-inserts and a completion writes before.
CLOSING_CHARS = frozenset(")]}\"'`;,:")
_OPEN_BRACKETS = {"(": ")", "[": "]", "{": "}"}
_CLOSE_BRACKETS = frozenset(")]}")
# Lines around the cursor read to learn the file's indentation step.
_INDENT_WINDOW = 100

Reason = Literal["mid-line", "end-of-line", "opener", "empty-body", "blank-line"]


@dataclass(frozen=True)
class CompletionMode:
    """What kind of suggestion the cursor spot wants.

    `indent` is the absolute indentation of the lines the suggestion writes: the block body's
    for "opener" and "empty-body", the cursor line's otherwise. A block ends where a line
    dedents below it (or, in brace languages, where an unmatched `}` closes it).
    """

    mode: Literal["line", "block"]
    indent: str
    max_lines: int
    reason: Reason
    indent_unit: str = "    "


def detect_mode(
    text: str, offset: int, *, syntax: DocumentSyntax | None, lang: LanguageSpec | None
) -> CompletionMode:
    """The completion mode for a cursor at `offset` (a str index) in `text`."""
    offset = max(0, min(offset, len(text)))
    if syntax is not None and syntax.text != text:
        syntax = None
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    before = text[line_start:offset]
    after = text[offset : len(text) if line_end < 0 else line_end]
    unit = _indent_unit(text, line_start, lang)

    if any(char not in CLOSING_CHARS for char in after.strip()):
        return CompletionMode("line", leading_ws(before + after), 1, "mid-line", unit)
    if before.strip():
        ws = leading_ws(before)
        if _opens_block(text, line_start, before, syntax, lang):
            return CompletionMode("block", ws + unit, BLOCK_MAX_LINES, "opener", unit)
        return CompletionMode("line", ws, 1, "end-of-line", unit)

    opener_start = _previous_code_line(text, line_start)
    if opener_start is not None:
        opener_end = text.find("\n", opener_start)
        opener = text[opener_start:opener_end]
        opener_ws = leading_ws(opener)
        if _opens_block(text, opener_start, opener, syntax, lang) and _body_empty(
            text, line_end, after, opener_ws
        ):
            deeper = indent_width(before) > indent_width(opener_ws)
            indent = before if deeper else opener_ws + unit
            return CompletionMode("block", indent, BLOCK_MAX_LINES, "empty-body", unit)
    return CompletionMode("block", before, BLANK_LINE_MAX_LINES, "blank-line", unit)


def bracket_depth(code: str) -> int:
    """Net open brackets on a line, skipping quoted text; negative when it closes more."""
    depth = 0
    for _, char in unquoted(code):
        if char in _OPEN_BRACKETS:
            depth += 1
        elif char in _CLOSE_BRACKETS:
            depth -= 1
    return depth


def _opens_block(
    text: str,
    line_start: int,
    line: str,
    syntax: DocumentSyntax | None,
    lang: LanguageSpec | None,
) -> bool:
    code = code_part(line, lang.line_comment if lang else None)
    if not code:
        return False
    if lang is not None:
        if not lang.opens_block(code):
            return False
        colon_style = lang.block_style == "indent"
    else:
        if not PLAIN_OPENER.search(code):
            return False
        colon_style = code.endswith(":")
    # `x = {"a":` is a dict entry, not a block header: a colon opens a block only outside brackets.
    if colon_style and bracket_depth(code[:-1]) > 0:
        return False
    return syntax is None or not syntax.inside_string_or_comment(line_start + len(code) - 1)


def _previous_code_line(text: str, line_start: int) -> int | None:
    """Start offset of the nearest non-blank line above the line starting at `line_start`."""
    end = line_start - 1
    while end > 0:
        start = text.rfind("\n", 0, end) + 1
        if text[start:end].strip():
            return start
        end = start - 1
    return None


def _body_empty(text: str, line_end: int, after: str, opener_ws: str) -> bool:
    """Nothing below the opener belongs to its body yet: a closer or a shallower line follows."""
    if after.strip():
        return True  # only closers remain on the cursor line (rule 1 ruled out code)
    position = line_end
    while 0 <= position < len(text):
        next_end = text.find("\n", position + 1)
        line = text[position + 1 : len(text) if next_end < 0 else next_end]
        if not is_blank(line):
            return indent_width(leading_ws(line)) <= indent_width(opener_ws)
        position = next_end
    return True


def _indent_unit(text: str, line_start: int, lang: LanguageSpec | None) -> str:
    low = line_start
    for _ in range(_INDENT_WINDOW):
        low = text.rfind("\n", 0, max(low - 1, 0)) + 1
        if low == 0:
            break
    high = line_start
    for _ in range(_INDENT_WINDOW):
        high = text.find("\n", high + 1)
        if high < 0:
            high = len(text)
            break
    window = split_lines(text[low:high])
    around = text.count("\n", low, line_start)
    return detect_indent_unit(window, around, lang.default_indent if lang else "    ")
