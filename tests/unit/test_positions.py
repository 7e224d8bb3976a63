"""LSP positions: every line end LSP knows ("\r\n", "\n", "\r"), and an index kept across edits."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server.positions import UTF8, UTF16, UTF32, LineIndex

alphabet = st.sampled_from(["a", "b", " ", "\n", "\r", "\r\n", "é", "😀", "\ud800"])
texts = st.lists(alphabet, max_size=60).map("".join)


def lines_of(text: str) -> list[str]:
    """Lines as LSP defines them, the slow obvious way."""
    out, current, i = [], "", 0
    while i < len(text):
        if text.startswith("\r\n", i):
            out.append(current)
            current, i = "", i + 2
        elif text[i] in "\r\n":
            out.append(current)
            current, i = "", i + 1
        else:
            current, i = current + text[i], i + 1
    return [*out, current]


@settings(max_examples=300, deadline=None)
@given(texts)
def test_lines_and_round_trips(text: str) -> None:
    index = LineIndex(text)
    lines = lines_of(text)
    assert index.line_count == len(lines)
    assert [index.line_text(i) for i in range(len(lines))] == lines
    for encoding in (UTF8, UTF16, UTF32):
        for line in range(len(lines)):
            start = index.offset(line, 0, encoding)
            assert index.position(start, encoding) == (line, 0)
            end = index.offset(line, 10**6, encoding)  # clamped to the line's end
            assert text[start:end] == lines[line]


@settings(max_examples=300, deadline=None)
@given(texts, st.lists(st.tuples(st.integers(0, 80), st.integers(0, 10), texts), max_size=6))
def test_an_edited_index_matches_a_fresh_one(text: str, edits: list[Any]) -> None:
    index = LineIndex(text)
    assert index.line_count >= 1  # computes every line, as a lookup at the end would
    for at, length, inserted in edits:
        start = min(at, len(text))
        end = min(start + length, len(text))
        text = text[:start] + inserted + text[end:]
        index.edited(start, text, inserted)
        fresh = LineIndex(text)
        assert index.line_count == fresh.line_count
        assert [index.line_text(i) for i in range(fresh.line_count)] == [
            fresh.line_text(i) for i in range(fresh.line_count)
        ]


def test_a_lone_cr_ends_a_line() -> None:
    index = LineIndex("a\rb\r\nc\nd")
    assert index.line_count == 4
    assert index.offset(1, 0, UTF16) == 2
    assert index.offset(2, 0, UTF16) == 5
    assert index.position(5, UTF16) == (2, 0)
