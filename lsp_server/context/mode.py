"""Whether the spot under the cursor wants the rest of a line or a block, and how it is indented.

The rules, in order (`before`/`after` are the cursor line's text on either side):

1. "mid-line" -> line: `after` holds code, i.e. anything but closing brackets, quotes and
   `;`, `,`, `:`. The suggestion completes this line only.
2. "opener" -> block: `before` ends a block header: Python `def f():`/`if x:`/`class C:`,
   `{` in brace languages, Lua `then`/`do`/`else`/`repeat`/`function f(a)`; a plain-text
   file opens on `:` or `{`. With a grammar the syntax tree names the last token (so
   openers in strings and comments, `'a` lifetimes and trailing comments are read right);
   without one, text rules guess. The body is one indent deeper than the line where the
   header starts (a header may wrap over several lines).
3. "end-of-line" -> line: `before` holds other code; the line may still be unfinished.
4. "empty-body" -> block: the cursor line is blank up to the cursor, the line above opens a
   block and nothing is in its body yet. The body is one indent deeper than the header.
5. "blank-line" -> block at the cursor's indentation: any other blank line.

Where a block suggestion ends is the shaper's job (shaping.py), decided by syntax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tree_sitter import Node

from .languages import PLAIN_OPENER, LanguageSpec
from .nodes import last_leaf_before
from .syntax import DocumentSyntax
from .text import (
    byte_offset,
    char_offset,
    code_part,
    detect_indent_unit,
    indent_width,
    is_blank,
    leading_ws,
    split_lines,
    unquoted,
)

# Text after the cursor that an editor auto-inserts and a completion writes before.
CLOSING_CHARS = frozenset(")]}\"'`;,:")
_OPEN_BRACKETS = {"(": ")", "[": "]", "{": "}"}
_CLOSE_BRACKETS = frozenset(")]}")
# Lines around the cursor read to learn the file's indentation step.
_INDENT_WINDOW = 100

Reason = Literal["mid-line", "end-of-line", "opener", "empty-body", "blank-line"]


@dataclass(frozen=True)
class CompletionMode:
    """What kind of suggestion the cursor spot wants.

    `indent` is the absolute indentation of the lines the suggestion writes: the block body's
    for "opener" and "empty-body", the cursor line's otherwise.
    """

    mode: Literal["line", "block"]
    indent: str
    reason: Reason
    indent_unit: str = "    "


def detect_mode(
    text: str, offset: int, *, syntax: DocumentSyntax | None, lang: LanguageSpec | None
) -> CompletionMode:
    """The completion mode for a cursor at `offset` (a str index) in `text`."""
    offset = max(0, min(offset, len(text)))
    if syntax is not None and syntax.text != text:
        syntax = None
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    before = text[line_start:offset]
    after = text[offset : len(text) if line_end < 0 else line_end]
    unit = _indent_unit(text, line_start, lang)

    if any(char not in CLOSING_CHARS for char in after.strip()):
        return CompletionMode("line", leading_ws(before + after), "mid-line", unit)
    if before.strip():
        opener = _opener(text, line_start, before, syntax, lang)
        if opener is not None:
            indent = _header_ws(text, line_start, opener) + unit
            return CompletionMode("block", indent, "opener", unit)
        return CompletionMode("line", leading_ws(before), "end-of-line", unit)

    opener_start = _previous_code_line(text, line_start)
    if opener_start is not None:
        opener_end = text.find("\n", opener_start)
        line = text[opener_start:opener_end]
        opener = _opener(text, opener_start, line, syntax, lang)
        if opener is not None:
            header_ws = _header_ws(text, opener_start, opener)
            empty = _body_empty_by_tree(opener, byte_offset(text, offset))
            if empty is None:
                empty = _body_empty(text, line_end, after, leading_ws(line))
            if empty:
                deeper = indent_width(before) > indent_width(header_ws)
                indent = before if deeper else header_ws + unit
                return CompletionMode("block", indent, "empty-body", unit)
    return CompletionMode("block", before, "blank-line", unit)


def bracket_depth(code: str) -> int:
    """Net open brackets on a line, skipping quoted text; negative when it closes more."""
    depth = 0
    for _, char in unquoted(code):
        if char in _OPEN_BRACKETS:
            depth += 1
        elif char in _CLOSE_BRACKETS:
            depth -= 1
    return depth


# The token that ends a block header, per block style (Lua also opens on a function's `)`).
_PYTHON_HEADERS = frozenset(
    {
        "function_definition",
        "class_definition",
        "if_statement",
        "elif_clause",
        "else_clause",
        "for_statement",
        "while_statement",
        "with_statement",
        "try_statement",
        "except_clause",
        "except_group_clause",
        "finally_clause",
        "match_statement",
        "case_clause",
    }
)
_LUA_OPENERS = frozenset({"then", "do", "else", "repeat", "{"})
# An opener found by text alone (no grammar, or an ERROR around it).
_TEXT_OPENER = "text"


def _opener(
    text: str,
    line_start: int,
    line: str,
    syntax: DocumentSyntax | None,
    lang: LanguageSpec | None,
) -> Node | str | None:
    """What opens a block at the end of `line` (which starts at `line_start`): the opener's
    leaf in the syntax tree, `_TEXT_OPENER` when text rules found one, or None."""
    if syntax is not None and lang is not None:
        found = _opener_by_tree(text, line_start, line, syntax, lang)
        if found is not False:
            return found if isinstance(found, Node) else None
    return _TEXT_OPENER if _opens_block_by_text(text, line_start, line, syntax, lang) else None


def _opener_by_tree(
    text: str, line_start: int, line: str, syntax: DocumentSyntax, lang: LanguageSpec
) -> Node | bool | None:
    """The opener leaf, None when the line's last token opens nothing, False when unsure."""
    start = byte_offset(text, line_start)
    end = byte_offset(text, line_start + len(line.rstrip("\r\n")))
    leaf = last_leaf_before(syntax.root, end)
    if leaf is None or leaf.start_byte < start:
        return None  # no code on this line (blank, or only a comment)
    parent = leaf.parent
    kind = leaf.type
    if lang.block_style == "indent":
        if kind != ":":
            return None
        if parent is None:
            return False
        if parent.is_error:
            # Unfinished code: a colon inside brackets or after `lambda` is still no header.
            if _inside_brackets(parent, leaf) or any(
                sibling.type == "lambda"
                for sibling in parent.children[: parent.children.index(leaf)]
            ):
                return None
            return False
        return leaf if parent.type in _PYTHON_HEADERS else None
    if lang.block_style == "keyword":
        if kind in _LUA_OPENERS:
            return leaf
        if kind == ")" and parent is not None and parent.type == "parameters":
            return leaf
        return None
    return leaf if kind == "{" else None


def _inside_brackets(node: Node | None, leaf: Node) -> bool:
    """Whether `leaf` sits inside a bracket opened before it (a dict, a call's arguments)."""
    while node is not None:
        first = node.child(0) if node.child_count else None
        if (
            first is not None
            and first.type in ("(", "[", "{")
            and first.end_byte <= leaf.start_byte
        ):
            return True
        node = node.parent
    return False


def _header_ws(text: str, line_start: int, opener: Node | str) -> str:
    """Indentation of the line where the header that `opener` ends begins."""
    if isinstance(opener, str):
        return _line_ws(text, line_start)
    header = opener.parent
    # `{` opens a body whose parent is the statement; a Lua `)` ends its parameters.
    grand = header.parent if header is not None else None
    if opener.type in ("{", ")") and grand is not None and grand.parent is not None:
        header = grand
    if header is None or header.is_error:
        header = opener
    start = char_offset(text, header.start_byte)
    return _line_ws(text, text.rfind("\n", 0, start) + 1)


def _line_ws(text: str, line_start: int) -> str:
    end = line_start
    while end < len(text) and text[end] in " \t":
        end += 1
    return text[line_start:end]


def _body_empty_by_tree(opener: Node | str, cursor: int) -> bool | None:
    """Whether the block `opener` opens has no statement after the cursor yet (None: unsure)."""
    if isinstance(opener, str) or opener.parent is None or opener.parent.is_error:
        return None
    box = opener.parent
    if opener.type == ")" and box.parent is not None:
        box = box.parent  # a Lua function's parameters: the body belongs to the function
    bodies = [box, *(c for c in box.children if c.type == "block")]
    for body in bodies:
        for child in body.children:
            if child.start_byte < cursor or not child.is_named or child.is_extra:
                continue
            if child.is_missing or child.type == "block" or child.type.endswith("_clause"):
                continue
            if child.type in ("else_statement", "elseif_statement"):
                continue
            return False
    return True


def _opens_block_by_text(
    text: str,
    line_start: int,
    line: str,
    syntax: DocumentSyntax | None,
    lang: LanguageSpec | None,
) -> bool:
    code = code_part(line, lang.line_comment if lang else None)
    if not code:
        return False
    if lang is not None:
        if not lang.opens_block(code):
            return False
        colon_style = lang.block_style == "indent"
    else:
        if not PLAIN_OPENER.search(code):
            return False
        colon_style = code.endswith(":")
    # `x = {"a":` is a dict entry, not a block header: a colon opens a block only outside brackets.
    if colon_style and bracket_depth(code[:-1]) > 0:
        return False
    return syntax is None or not syntax.inside_string_or_comment(line_start + len(code) - 1)


def _previous_code_line(text: str, line_start: int) -> int | None:
    """Start offset of the nearest non-blank line above the line starting at `line_start`."""
    end = line_start - 1
    while end > 0:
        start = text.rfind("\n", 0, end) + 1
        if text[start:end].strip():
            return start
        end = start - 1
    return None


def _body_empty(text: str, line_end: int, after: str, opener_ws: str) -> bool:
    """Nothing below the opener belongs to its body yet: a closer or a shallower line follows."""
    if after.strip():
        return True  # only closers remain on the cursor line (rule 1 ruled out code)
    position = line_end
    while 0 <= position < len(text):
        next_end = text.find("\n", position + 1)
        line = text[position + 1 : len(text) if next_end < 0 else next_end]
        if not is_blank(line):
            return indent_width(leading_ws(line)) <= indent_width(opener_ws)
        position = next_end
    return True


def _indent_unit(text: str, line_start: int, lang: LanguageSpec | None) -> str:
    low = line_start
    for _ in range(_INDENT_WINDOW):
        low = text.rfind("\n", 0, max(low - 1, 0)) + 1
        if low == 0:
            break
    high = line_start
    for _ in range(_INDENT_WINDOW):
        high = text.find("\n", high + 1)
        if high < 0:
            high = len(text)
            break
    window = split_lines(text[low:high])
    around = text.count("\n", low, line_start)
    return detect_indent_unit(window, around, lang.default_indent if lang else "    ")
