"""The outline the budgeter trims by: focus, enclosing containers, header, member units."""

from __future__ import annotations

from ctx_samples import CURSOR, split_cursor

from lsp_server.context import (
    DocumentSyntax,
    Outline,
    Span,
    build_outline,
    spec_for_language_id,
)
from lsp_server.context.text import line_col, split_lines


def outline_of(marked: str, language_id: str | None) -> tuple[Outline, list[str]]:
    text, offset = split_cursor(marked)
    spec = spec_for_language_id(language_id) if language_id else None
    lines = split_lines(text)
    row, _ = line_col(text, offset)
    syntax = DocumentSyntax.create(text, spec)
    return build_outline(lines, row, offset, syntax=syntax, spec=spec), lines


def test_java_method_in_a_class() -> None:
    outline, lines = outline_of(
        "package a;\n"  # 0
        "import java.util.List;\n"  # 1
        "\n"  # 2
        "public class Orders {\n"  # 3
        "    private int count;\n"  # 4
        "\n"  # 5
        "    /** Adds. */\n"  # 6
        "    int add(int a) {\n"  # 7
        "        return a + 1;\n"  # 8
        "    }\n"  # 9
        "\n"  # 10
        "    int target(int x) {\n"  # 11
        f"        {CURSOR}\n"  # 12
        "    }\n"  # 13
        "\n"  # 14
        "    int after() { return 2; }\n"  # 15
        "}\n",  # 16
        "java",
    )
    assert outline.header == Span(0, 3)  # with the blank line after the imports
    assert outline.focus == Span(11, 14)
    assert outline.focus_signature == Span(11, 12)
    assert outline.focus_closer == Span(13, 14)
    class_level, file_level = outline.levels
    assert class_level.signature == Span(3, 4)
    assert class_level.closer == Span(16, 17)
    # Members nearest first; the doc comment travels with the method below it.
    assert class_level.before == (Span(6, 11), Span(4, 6))
    assert class_level.after == (Span(14, 17),)
    assert lines[6].strip() == "/** Adds. */"
    assert file_level.before == () and file_level.after == ()


def test_python_decorators_stay_with_the_focus() -> None:
    outline, _ = outline_of(
        "import functools\n"  # 0
        "\n"  # 1
        "@functools.cache\n"  # 2
        "@other\n"  # 3
        "def target(x):\n"  # 4
        "    y = x\n"  # 5
        f"    {CURSOR}\n"  # 6
        "    return y\n"  # 7
        "\n"  # 8
        "def later():\n"  # 9
        "    pass\n",  # 10
        "python",
    )
    assert outline.focus == Span(2, 8)
    assert outline.focus_signature == Span(4, 5)
    assert outline.header == Span(0, 2)
    (file_level,) = outline.levels
    assert file_level.before == ()
    assert file_level.after == (Span(8, 11),)


def test_typescript_export_stays_with_the_focus() -> None:
    outline, lines = outline_of(
        "import x from 'x';\n\nexport function target(a: number) {\n  " + CURSOR + "\n}\n",
        "typescript",
    )
    assert outline.focus is not None
    assert lines[outline.focus.start].startswith("export function target")


def test_rust_impl_is_a_container_and_attributes_join_their_item() -> None:
    outline, _ = outline_of(
        "use std::fmt;\n"  # 0
        "\n"  # 1
        "#[derive(Debug)]\n"  # 2
        "struct S;\n"  # 3
        "\n"  # 4
        "impl S {\n"  # 5
        "    fn a(&self) {}\n"  # 6
        "    fn b(&self) {\n"  # 7
        f"        {CURSOR}\n"  # 8
        "    }\n"  # 9
        "}\n",  # 10
        "rust",
    )
    impl_level, file_level = outline.levels
    assert impl_level.signature == Span(5, 6)
    assert impl_level.before == (Span(6, 7),)
    assert file_level.before == (Span(2, 5),)
    assert outline.header == Span(0, 2)


def test_cursor_between_methods_splits_the_class_members() -> None:
    outline, _ = outline_of(
        "class A:\n"  # 0
        "    def a(self):\n"  # 1
        "        pass\n"  # 2
        "\n"  # 3
        f"    {CURSOR}\n"  # 4
        "\n"  # 5
        "    def b(self):\n"  # 6
        "        pass\n",  # 7
        "python",
    )
    assert outline.focus is None
    class_level, file_level = outline.levels
    assert class_level.signature == Span(0, 1)
    assert class_level.before == (Span(1, 4),)
    assert class_level.after == (Span(5, 8),)
    assert file_level.before == file_level.after == ()


def test_plain_text_paragraphs_and_header() -> None:
    outline, lines = outline_of(
        "require 'json'\n"  # 0
        "\n"  # 1
        "def a\n"  # 2
        "  1\n"  # 3
        "end\n"  # 4
        "\n"  # 5
        "def b\n"  # 6
        f"  {CURSOR}\n"  # 7
        "end\n"  # 8
        "\n"  # 9
        "def c\n"  # 10
        "end\n",  # 11
        None,
    )
    assert outline.header == Span(0, 2)
    assert outline.focus == Span(6, 10)
    assert outline.focus_signature == Span(6, 7)
    assert outline.focus_closer == Span(8, 9)
    (file_level,) = outline.levels
    assert file_level.before == (Span(2, 6),)
    assert file_level.after == (Span(10, 13),)
    assert lines[10] == "def c\n"
