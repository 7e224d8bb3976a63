"""LSP positions <-> string offsets in the negotiated encoding (UTF-16 default, UTF-8, UTF-32)."""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"

# LSP: "\r\n", "\n" and "\r" all end a line (a CRLF is one line end).
_EOL = re.compile(r"\r\n?|\n")


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
    """Line starts of a text, for position <-> offset, found lazily and kept across edits.

    Starts are 8 bytes each in an array, computed only as far as a lookup needs; an edit
    (`edited`) keeps the starts before it, so typing in a large file costs the lines
    around the cursor, not a rescan of the whole text.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = array("q", [0])
        self._complete = False  # every line's start is known
        self._has_cr = "\r" in text

    # ---- finding line starts ------------------------------------------------------------
    def _next_start(self, pos: int) -> int:
        """The start of the line after the one holding `pos`, or -1 if that is the last."""
        if not self._has_cr:
            at = self.text.find("\n", pos)
            return at + 1 if at >= 0 else -1
        m = _EOL.search(self.text, pos)
        return m.end() if m else -1

    def _extend(self, *, line: int | None = None, offset: int | None = None) -> None:
        """Find starts until `line` has one (and the next), or one lies past `offset`."""
        starts = self._starts
        while not self._complete and (
            (line is not None and len(starts) <= line + 1)
            or (offset is not None and starts[-1] <= offset)
        ):
            nxt = self._next_start(starts[-1])
            if nxt < 0:
                self._complete = True
            else:
                starts.append(nxt)

    @property
    def line_count(self) -> int:
        self._extend(line=len(self.text) + 1)
        return len(self._starts)

    def line_start(self, line: int) -> int:
        self._extend(line=line)
        return self._starts[line]

    def _line_span(self, line: int) -> tuple[int, int]:
        """[start, end) of a line's text, without its line end."""
        self._extend(line=line)
        start = self._starts[line]
        if line + 1 < len(self._starts):
            end = self._starts[line + 1]
            end -= 2 if self.text.startswith("\r\n", max(0, end - 2)) else 1
        else:
            end = len(self.text)
        return start, end

    def line_text(self, line: int) -> str:
        start, end = self._line_span(line)
        return self.text[start:end]

    # ---- conversions ------------------------------------------------------------------------
    def offset(self, line: int, character: int, encoding: str, *, strict: bool = True) -> int:
        """The string offset of an LSP position. A line past the end is an error when strict."""
        if line < 0 or character < 0:
            raise PositionError(f"negative position {line}:{character}")
        self._extend(line=line)
        if line >= len(self._starts):
            if strict:
                raise PositionError(
                    f"line {line} is past the end of the document ({len(self._starts)} lines)"
                )
            return len(self.text)
        start, end = self._line_span(line)
        return start + units_to_chars(self.text[start:end], character, encoding)

    def position(self, offset: int, encoding: str) -> tuple[int, int]:
        offset = max(0, min(offset, len(self.text)))
        self._extend(offset=offset)
        line = bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        return line, chars_to_units(self.text[start:offset], offset - start, encoding)

    # ---- edits ------------------------------------------------------------------------------
    def edited(self, start: int, new_text: str, inserted: str) -> None:
        """Follow an edit at offset `start` that made the text `new_text` (`inserted` is
        the text put in): starts before the edit stay, the rest are found again on demand."""
        # A line starting exactly at `start` may stop being one (a "\r" before it joined by
        # an inserted "\n"): keep only starts strictly before the edit, and line 0.
        keep = max(1, bisect_left(self._starts, start))
        del self._starts[keep:]
        self.text = new_text
        self._complete = False
        self._has_cr = self._has_cr or "\r" in inserted
