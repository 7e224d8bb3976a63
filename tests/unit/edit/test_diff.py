"""The selection widened to whole lines, and a rewrite as minimal TextEdits with LSP positions."""

from __future__ import annotations

from lsprotocol import types

from lsp_server.edit.diff import Selection, line_edits, split_lines, widen
from lsp_server.positions import UTF8, UTF16, UTF32, LineIndex


def apply(text: str, edits: list[types.TextEdit], encoding: str) -> str:
    """What an editor makes of the edits (applied last to first)."""
    index = LineIndex(text)
    for e in sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        start = index.offset(e.range.start.line, e.range.start.character, encoding, strict=False)
        end = index.offset(e.range.end.line, e.range.end.character, encoding, strict=False)
        text = text[:start] + e.new_text + text[end:]
        index = LineIndex(text)
    return text


def pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


def test_widen_to_whole_lines() -> None:
    text = "a\nbb\nccc\ndd\n"
    assert widen(text, 3, 7) == Selection(2, 9)  # mid "bb" to mid "ccc": lines 1-2 with breaks
    assert widen(text, 2, 9) == Selection(2, 9)  # ending at a line's start leaves that line out
    assert widen(text, 3, 3) == Selection(2, 5)  # a cursor: its line
    assert widen("x\ny", 2, 3) == Selection(2, 3)  # the last line, no break after it


def test_widen_knows_crlf_and_cr() -> None:
    assert widen("a\r\nbb\r\nc", 4, 4) == Selection(3, 7)
    assert widen("a\rbb\rc", 3, 3) == Selection(2, 5)


def test_split_lines_only_at_lsp_line_breaks() -> None:
    assert split_lines("a\x0cb\r\nc\rd\n") == ["a\x0cb\r\n", "c\r", "d\n"]
    assert split_lines("x") == ["x"]
    assert split_lines("") == []


def test_one_changed_line_is_one_small_edit() -> None:
    text = "def f():\n    a = 1\n    b = 2\n    return a + b\n"
    sel = Selection(0, len(text))
    new = "def f():\n    a = 1\n    b = 3\n    return a + b\n"
    edits = line_edits(LineIndex(text), sel, new, UTF16)
    assert edits == [
        types.TextEdit(range=types.Range(start=pos(2, 0), end=pos(3, 0)), new_text="    b = 3\n")
    ]
    assert apply(text, edits, UTF16) == new


def test_insertions_and_deletions_in_document_order() -> None:
    text = "head\none\ntwo\nthree\nfour\ntail\n"
    sel = widen(text, 5, 24)  # "one" .. "four"
    new = "zero\none\nthree\nfour\nfive\n"
    edits = line_edits(LineIndex(text), sel, new, UTF16)
    assert [e.range.start.line for e in edits] == sorted(e.range.start.line for e in edits)
    assert all(e.new_text.count("\n") <= 1 for e in edits)
    assert apply(text, edits, UTF16) == "head\n" + new + "tail\n"


def test_unchanged_gives_no_edits() -> None:
    text = "x = 1\n"
    assert line_edits(LineIndex(text), Selection(0, 6), text, UTF16) == []


def test_positions_count_code_units_of_each_encoding() -> None:
    text = "s = '👋é'\nt = 1\nu = 2\n"
    sel = Selection(0, len(text))
    new = "s = '👋é'\nt = 2\nu = 2\n"
    for encoding in (UTF8, UTF16, UTF32):
        edits = line_edits(LineIndex(text), sel, new, encoding)
        assert edits[0].range.start == pos(1, 0)
        assert apply(text, edits, encoding) == new
    # A change on the emoji's line (the last, no line break) ends past it in each encoding's units.
    line = "s = '👋é'"
    for encoding, width in ((UTF8, 12), (UTF16, 9), (UTF32, 8)):
        edits = line_edits(LineIndex(line), Selection(0, len(line)), "s = '👋é!'", encoding)
        assert edits[0].range.end == pos(0, width)
        assert apply(line, edits, encoding) == "s = '👋é!'"


def test_selection_at_end_of_file_without_a_line_break() -> None:
    text = "a = 1\nb = 2"
    sel = widen(text, 8, 8)
    assert sel == Selection(6, 11)
    edits = line_edits(LineIndex(text), sel, "b = 3", UTF16)
    assert edits == [
        types.TextEdit(range=types.Range(start=pos(1, 0), end=pos(1, 5)), new_text="b = 3")
    ]
    assert apply(text, edits, UTF16) == "a = 1\nb = 3"


def test_crlf_lines() -> None:
    text = "a\r\nb\r\nc\r\n"
    edits = line_edits(LineIndex(text), Selection(0, len(text)), "a\r\nB\r\nc\r\n", UTF16)
    assert edits == [
        types.TextEdit(range=types.Range(start=pos(1, 0), end=pos(2, 0)), new_text="B\r\n")
    ]
