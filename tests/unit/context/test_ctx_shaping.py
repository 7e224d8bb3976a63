"""Suggestion shaping: markers, line/block ends, suffix repeats, auto-closed brackets, blanks."""

from __future__ import annotations

import pytest

from lsp_server.context import (
    CONTROL_MARKERS,
    CompletionMode,
    DocumentSyntax,
    detect_mode,
    shape_suggestion,
    spec_for_language_id,
    strip_control_markers,
)


def shape(
    raw: str, prefix: str, suffix: str, language_id: str | None, max_lines: int = 256
) -> str | None:
    """Shape `raw` with the mode the detector picks for this very spot."""
    spec = spec_for_language_id(language_id) if language_id else None
    text = prefix + suffix
    mode = detect_mode(text, len(prefix), syntax=DocumentSyntax.create(text, spec), lang=spec)
    return shape_suggestion(
        raw, mode=mode, prefix=prefix, suffix=suffix, lang=spec, max_lines=max_lines
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("return x<EOT>garbage", "return x"),
        ("foo()<MID>bar", "foo()"),
        ("a = 1 </s>", "a = 1 "),
        ("x <step> y", "x "),
        ("ok [/INST] more", "ok "),
        ("print(1)<EO", "print(1)"),
        ("y = 2[/IN", "y = 2"),
        ("<s>abc", ""),
        ("[INST] do this [/INST]", ""),
        ("plain < less > text", "plain < less > text"),
    ],
)
def test_strip_control_markers(raw: str, expected: str) -> None:
    assert strip_control_markers(raw) == expected


@pytest.mark.parametrize("marker", CONTROL_MARKERS)
def test_no_marker_ever_leaks(marker: str) -> None:
    for language_id, prefix, suffix in [
        ("python", "def f(a):", "\n"),
        ("python", "x = compute(", ")\n"),
        ("go", "func f() {", "\n}\n"),
        (None, "note: ", "\n"),
    ]:
        raw = f"\n    value = 1{marker}\n    leaked = True\n"
        shaped = shape(raw, prefix, suffix, language_id)
        assert shaped is None or not any(m in shaped for m in CONTROL_MARKERS)
        assert shaped is None or "leaked" not in shaped


@pytest.mark.parametrize(
    ("raw", "prefix", "suffix", "language_id", "expected"),
    [
        # Line mode stops at the end of the line.
        ("hello(world)\nsecond_line()", "x = ", "\n", "python", "hello(world)"),
        ("\nnext_line()", "x = 1", "\n", "python", None),
        ("x + 1   ", "y = ", "\n", "python", "x + 1"),
        # Closers the editor auto-inserted after the cursor are not written twice ...
        ('"hi")', "print(", ")\n", "python", '"hi"'),
        ("x))", "print(f(", "))\n", "python", "x"),
        ("x)", "print(f(", "))\n", "python", "x"),
        ('main":', 'if __name__ == "', '":\n', "python", "main"),
        ("hello';", "const s = '", "';\n", "javascript", "hello"),
        ("bc, b)", "foo(a", ", b)\n", "javascript", "bc"),
        ("42];", "let v = vec![1, ", "];\n", "rust", "42"),
        # ... but a suggestion's own brackets stay.
        ("f(x)", "print(", ")\n", "python", "f(x)"),
        ("g(1), h(2)", "call(", ")\n", "typescript", "g(1), h(2)"),
        ('"a", "b"', "pair(", ")\n", "java", '"a", "b"'),
        # Whitespace-only and empty suggestions are no suggestion.
        ("   ", "x = ", "\n", "python", None),
        ("", "x = ", "\n", "python", None),
        (")", "print(", ")\n", "python", None),
    ],
)
def test_line_mode(
    raw: str, prefix: str, suffix: str, language_id: str | None, expected: str | None
) -> None:
    assert shape(raw, prefix, suffix, language_id) == expected


@pytest.mark.parametrize(
    ("raw", "prefix", "suffix", "language_id", "expected"),
    [
        # Python: the block ends where a line dedents below its body.
        (
            "\n    b = a + 1\n    return b\n\ndef h():\n    pass",
            "def f(a):",
            "\n\ndef g():\n    pass\n",
            "python",
            "\n    b = a + 1\n    return b",
        ),
        # The model's own (shallower) indentation step is accepted.
        (
            "\n  x = 1\n  return x\nprint(f())",
            "def f():",
            "\n",
            "python",
            "\n  x = 1\n  return x",
        ),
        # Regenerating the line below the cursor is cut off.
        (
            "c = a + b\n    return c\n",
            "def add(a, b):\n    ",
            "\n    return c\n",
            "python",
            "c = a + b",
        ),
        (
            "b += 1\n    return b * 2\n    unreachable()",
            "def f(a):\n    b = a\n    ",
            "\n    return b * 2\n",
            "python",
            "b += 1",
        ),
        ("return a", "def f(a):\n    ", "\n    return a\n", "python", None),
        # A blank line in a body: a few lines at this level.
        (
            "a += 1\n    a *= 2\nprint(a)",
            "def f():\n    a = 1\n    ",
            "\n    return a\n",
            "python",
            "a += 1\n    a *= 2",
        ),
        # Brace languages: the editor's "}" below ends the block, and is not written again.
        (
            "\n  const b = a * 2;\n  return b;\n}\n\nfunction g() {}",
            "function f(a) {",
            "\n}\n",
            "javascript",
            "\n  const b = a * 2;\n  return b;",
        ),
        ("\n  return a;\n}", "function f(a) {", "}\n", "javascript", "\n  return a;"),
        (
            "\n  const [n, setN] = useState(0);\n  return <b>{n}</b>;\n}",
            "export function Counter() {",
            "\n}\n",
            "typescriptreact",
            "\n  const [n, setN] = useState(0);\n  return <b>{n}</b>;",
        ),
        # Without a closer below, the block's own "}" is part of the suggestion.
        (
            "\n\treturn 1\n}\n\nfunc h() {}",
            "func f() int {",
            "\n\nfunc g() {}\n",
            "go",
            "\n\treturn 1\n}",
        ),
        (
            '\n        println!("{}", x);\n    });\n    more();',
            "fn f(items: &[i32]) {\n    items.iter().for_each(|x| {",
            "\n}\n",
            "rust",
            '\n        println!("{}", x);\n    });',
        ),
        # Braces inside strings do not count; nested blocks do.
        (
            '\n    printf("}");\n    return 0;\n}',
            "int main(void) {",
            "\n}\n",
            "c",
            '\n    printf("}");\n    return 0;',
        ),
        (
            "\n        if (x) {\n            y();\n        }\n        z();\n    }\n",
            "class A {\n    void m(boolean x) {",
            "\n    }\n}\n",
            "java",
            "\n        if (x) {\n            y();\n        }\n        z();",
        ),
        (
            "\n        for (auto& v : vs) {\n            use(v);\n        }\n    }\n}",
            "namespace n {\n    void run(std::vector<int>& vs) {",
            "\n    }\n}\n",
            "cpp",
            "\n        for (auto& v : vs) {\n            use(v);\n        }",
        ),
        # A blank line in a brace body: an unmatched "}" is the enclosing block's, never ours.
        (
            "b();\n  return;\n}",
            "function f() {\n  a();\n  ",
            "\n  return;\n}\n",
            "javascript",
            "b();",
        ),
        # Lua: "end" closes the block; written only when the file lacks it below.
        (
            "\n  return a * 2\nend\n\nfunction M.g() end",
            "function M.f(a)",
            "\n\nreturn M\n",
            "lua",
            "\n  return a * 2\nend",
        ),
        ("\n  return a * 2\nend", "function M.f(a)", "\nend\n", "lua", "\n  return a * 2"),
        (
            "\n    a()\n  else\n    b()\n  end",
            "function f(x)\n  if x then",
            "\n  end\nend\n",
            "lua",
            "\n    a()",
        ),
        # Unknown languages: "{" blocks end at the unmatched "}", ":" blocks at a dedent.
        ("\n    color: red;\n}\n", "rule {", "\n}\n", None, "\n    color: red;"),
        ("\n  port: 80\nclient:\n  port: 81", "server:", "\n", None, "\n  port: 80"),
        # Whitespace-only blocks are no suggestion.
        ("\n    \n\t\n", "def f():", "\n", "python", None),
    ],
)
def test_block_mode(
    raw: str, prefix: str, suffix: str, language_id: str | None, expected: str | None
) -> None:
    assert shape(raw, prefix, suffix, language_id) == expected


@pytest.mark.parametrize("language_id", ["python", None])
def test_block_mode_respects_max_lines(language_id: str | None) -> None:
    prefix = "def f():\n    a = 0\n    "
    raw = "".join(f"a += {i}\n    " for i in range(30))
    shaped = shape(raw, prefix, "\n    return a\n", language_id, max_lines=8)
    assert shaped is not None and shaped.count("\n") + 1 == 8
    shaped = shape(raw, prefix, "\n    return a\n", language_id)
    assert shaped is not None and shaped.count("\n") + 1 == 30


def test_trailing_whitespace_is_stripped_from_every_line() -> None:
    mode = CompletionMode("block", "    ", "opener", "    ")
    shaped = shape_suggestion(
        "\n    a = 1   \n    b = 2\t\n\n", mode=mode, prefix="def f():", suffix="\n", lang=None
    )
    assert shaped == "\n    a = 1\n    b = 2"


def test_control_characters_end_the_suggestion() -> None:
    mode = detect_mode("x = ", 4, syntax=None, lang=None)
    assert (
        shape_suggestion("1 + 2\x07junk", mode=mode, prefix="x = ", suffix="", lang=None) == "1 + 2"
    )
    assert shape_suggestion("\x00", mode=mode, prefix="x = ", suffix="", lang=None) is None
    assert shape_suggestion("a\tb", mode=mode, prefix="x = ", suffix="", lang=None) == "a\tb"


def test_first_line_is_not_indented_twice() -> None:
    prefix = "def add(a, b):\n    "
    mode = detect_mode(prefix, len(prefix), syntax=None, lang=None)
    assert mode.mode == "block" and mode.indent == "    "
    shaped = shape_suggestion("    return a + b\n", mode=mode, prefix=prefix, suffix="", lang=None)
    assert shaped == "return a + b"
    # At column 0 the model's indentation is what puts the line in the block: kept.
    bare = "def add(a, b):\n"
    mode0 = detect_mode(bare, len(bare), syntax=None, lang=None)
    assert shape_suggestion("    return a + b", mode=mode0, prefix=bare, suffix="", lang=None) == (
        "    return a + b"
    )


@pytest.mark.parametrize(
    ("prefix", "suffix", "raw", "expected"),
    [
        # A lone surrogate (legal in an editor's JSON) before the cursor, in line and block mode.
        ("s = '\ud800'\nx = ", "\n", "compute(s)\nnext_line()", "compute(s)"),
        ("def f():\n    s = '\ud800'\n    return ", "", "s\n\nclass Other:\n    pass", "s"),
        # ...and after it, in the rest of the line the suggestion must fit before.
        ("call(first, ", ", '\udc00')\n", "second, '\udc00')", "second"),
    ],
)
def test_lone_surrogates_in_the_document_are_shaped_like_any_text(
    prefix: str, suffix: str, raw: str, expected: str
) -> None:
    assert shape(raw, prefix, suffix, "python") == expected


def test_char_offset_counts_lone_surrogates_and_stops_before_a_cut_character() -> None:
    from lsp_server.context.text import char_offset, encode_utf8

    text = "a\ud800: é b"
    for i in range(len(text) + 1):
        assert char_offset(text, len(encode_utf8(text[:i]))) == i
    assert char_offset(text, len(encode_utf8("a\ud800: ")) + 1) == len("a\ud800: ")  # inside é
