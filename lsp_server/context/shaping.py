"""Turning a model's raw infill into the suggestion an editor shows: cut, de-duplicated, trimmed.

In order: cut at the first control marker; keep one line (line mode) or the block being
written (block mode: it ends where a line dedents below the block, or at an unmatched `}`
in brace languages, or after `max_lines`); cut where the suggestion starts repeating the
lines below the cursor; drop closing brackets/quotes the editor already has right after the
cursor; strip trailing whitespace. Nothing left but whitespace -> None.
"""

from __future__ import annotations

import re

from .languages import LanguageSpec
from .mode import CLOSING_CHARS, CompletionMode
from .text import indent_width, is_closer_line, leading_ws, unquoted

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
_BRACKET_PAIRS = {")": "(", "]": "[", "}": "{"}
_QUOTES = frozenset("\"'`")
# Lines too common to prove the model is re-writing the code below the cursor on their own.
_TRIVIAL_LINE = re.compile(r"^(?:else:?|}\s*else\s*\{?|pass|break;?|continue;?|return;?)$")


# Control characters other than tab and newline never belong in code an editor inserts.
_CONTROL_CHAR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_control_markers(text: str) -> str:
    """The text before the first control marker or control character, without a
    half-generated marker at its end."""
    text = text.replace("\r\n", "\n")
    cut = min((i for i in (text.find(m) for m in CONTROL_MARKERS) if i >= 0), default=len(text))
    bad = _CONTROL_CHAR.search(text, 0, cut)
    text = text[: bad.start() if bad else cut]
    for partial in _PARTIAL_MARKERS:
        if text.endswith(partial):
            return text[: -len(partial)]
    return text


def shape_suggestion(
    raw: str,
    *,
    mode: CompletionMode,
    prefix: str,
    suffix: str,
    lang: LanguageSpec | None,
) -> str | None:
    """The suggestion to show for `raw` infill between `prefix` and `suffix`, or None."""
    text = strip_control_markers(raw)
    cursor_line = prefix[prefix.rfind("\n") + 1 :]
    line_suffix, _, below = suffix.partition("\n")
    lines = text.split("\n")
    if mode.mode == "line":
        lines = lines[:1]
    else:
        if not cursor_line.strip() and indent_width(cursor_line) >= indent_width(mode.indent):
            # The cursor already stands at the block's indentation (the editor auto-indented):
            # the first line must not indent again. Editors also treat ghost text that starts
            # with whitespace as indentation, so Tab would indent instead of accepting it.
            lines[0] = lines[0].lstrip(" \t")
        brace = lang.block_style == "brace" if lang else prefix.rstrip().endswith("{")
        lines = _block(lines, mode, prefix, suffix, brace)
        lines = _cut_repeated_suffix(lines, below, first_is_whole=not cursor_line.strip())
    lines = [line.rstrip() for line in lines]
    if lines and line_suffix.strip():
        # The suggestion's end meets the rest of the cursor line: drop what repeats it.
        lines[-1] = _trim_line_overlap(lines[-1], line_suffix)
    shaped = "\n".join(lines).rstrip()
    return shaped if shaped.strip() else None


def _block(
    lines: list[str], mode: CompletionMode, prefix: str, suffix: str, brace: bool
) -> list[str]:
    """The lines of the block being written: up to a dedent, an unmatched `}`, or max_lines."""
    cursor_line = prefix[prefix.rfind("\n") + 1 :]
    blank_cursor = not cursor_line.strip()
    # A block opened right here may get its closer written, unless the editor already shows
    # it: on the cursor line (auto-closed) or below at the opener's indentation. A closer
    # further out belongs to an enclosing block.
    opener_line = next((ln for ln in reversed(prefix.split("\n")) if ln.strip()), "")
    next_line = next((ln for ln in suffix.split("\n") if ln.strip()), "")
    closer_shown = bool(suffix.partition("\n")[0].strip()) or (
        is_closer_line(next_line)
        and indent_width(leading_ws(next_line)) >= indent_width(leading_ws(opener_line))
    )
    new_block = mode.reason in ("opener", "empty-body")
    write_closer = new_block and not closer_shown
    # Absolute text of each line: the first continues the cursor line.
    whole = [leading_ws(cursor_line) + lines[0] if blank_cursor else "", *lines[1:]]
    floor = indent_width(mode.indent)
    if new_block:
        # The model's own indentation step wins when it is shallower than the guessed one.
        outer = floor - indent_width(mode.indent_unit)
        first = next((w for w in whole if w.strip()), "")
        if outer < indent_width(leading_ws(first)) < floor:
            floor = indent_width(leading_ws(first))
    depth = 0
    for i, line in enumerate(lines):
        if i >= mode.max_lines:
            return lines[:i]
        if brace:
            depth, column = _brace_depth(line, depth)
            if column is not None:
                if write_closer:
                    rest = line[column + 1 :]
                    return [*lines[:i], line[: column + 1 + len(rest) - len(rest.lstrip(");,"))]]
                head = line[:column]
                return [*lines[:i], head] if head.strip() else lines[:i]
        if not whole[i].strip() or (i == 0 and not blank_cursor):
            continue
        if indent_width(leading_ws(whole[i])) < floor:
            closes = write_closer and not brace and is_closer_line(line)
            return lines[: i + 1] if closes else lines[:i]
    return lines


def _brace_depth(line: str, depth: int) -> tuple[int, int | None]:
    """Brace depth after `line`, and the column of a `}` that closes the block being written."""
    for column, char in unquoted(line):
        if line.startswith("//", column):
            break
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return depth, column
    return depth, None


def _cut_repeated_suffix(lines: list[str], below: str, *, first_is_whole: bool) -> list[str]:
    """Cut where the suggestion starts re-writing the lines that follow the cursor line."""
    upcoming = [ln.strip() for ln in below.split("\n") if ln.strip()][: len(lines) + 1]
    if not upcoming:
        return lines
    for i, line in enumerate(lines):
        if (i == 0 and not first_is_whole) or line.strip() != upcoming[0]:
            continue
        if is_closer_line(line):
            continue  # `}`/`end` repeat all the time; the block rules decide about closers
        rest = [ln.strip() for ln in lines[i:] if ln.strip()]
        if not _TRIVIAL_LINE.match(upcoming[0]) or rest == upcoming[: len(rest)]:
            return lines[:i]
    return lines


def _trim_line_overlap(line: str, line_suffix: str) -> str:
    """Drop the end of `line` that the text right after the cursor already has.

    `print(` + model `"hi")` + editor's `)` -> `"hi"`. A bracket is dropped only if the
    suggestion does not open it itself (`f(x)` before `)` keeps its own `)`), a quote only if
    the suggestion has an odd number of it; other text only as a repeat of the whole rest of
    the line.
    """
    target = line_suffix.strip()
    body = line.rstrip()
    for size in range(min(len(target), len(body)), 0, -1):
        repeated = target[:size]
        if not body.endswith(repeated):
            continue
        partial = size < len(target)
        if partial and any(char not in CLOSING_CHARS for char in repeated):
            continue
        if _closes_outside(body, len(body) - size):
            return body[: len(body) - size].rstrip()
    return line


def _closes_outside(text: str, start: int) -> bool:
    """Whether every bracket and quote in text[start:] closes something opened before `text`."""
    stack: list[str] = []
    excess: set[int] = set()
    for position, char in enumerate(text):
        if char in "([{":
            stack.append(char)
        elif char in _BRACKET_PAIRS:
            if stack and stack[-1] == _BRACKET_PAIRS[char]:
                stack.pop()
            else:
                excess.add(position)
    for position in range(start, len(text)):
        char = text[position]
        if char in _BRACKET_PAIRS and position not in excess:
            return False
        if char in _QUOTES and text.count(char) % 2 == 0:
            return False
        if char in "([{":
            return False
    return True
