"""Syntax-decided shaping, pattern by pattern, in Python, JavaScript, TypeScript, Go, Rust, C, Lua.

Each case is a document with the cursor at █ and what a model wrote there; the model writes
the right text and then goes on, either into the code that follows the cursor ("run-on") or
closing what it filled and writing code of its own ("new code"). The text is streamed to the
shaper piece by piece, as a host streams tokens.
"""

from __future__ import annotations

import re

import pytest
from ctx_samples import split_cursor

from lsp_server.context import DocumentSyntax, Shaper, detect_mode, spec_for_language_id
from lsp_server.context.line_cuts import line_cut
from lsp_server.context.nodes import has_errors

_PIECES = re.compile(r"\s+|\w+|[^\w\s]")


def stream(language_id: str, marked: str, raw: str, max_lines: int = 400) -> Shaper:
    text, offset = split_cursor(marked)
    spec = spec_for_language_id(language_id)
    syntax = DocumentSyntax.create(text, spec)
    assert syntax is not None
    mode = detect_mode(text, offset, syntax=syntax, lang=spec)
    shaper = Shaper(
        mode=mode,
        prefix=text[:offset],
        suffix=text[offset:],
        lang=spec,
        max_lines=max_lines,
        doc_tree=syntax.tree.copy(),
    )
    for piece in _PIECES.findall(raw):
        if shaper.feed(piece):
            break
    return shaper


def shape(language_id: str, marked: str, raw: str) -> str | None:
    return stream(language_id, marked, raw).result()


# 1. Mid-line with code after the cursor: the suggestion fits between the prefix and the rest.
MID_LINE = [
    ("python", "x = call(first, █, third) + 1\n"),
    ("javascript", "const x = call(first, █, third) + 1;\n"),
    ("typescript", "const x: number = call(first, █, third) + 1;\n"),
    ("go", "func f() {\n\tx := call(first, █, third) + 1\n}\n"),
    ("rust", "fn f() {\n    let x = call(first, █, third) + 1;\n}\n"),
    ("c", "int f(void) {\n    int x = call(first, █, third) + 1;\n}\n"),
    ("lua", "local x = call(first, █, third) + 1\n"),
]


@pytest.mark.parametrize(("language_id", "marked"), MID_LINE)
@pytest.mark.parametrize(
    "raw",
    [
        "second, third) + 1;\nmore()",  # runs on into the rest of the line
        "second) + 1;\nmore()",  # closes the list early and goes on
        "second)",
        "second",
    ],
)
def test_mid_line_fits_between_prefix_and_rest(language_id: str, marked: str, raw: str) -> None:
    line_end = marked.split("█", 1)[1].split("\n", 1)[0]
    raw = raw.replace(") + 1;", ") + 1;" if line_end.endswith(";") else ") + 1")
    assert shape(language_id, marked, raw) == "second"


@pytest.mark.parametrize(
    ("language_id", "marked", "raw", "expected"),
    [
        # Auto-closed brackets and quotes after the cursor are not written twice...
        ("python", 'print(f"{x}", █)\n', "end='')\nnext()", "end=''"),
        ("javascript", "foo(bar(█));\n", "a, b));\nnext();", "a, b"),
        ("rust", 'let s = format!("{}", █);\n', "x);", "x"),
        ("c", 'printf("%d\\n", █);\n', "value);", "value"),
        ("go", "\tfmt.Println(█)\n", 'x, "y")', 'x, "y"'),
        ("lua", 'print(("x"):rep(█))\n', "3))", "3"),
        ("typescript", 'const s = "█";\n', 'hello";', "hello"),
        # ... but a closer the line lacks is part of the suggestion.
        ("python", "x = foo(1, █\n", "2)\ny = 1", "2)"),
        ("javascript", "const v = [1, █\n", "2];", "2];"),
        # A string's own closer does not end a line: only one the rest of the line holds.
        (
            "lua",
            "setmetatable(t, { __call = function█})\n",
            "(_, x) return x end})",
            "(_, x) return x end",
        ),
    ],
)
def test_rest_of_line_with_closers(language_id: str, marked: str, raw: str, expected: str) -> None:
    assert shape(language_id, marked, raw) == expected


# 2. Caps are settings far above ordinary code: long bodies and lists are kept whole.
@pytest.mark.parametrize(
    ("language_id", "marked", "line", "indent"),
    [
        ("python", "def f():\n    █\n\ndef g():\n    pass\n", "a += {i}", "    "),
        ("javascript", "function f() {\n  █\n}\n", "a += {i};", "  "),
        ("typescript", "function f(): void {\n  █\n}\n", "a += {i};", "  "),
        ("go", "func f() {\n\t█\n}\n", "a += {i}", "\t"),
        ("rust", "fn f() {\n    █\n}\n", "a += {i};", "    "),
        ("c", "void f(void) {\n    █\n}\n", "a += {i};", "    "),
        ("lua", "function f()\n  █\nend\n", "a = a + {i}", "  "),
    ],
)
def test_long_bodies_are_not_cut(language_id: str, marked: str, line: str, indent: str) -> None:
    body = [line.format(i=i) for i in range(60)]
    raw = ("\n" + indent).join(body)
    closer = {"python": "\n\ndef h():\n    pass", "lua": "\nend\n"}.get(language_id, "\n}\n")
    expected = ("\n" + indent).join(body)
    assert shape(language_id, marked, raw + closer) == expected
    shaper = stream(language_id, marked, raw + closer, max_lines=10)
    assert (shaper.result() or "").count("\n") == 9


# 3. Doubled closers: the next line already closes and goes on.
@pytest.mark.parametrize(
    ("language_id", "marked", "raw", "expected"),
    [
        (
            "javascript",
            "if (a) {\n  █\n} else {\n  b();\n}\n",
            "a();\n} else {\n  b();\n}\n",
            "a();",
        ),
        (
            "javascript",
            "run(function () {\n  █\n}, callback);\n",
            "go();\n}, callback);\n",
            "go();",
        ),
        (
            "typescript",
            "if (a) {\n  █\n} else if (b) {\n}\n",
            "x = 1;\n} else if (b) {\n}",
            "x = 1;",
        ),
        ("go", "if a {\n\t█\n} else {\n\tb()\n}\n", "a()\n} else {\n\tb()\n}\n", "a()"),
        ("rust", "if a {\n    █\n} else {\n    b();\n}\n", "a();\n} else {", "a();"),
        ("c", "if (a) {\n    █\n} else {\n    b();\n}\n", "a();\n} else {\n", "a();"),
        (
            "lua",
            "if a then\n  █\nelseif b then\n  c()\nend\n",
            "x()\nelseif b then\n  c()\nend",
            "x()",
        ),
        ("lua", "if a then\n  █\nend\n", "x()\nend\n\nfunction g() end", "x()"),
        (
            "python",
            "if a:\n    █\nelif b:\n    pass\n",
            "x()\nelif b:\n    pass\n",
            "x()",
        ),
        (
            "python",
            "try:\n    █\nexcept E:\n    pass\n",
            "x()\nexcept E:\n    pass\n",
            "x()",
        ),
    ],
)
def test_no_doubled_closers(language_id: str, marked: str, raw: str, expected: str) -> None:
    assert shape(language_id, marked, raw) == expected


@pytest.mark.parametrize(
    ("language_id", "marked", "raw", "expected"),
    [
        # Without a closer in the document, the suggestion writes the block's own closer.
        (
            "javascript",
            "function f(a) {█\n",
            "\n  return a;\n}\n\nfunction g() {}",
            "\n  return a;\n}",
        ),
        (
            "go",
            "func f() int {█\n\nfunc g() {}\n",
            "\n\treturn 1\n}\n\nfunc h() {}",
            "\n\treturn 1\n}",
        ),
        (
            "lua",
            "function M.f(a)█\n\nreturn M\n",
            "\n  return a * 2\nend\n\nfunction M.g() end",
            "\n  return a * 2\nend",
        ),
        (
            "rust",
            "fn f(items: &[i32]) {\n    items.iter().for_each(|x| {█\n}\n",
            '\n        println!("{}", x);\n    });\n    more();',
            '\n        println!("{}", x);\n    });',
        ),
    ],
)
def test_missing_closer_is_written(language_id: str, marked: str, raw: str, expected: str) -> None:
    assert shape(language_id, marked, raw) == expected


# 4. Headers that wrap, and bodies that start at column 0.
@pytest.mark.parametrize(
    ("language_id", "marked", "raw", "expected"),
    [
        (
            "c",
            "static int\nfoo(int a,\n    int b)\n{\n    █\n}\n",
            "return a + b;\n}\n",
            "return a + b;",
        ),
        (
            "c",
            "int f(int a,\n      int b) {█\n}\n",
            "\n    int c = a;\n    return c + b;\n}",
            "\n    int c = a;\n    return c + b;",
        ),
        (
            "javascript",
            "function f() {\n  if (a &&\n      b) {\n    █\n  }\n}\n",
            "go();\n    stop();\n  }\n}",
            "go();\n    stop();",
        ),
        (
            "c",
            "void f(void) {\n    █\n}\n",
            "#if DEBUG\n    log();\n#endif\n    run();\n}\n",
            "#if DEBUG\n    log();\n#endif\n    run();",
        ),
        (
            "python",
            "def f(\n    a,\n    b,\n):\n    █\n\n\ndef g():\n    pass\n",
            "return a + b\n\n\ndef g():\n    pass\n",
            "return a + b",
        ),
        (
            "go",
            "func f(a int,\n\tb int) int {\n\t█\n}\n",
            "return a +\n\t\tb\n}\n",
            "return a +\n\t\tb",
        ),
        (
            "rust",
            "fn f(\n    a: u8,\n) -> u8 {\n    █\n}\n",
            "a + 1\n}\n\nfn g() {}",
            "a + 1",
        ),
    ],
)
def test_wrapped_headers_and_column_zero_lines(
    language_id: str, marked: str, raw: str, expected: str
) -> None:
    assert shape(language_id, marked, raw) == expected


# 5. What hand lexing got wrong.
@pytest.mark.parametrize(
    ("language_id", "marked", "raw", "expected"),
    [
        # Lifetimes are not quotes: the `{` after them opens the body.
        (
            "rust",
            "fn first<'a>(x: &'a str) -> &'a str {█\n}\n",
            "\n    &x[..1]\n}\n\nfn g() {}",
            "\n    &x[..1]",
        ),
        # `import {` and `export {` lists end at their own `}`.
        (
            "typescript",
            'import {█\n} from "./m";\n',
            '\n  a,\n  b,\n} from "./m";\n',
            "\n  a,\n  b,",
        ),
        ("javascript", "export {█\n};\n", "\n  a,\n  b,\n};\n", "\n  a,\n  b,"),
        # Labels, preprocessor lines and raw/template strings at column 0 stay in the body.
        (
            "c",
            "int f(void) {\n    █\n}\n",
            "goto done;\ndone:\n    return 0;\n}\n",
            "goto done;\ndone:\n    return 0;",
        ),
        (
            "javascript",
            "function f() {\n  █\n}\n",
            "return `\n}\n`;\n}\n",
            "return `\n}\n`;",
        ),
        (
            "rust",
            "fn f() -> &'static str {\n    █\n}\n",
            'r#"\n}\n"#\n}\n',
            'r#"\n}\n"#',
        ),
        (
            "python",
            "def f():\n    █\n\n\nx = 1\n",
            's = """\n}\nend\n"""\n    return s\n\n\nx = 1\n',
            's = """\n}\nend\n"""\n    return s',
        ),
        # A body ending like the line after it is not cut there (`return None` twice).
        (
            "python",
            "def f(a):\n    if a:\n        █\n    return None\n",
            "log(a)\n        return None\n    return None\n",
            "log(a)\n        return None",
        ),
        # ... while the model re-writing the next statement of the same body is.
        (
            "go",
            "func f() {\n\ta()\n\t█\n\tb(x, y)\n}\n",
            "c()\n\tb(x, y)\n}\n",
            "c()",
        ),
    ],
)
def test_syntax_not_hand_lexing(language_id: str, marked: str, raw: str, expected: str) -> None:
    assert shape(language_id, marked, raw) == expected


# The decision: made on the very token that completes the suggestion, never before.
@pytest.mark.parametrize(
    ("language_id", "marked", "raw", "decisive"),
    [
        ("javascript", "function f() {\n  █\n}\n", "a();\n  b();\n}\n\nfunction g() {}", "}"),
        ("c", "int x = call(first, █, third);\n", "second, third);\nnext();", ")"),
        ("go", "func f() {\n\t█\n}\n", "a()\n}\n\nfunc g() {}", "}"),
        (
            "python",
            "def f():\n    █\n\n\ndef g():\n    pass\n",
            "a()\n    b()\n\n\ndef h():\n",
            "def ",
        ),
        ("lua", "function f()\n  █\nend\n", "a()\nend\n\nfunction g() end", "end\n\n"),
    ],
)
def test_decided_at_the_completing_token(
    language_id: str, marked: str, raw: str, decisive: str
) -> None:
    shaper = stream(language_id, marked, raw)
    assert shaper.decided
    # Fed up to and including the decisive piece; the rest was never needed.
    assert raw.startswith(shaper.raw) and len(shaper.raw) < len(raw)
    assert shaper.raw.endswith(decisive)


def test_not_decided_while_the_block_is_open() -> None:
    shaper = stream("javascript", "function f() {\n  █\n}\n", 'a("}");\n  if (x) {\n    y();\n  }')
    assert not shaper.decided
    assert shaper.result() == 'a("}");\n  if (x) {\n    y();\n  }'


def test_line_cut_only_for_closers_the_rest_of_the_line_has() -> None:
    from tree_sitter import Parser

    spec = spec_for_language_id("javascript")
    assert spec is not None
    source = b"f(a, b)\n"
    root = Parser(spec.ts_language()).parse(source).root_node
    assert line_cut(root, 2, 7, b")") is not None
    assert line_cut(root, 2, 7, b"]") is None
    assert not has_errors(root, 0, len(source))
