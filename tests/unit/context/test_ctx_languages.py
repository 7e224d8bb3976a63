"""Language table: lookups by languageId, extension and URI; node kinds exist in the grammars."""

from __future__ import annotations

import pytest

from lsp_server.context import (
    ALL_LANGUAGES,
    LanguageSpec,
    detect_language,
    spec_for_language_id,
    spec_for_path,
)


@pytest.mark.parametrize(
    ("language_id", "name"),
    [
        ("python", "python"),
        ("javascript", "javascript"),
        ("javascriptreact", "javascriptreact"),
        ("typescript", "typescript"),
        ("typescriptreact", "typescriptreact"),
        ("tsx", "typescriptreact"),
        ("go", "go"),
        ("rust", "rust"),
        ("c", "c"),
        ("cpp", "cpp"),
        ("C++", "cpp"),
        ("java", "java"),
        ("lua", "lua"),
    ],
)
def test_language_ids(language_id: str, name: str) -> None:
    spec = spec_for_language_id(language_id)
    assert spec is not None and spec.name == name


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/src/app/main.py", "python"),
        ("stubs/mod.pyi", "python"),
        ("web/index.mjs", "javascript"),
        ("web/App.jsx", "javascriptreact"),
        ("web/app.ts", "typescript"),
        ("web/App.tsx", "typescriptreact"),
        ("cmd/main.go", "go"),
        ("src/lib.rs", "rust"),
        ("src/util.c", "c"),
        ("include/util.h", "c"),
        ("src/engine.cpp", "cpp"),
        ("include/engine.hpp", "cpp"),
        ("src/Main.java", "java"),
        ("lua/plugin/init.lua", "lua"),
        ("file:///home/me/My%20Project/app.py", "python"),
        ("file:///C:/work/App.TSX", "typescriptreact"),
    ],
)
def test_paths_and_uris(path: str, name: str) -> None:
    spec = spec_for_path(path)
    assert spec is not None and spec.name == name


@pytest.mark.parametrize("unknown", ["ruby", "plaintext", "markdown", ""])
def test_unknown_language_ids_are_none(unknown: str) -> None:
    assert spec_for_language_id(unknown) is None


@pytest.mark.parametrize("path", ["Gemfile", "notes.md", "x.rb", "archive.tar.gz"])
def test_unknown_extensions_are_none(path: str) -> None:
    assert spec_for_path(path) is None


def test_language_id_wins_over_extension_and_extension_is_the_fallback() -> None:
    by_id = detect_language("typescript", "file:///a/b.py")
    by_path = detect_language("weird-id", "file:///a/b.py")
    assert by_id is not None and by_id.name == "typescript"
    assert by_path is not None and by_path.name == "python"
    assert detect_language(None, None) is None
    assert detect_language("ruby", "x.rb") is None


@pytest.mark.parametrize("spec", ALL_LANGUAGES, ids=lambda s: s.name)
def test_every_node_kind_exists_in_the_grammar(spec: LanguageSpec) -> None:
    language = spec.ts_language()
    assert language is not None
    kinds = (
        spec.container_types
        | spec.function_types
        | spec.definition_types
        | spec.header_types
        | spec.trivia_types
    )
    missing = sorted(kind for kind in kinds if language.id_for_node_kind(kind, True) is None)
    assert missing == []


def test_grammars_load_once() -> None:
    spec = spec_for_language_id("rust")
    assert spec is not None
    assert spec.ts_language() is spec.ts_language()


@pytest.mark.parametrize(
    ("language_id", "line", "opens"),
    [
        ("python", "def f(a, b):", True),
        ("python", "else:", True),
        ("python", "x = a + b", False),
        ("go", "func main() {", True),
        ("go", "x := f(a)", False),
        ("lua", "if x > 1 then", True),
        ("lua", "for i = 1, 10 do", True),
        ("lua", "local function go(a, b)", True),
        ("lua", "local f = function(a)", True),
        ("lua", "local y = compute(a)", False),
        ("lua", "return x", False),
    ],
)
def test_block_openers(language_id: str, line: str, opens: bool) -> None:
    spec = spec_for_language_id(language_id)
    assert spec is not None
    assert spec.opens_block(line) is opens
