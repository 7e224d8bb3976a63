"""A file's definitions from one tree-sitter parse, per language (walkers in defs_*.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tree_sitter import Node, Parser

from ..context.languages import LanguageSpec
from . import defs_compiled, defs_js, defs_script
from .defs_common import Builder
from .model import Definition

_WALKERS: dict[str, Callable[[Builder, Node], None]] = {
    "python": defs_script.python,
    "javascript": defs_js.javascript,
    "javascriptreact": defs_js.javascript,
    "typescript": defs_js.javascript,
    "typescriptreact": defs_js.javascript,
    "lua": defs_script.lua,
    "go": defs_compiled.go,
    "rust": defs_compiled.rust,
    "c": defs_compiled.c_family,
    "cpp": defs_compiled.c_family,
    "java": defs_compiled.java,
}
_CHUNK = 4096  # bytes handed to the parser at a time when yielding
_parsers = threading.local()  # a Parser per thread and language: parsers are not thread-safe


def _parser(spec: LanguageSpec) -> Parser | None:
    cache: dict[str, Parser] = _parsers.__dict__.setdefault("by_name", {})
    parser = cache.get(spec.name)
    if parser is None:
        language = spec.ts_language()
        if language is None:
            return None
        parser = cache[spec.name] = Parser(language)
    return parser


def _yielding_reader(source: bytes) -> Callable[[int, object], bytes]:
    """Hand the parser the source in chunks, letting other threads run between them: a parse
    holds the GIL, and a large file would otherwise stall the event loop for its whole length."""

    def read(offset: int, _point: object) -> bytes:
        time.sleep(0)
        return source[offset : offset + _CHUNK]

    return read


def extract_definitions(
    source: bytes, spec: LanguageSpec, *, yield_gil: bool = False
) -> tuple[Definition, ...]:
    """Every definition the file declares, in file order; () for unknown languages.

    Parse errors never raise: tree-sitter recovers, and what parsed around them is kept.
    With `yield_gil` (a parse on a thread beside the event loop) other threads run between
    chunks of the source.
    """
    walker = _WALKERS.get(spec.name)
    parser = _parser(spec)
    if walker is None or parser is None:
        return ()
    builder = Builder(source)
    tree = (
        parser.parse(_yielding_reader(source))
        if yield_gil and len(source) > _CHUNK
        else parser.parse(source)
    )
    walker(builder, tree.root_node)
    seen: set[tuple[str, str | None, int]] = set()
    unique: list[Definition] = []
    for definition in sorted(builder.out, key=lambda d: d.start_line):
        key = (definition.name, definition.container, definition.start_line)
        if key not in seen:
            seen.add(key)
            unique.append(definition)
    return tuple(unique)
