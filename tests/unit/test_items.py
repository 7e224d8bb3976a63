"""The completion fallback item: the word being typed is kept, snippets expand to exactly the text."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from lsp_server.items import (
    ClientTraits,
    escape_snippet,
    fallback_item,
    item_label,
    relative_indent,
    word_before,
)

SNIPPETS = ClientTraits(snippets=True, as_is=False)
PLAIN = ClientTraits(snippets=False, as_is=False)


def unescape(snippet: str) -> str:
    """What a snippet without tabstops expands to (the LSP grammar's escapes)."""
    assert not re.search(r"(?<!\\)(?:\\\\)*\$", snippet), snippet  # no live `$`
    return re.sub(r"\\(.)", r"\1", snippet, flags=re.S)


def offsets_as_positions(before: str):  # type: ignore[no-untyped-def]
    def position(offset: int) -> types.Position:
        text = before[:offset]
        line = text.count("\n")
        return types.Position(line=line, character=len(text) - (text.rfind("\n") + 1))

    return position


def test_word_before() -> None:
    assert word_before("def f():\n    ret") == "ret"
    assert word_before("x = foo.ba") == "ba"
    assert word_before("    ") == ""
    assert word_before("print(") == ""
    assert word_before("naïve_wört") == "naïve_wört"
    assert word_before("a\nb") == "b"


@given(st.text())
def test_snippet_escaping_round_trips(text: str) -> None:
    assert unescape(escape_snippet(text)) == text


def test_relative_indent() -> None:
    text = "if x:\n        y()\n    z()"
    assert relative_indent(text, "    ") == "if x:\n    y()\nz()"
    assert relative_indent("one line", "    ") == "one line"
    assert relative_indent(text, "") == text


def test_label_keeps_the_word_and_is_never_blank() -> None:
    assert item_label("return a + b\n    more", "ret") == "return a + b"
    assert item_label("ret\n        x = 1", "ret") == "ret⏎ x = 1"
    assert item_label("\n\n", "") == "⏎"
    long_word = "w" * 100
    assert item_label(long_word + "x" * 50, long_word).startswith(long_word)
    assert len(item_label("x" * 300, "")) <= 81


def test_item_replaces_the_word_with_word_plus_suggestion() -> None:
    before = "def add(a, b):\n    ret"
    item = fallback_item("s1", "urn a + b", before, offsets_as_positions(before), PLAIN, "python")
    edit = item.text_edit
    assert isinstance(edit, types.TextEdit)
    assert edit.range.start == types.Position(line=1, character=4)
    assert edit.range.end == types.Position(line=1, character=7)
    assert edit.new_text == "return a + b"
    assert item.insert_text_format == types.InsertTextFormat.PlainText
    assert item.label == item.filter_text == "return a + b"
    assert item.command is not None and item.command.arguments == ["s1"]


def test_snippet_item_for_clients_that_reindent() -> None:
    before = "def f(x):\n    if x:\n        "
    text = "return {'$x': x}\n        y = 1"
    item = fallback_item("s2", text, before, offsets_as_positions(before), SNIPPETS)
    edit = item.text_edit
    assert isinstance(edit, types.TextEdit)
    assert item.insert_text_format == types.InsertTextFormat.Snippet
    assert item.insert_text_mode is None
    # The client adds the cursor line's indentation ("        ") back to the second line.
    expanded = unescape(edit.new_text).replace("\n", "\n        ")
    assert expanded == text
    assert edit.range.start == edit.range.end


def test_snippet_item_as_is_for_clients_that_say_so() -> None:
    before = "    "
    text = "a()\n    b()"
    traits = ClientTraits(snippets=True, as_is=True)
    item = fallback_item("s3", text, before, offsets_as_positions(before), traits)
    assert item.insert_text_mode == types.InsertTextMode.AsIs
    assert isinstance(item.text_edit, types.TextEdit)
    assert unescape(item.text_edit.new_text) == text


def test_traits_from_capabilities() -> None:
    caps = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            completion=types.CompletionClientCapabilities(
                completion_item=types.ClientCompletionItemOptions(
                    snippet_support=True,
                    insert_text_mode_support=types.ClientCompletionItemInsertTextModeOptions(
                        value_set=[types.InsertTextMode.AsIs]
                    ),
                )
            )
        )
    )
    assert ClientTraits.of(caps) == ClientTraits(snippets=True, as_is=True)
    assert ClientTraits.of(types.ClientCapabilities()) == PLAIN
