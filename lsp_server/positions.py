"""LSP positions <-> string offsets in the negotiated encoding (UTF-16 default, UTF-8, UTF-32)."""

from __future__ import annotations

from bisect import bisect_right

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"


class PositionError(ValueError):
    """A position that is not inside the document."""


def char_units(ch: str, encoding: str) -> int:
    """How many code units one code point takes in `encoding`."""
    if encoding == UTF16:
        return 2 if ord(ch) > 0xFFFF else 1
    if encoding == UTF8:
        return len(ch.encode("utf-8", "surrogatepass"))
    return 1


def units_to_chars(line: str, units: int, encoding: str) -> int:
    """Code points in `line` covered by `units` code units (clamped to the line, per LSP)."""
    if encoding == UTF32:
        return min(units, len(line))
    seen = 0
    for i, ch in enumerate(line):
        if seen >= units:
            return i
        seen += char_units(ch, encoding)
        if seen > units:  # inside a character: LSP says round to its start
            return i
    return len(line)


def chars_to_units(line: str, chars: int, encoding: str) -> int:
    if encoding == UTF32:
        return chars
    return sum(char_units(ch, encoding) for ch in line[:chars])


class LineIndex:
    """Line starts of a text, for position <-> offset in O(log n) plus the line's length."""

    def __init__(self, text: str) -> None:
        self.text = text
        starts = [0]
        pos = text.find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = text.find("\n", pos + 1)
        self.starts = starts

    def line_text(self, line: int) -> str:
        start = self.starts[line]
        end = self.starts[line + 1] - 1 if line + 1 < len(self.starts) else len(self.text)
        return self.text[start:end]

    def offset(self, line: int, character: int, encoding: str, *, strict: bool = True) -> int:
        """The string offset of an LSP position. A line past the end is an error when strict."""
        if line < 0 or character < 0:
            raise PositionError(f"negative position {line}:{character}")
        if line >= len(self.starts):
            if strict:
                raise PositionError(
                    f"line {line} is past the end of the document ({len(self.starts)} lines)"
                )
            return len(self.text)
        return self.starts[line] + units_to_chars(self.line_text(line), character, encoding)

    def position(self, offset: int, encoding: str) -> tuple[int, int]:
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self.starts, offset) - 1
        return line, chars_to_units(
            self.text[self.starts[line] : offset], offset - self.starts[line], encoding
        )
