"""Line vs block detection at typical cursor spots, in every language and in plain text."""

from __future__ import annotations

import pytest
from ctx_samples import split_cursor

from lsp_server.context import (
    DocumentSyntax,
    detect_mode,
    spec_for_language_id,
)

# (languageId, source with █, mode, reason, indent)
CASES: list[tuple[str, str, str, str, str]] = [
    # Python
    ("python", "import os\n\ndef total(items):█\n", "block", "opener", "    "),
    ("python", "def total(items):\n    █\n", "block", "empty-body", "    "),
    ("python", "class A:\n    def m(self):\n█\n\nx = 1\n", "block", "empty-body", "        "),
    ("python", "def f(a, b):\n    x = compute(█a, b)\n", "line", "mid-line", "    "),
    ("python", "def f(a):\n    return fo█)\n", "line", "end-of-line", "    "),
    ("python", 'x = {"a":█\n', "line", "end-of-line", ""),
    ("python", "def f():\n    # note:█\n    pass\n", "line", "end-of-line", "    "),
    ("python", 'def f():\n    """Usage:█\n    """\n', "line", "end-of-line", "    "),
    ("python", "def f():\n    a = 1\n    █\n    return a\n", "block", "blank-line", "    "),
    ("python", "if ready:\n    go()\nelse:█\n", "block", "opener", "    "),
    ("python", 'print("日本語 😀", █)\n', "line", "end-of-line", ""),
    # JavaScript (2-space file)
    ("javascript", "function f(a) {\n  return a;\n}\nfunction g(b) {█}\n", "block", "opener", "  "),
    ("javascript", "function f(a) {\n  █\n}\n", "block", "empty-body", "  "),
    ("javascript", "function f(a) {\n  const x = compute(█a);\n}\n", "line", "mid-line", "  "),
    ("javascript", 'function f() {\n  const s = "{█";\n}\n', "line", "end-of-line", "  "),
    ("javascript", "function f() {\n  // TODO {█\n}\n", "line", "end-of-line", "  "),
    ("javascriptreact", "const App = () => {█};\n", "block", "opener", "  "),
    # TypeScript and TSX
    ("typescript", "class A {\n  m(): void {█\n  }\n}\n", "block", "opener", "    "),
    ("typescript", "interface I {\n  x: number;\n  █\n}\n", "block", "blank-line", "  "),
    ("typescriptreact", "function App() {\n  return <div>█</div>;\n}\n", "line", "mid-line", "  "),
    ("typescriptreact", "export function App() {█\n}\n", "block", "opener", "  "),
    # Go (tabs)
    ("go", "package main\n\nfunc main() {█\n}\n", "block", "opener", "\t"),
    ("go", "func f() error {\n\tif err != nil {\n\t\t█\n\t}\n}\n", "block", "empty-body", "\t\t"),
    ("go", 'func f() {\n\tfmt.Println("x", █)\n}\n', "line", "end-of-line", "\t"),
    ("go", "func f() {\n\tx := 1\n\t█\n\treturn\n}\n", "block", "blank-line", "\t"),
    # Rust
    ("rust", "fn main() {█}\n", "block", "opener", "    "),
    ("rust", "fn f() {\n    let v = vec![1, 2█];\n}\n", "line", "end-of-line", "    "),
    (
        "rust",
        "fn f(x: u8) {\n    match x {\n        █\n    }\n}\n",
        "block",
        "empty-body",
        "        ",
    ),
    ("rust", "fn f() {\n    let s = call(█x, y);\n}\n", "line", "mid-line", "    "),
    # C
    ("c", "int main(void) {█\n}\n", "block", "opener", "    "),
    ("c", 'int f(int x) {\n    printf("%d\\n", █x);\n}\n', "line", "mid-line", "    "),
    ("c", "int f(int x) {\n    if (x) {\n        █\n    }\n}\n", "block", "empty-body", "        "),
    # C++
    (
        "cpp",
        "void f(std::vector<int>& v) {\n    for (auto& x : v) {█\n    }\n}\n",
        "block",
        "opener",
        "        ",
    ),
    ("cpp", "namespace n {\nint f() {\n    return g(█);\n}\n}\n", "line", "end-of-line", "    "),
    # Java
    (
        "java",
        "class A {\n    public static void main(String[] args) {█\n    }\n}\n",
        "block",
        "opener",
        "        ",
    ),
    (
        "java",
        "class A {\n    void m() {\n        System.out.println(█);\n    }\n}\n",
        "line",
        "end-of-line",
        "        ",
    ),
    (
        "java",
        "class A {\n    void m() {\n        int a = 1;\n        █\n        use(a);\n    }\n}\n",
        "block",
        "blank-line",
        "        ",
    ),
    # Lua
    ("lua", "local M = {}\n\nfunction M.f(a)█\nend\n", "block", "opener", "  "),
    ("lua", "function f(a)\n  if a then█\n  end\nend\n", "block", "opener", "    "),
    (
        "lua",
        "function f()\n  for i = 1, 10 do\n    █\n  end\nend\n",
        "block",
        "empty-body",
        "    ",
    ),
    ("lua", "function f()\n  local x = compute(█a)\nend\n", "line", "mid-line", "  "),
    ("lua", "function f()\n  -- if x then█\nend\n", "line", "end-of-line", "  "),
    ("lua", "local cb = function(a)█\n", "block", "opener", "  "),
    # Unknown languages: plain-text rules (a block opens after ":" or "{").
    ("yaml", "server:\n  port: 80\nclient:█\n", "block", "opener", "  "),
    ("ruby", "def f(a)\n  x = a█\nend\n", "line", "end-of-line", "  "),
    ("ruby", "def f(a)\n  x = a\n  █\n  x\nend\n", "block", "blank-line", "  "),
    ("plaintext", "notes {█\n", "block", "opener", "    "),
    ("plaintext", "some words █here\n", "line", "mid-line", ""),
]


@pytest.mark.parametrize(
    ("language_id", "marked", "mode", "reason", "indent"),
    CASES,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(CASES)],
)
def test_mode(language_id: str, marked: str, mode: str, reason: str, indent: str) -> None:
    text, offset = split_cursor(marked)
    spec = spec_for_language_id(language_id)
    syntax = DocumentSyntax.create(text, spec)
    assert (syntax is None) == (spec is None)
    result = detect_mode(text, offset, syntax=syntax, lang=spec)
    assert (result.mode, result.reason, result.indent) == (mode, reason, indent)


def test_without_a_tree_the_text_rules_still_decide() -> None:
    python = spec_for_language_id("python")
    text, offset = split_cursor("def f(x):█\n")
    assert detect_mode(text, offset, syntax=None, lang=python).reason == "opener"
    # Only the tree knows this colon is inside a docstring.
    text, offset = split_cursor('def f():\n    """Usage:█\n    """\n')
    assert detect_mode(text, offset, syntax=None, lang=python).reason == "opener"
    syntax = DocumentSyntax.create(text, python)
    assert detect_mode(text, offset, syntax=syntax, lang=python).reason == "end-of-line"


def test_a_stale_tree_is_ignored() -> None:
    python = spec_for_language_id("python")
    syntax = DocumentSyntax.create('x = """a:\n"""\n', python)
    text, offset = split_cursor("def f(a):█\n")
    assert detect_mode(text, offset, syntax=syntax, lang=python).reason == "opener"


def test_empty_document_and_edges() -> None:
    result = detect_mode("", 0, syntax=None, lang=None)
    assert (result.mode, result.reason, result.indent) == ("block", "blank-line", "")
    text = "x = 1\n"
    assert detect_mode(text, 10_000, syntax=None, lang=None).reason == "blank-line"
    assert detect_mode(text, -5, syntax=None, lang=None).reason == "mid-line"


# What text rules got wrong and the syntax tree reads right.
TREE_CASES: list[tuple[str, str, str, str, str]] = [
    # A header that wraps: the body is indented from the line where the header starts.
    (
        "c",
        "void g(void) {\n    x();\n}\nint f(int a,\n      int b) {█\n}\n",
        "block",
        "opener",
        "    ",
    ),
    ("c", "static int\nfoo(int a,\n    int b)\n{\n█\n}\n", "block", "empty-body", "    "),
    ("javascript", "g(() => {\n  x();\n});\nif (a &&\n    b) {█\n}\n", "block", "opener", "  "),
    (
        "javascript",
        "function f() {\n  if (a &&\n      b) {\n█\n  }\n}\n",
        "block",
        "empty-body",
        "    ",
    ),
    ("python", "def f(\n    a,\n    b,\n):█\n", "block", "opener", "    "),
    ("go", "func f(a int,\n\tb int) int {█\n}\n", "block", "opener", "\t"),
    (
        "lua",
        "local function g()\n  x()\nend\nlocal function f(a,\n    b)█\nend\n",
        "block",
        "opener",
        "  ",
    ),
    # A body whose first line is `#if` at column 0 is not empty.
    (
        "c",
        "void f(void) {\n    █\n#if DEBUG\n    log();\n#endif\n}\n",
        "block",
        "blank-line",
        "    ",
    ),
    # Lifetimes are not quotes, and a trailing comment does not hide the `{`.
    ("rust", "fn f<'a>(x: &'a str) -> &'a str { // c█\n}\n", "block", "opener", "    "),
    ("rust", "impl<'a> Iterator for It<'a> {█\n}\n", "block", "opener", "    "),
    # `import {` / `export {` open a list the block rules end at its own `}`.
    ("typescript", 'import {█\n} from "./m";\n', "block", "opener", "  "),
    ("javascript", "export {█\n};\n", "block", "opener", "  "),
    # A `:` that ends a dict entry or a lambda opens nothing.
    ("python", "x = {\n    'a':█\n}\n", "line", "end-of-line", "    "),
    ("python", "f = lambda x:█\n", "line", "end-of-line", ""),
]


@pytest.mark.parametrize(
    ("language_id", "marked", "mode", "reason", "indent"),
    TREE_CASES,
    ids=[f"{case[0]}-tree-{i}" for i, case in enumerate(TREE_CASES)],
)
def test_mode_by_tree(language_id: str, marked: str, mode: str, reason: str, indent: str) -> None:
    text, offset = split_cursor(marked)
    spec = spec_for_language_id(language_id)
    syntax = DocumentSyntax.create(text, spec)
    result = detect_mode(text, offset, syntax=syntax, lang=spec)
    assert (result.mode, result.reason, result.indent) == (mode, reason, indent)
