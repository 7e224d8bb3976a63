"""Workspaces for the benchmark: a corpus package copied out as a project folder, and a large
synthetic one.

A package's workspace root is the folder its imports are written against: the common folder
of its source files, one level up for a Python package (`requests/…` imports `requests.x`) or
a Lua tree whose `require` paths start with that folder's name (`pl.utils`). The source files
are copied to a temporary folder (the cache sits under the repo's .gitignored .tandem-cache,
which a workspace indexer rightly skips). A Go package gets the `go.mod` every Go module
has (Debian's -dev packages ship one; the corpus keeps only .go files).
"""

from __future__ import annotations

import os
import posixpath
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.bench.shaping import corpus

LUA_REQUIRE = re.compile(r"""require\s*\(?\s*["']([\w.]+)""")


@dataclass(frozen=True)
class PackageSource:
    project: corpus.Project
    root: Path  # in the corpus cache
    paths: tuple[str, ...]  # source files, relative to root, POSIX
    go_module: str = ""

    @property
    def key(self) -> str:
        return self.project.key

    @property
    def language(self) -> str:
        return self.project.language


def package_source(project: corpus.Project) -> PackageSource:
    files = corpus.source_files(project)
    root = Path(os.path.commonpath([str(f.parent) for f in files]))
    if project.language == "python":
        while (root / "__init__.py").exists():
            root = root.parent
    if project.language == "lua":
        heads = {
            m.group(1).split(".")[0]
            for f in files
            for m in LUA_REQUIRE.finditer(f.read_text(encoding="utf-8", errors="replace"))
        }
        if root.name in heads:
            root = root.parent
    if project.language == "rust" and root.name == "src":
        root = root.parent  # the crate's folder: `src/lib.rs` is its root
    go_module = ""
    if project.language == "go":
        parts = root.as_posix().split("/gocode/src/", 1)
        go_module = parts[1] if len(parts) == 2 else root.name
    paths = tuple(sorted(f.relative_to(root).as_posix() for f in files))
    return PackageSource(project, root, paths, go_module)


def materialize(source: PackageSource, into: Path) -> Path:
    """Copy the package's source files under `into`; returns the workspace root."""
    root = into / source.key / source.root.name
    for rel in source.paths:
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source.root / rel, target)
    if source.go_module:
        (root / "go.mod").write_text(f"module {source.go_module}\n\ngo 1.19\n")
    return root


# ---- the synthetic workspace -----------------------------------------------------------
_PY_MODULE = '''"""Module {name}: records of kind {kind} and the helpers that handle them."""

from __future__ import annotations

from dataclasses import dataclass
{imports}


@dataclass
class {cls}:
    """One {kind} record."""

    ident: int
    label: str
    weight: float = 1.0

    def scaled(self, factor: float) -> {cls}:
        return {cls}(self.ident, self.label, self.weight * factor)


LIMIT_{upper} = {limit}


def load_{name}(raw: dict[str, object]) -> {cls}:
    """Build a {cls} from a parsed row."""
    ident = int(str(raw.get("id", 0)))
    label = str(raw.get("label", ""))
    return {cls}(ident, label)


def total_{name}(items: list[{cls}]) -> float:
    total = 0.0
    for item in items[:LIMIT_{upper}]:
        total += item.weight
{uses}    return total
'''

_TS_MODULE = """// Module {name}: {kind} records and the helpers that handle them.
{imports}

export interface {cls} {{
  ident: number;
  label: string;
  weight: number;
}}

export const LIMIT_{upper} = {limit};

export function load{cls}(raw: Record<string, unknown>): {cls} {{
  const ident = Number(raw["id"] ?? 0);
  const label = String(raw["label"] ?? "");
  return {{ ident, label, weight: 1 }};
}}

export function total{cls}(items: {cls}[]): number {{
  let total = 0;
  for (const item of items.slice(0, LIMIT_{upper})) {{
    total += item.weight;
  }}
{uses}  return total;
}}
"""


def synthetic(into: Path, files: int, seed: int = 0) -> Path:
    """A workspace of `files` source files, half Python and half TypeScript, in packages of 50
    files each; every file imports 2–4 earlier files of its language and calls into them."""
    rng = random.Random(seed)
    root = into / "synthetic"
    shutil.rmtree(root, ignore_errors=True)
    kinds = ["order", "invoice", "user", "event", "metric", "report", "ticket", "asset"]
    made: dict[str, list[tuple[str, str, str]]] = {"py": [], "ts": []}  # (module path, name, cls)
    for i in range(files):
        ext = "py" if i % 2 == 0 else "ts"
        group = i // 100
        name = f"m{i:05d}"
        cls = f"Rec{i:05d}"
        kind = kinds[i % len(kinds)]
        earlier = made[ext]
        picked = rng.sample(earlier, min(len(earlier), rng.randint(2, 4))) if earlier else []
        if ext == "py":
            module = f"pkg{group:03d}/{name}.py"
            imports = "".join(
                f"from {posixpath.splitext(m)[0].replace('/', '.')} import {c}, load_{n}\n"
                for m, n, c in picked
            )
            uses = "".join(
                f"    total += load_{n}({{'id': {j}}}).scaled(2.0).weight  # {c}\n"
                for j, (_, n, c) in enumerate(picked)
            )
            text = _PY_MODULE.format(
                name=name,
                kind=kind,
                cls=cls,
                upper=name.upper(),
                limit=rng.randint(10, 99),
                imports=imports,
                uses=uses,
            )
            (root / f"pkg{group:03d}").mkdir(parents=True, exist_ok=True)
            init = root / f"pkg{group:03d}" / "__init__.py"
            if not init.exists():
                init.write_text("")
        else:
            module = f"web{group:03d}/{name}.ts"
            imports = "".join(
                f'import {{ {c}, load{c} }} from "{_relative(module, m)}";\n' for m, _, c in picked
            )
            uses = "".join(
                f"  total += load{c}({{ id: {j} }}).weight;\n" for j, (_, _, c) in enumerate(picked)
            )
            text = _TS_MODULE.format(
                name=name,
                kind=kind,
                cls=cls,
                upper=name.upper(),
                limit=rng.randint(10, 99),
                imports=imports,
                uses=uses,
            )
            (root / f"web{group:03d}").mkdir(parents=True, exist_ok=True)
        (root / module).write_text(text)
        made[ext].append((module, name, cls))
    return root


def _relative(source: str, target: str) -> str:
    rel = posixpath.relpath(posixpath.splitext(target)[0], posixpath.dirname(source))
    return rel if rel.startswith(".") else f"./{rel}"
