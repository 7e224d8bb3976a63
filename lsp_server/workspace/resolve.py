"""Imports resolved to workspace files, and names looked up through them (re-exports followed).

A `Resolver` belongs to one snapshot and caches what it resolved; the index makes a new one
when it publishes a new snapshot.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from . import modules as m
from . import rust_modules
from .affinity import WordIndex
from .model import Definition, ImportSpec
from .snapshot import NameEntry, Snapshot

T = TypeVar("T")
MAX_DEPTH = 3  # re-export hops followed from a file (barrels of barrels ...)
_C_CLOSURE = 24  # headers followed transitively from one file at most
_C_LIKE = frozenset({"c", "cpp"})
_JS_LIKE = frozenset({"javascript", "javascriptreact", "typescript", "typescriptreact"})


@dataclass(frozen=True, slots=True)
class Binding:
    """What one import makes visible in the importing file."""

    key: str  # the file it reaches
    name: str | None  # the definition's name there; None for the whole module
    local: str | None  # the name bound in the importing file; None for glob/side-effect imports
    star: bool = False  # every name of that file is visible (glob, #include, same package)
    line: int = 0  # the row of the import (same-package files: -1)


class Resolver:
    """Resolution over one snapshot, memoized."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self._bindings: dict[tuple[str, ImportSpec], tuple[Binding, ...]] = {}
        self._lookups: dict[tuple[str, str, int], tuple[NameEntry, ...]] = {}
        self.words = WordIndex()
        self._file_bindings: dict[str, list[Binding]] = {}
        self._merged: dict[tuple[str, ...], dict[str, list[NameEntry]]] = {}
        self._cached: dict[str, Any] = {}

    def cached(self, name: str, compute: Callable[[], T]) -> T:
        """A value derived from the snapshot, computed once (per snapshot)."""
        if name not in self._cached:
            self._cached[name] = compute()
        return cast(T, self._cached[name])

    def bindings(
        self, key: str, language: str, imports: tuple[ImportSpec, ...], *, package: bool = True
    ) -> list[Binding]:
        """Everything the imports of file `key` bind, in import order, then (with `package`)
        the files of its own package (Go, Java) or its headers' closure (C/C++)."""
        out: list[Binding] = []
        for spec in imports:
            cache_key = (key, spec)
            found = self._bindings.get(cache_key)
            if found is None:
                found = self._bindings[cache_key] = tuple(self._resolve(key, language, spec))
            out.extend(found)
        if package:
            out.extend(self._package(key, language, out))
        return out

    def _resolve(self, key: str, language: str, spec: ImportSpec) -> Iterator[Binding]:
        if language == "python":
            yield from self._python(key, spec)
        elif language in _JS_LIKE:
            yield from self._plain(m.js_file(self.snap, key, spec.module), spec)
        elif language == "go":
            yield from self._go(key, spec)
        elif language == "rust":
            yield from rust_modules.bindings(self.snap, key, spec, Binding)
        elif language in _C_LIKE:
            header = m.c_header(self.snap, key, spec.module)
            sources = m.c_sources(self.snap, key, spec.module, header)
            targets = ([header] if header else []) + sources
            for target in targets:
                yield Binding(target, None, None, True, spec.line)
        elif language == "java":
            yield from self._java(key, spec)
        elif language == "lua":
            yield from self._plain(m.lua_module(self.snap, key, spec.module), spec)

    def _plain(self, target: str | None, spec: ImportSpec) -> Iterator[Binding]:
        """Names, a namespace alias, a glob or a bare import of one target file."""
        if target is None:
            return
        if spec.alias:
            yield Binding(target, None, spec.alias, False, spec.line)
        for local, name in spec.names:
            if name == "*":
                yield Binding(target, None, None, True, spec.line)
            else:
                yield Binding(target, name, local, False, spec.line)
        if not spec.alias and not spec.names:
            yield Binding(target, None, None, False, spec.line)

    def _python(self, key: str, spec: ImportSpec) -> Iterator[Binding]:
        folder, dotted = m.python_base(key, spec.module)
        target = (
            m.python_absolute(self.snap, key, dotted)
            if folder is None
            else m.python_module(self.snap, folder, dotted)
        )
        if target is not None and target.endswith(("__init__.py", "__init__.pyi")):
            package_dir: str | None = posixpath.dirname(target)
        elif folder is not None:
            package_dir = posixpath.join(folder, *dotted.split(".")) if dotted else folder
        else:
            package_dir = None
        plain_names: list[tuple[str, str]] = []
        for local, name in spec.names:
            sub = m.python_module(self.snap, package_dir, name) if package_dir else None
            if name != "*" and sub is not None and sub != key:
                yield Binding(sub, None, local, False, spec.line)  # `from pkg import module`
            else:
                plain_names.append((local, name))
        if plain_names or not spec.names:
            rest = ImportSpec(spec.module, tuple(plain_names), spec.alias, spec.line)
            yield from self._plain(target if target != key else None, rest)

    def _go(self, key: str, spec: ImportSpec) -> Iterator[Binding]:
        for folder in m.go_dirs(self.snap, spec.module):
            for target in m.files_in(self.snap, folder, (".go",), key):
                if target.endswith("_test.go"):
                    continue
                record = self.snap.files[target]
                alias = spec.alias or record.package or posixpath.basename(folder)
                star = alias == "."
                yield Binding(target, None, None if star else alias, star, spec.line)

    def _java(self, key: str, spec: ImportSpec) -> Iterator[Binding]:
        if spec.names and spec.names[0][0] == "*":
            for folder in m.java_package(self.snap, spec.module):
                for target in m.files_in(self.snap, folder, (".java",), key):
                    yield Binding(target, None, None, True, spec.line)
            return
        yield from self._plain(m.java_class(self.snap, key, spec.module), spec)

    def _package(self, key: str, language: str, direct: list[Binding]) -> Iterator[Binding]:
        folder = posixpath.dirname(key)
        if language == "go":
            tests = key.endswith("_test.go")
            for target in m.files_in(self.snap, folder, (".go",), key):
                if tests or not target.endswith("_test.go"):
                    yield Binding(target, None, None, True, -1)
        elif language == "java":
            for target in m.files_in(self.snap, folder, (".java",), key):
                yield Binding(target, None, None, True, -1)
        elif language in _C_LIKE:
            yield from self._c_closure(key, language, direct)

    def _c_closure(self, key: str, language: str, direct: list[Binding]) -> Iterator[Binding]:
        """Headers included by the included headers, breadth first, capped."""
        seen = {key, *(binding.key for binding in direct)}
        queue = [binding.key for binding in direct]
        while queue and len(seen) < _C_CLOSURE:
            record = self.snap.files.get(queue.pop(0))
            if record is None:
                continue
            for binding in self.bindings(record.key, language, record.imports, package=False):
                if binding.key not in seen:
                    seen.add(binding.key)
                    queue.append(binding.key)
                    yield Binding(binding.key, None, None, True, 10**6)

    def file_bindings(self, key: str) -> list[Binding]:
        """What an indexed file's own imports bind (no package), memoized."""
        found = self._file_bindings.get(key)
        if found is None:
            record = self.snap.files.get(key)
            found = (
                self.bindings(key, record.language, record.imports, package=False)
                if record is not None
                else []
            )
            self._file_bindings[key] = found
        return found

    def merged_names(self, keys: tuple[str, ...]) -> dict[str, list[NameEntry]]:
        """Every definition of the files `keys`, by name: one table for a file's glob imports,
        headers or package, instead of a lookup per file per name."""
        found = self._merged.get(keys)
        if found is None:
            found = {}
            for key in keys:
                record = self.snap.files.get(key)
                for definition in record.definitions if record is not None else ():
                    found.setdefault(definition.name, []).append((key, definition))
            self._merged[keys] = found
        return found

    def lookup(self, name: str, key: str, depth: int = MAX_DEPTH) -> tuple[NameEntry, ...]:
        """Definitions of `name` in file `key`, or where that file re-exports it from."""
        cache_key = (name, key, depth)
        found = self._lookups.get(cache_key)
        if found is None:
            self._lookups[cache_key] = ()  # a cycle of re-exports ends here
            found = self._lookups[cache_key] = self._lookup(name, key, depth)
        return found

    def _lookup(self, name: str, key: str, depth: int) -> tuple[NameEntry, ...]:
        defs = [(key, d) for d in self.snap.definitions_named(name, key)]
        record = self.snap.files.get(key)
        if name == "default" and not defs and record is not None:
            if record.default and record.default != "default":
                return self.lookup(record.default, key, depth)
            defs = [(key, d) for d in record.definitions if _default_export(d)]
        if defs or depth <= 0 or record is None:
            return tuple(defs)
        bindings = self.file_bindings(key)
        for binding in bindings:
            if binding.local == name and binding.name is not None:
                found = self.lookup(binding.name, binding.key, depth - 1)
                if found:
                    return found
        for binding in bindings:
            if binding.star:
                found = self.lookup(name, binding.key, depth - 1)
                if found:
                    return found
        return ()


def _default_export(definition: Definition) -> bool:
    return "export default" in definition.lines[0]
