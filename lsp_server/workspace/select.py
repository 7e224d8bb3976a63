"""Per-request selection: the definitions the code at the cursor uses, within a budget.

Order of preference (each step only in the room the earlier ones left), signature lines
first so that many fit:
  1. names the file imports but the code in view does not use yet: the code about to be
     written uses them (the most related to the code at the cursor first);
  2. definitions of the names used in the visible prefix and suffix, nearest to the cursor
     first, resolved through the file's imports (re-exports followed), its package's files
     (Go, Java) or included headers (C/C++), as members of imported types and modules; then
     the guesses for the names left: members of the bound files' types for a receiver of
     unknown type, a workspace-wide match of a name rare enough to be unambiguous;
  3. what comes with the types of (1)-(2): enum members, struct fields, constructors;
  4. definitions whose names share words with the code at the cursor or the word being typed:
     of the imported files, then of the whole workspace (same language);
  5. doc lines of (2); other definitions of the imported files (a few per file, the most
     used names first); definitions of the names used farther from the cursor (past the
     nearest 160); a Rust crate's popular macros; further overloads;
  6. whole small definitions of (2); the rest of the imported files' definitions;
  7. the best similar window (Jaccard over identifiers) of another open buffer.
Everything is ordered by stable keys, so the same names give the same snippets in the same
order.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from .candidates import collect
from .companions import companions
from .imports import ImportCache
from .model import Definition, Snippet
from .pack import Packer, doc_rows, signature_rows, whole_rows
from .ranking import Candidates, exports, macros, popular, ranked_exports, related
from .resolve import Resolver
from .similar import Windows, best_window
from .snapshot import Snapshot
from .uses import Use, typed_word, uses_in

_WINDOW_QUERY_NAMES = 40
_CACHE_SIZE = 16


@dataclass(frozen=True)
class Request:
    key: str  # the index's key of the current file
    language: str  # LanguageSpec.name ("" if unknown)
    text: str
    offset: int
    visible: tuple[int, int]
    budget: int
    neighbours_version: int = 0  # changes when the open buffers' windows change


class SelectCache:
    """The last few answers, keyed by everything an answer depends on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[object, ...], list[Snippet]] = {}

    def get(self, key: tuple[object, ...]) -> list[Snippet] | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: tuple[object, ...], value: list[Snippet]) -> None:
        with self._lock:
            if len(self._entries) >= _CACHE_SIZE:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = value


def select(
    snap: Snapshot,
    resolver: Resolver,
    request: Request,
    neighbours: tuple[tuple[str, str, Windows], ...],
    cache: SelectCache,
    import_cache: ImportCache,
) -> list[Snippet]:
    start, end = request.visible
    start, end = max(0, min(start, len(request.text))), max(0, min(end, len(request.text)))
    shown = request.text[start:end] if end > start else request.text
    imports = import_cache.get(request.key, request.text, request.language)
    uses = uses_in(shown, start if end > start else 0, request.offset, request.language)
    typed = typed_word(request.text, request.offset)
    cache_key = (
        request.key,
        request.language,
        request.budget,
        snap.generation,
        request.neighbours_version,
        imports,
        typed,
        tuple(use.name for use in uses),
    )
    cached = cache.get(cache_key)
    if cached is not None:
        return list(cached)
    bindings = resolver.bindings(request.key, request.language, imports)
    found = collect(snap, resolver, request.key, bindings, uses, typed)
    snippets = _pack(snap, resolver, found, shown, request, uses, neighbours)
    cache.put(cache_key, snippets)
    return list(snippets)


def _pack(
    snap: Snapshot,
    resolver: Resolver,
    found: Candidates,
    shown: str,
    request: Request,
    uses: list[Use],
    neighbours: tuple[tuple[str, str, Windows], ...],
) -> list[Snippet]:
    packer = Packer(request.budget, request.language)
    current, language = request.key, request.language

    seen_in_view: dict[int, bool] = {}

    def visible(definition: Definition) -> bool:
        known = seen_in_view.get(id(definition))
        if known is None:
            head = definition.name_row_text.strip()
            known = seen_in_view[id(definition)] = len(head) > 3 and head in shown
        return known

    def add_all(entries: Iterable[tuple[str, Definition]], part: str) -> None:
        for key, definition in entries:
            if packer.full():
                return
            record = snap.files.get(key)
            if record is None or key == current or visible(definition):
                continue
            rows = _part_rows(snap, packer, key, definition, part)
            if rows:
                packer.add(key, record.rel, rows, definition.name)

    add_all(found.imported, "signature")
    add_all(found.used, "signature")
    add_all(found.guessed, "signature")
    add_all(companions(snap, [*found.imported, *found.used, *found.guessed]), "signature")
    add_all(ranked_exports(snap, resolver, found), "signature")
    add_all(related(snap, found, current, language), "signature")
    add_all(popular(snap, found), "signature")
    add_all(found.used, "doc")
    add_all(found.guessed, "doc")
    add_all(exports(snap, found, True), "signature")
    add_all(found.far, "signature")
    add_all(macros(snap, resolver, language), "signature")
    add_all(found.overloads, "signature")
    add_all(found.used, "whole")
    add_all(found.guessed, "whole")
    add_all(found.imported, "doc")
    add_all(exports(snap, found, False), "signature")
    _add_window(packer, snap, uses, neighbours, current)
    return packer.snippets()


def _part_rows(
    snap: Snapshot, packer: Packer, key: str, definition: Definition, part: str
) -> dict[int, str]:
    """The rows `part` ("signature", "doc" or "whole") of a definition adds; none where a doc
    or the whole body would come without the definition's signature already packed."""
    if part == "signature":
        rows = dict(signature_rows(definition))
        rows.update(_container_rows(snap, key, definition))
        return rows
    if part == "doc":
        if not packer.has(key, definition.start_line):
            return {}
        return doc_rows(definition)
    if not definition.whole or not packer.has(key, definition.start_line):
        return {}
    return whole_rows(definition)


def _container_rows(snap: Snapshot, key: str, definition: Definition) -> dict[int, str]:
    """The header line of the class/struct a method or field belongs to (same file)."""
    if not definition.container:
        return {}
    for owner in snap.definitions_named(definition.container.rsplit(".", 1)[-1], key):
        if owner.start_line <= definition.start_line <= owner.end_line and owner is not definition:
            return {owner.start_line: owner.lines[0]}
    return {}


def _add_window(
    packer: Packer,
    snap: Snapshot,
    uses: list[Use],
    neighbours: tuple[tuple[str, str, Windows], ...],
    current: str,
) -> None:
    others = tuple(n for n in neighbours if n[0] != current)
    query = frozenset(use.name for use in uses[:_WINDOW_QUERY_NAMES])
    best = best_window(query, others) if others else None
    if best is None:
        return
    key, rel, first, lines = best
    rows = {first + i: line for i, line in enumerate(lines)}
    while rows and not packer.add(key, rel, rows, f"lines {first + 1}-{first + len(rows)}"):
        rows.pop(max(rows))  # a shorter window still helps
        if len(rows) < 3:
            return
