"""Import statements per language, and the per-document cache that skips re-reading them."""

from __future__ import annotations

import pytest

from lsp_server.workspace.imports import ImportCache, default_export, parse_imports
from lsp_server.workspace.model import ImportSpec


def _short(specs: tuple[ImportSpec, ...]) -> list[tuple[str, tuple, str | None, bool]]:
    return [(s.module, s.names, s.alias, s.reexport) for s in specs]


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "python",
            "import os, a.b as c\nfrom ..x import (a,\n    b as d,  # why\n)\nfrom y import *\n"
            "s = 'from z import q'\n",
            [
                ("a.b", (), "c", False),
                ("os", (), "os", False),
                ("..x", (("a", "a"), ("d", "b")), None, False),
                ("y", (("*", "*"),), None, False),
            ],
        ),
        (
            "typescript",
            "import D, { a, b as c } from './m';\nimport * as ns from \"../n\";\n"
            "export * from './o';\nexport { q as r } from './p';\n"
            "const { s, t: u } = require('./r');\nvar v = require('./s').w;\nrequire('./side');\n",
            [
                ("./m", (("a", "a"), ("c", "b"), ("D", "default")), None, False),
                ("../n", (), "ns", False),
                ("./o", (("*", "*"),), None, True),
                ("./p", (("r", "q"),), None, True),
                ("./r", (("s", "s"), ("u", "t")), None, False),
                ("./s", (("v", "w"),), None, False),
                ("./side", (), None, False),
            ],
        ),
        (
            "go",
            'package x\n\nimport (\n\t"fmt"\n\tc "github.com/a/b/c"\n\t. "dot/pkg"\n)\nimport "os"\n',
            [
                ("dot/pkg", (("*", "*"),), ".", False),
                ("fmt", (), None, False),
                ("github.com/a/b/c", (), "c", False),
                ("os", (), None, False),
            ],
        ),
        (
            "rust",
            "use crate::a::{b::{C, D as E}, f::*};\npub use super::x::Y;\npub(crate) mod foo;\n"
            "// use not::this;\n",
            [
                ("crate::a::b", (("C", "C"),), None, False),
                ("crate::a::b", (("E", "D"),), None, False),
                ("crate::a::f", (("*", "*"),), None, False),
                ("super::x", (("Y", "Y"),), None, True),
                ("self::foo", (), "foo", False),
            ],
        ),
        (
            "c",
            '#include "a/b.h"\n  #  include <stdio.h>\n// #include "no.h"\n',
            [("a/b.h", (("*", "*"),), None, False), ("stdio.h", (("*", "*"),), None, False)],
        ),
        (
            "java",
            "package a.b;\nimport a.c.D;\nimport static a.c.D.m;\nimport a.e.*;\n",
            [
                ("a.c.D", (("D", "D"),), None, False),
                ("a.c.D", (("m", "m"),), None, False),
                ("a.e", (("*", "*"),), None, False),
            ],
        ),
        (
            "lua",
            "local utils = require('pl.utils')\nlocal s = require 'pl.utils'.split\nrequire 'init'\n",
            [
                ("pl.utils", (), "utils", False),
                ("pl.utils", (("s", "split"),), None, False),
                ("init", (), None, False),
            ],
        ),
    ],
)
def test_parse_imports(language: str, text: str, expected: list) -> None:
    assert sorted(_short(parse_imports(text, language))) == sorted(expected)


def test_unknown_language_has_no_imports() -> None:
    assert parse_imports("import x", "cobol") == ()


def test_default_exports() -> None:
    assert default_export("function f() {}\nmodule.exports = f;\n", "javascript") == "f"
    assert default_export("export default class Foo {}\n", "typescript") == "Foo"
    assert default_export("export default function () {}\n", "typescript") == ""
    assert default_export("module.exports = f;\n", "python") == ""


def test_cache_reuses_imports_until_an_edit_could_change_them(monkeypatch) -> None:
    import lsp_server.workspace.imports as imports

    calls: list[str] = []
    real = imports.parse_imports

    def counting(text: str, language: str) -> tuple[ImportSpec, ...]:
        calls.append(text)
        return real(text, language)

    monkeypatch.setattr(imports, "parse_imports", counting)
    cache = ImportCache()
    text = "import os\nfrom x import (\n    a,\n    b,\n)\n\n\ndef f():\n    return 1\n"
    cache.get("k", text, "python")
    assert len(calls) == 1
    typed = text.replace("return 1", "return 12")  # a keystroke in the body
    assert cache.get("k", typed, "python") == real(typed, "python")
    assert len(calls) == 1
    inside = typed.replace("    b,\n", "    b,\n    c,\n")  # inside a multi-line import
    assert cache.get("k", inside, "python") == real(inside, "python")
    assert len(calls) == 2
    keyword = inside + "import json\n"  # a new import line
    assert cache.get("k", keyword, "python") == real(keyword, "python")
    assert len(calls) == 3
    shifted = "\n\n" + keyword.replace("def f", "# note\ndef f")  # lines added above
    specs = cache.get("k", shifted, "python")
    assert [s.line for s in specs] == [s.line for s in real(shifted, "python")]
    assert cache.get("other", shifted, "lua") == ()  # per document and language
