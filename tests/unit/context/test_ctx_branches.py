"""Where a branch body ends, which closers a suggestion writes, and how far a list opened on
the cursor line goes: real tree-sitter grammars, text streamed piece by piece.

A branch body ends at the sibling branch or closer the document already has (Lua's
`elseif`/`else`/`end`, `} else {`, `elif`, `catch`); a braced body's own `}` that the
document has is never written again (Rust `} else if … {`); a bracket opened on the cursor
line counts as closed only by what the rest of that line holds (`import { ‸`).
"""

from __future__ import annotations

import re

import pytest
from ctx_samples import split_cursor

from lsp_server.context import DocumentSyntax, Shaper, detect_mode, spec_for_language_id

_PIECES = re.compile(r"\s+|\w+|[^\w\s]")


def shape(language_id: str, marked: str, raw: str) -> str | None:
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
        doc_tree=syntax.tree.copy(),
    )
    for piece in _PIECES.findall(raw):
        if shaper.feed(piece):
            break
    return shaper.result()


def after(marked: str) -> str:
    """What follows the cursor: a run-on model writes it again."""
    return marked[marked.index("█") + 1 :]


LUA_CHAIN = """local function detect(modeline, extension)
  if modeline:match(PLAIN_FORMAT) then
    return 'plain'
  elseif modeline:match(EXTENDS_FORMAT) then
    █
  elseif modeline:match(OTHER_FORMAT) then
    return 'other'
  else
    return nil
  end

  if extension then
    return extension
  end
end
"""
LUA_BODY = "local parent = modeline:match(EXTENDS_FORMAT)\n    return parent"


def test_lua_elseif_body_ends_at_the_next_elseif() -> None:
    assert shape("lua", LUA_CHAIN, LUA_BODY + after(LUA_CHAIN)) == LUA_BODY


def test_lua_elseif_body_with_nested_if_ends_at_the_next_elseif() -> None:
    body = "local parent = modeline:match(EXTENDS_FORMAT)\n    if parent then\n      return parent\n    end"
    assert shape("lua", LUA_CHAIN, body + after(LUA_CHAIN)) == body


def test_lua_else_body_ends_at_end() -> None:
    marked = LUA_CHAIN.replace("    return nil\n", "    █\n").replace(
        "    █\n  elseif", "    x()\n  elseif", 1
    )
    body = "log('no match')\n    return nil"
    assert shape("lua", marked, body + after(marked)) == body


def test_lua_statement_in_an_elseif_body_stops_at_the_next_statement() -> None:
    marked = LUA_CHAIN.replace(
        "    █\n", "    local parent = modeline:match(EXTENDS_FORMAT)\n    █\n    return parent\n"
    )
    statement = "log(parent)"
    assert shape("lua", marked, statement + after(marked)) == statement


@pytest.mark.parametrize(
    ("language_id", "marked", "body"),
    [
        (
            "javascript",
            "function f(a) {\n  if (a > 1) {\n    return 1;\n  } else if (a < 0) {\n    █\n"
            "  } else {\n    return 3;\n  }\n}\n",
            "const b = a * 2;\n    return b;",
        ),
        (
            "python",
            "def f(a):\n    if a > 1:\n        return 1\n    elif a < 0:\n        █\n    else:\n        return 3\n",
            "b = a * 2\n        return b",
        ),
        (
            "typescript",
            "function f(): void {\n  try {\n    run();\n  } catch (e) {\n    █\n  } finally {\n    done();\n  }\n}\n",
            "log(e);\n    throw e;",
        ),
        (
            "go",
            "func f(a int) int {\n\tif a > 1 {\n\t\treturn 1\n\t} else if a < 0 {\n\t\t█\n"
            "\t} else {\n\t\treturn 3\n\t}\n}\n",
            "b := a * 2\n\t\treturn b",
        ),
        (
            "c",
            "int f(int a) {\n    if (a > 1) {\n        return 1;\n    } else if (a < 0) {\n"
            "        █\n    } else {\n        return 3;\n    }\n}\n",
            "int b = a * 2;\n        return b;",
        ),
    ],
)
def test_branch_body_ends_at_its_sibling(language_id: str, marked: str, body: str) -> None:
    assert shape(language_id, marked, body + after(marked)) == body


RUST_ELSE_IF = """fn f(a: i32) -> i32 {
    if a > 1 {
        1
    } else if a < 0 {
        █
    } else {
        3
    }
}
"""


def test_rust_else_if_body_does_not_write_the_closer_again() -> None:
    body = "let b = a * 2;\n        b"
    assert shape("rust", RUST_ELSE_IF, body + after(RUST_ELSE_IF)) == body


def test_rust_else_if_body_new_code_keeps_the_documents_closer() -> None:
    body = "let b = a * 2;\n        b"
    raw = body + "\n    }\n\nfn g() -> i32 {\n    2\n}\n"
    assert shape("rust", RUST_ELSE_IF, raw) == body


IMPORT_OPEN = "import { █\nimport { y } from './y';\n\nexport function g(): void {}\n"


def test_import_brace_opened_on_the_line_is_closed_by_the_suggestion() -> None:
    raw = "parse, format } from './x';\nimport { y } from './y';\n"
    assert shape("typescript", IMPORT_OPEN, raw) == "parse, format } from './x';"


def test_export_brace_opened_on_the_line_is_closed_by_the_suggestion() -> None:
    marked = "const a = 1;\nexport { █\nexport function g() {}\n"
    assert shape("javascript", marked, "a } from './a';\nexport function g() {}\n") == (
        "a } from './a';"
    )


def test_import_brace_closed_on_the_line_is_not_closed_again() -> None:
    marked = "import { █ } from './x';\nimport { y } from './y';\n"
    assert shape("typescript", marked, "parse, format } from './x';\n") == "parse, format"


MID_BLOCK = [
    (
        "python",
        "def f(a):\n    x = a + 1\n    █\n    y = compute(x, 10)\n    return y\n",
        "log(x)",
    ),
    (
        "javascript",
        "function f(a) {\n  const x = a + 1;\n  █\n  const y = compute(x, 10);\n  return y;\n}\n",
        "log(x);",
    ),
    (
        "lua",
        "local function f(a)\n  local x = a + 1\n  █\n  local y = compute(x, 10)\n  return y\nend\n",
        "log(x)",
    ),
]
NEAR_COPIES = [
    ("renamed", lambda rest: rest.replace("y", "result")),
    ("literal", lambda rest: rest.replace("10", "11")),
    ("dropped", lambda rest: "\n".join(line for line in rest.split("\n") if "compute" not in line)),
]


@pytest.mark.parametrize(("language_id", "marked", "statement"), MID_BLOCK)
@pytest.mark.parametrize(("edit", "change"), NEAR_COPIES, ids=[e for e, _ in NEAR_COPIES])
def test_statement_mid_block_stops_at_a_near_copy_of_the_rest(
    language_id: str, marked: str, statement: str, edit: str, change: object
) -> None:
    assert callable(change)
    assert shape(language_id, marked, statement + change(after(marked))) == statement


@pytest.mark.parametrize(("language_id", "marked", "statement"), MID_BLOCK)
def test_similar_statements_in_a_row_are_not_a_copy(
    language_id: str, marked: str, statement: str
) -> None:
    # The model writes two statements, the second like the document's next one but with
    # another name and number: it is the suggestion's own, not a copy of the code below.
    own = (
        statement + "\n" + marked[: marked.index("█")].split("\n")[-1] + statement.replace("x", "a")
    )
    assert shape(language_id, marked, own + after(marked)) == own


def test_statement_mid_block_stops_where_a_copy_of_the_rest_is_cut_short() -> None:
    marked = (
        "function f(a) {\n  const x = a + 1;\n  █\n  const total = compute(x, first, second, third, 10, 20, 30);\n"
        "  return total;\n}\n"
    )
    statement = "log(x);"
    for copy in (after(marked), after(marked).replace("total", "sum")):
        cut_short = copy[: copy.index("30")]
        assert shape("javascript", marked, statement + cut_short) == statement


def test_statement_mid_block_stops_before_repeated_comments() -> None:
    marked = "def f(a):\n    x = a + 1\n    █\n    # Then the result.\n    y = compute(x)\n    return y\n"
    assert shape("python", marked, "log(x)" + after(marked)) == "log(x)"


def test_import_brace_opened_on_the_line_without_semicolons() -> None:
    marked = 'import { █\n;["Map", "Set"].forEach(check)\n'
    raw = 'getGlobal } from "./utils/global"\n;["Map", "Set"].forEach(check)\n'
    assert shape("typescript", marked, raw) == 'getGlobal } from "./utils/global"'
