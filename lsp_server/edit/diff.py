"""The selection widened to whole lines, and a rewrite of it as minimal line-level TextEdits."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from lsprotocol import types

from ..positions import LineIndex

# A line and its break: "\r\n", "\n" and "\r" end lines in LSP (str.splitlines knows more).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """`text`'s lines, each with its line break (LSP's three kinds only)."""
    return _LINE.findall(text)


@dataclass(frozen=True)
class Selection:
    """Whole lines [start, end) of a text (string offsets), as an edit rewrites them."""

    start: int
    end: int

    def text(self, doc_text: str) -> str:
        return doc_text[self.start : self.end]


def widen(text: str, start: int, end: int) -> Selection:
    """The lines `text[start:end]` touches: from its first line's start to past its last
    line's end (its line break included); a selection ending at a line's start leaves that
    line out, unless nothing else is selected (then it is the line at the cursor)."""
    start, end = min(start, end), max(start, end)
    line_start = _line_start(text, start)
    if end > start and _line_start(text, end) == end:
        return Selection(line_start, end)
    return Selection(line_start, _next_line_start(text, end))


def _line_start(text: str, at: int) -> int:
    return max(text.rfind("\n", 0, at), text.rfind("\r", 0, at)) + 1 if at else 0


def _next_line_start(text: str, at: int) -> int:
    """The offset just past the line break ending the line that holds `at` (or the text's end)."""
    for i in range(at, len(text)):
        if text[i] == "\n":
            return i + 1
        if text[i] == "\r":
            return i + 2 if text.startswith("\r\n", i) else i + 1
    return len(text)


def position(index: LineIndex, offset: int, encoding: str) -> types.Position:
    line, character = index.position(offset, encoding)
    return types.Position(line=line, character=character)


def line_edits(
    index: LineIndex, selection: Selection, new_text: str, encoding: str
) -> list[types.TextEdit]:
    """The fewest whole-line TextEdits turning the selection's text into `new_text`: a line
    diff (difflib), in document order, not overlapping, positions in `encoding`."""
    old_lines = split_lines(selection.text(index.text))
    new_lines = split_lines(new_text)
    starts = [selection.start]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    edits = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        rng = types.Range(
            start=position(index, starts[i1], encoding), end=position(index, starts[i2], encoding)
        )
        edits.append(types.TextEdit(range=rng, new_text="".join(new_lines[j1:j2])))
    return edits
