"""One package of the corpus as the benchmark sees it: files, their definitions, imports resolved.

`Package.load` parses every source file once. `resolve` maps an import spec to the files it
names (Python modules and packages, JS/TS files and index files, Go package directories via
the module path, Rust modules via `crate`/`self`/`super`/child modules, C headers to the .c
file of the same stem — the corpus keeps only .c files —, Lua `require` with dots as folders).
`lookup` finds a name's definition in a module, following re-exports (Python imports and
`*`, JS barrels, Rust `pub use`).
"""

from __future__ import annotations

import functools
import posixpath
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Tree

from .defs import Definition, binders, definitions
from .imports import Binding, Imports, read_imports
from .syntax import parse
from .uses import Use, uses_by_row

MAX_DEPTH = 4


@dataclass
class SourceFile:
    path: str  # workspace-relative POSIX path
    language: str
    text: str
    tree: Tree
    defs: list[Definition]
    binders: set[str]
    imports: Imports

    @functools.cached_property
    def defined(self) -> set[str]:
        return {d.name for d in self.defs}

    @functools.cached_property
    def rows(self) -> dict[int, list[Use]]:
        """The names used on each row."""
        return uses_by_row(self.language, self.tree.root_node)

    @functools.cached_property
    def words(self) -> set[str]:
        """Every name the file's code uses (comments and strings left out)."""
        used = [u for us in self.rows.values() for u in us]
        return {u.name for u in used} | {u.qualifier for u in used if u.qualifier}


class Package:
    def __init__(self, name: str, language: str, root: Path, files: dict[str, SourceFile]):
        self.name = name
        self.language = language
        self.root = root
        self.files = files
        self.by_name: dict[str, list[Definition]] = defaultdict(list)
        self.dirs: dict[str, list[str]] = defaultdict(list)
        for f in files.values():
            for d in f.defs:
                self.by_name[d.name].append(d)
            self.dirs[posixpath.dirname(f.path)].append(f.path)
        self.go_module = ""
        if language == "go" and (root / "go.mod").exists():
            first = (root / "go.mod").read_text().split("\n", 1)[0]
            self.go_module = first.removeprefix("module").strip()
        self.crate = root.name.rsplit("-", 1)[0].replace("-", "_")
        self._lookups: dict[tuple[tuple[str, ...], str], Definition | None] = {}
        self._resolved: dict[tuple[str, str], list[str]] = {}

    @classmethod
    def load(cls, name: str, language: str, root: Path, paths: list[str]) -> Package:
        files: dict[str, SourceFile] = {}
        for rel in paths:
            text = (root / rel).read_text(encoding="utf-8", errors="replace")
            tree = parse(language, text)
            files[rel] = SourceFile(
                rel,
                language,
                text,
                tree,
                definitions(language, rel, text, tree.root_node),
                binders(language, tree.root_node),
                read_imports(language, tree.root_node),
            )
        return cls(name, language, root, files)

    # ---- module specs to files ------------------------------------------------------
    def resolve(self, source: str, spec: str) -> list[str]:
        """The files an import spec written in `source` names ([] for anything outside)."""
        key = (source, spec)
        if key not in self._resolved:
            self._resolved[key] = self._resolve(source, spec)
        return self._resolved[key]

    def _resolve(self, source: str, spec: str) -> list[str]:
        lang = self.language
        if lang == "python":
            return self._python_module(source, spec)
        if lang in ("javascript", "typescript"):
            return self._js_module(source, spec)
        if lang == "go":
            if not self.go_module or not (
                spec == self.go_module or spec.startswith(self.go_module + "/")
            ):
                return []
            return self.go_package(spec[len(self.go_module) :].strip("/"), test=False)
        if lang == "rust":
            found = self.rust_path(source, spec.split("::"), in_use=True)
            return [found[0]] if found is not None and not found[1] else []
        if lang == "c":
            stem = posixpath.splitext(posixpath.basename(spec))[0]
            return sorted(
                p for p in self.files if posixpath.splitext(posixpath.basename(p))[0] == stem
            )
        if lang == "lua":
            base = spec.replace(".", "/")
            return [p for p in (f"{base}.lua", f"{base}/init.lua") if p in self.files][:1]
        return []

    def _python_module(self, source: str, spec: str) -> list[str]:
        dots = len(spec) - len(spec.lstrip("."))
        parts = [p for p in spec[dots:].split(".") if p]
        if dots:
            base = posixpath.dirname(source).split("/") if posixpath.dirname(source) else []
            base = base[: len(base) - (dots - 1)] if dots > 1 else base
        else:
            base = []
        path = "/".join([*base, *parts])
        for candidate in (f"{path}.py", f"{path}/__init__.py" if path else "__init__.py"):
            if candidate in self.files:
                return [candidate]
        return []

    def _js_module(self, source: str, spec: str) -> list[str]:
        if not spec.startswith("."):
            return []
        base = posixpath.normpath(posixpath.join(posixpath.dirname(source), spec))
        stem = base.removesuffix(".js") if base.endswith(".js") else base
        for candidate in (
            base,
            f"{stem}.ts",
            f"{stem}.tsx",
            f"{stem}.js",
            f"{stem}.mjs",
            f"{stem}.cjs",
            f"{base}/index.ts",
            f"{base}/index.js",
        ):
            if candidate in self.files:
                return [candidate]
        return []

    def go_package(self, directory: str, *, test: bool) -> list[str]:
        return [p for p in self.dirs.get(directory, []) if test or not p.endswith("_test.go")]

    # ---- Rust modules ---------------------------------------------------------------
    def _rust_crate_root(self) -> str | None:
        for candidate in ("src/lib.rs", "src/main.rs"):
            if candidate in self.files:
                return candidate
        return None

    def _rust_is_root(self, path: str) -> bool:
        name = posixpath.basename(path)
        return name in ("lib.rs", "main.rs", "mod.rs") or not path.startswith("src/")

    def _rust_child(self, module: str, name: str) -> str | None:
        d = posixpath.dirname(module)
        if not self._rust_is_root(module):
            d = posixpath.join(d, posixpath.splitext(posixpath.basename(module))[0])
        for candidate in (posixpath.join(d, f"{name}.rs"), posixpath.join(d, name, "mod.rs")):
            if candidate in self.files:
                return candidate
        return None

    def _rust_parent(self, module: str) -> str | None:
        d = posixpath.dirname(module)
        if posixpath.basename(module) == "mod.rs":
            d = posixpath.dirname(d)
        if d == "src":
            return self._rust_crate_root()
        for candidate in (posixpath.join(d, "mod.rs"), f"{d}.rs"):
            if candidate in self.files:
                return candidate
        return None

    def rust_path(
        self, source: str, segments: list[str], *, in_use: bool = False, depth: int = 0
    ) -> tuple[str, list[str]] | None:
        """(module file, the segments left after it) of a path written in `source`; None for a
        path into another crate. `in_use`: a `use` path, which 2015-edition crates write from
        the crate root."""
        if not segments or depth > MAX_DEPTH:
            return None
        first, rest = segments[0], segments[1:]
        current: str | None
        if first in ("crate", self.crate):
            current = (
                self._rust_crate_root()
                if first == self.crate or source.startswith("src/")
                else source
            )
        elif first == "self":
            current = source
        elif first == "super":
            current = self._rust_parent(source)
            while current is not None and rest and rest[0] == "super":
                current, rest = self._rust_parent(current), rest[1:]
        else:
            current = self._rust_child(source, first)
            binding = self.files[source].imports.bindings.get(first)
            if current is None and binding is not None and binding.module != first:
                module = binding.module.split("::") + ([binding.remote] if binding.remote else [])
                found = self.rust_path(source, module, in_use=True, depth=depth + 1)
                current = found[0] if found is not None and not found[1] else None
            elif current is None and binding is None and in_use:
                root = self._rust_crate_root()
                current = self._rust_child(root, first) if root is not None else None
        if current is None:
            return None
        while rest:
            nxt = self._rust_child(current, rest[0])
            if nxt is None:
                break
            current, rest = nxt, rest[1:]
        return current, rest

    # ---- names to definitions ---------------------------------------------------------
    def binding_target(self, source: str, binding: Binding) -> tuple[list[str], str | None]:
        """(module files, the name taken from them; None: the binding is the module itself)."""
        if self.language == "rust":
            segments = binding.module.split("::") + ([binding.remote] if binding.remote else [])
            found = self.rust_path(source, segments, in_use=True)
            if found is None:
                return [], None
            module, rest = found
            return [module], (rest[-1] if rest else None) if len(rest) <= 1 else None
        files = self.resolve(source, binding.module)
        if binding.remote is not None and self.language == "python":
            sub = binding.module + ("" if binding.module.endswith(".") else ".") + binding.remote
            as_module = self.resolve(source, sub)
            if as_module:
                return as_module, None
        return files, binding.remote

    def lookup(self, modules: list[str], name: str, depth: int = 0) -> Definition | None:
        """`name`'s definition as the module (files) exports it, following re-exports."""
        if depth > MAX_DEPTH:
            return None
        key = (tuple(modules), name)
        if key not in self._lookups:
            self._lookups[key] = None  # a re-export cycle ends here
            self._lookups[key] = self._lookup(modules, name, depth)
        return self._lookups[key]

    def _lookup(self, modules: list[str], name: str, depth: int) -> Definition | None:
        for path in modules:
            f = self.files.get(path)
            if f is None:
                continue
            own = [
                d
                for d in f.defs
                if d.name == name and (d.top or self.language in ("lua", "javascript"))
            ]
            if own:
                return sorted(own, key=lambda d: (not d.top, d.row))[0]
        for path in modules:
            f = self.files.get(path)
            if f is None:
                continue
            if name == "default" and f.imports.default:
                found = self.lookup([path], f.imports.default, depth + 1)
                if found is not None:
                    return found
            binding = f.imports.bindings.get(name)
            if binding is not None:
                files, remote = self.binding_target(path, binding)
                if files and remote is not None:
                    found = self.lookup(files, remote, depth + 1)
                    if found is not None:
                        return found
            for re in f.imports.reexports:
                if re.local == name and re.remote is not None:
                    target = self.resolve(path, re.module) if re.module else [path]
                    found = self.lookup(target, re.remote, depth + 1)
                    if found is not None:
                        return found
            stars = [*f.imports.stars, *(r.module for r in f.imports.reexports if r.local == "*")]
            for star in stars:
                if self.language == "rust":
                    found_path = self.rust_path(path, star.split("::"), in_use=True)
                    target = [found_path[0]] if found_path is not None and not found_path[1] else []
                elif self.language == "go":
                    target = []
                else:
                    target = self.resolve(path, star)
                found = self.lookup(target, name, depth + 1)
                if found is not None:
                    return found
        return None

    def default_export(self, modules: list[str]) -> Definition | None:
        """What `require(x)` / `import D from x` gives, when it is one definition."""
        for path in modules:
            f = self.files.get(path)
            if f is not None and f.imports.default:
                return self.lookup([path], f.imports.default)
        return None

    def closure(self, source: str) -> list[str]:
        """The files `source` imports directly (for Go also its own package directory)."""
        f = self.files[source]
        out: list[str] = []
        if self.language == "go":
            out += [
                p
                for p in self.go_package(
                    posixpath.dirname(source), test=source.endswith("_test.go")
                )
            ]
        for spec in f.imports.modules:
            out += self.resolve(source, spec)
        if self.language == "rust":
            for b in f.imports.bindings.values():
                out += self.binding_target(source, b)[0]
        return [p for p in dict.fromkeys(out) if p != source]
