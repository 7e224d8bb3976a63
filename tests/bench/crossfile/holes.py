"""Holes for the cross-file benchmark: lines whose hidden code uses definitions from other files.

A hole is one line of a package's file from its first non-blank character to its end; the
document the editor holds is the file without it, the cursor where it was. A line qualifies
when its code uses at least one name `truth.needs` resolves to another file's definition
(imports, includes and comments never qualify). Holes are drawn with a fixed seed per package,
round-robin over the files so they spread, never two within 3 lines of each other.
"""

from __future__ import annotations

import posixpath
import random
from collections import defaultdict
from dataclasses import dataclass

from .package import Package
from .syntax import matches
from .truth import Need, Resolver, needs

MAX_FILE_BYTES = 200_000  # a bundled single-file build (lodash.js) is not where holes go
MAX_LINE = 200
IMPORT_NODES = frozenset(
    {
        "import_statement",
        "import_from_statement",
        "future_import_statement",
        "import_declaration",
        "use_declaration",
        "extern_crate_declaration",
        "mod_item",
        "preproc_include",
        "export_statement",
    }
)
COMMENT_STARTS = ("#", "//", "/*", "*", "--")


@dataclass(frozen=True)
class Hole:
    package: str  # the corpus project key
    language: str
    path: str  # workspace-relative
    row: int
    start: int  # str offsets of the hidden code in the file's text
    end: int
    truth: str
    needs: tuple[Need, ...]

    def document(self, text: str) -> str:
        return text[: self.start] + text[self.end :]


def _skipped_rows(package: Package, path: str) -> set[int]:
    """Rows of import statements, re-exports and `require` lines of a file."""
    f = package.files[path]
    rows: set[int] = set()
    for n in matches(package.language, f.tree.root_node, IMPORT_NODES):
        if n.type == "mod_item" and n.child_by_field_name("body") is not None:
            continue
        if n.type == "export_statement" and n.child_by_field_name("source") is None:
            continue
        rows.update(range(n.start_point[0], n.end_point[0] + 1))
    for row, line in enumerate(f.text.split("\n")):
        if "require(" in line or "require '" in line or 'require "' in line:
            rows.add(row)
    return rows


def candidates(package: Package, path: str) -> dict[int, int]:
    """Every row of the file that qualifies as a hole, with how many definitions it needs."""
    f = package.files[path]
    if len(f.text.encode("utf-8")) > MAX_FILE_BYTES:
        return {}
    skipped = _skipped_rows(package, path)
    resolver = Resolver(package, path)
    lines = f.text.split("\n")
    out: dict[int, int] = {}
    for row, row_uses in f.rows.items():
        line = lines[row].strip()
        if row in skipped or not line or len(line) > MAX_LINE or line.startswith(COMMENT_STARTS):
            continue
        found = {d for d in map(resolver.resolve, row_uses) if d is not None}
        if found:
            out[row] = len(found)
    return out


def line_span(text: str, row: int) -> tuple[int, int]:
    """str offsets of a line's code: from its first non-blank character to its end."""
    start = 0
    for _ in range(row):
        start = text.index("\n", start) + 1
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    line = text[start:end]
    return start + len(line) - len(line.lstrip()), start + len(line.rstrip())


def sample(package: Package, per_package: int, seed: int) -> list[Hole]:
    """`per_package` holes drawn round-robin over the package's files (fewer if it has fewer)."""
    rng = random.Random(f"{seed}:{package.name}")
    pools: dict[str, dict[int, int]] = {}
    for path in sorted(package.files):
        found = candidates(package, path)
        if found:
            pools[path] = found
    order = sorted(pools)
    rng.shuffle(order)
    picked: dict[str, list[int]] = defaultdict(list)
    holes: list[Hole] = []
    while len(holes) < per_package and order:
        for path in list(order):
            if len(holes) >= per_package:
                break
            rows = [r for r in pools[path] if all(abs(r - p) > 3 for p in picked[path])]
            if not rows:
                order.remove(path)
                continue
            row = rng.choice(sorted(rows))
            picked[path].append(row)
            holes.append(_hole(package, path, row))
    return holes


def _hole(package: Package, path: str, row: int) -> Hole:
    f = package.files[path]
    start, end = line_span(f.text, row)
    found = needs(package, path, row)
    return Hole(
        package.name, package.language, path, row, start, end, f.text[start:end], tuple(found)
    )


def neighbours(
    package: Package, path: str, count: int = 3, max_bytes: int = MAX_FILE_BYTES
) -> list[str]:
    """The files an editor would have open beside `path`: up to two it imports, then files of
    its own folder (nearest in name order), `count` in all."""
    small = {p for p, f in package.files.items() if len(f.text) <= max_bytes and p != path}
    imported = [p for p in package.closure(path) if p in small][:2]
    folder = sorted(p for p in package.dirs.get(posixpath.dirname(path), []) if p in small)
    everything = sorted([*folder, path])
    at = everything.index(path)
    near = sorted(folder, key=lambda p: (abs(everything.index(p) - at), p))
    out = list(dict.fromkeys([*imported, *near]))
    return out[:count]
