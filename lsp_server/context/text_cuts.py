"""Shaping by text alone, for languages without a grammar: indentation and bracket counting.

The syntax tree decides wherever a grammar exists (line_cuts.py, cuts.py); these rules are
the fallback.
A block ends where a line dedents below it, at an unmatched `}` in brace-style text, or
after `max_lines`; a suggestion is cut where it starts repeating the lines below the cursor;
closing brackets and quotes the editor already shows right after the cursor are dropped.
"""

from __future__ import annotations

import re

from .mode import CLOSING_CHARS, CompletionMode
from .text import indent_width, is_closer_line, leading_ws, unquoted

_BRACKET_PAIRS = {")": "(", "]": "[", "}": "{"}
_QUOTES = frozenset("\"'`")
# Lines too common to prove the model is re-writing the code below the cursor on their own.
_TRIVIAL_LINE = re.compile(r"^(?:else:?|}\s*else\s*\{?|pass|break;?|continue;?|return;?)$")


def text_block(
    lines: list[str],
    mode: CompletionMode,
    prefix: str,
    suffix: str,
    *,
    brace: bool,
    max_lines: int,
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
        if i >= max_lines:
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


def cut_repeated_suffix(lines: list[str], below: str, *, first_is_whole: bool) -> list[str]:
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


def trim_line_overlap(line: str, line_suffix: str) -> str:
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
