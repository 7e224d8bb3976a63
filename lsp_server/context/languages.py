"""Language table: LSP languageId / file extension to grammar and the node kinds the engine uses."""

from __future__ import annotations

import functools
import importlib
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal
from urllib.parse import unquote, urlparse

from tree_sitter import Language

BlockStyle = Literal["indent", "brace", "keyword"]

# Python `def f():`, `else:` ... A colon ends the header; the body is the indented lines below.
_COLON_OPENER = re.compile(r":$")
_BRACE_OPENER = re.compile(r"\{$")
# Lua opens a block with a keyword at the end of a line, or with a function head `function f(a)`.
_LUA_OPENER = re.compile(r"(?:\b(?:then|do|else|repeat)|\bfunction\b[^()]*\([^()]*\)|\{)$")
_PLAIN_OPENER = re.compile(r"[:{]$")

_REQUIRE_LINE = re.compile(r"^\s*(?:const|let|var)\s[^=]*=\s*require\s*\(")
_LUA_REQUIRE_LINE = re.compile(r"^\s*local\s+[\w_.,\s]+=\s*require\b")


@dataclass(frozen=True)
class LanguageSpec:
    """What the context engine knows about one language; grammar loaded lazily on first use."""

    name: str
    grammar_module: str
    grammar_function: str
    # Scopes whose body children are themselves definitions (classes, impl blocks, namespaces).
    # Trimming drops their members whole, farthest first.
    container_types: frozenset[str]
    # Function-like scopes. The outermost one around the cursor is kept line by line, nearest first.
    function_types: frozenset[str]
    # Top-level definitions; a comment directly above one is kept or dropped together with it.
    definition_types: frozenset[str]
    # The file header: imports, package clause, includes, use declarations. Comments and a
    # leading docstring or directive ("use strict") join the header when they lead the file.
    header_types: frozenset[str]
    block_style: BlockStyle
    block_opener: re.Pattern[str]
    line_comment: str
    default_indent: str
    # Node kinds that, like comments, annotate the definition that follows them.
    trivia_types: frozenset[str] = frozenset()
    # A top-level statement whose first line matches this is header too (`require` in JS/Lua).
    header_line: re.Pattern[str] | None = None

    @property
    def scope_types(self) -> frozenset[str]:
        """Every node kind that counts as an enclosing scope of the cursor."""
        return self.container_types | self.function_types

    def ts_language(self) -> Language | None:
        """The tree-sitter grammar; None when its wheel is missing (plain-text rules apply)."""
        return _load_language(self.grammar_module, self.grammar_function)

    def opens_block(self, code: str) -> bool:
        """Whether a line's code (comment already removed, right-stripped) ends a block header."""
        return bool(self.block_opener.search(code))


@functools.cache
def _load_language(module: str, function: str) -> Language | None:
    try:
        grammar = importlib.import_module(module)
    except ImportError:
        return None
    return Language(getattr(grammar, function)())


def _kinds(*names: str) -> frozenset[str]:
    return frozenset(names)


_JS_FUNCTIONS = _kinds(
    "function_declaration",
    "generator_function_declaration",
    "function_expression",
    "generator_function",
    "arrow_function",
    "method_definition",
)
_JS_DEFINITIONS = _kinds(
    "function_declaration",
    "generator_function_declaration",
    "class_declaration",
    "lexical_declaration",
    "variable_declaration",
    "export_statement",
)
_TS_CONTAINERS = _kinds(
    "class_declaration",
    "abstract_class_declaration",
    "class",
    "interface_declaration",
    "internal_module",
    "module",
)
_TS_DEFINITIONS = _JS_DEFINITIONS | _kinds(
    "abstract_class_declaration",
    "interface_declaration",
    "type_alias_declaration",
    "enum_declaration",
    "ambient_declaration",
    "function_signature",
)
_C_DEFINITIONS = _kinds(
    "function_definition",
    "declaration",
    "struct_specifier",
    "union_specifier",
    "enum_specifier",
    "type_definition",
    "preproc_def",
    "preproc_function_def",
)


def _typescript(name: str, function: str) -> LanguageSpec:
    return LanguageSpec(
        name=name,
        grammar_module="tree_sitter_typescript",
        grammar_function=function,
        container_types=_TS_CONTAINERS,
        function_types=_JS_FUNCTIONS,
        definition_types=_TS_DEFINITIONS,
        header_types=_kinds("import_statement", "import_alias"),
        block_style="brace",
        block_opener=_BRACE_OPENER,
        line_comment="//",
        default_indent="  ",
        header_line=_REQUIRE_LINE,
    )


def _javascript(name: str) -> LanguageSpec:
    return LanguageSpec(
        name=name,
        grammar_module="tree_sitter_javascript",
        grammar_function="language",
        container_types=_kinds("class_declaration", "class"),
        function_types=_JS_FUNCTIONS,
        definition_types=_JS_DEFINITIONS,
        header_types=_kinds("import_statement"),
        block_style="brace",
        block_opener=_BRACE_OPENER,
        line_comment="//",
        default_indent="  ",
        header_line=_REQUIRE_LINE,
    )


PYTHON = LanguageSpec(
    name="python",
    grammar_module="tree_sitter_python",
    grammar_function="language",
    container_types=_kinds("class_definition"),
    function_types=_kinds("function_definition"),
    definition_types=_kinds("function_definition", "class_definition", "decorated_definition"),
    header_types=_kinds("import_statement", "import_from_statement", "future_import_statement"),
    block_style="indent",
    block_opener=_COLON_OPENER,
    line_comment="#",
    default_indent="    ",
)
JAVASCRIPT = _javascript("javascript")
JAVASCRIPT_REACT = _javascript("javascriptreact")
TYPESCRIPT = _typescript("typescript", "language_typescript")
TYPESCRIPT_REACT = _typescript("typescriptreact", "language_tsx")
GO = LanguageSpec(
    name="go",
    grammar_module="tree_sitter_go",
    grammar_function="language",
    container_types=frozenset(),
    function_types=_kinds("function_declaration", "method_declaration", "func_literal"),
    definition_types=_kinds(
        "function_declaration",
        "method_declaration",
        "type_declaration",
        "var_declaration",
        "const_declaration",
    ),
    header_types=_kinds("package_clause", "import_declaration"),
    block_style="brace",
    block_opener=_BRACE_OPENER,
    line_comment="//",
    default_indent="\t",
)
RUST = LanguageSpec(
    name="rust",
    grammar_module="tree_sitter_rust",
    grammar_function="language",
    container_types=_kinds("impl_item", "trait_item", "mod_item"),
    function_types=_kinds("function_item", "closure_expression"),
    definition_types=_kinds(
        "function_item",
        "struct_item",
        "enum_item",
        "union_item",
        "impl_item",
        "trait_item",
        "mod_item",
        "const_item",
        "static_item",
        "type_item",
        "macro_definition",
    ),
    header_types=_kinds("use_declaration", "extern_crate_declaration", "inner_attribute_item"),
    block_style="brace",
    block_opener=_BRACE_OPENER,
    line_comment="//",
    default_indent="    ",
    trivia_types=_kinds("attribute_item"),
)
C = LanguageSpec(
    name="c",
    grammar_module="tree_sitter_c",
    grammar_function="language",
    # A header guard or `extern "C" {` wraps a whole file; members inside drop one by one.
    container_types=_kinds("preproc_ifdef", "preproc_if", "linkage_specification"),
    function_types=_kinds("function_definition"),
    definition_types=_C_DEFINITIONS,
    header_types=_kinds("preproc_include"),
    block_style="brace",
    block_opener=_BRACE_OPENER,
    line_comment="//",
    default_indent="    ",
)
CPP = LanguageSpec(
    name="cpp",
    grammar_module="tree_sitter_cpp",
    grammar_function="language",
    container_types=_kinds(
        "namespace_definition",
        "class_specifier",
        "struct_specifier",
        "linkage_specification",
        "preproc_ifdef",
        "preproc_if",
    ),
    function_types=_kinds("function_definition", "lambda_expression"),
    definition_types=_C_DEFINITIONS
    | _kinds("class_specifier", "namespace_definition", "template_declaration"),
    header_types=_kinds("preproc_include", "using_declaration"),
    block_style="brace",
    block_opener=_BRACE_OPENER,
    line_comment="//",
    default_indent="    ",
)
JAVA = LanguageSpec(
    name="java",
    grammar_module="tree_sitter_java",
    grammar_function="language",
    container_types=_kinds(
        "class_declaration",
        "interface_declaration",
        "enum_declaration",
        "record_declaration",
        "annotation_type_declaration",
    ),
    function_types=_kinds(
        "method_declaration", "constructor_declaration", "compact_constructor_declaration"
    ),
    definition_types=_kinds(
        "class_declaration",
        "interface_declaration",
        "enum_declaration",
        "record_declaration",
        "annotation_type_declaration",
        "method_declaration",
        "constructor_declaration",
        "field_declaration",
    ),
    header_types=_kinds("package_declaration", "import_declaration"),
    block_style="brace",
    block_opener=_BRACE_OPENER,
    line_comment="//",
    default_indent="    ",
)
LUA = LanguageSpec(
    name="lua",
    grammar_module="tree_sitter_lua",
    grammar_function="language",
    container_types=frozenset(),
    function_types=_kinds("function_declaration", "function_definition"),
    definition_types=_kinds("function_declaration", "variable_declaration"),
    header_types=frozenset(),
    block_style="keyword",
    block_opener=_LUA_OPENER,
    line_comment="--",
    default_indent="  ",
    header_line=_LUA_REQUIRE_LINE,
)

ALL_LANGUAGES: tuple[LanguageSpec, ...] = (
    PYTHON,
    JAVASCRIPT,
    JAVASCRIPT_REACT,
    TYPESCRIPT,
    TYPESCRIPT_REACT,
    GO,
    RUST,
    C,
    CPP,
    JAVA,
    LUA,
)

_BY_ID: dict[str, LanguageSpec] = {spec.name: spec for spec in ALL_LANGUAGES}
# Names some clients send instead of the registered LSP languageId.
_BY_ID.update({"tsx": TYPESCRIPT_REACT, "jsx": JAVASCRIPT_REACT, "c++": CPP, "py": PYTHON})

_BY_EXTENSION: dict[str, LanguageSpec] = {
    **dict.fromkeys((".py", ".pyi", ".pyw"), PYTHON),
    **dict.fromkeys((".js", ".mjs", ".cjs"), JAVASCRIPT),
    ".jsx": JAVASCRIPT_REACT,
    **dict.fromkeys((".ts", ".mts", ".cts"), TYPESCRIPT),
    ".tsx": TYPESCRIPT_REACT,
    ".go": GO,
    ".rs": RUST,
    **dict.fromkeys((".c", ".h"), C),
    **dict.fromkeys((".cc", ".cpp", ".cxx", ".c++", ".hh", ".hpp", ".hxx", ".h++", ".ipp"), CPP),
    ".java": JAVA,
    ".lua": LUA,
}

# What an unknown language's lines can still tell us: a block opens after `:` or `{`.
PLAIN_OPENER = _PLAIN_OPENER


def spec_for_language_id(language_id: str) -> LanguageSpec | None:
    """The spec for an LSP languageId ("python", "typescriptreact", ...), or None if unknown."""
    return _BY_ID.get(language_id.strip().lower())


def spec_for_path(path_or_uri: str) -> LanguageSpec | None:
    """The spec for a file path or `file://` URI, by extension, or None if unknown."""
    path = unquote(urlparse(path_or_uri).path) if "://" in path_or_uri else path_or_uri
    return _BY_EXTENSION.get(PurePosixPath(path).suffix.lower())


def detect_language(language_id: str | None, path_or_uri: str | None = None) -> LanguageSpec | None:
    """The languageId wins (the editor knows best); the extension is the fallback."""
    if language_id:
        spec = spec_for_language_id(language_id)
        if spec is not None:
            return spec
    if path_or_uri:
        return spec_for_path(path_or_uri)
    return None
