"""The `textDocument/completion` fallback: a suggestion as one CompletionItem that any client inserts whole."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lsprotocol import types

from . import protocol as tp
from .context.text import leading_ws

# Untuned clients (Neovim's `vim.lsp.completion` autotrigger, eglot + company) only ask on
# their own after one of these; the space makes "return " or "x = " ask, as ghost text would.
TRIGGER_CHARACTERS: tuple[str, ...] = (".", "(", "[", "{", ",", ":", "=", " ")
LABEL_CHARS = 80
_WORD_BEFORE = re.compile(r"\w*\Z")
_SNIPPET_SPECIAL = re.compile(r"[\\$}]")


@dataclass(frozen=True)
class ClientTraits:
    """What decides how a client inserts an item."""

    snippets: bool  # expands snippets: the only format Neovim's built-in completion inserts whole
    as_is: (
        bool  # honours insertTextMode asIs (else a snippet's lines are re-indented by the client)
    )

    @classmethod
    def of(cls, caps: types.ClientCapabilities | None) -> ClientTraits:
        completion = caps.text_document.completion if caps and caps.text_document else None
        item = completion.completion_item if completion else None
        modes = item.insert_text_mode_support if item else None
        as_is = bool(modes and types.InsertTextMode.AsIs in modes.value_set) or (
            completion is not None and completion.insert_text_mode == types.InsertTextMode.AsIs
        )
        return cls(snippets=bool(item and item.snippet_support), as_is=as_is)


def word_before(before: str) -> str:
    """The identifier characters just before the cursor: the word the client is completing."""
    line = before[before.rfind("\n") + 1 :]
    match = _WORD_BEFORE.search(line)
    return match.group(0) if match else ""


def escape_snippet(text: str) -> str:
    """`text` as snippet syntax that expands to exactly `text` (`\\`, `$` and `}` escaped)."""
    return _SNIPPET_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def relative_indent(text: str, indent: str) -> str:
    """Lines after the first without the cursor line's indentation.

    A client without insertTextMode asIs adjusts a snippet's indentation (LSP's
    adjustIndentation: Neovim's `vim.snippet`, VS Code): it adds the cursor line's
    indentation to every line after the first, so the suggestion must not carry it too.
    """
    if not indent or "\n" not in text:
        return text
    first, *rest = text.split("\n")
    return "\n".join([first, *(line.removeprefix(indent) for line in rest)])


def item_label(new_text: str, word: str) -> str:
    """The first line of what gets inserted; it starts with `word`, so clients that filter or
    insert by the label (eglot) keep the word being typed."""
    head, _, tail = new_text.partition("\n")
    if not head[len(word) :].strip():
        following = next((line.strip() for line in tail.split("\n") if line.strip()), "")
        head = f"{word}⏎ {following}" if following else head
    if not head.strip():
        head = word + "⏎"  # eglot drops items whose label is blank
    limit = max(LABEL_CHARS, len(word) + 1)
    return head if len(head) <= limit else head[:limit] + "…"


def fallback_item(
    suggestion_id: str,
    text: str,
    before: str,
    position: Callable[[int], types.Position],
    traits: ClientTraits,
    language_id: str = "",
) -> types.CompletionItem:
    """One item that inserts `text` at the end of `before` (the document up to the cursor).

    Its `textEdit` replaces the word being typed with that word plus the suggestion, so the
    range covers the word and `filterText`/`label` start with it: every client then keeps what
    the user typed (eglot re-inserts by the label; Neovim and VS Code filter by the word). As a
    snippet (when the client has them) it is escaped, so it expands to exactly the text.
    """
    word = word_before(before)
    cursor = len(before)
    new_text = word + text
    label = item_label(new_text, word)
    edit_text = new_text
    fmt = types.InsertTextFormat.PlainText
    mode: types.InsertTextMode | None = None
    if traits.snippets:
        fmt = types.InsertTextFormat.Snippet
        if traits.as_is:
            mode = types.InsertTextMode.AsIs
        else:
            line = before[before.rfind("\n") + 1 :]
            edit_text = relative_indent(new_text, leading_ws(line))
        edit_text = escape_snippet(edit_text)
    elif traits.as_is:
        mode = types.InsertTextMode.AsIs
    fence = "````" if "```" in text else "```"
    return types.CompletionItem(
        label=label,
        kind=types.CompletionItemKind.Snippet,
        detail="Tandem",
        documentation=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value=f"{fence}{language_id}\n{new_text}\n{fence}"
        ),
        sort_text="0",
        filter_text=label,
        preselect=True,
        insert_text_format=fmt,
        insert_text_mode=mode,
        text_edit=types.TextEdit(
            range=types.Range(start=position(cursor - len(word)), end=position(cursor)),
            new_text=edit_text,
        ),
        command=types.Command(
            title="Tandem: accepted", command=tp.CMD_ACCEPTED, arguments=[suggestion_id]
        ),
    )
