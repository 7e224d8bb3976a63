"""Text geometry for the context engine: lines, char/byte offsets, points and indentation."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import pairwise

# A line made only of closing tokens: `}`, `});`, `end`, `end)`, `]`. Such lines close a scope.
CLOSER_LINE = re.compile(r"^[\s)\]};,]*(?:end|until\b.*)?[\s)\]};,]*$")


def split_lines(text: str) -> list[str]:
    """Lines keeping their "\n" (the last lacks it). Only "\n" breaks lines, as in tree-sitter."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines


def encode_utf8(text: str) -> bytes:
    """UTF-8 as tree-sitter reads it. A lone surrogate (legal in an editor's JSON, "\\ud800")
    has no UTF-8 form: it becomes the 3 bytes it would have, which the parser treats as
    an error like any invalid byte, so byte offsets stay in step with the text."""
    return text.encode("utf-8", "surrogatepass")


def decode_utf8(data: bytes) -> str:
    """The inverse of `encode_utf8` for a slice of it: a character cut at the slice's end is
    left out."""
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as cut:
        return data[: cut.start].decode("utf-8", "surrogatepass")


def utf8_len(text: str) -> int:
    # str.isascii() is O(1) in CPython, so ASCII documents never pay for an encode.
    return len(text) if text.isascii() else len(encode_utf8(text))


def byte_offset(text: str, char_offset: int) -> int:
    """UTF-8 byte offset of a Python str index."""
    return char_offset if text.isascii() else utf8_len(text[:char_offset])


def char_offset(text: str, byte_offset: int) -> int:
    """Python str index of a UTF-8 byte offset (the inverse of `byte_offset`)."""
    if text.isascii():
        return byte_offset
    return len(decode_utf8(encode_utf8(text)[:byte_offset]))


def line_col(text: str, char_offset: int) -> tuple[int, int]:
    """(line, column in chars) of a str index; both 0-based."""
    line = text.count("\n", 0, char_offset)
    return line, char_offset - (text.rfind("\n", 0, char_offset) + 1)


def point_at(text: str, char_offset: int) -> tuple[int, int]:
    """tree-sitter Point (row, column in UTF-8 bytes) of a str index."""
    line_start = text.rfind("\n", 0, char_offset) + 1
    return text.count("\n", 0, char_offset), utf8_len(text[line_start:char_offset])


def leading_ws(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def indent_width(ws: str, tab_size: int = 4) -> int:
    """Visual width of indentation; a tab advances to the next tab stop."""
    width = 0
    for char in ws:
        width = (width // tab_size + 1) * tab_size if char == "\t" else width + 1
    return width


def is_blank(line: str) -> bool:
    return not line.strip()


def is_closer_line(line: str) -> bool:
    return bool(line.strip()) and bool(CLOSER_LINE.match(line.strip()))


QUOTES = "\"'`"


def unquoted(line: str) -> Iterator[tuple[int, str]]:
    """(column, char) of each character outside string quotes (backslash escapes honoured)."""
    quote = ""
    escaped = False
    for column, char in enumerate(line):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in QUOTES:
            quote = char
        else:
            yield column, char


def code_part(line: str, comment: str | None) -> str:
    """The line without its trailing line comment and trailing whitespace.

    Quotes are tracked so that `"#"` or `'//'` inside a string does not count as a comment;
    strings spanning lines are the syntax tree's job, not this one's.
    """
    line = line.rstrip("\r\n")
    if comment:
        quote = ""
        i = 0
        while i < len(line):
            char = line[i]
            if quote:
                if char == "\\":
                    i += 1
                elif char == quote:
                    quote = ""
            elif char in "\"'`":
                quote = char
            elif line.startswith(comment, i):
                line = line[:i]
                break
            i += 1
    return line.rstrip()


def detect_indent_unit(lines: Sequence[str], around: int, default: str, window: int = 200) -> str:
    """The file's indentation step, read from the lines near `around`; `default` when unclear."""
    low, high = max(0, around - window), min(len(lines), around + window)
    widths: list[int] = []
    tabs = spaces = 0
    for line in lines[low:high]:
        if is_blank(line):
            continue
        ws = leading_ws(line)
        tabs += ws.startswith("\t")
        spaces += ws.startswith(" ")
        widths.append(indent_width(ws))
    if tabs > spaces:
        return "\t"
    steps = Counter(b - a for a, b in pairwise(widths) if 0 < b - a <= 8)
    if not steps:
        # Nothing nested nearby: trust the language default, unless it is a tab in a file of spaces.
        return "    " if default == "\t" and spaces else default
    return " " * steps.most_common(1)[0][0]
