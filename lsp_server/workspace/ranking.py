"""Definitions nobody named yet, ranked: likely names of the code about to be written.

Three sources, each in order of how likely a definition is needed next: the bound files'
definitions whose names share words with the code at the cursor (`ranked_exports`), the
same workspace-wide (`related`), and the bound files' other definitions, the most used
names of the file used nearest the cursor first (`exports`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from . import affinity
from .model import Definition
from .modules import shared_prefix
from .resolve import Resolver
from .snapshot import NameEntry, Snapshot

FIRST_PASS_PER_FILE = 10  # exports per imported file before the other files get theirs
MAX_SCORED_FILES = 64  # bound files whose definitions are ranked by name affinity
MIN_AFFINITY = 0.34  # at least a third of a name's words must be near the cursor
RELATED_WORDS = 16  # profile words looked up workspace-wide ...
RELATED_MAX_ENTRIES = 400  # ... unless that many definitions carry the word
MIN_RELATED = 0.5  # workspace-wide matches need half their words near the cursor
RELATED_MAX = 40
MAX_MACROS = 8
MIN_POPULAR = 3  # files using a name before it counts as popular
MAX_POPULAR = 12
_FAMILY = {
    "cpp": "c",
    "javascriptreact": "javascript",
    "typescript": "javascript",
    "typescriptreact": "javascript",
}


@dataclass
class Candidates:
    """What `collect` found for one request, in the order to offer it."""

    used: list[NameEntry] = field(default_factory=list)  # definitions of names in view
    guessed: list[NameEntry] = field(default_factory=list)  # ... found without an import
    far: list[NameEntry] = field(default_factory=list)  # ... of names far from the cursor
    imported: list[NameEntry] = field(default_factory=list)  # imported names not in view yet
    overloads: list[NameEntry] = field(default_factory=list)  # further signatures of those
    files: list[str] = field(default_factory=list)  # bound files, nearest use first
    package_files: set[str] = field(default_factory=set)  # files of the same package
    typed: str = ""  # the word being typed at the cursor
    weights: dict[str, float] = field(default_factory=dict)  # word profile of the code in view


def relevance(name: str, typed: str) -> int:
    """0: starts with the word being typed; 1: contains it; 2: neither (or nothing typed)."""
    if len(typed) < 2:
        return 2
    lowered, word = name.lower(), typed.lower()
    if lowered.startswith(word):
        return 0
    return 1 if word in lowered else 2


def _score(definition: Definition, found: Candidates) -> float:
    value = affinity.score(definition.name, found.weights)
    return value + (2 - relevance(definition.name, found.typed)) * 0.5


def offered(definition: Definition, key: str, found: Candidates) -> bool:
    """Whether another file's definition may be offered unasked: visible from the current
    file (exported, or anything of its own package) and worth a line."""
    if definition.kind == "field" or len(definition.name) < 2:
        return False
    if definition.name.startswith("__"):
        return False  # `__index`, `__init__`, `__str__`: hooks the language calls, not the code
    if definition.kind == "var" and definition.container:
        return False
    return definition.exported or key in found.package_files


def ranked_exports(snap: Snapshot, resolver: Resolver, found: Candidates) -> list[NameEntry]:
    """Definitions of the bound files whose names share words with the code at the cursor (or
    the word being typed), best first."""
    scored: dict[tuple[str, int], tuple[float, int, NameEntry]] = {}
    for rank, key in enumerate(found.files[:MAX_SCORED_FILES]):
        record = snap.files.get(key)
        if record is None:
            continue
        index = resolver.words.of(record)
        for word in found.weights:
            for definition in index.get(word, ()):
                marker = (key, definition.start_line)
                if marker in scored or not offered(definition, key, found):
                    continue
                value = _score(definition, found)
                if value >= MIN_AFFINITY:
                    scored[marker] = (value, rank, (key, definition))
    popularity = snap.popularity

    def order(item: tuple[float, int, NameEntry]) -> tuple[float, int, int, str, int]:
        value, rank, (key, definition) = item
        return (-value, rank, -popularity.get(definition.name, 0), key, definition.start_line)

    return [entry for _, _, entry in sorted(scored.values(), key=order)]


def related(snap: Snapshot, found: Candidates, current: str, language: str) -> list[NameEntry]:
    """Exported definitions anywhere in the workspace (same language) whose names share most
    of their words with the code at the cursor: what the imports did not lead to (a C
    function of another file, a helper of a sibling package), nearest folder first on ties."""
    family = _FAMILY.get(language, language)
    scored: dict[tuple[str, int], tuple[float, int, NameEntry]] = {}
    top = sorted(found.weights.items(), key=lambda item: (-item[1], item[0]))[:RELATED_WORDS]
    for word, _ in top:
        entries = snap.by_word.get(word, ())
        if len(entries) > RELATED_MAX_ENTRIES:
            continue  # too common a word to tell anything
        for key, definition in entries:
            marker = (key, definition.start_line)
            if key == current or marker in scored or not offered(definition, key, found):
                continue
            record = snap.files.get(key)
            if record is None or _FAMILY.get(record.language, record.language) != family:
                continue
            value = _score(definition, found)
            if value >= MIN_RELATED:
                scored[marker] = (value, -shared_prefix(key, current), (key, definition))
    ordered = sorted(scored.values(), key=lambda s: (-s[0], s[1], s[2][0], s[2][1].start_line))
    return [entry for _, _, entry in ordered[:RELATED_MAX]]


def popular(snap: Snapshot, found: Candidates) -> list[NameEntry]:
    """The bound files' definitions whose names the most files of the workspace use: a
    package's central types and functions (a Lua module's `M.f` too), whatever the code at
    the cursor names."""
    popularity = snap.popularity
    scored: list[tuple[int, str, int, NameEntry]] = []
    for key in found.files[:MAX_SCORED_FILES]:
        record = snap.files.get(key)
        module_functions = record is not None and record.language == "lua"
        for definition in record.definitions if record is not None else ():
            uses = popularity.get(definition.name, 0)
            top = not definition.container or (module_functions and definition.kind == "function")
            if uses >= MIN_POPULAR and top and offered(definition, key, found):
                scored.append((-uses, key, definition.start_line, (key, definition)))
    scored.sort(key=lambda item: item[:3])
    return [entry for *_, entry in scored[:MAX_POPULAR]]


def macros(snap: Snapshot, resolver: Resolver, language: str) -> list[NameEntry]:
    """A Rust crate's most used macros: `macro_rules!` names are in scope crate-wide without
    an import, so the code at the cursor may call any of them."""
    if language != "rust":
        return []
    return resolver.cached("rust-macros", lambda: _popular_macros(snap))


def _popular_macros(snap: Snapshot) -> list[NameEntry]:
    popularity = snap.popularity
    found = [
        (key, d)
        for key, record in snap.files.items()
        if record.language == "rust"
        for d in record.definitions
        if d.kind == "macro"
    ]
    found.sort(key=lambda e: (-popularity.get(e[1].name, 0), e[0], e[1].start_line))
    return found[:MAX_MACROS]


def exports(snap: Snapshot, found: Candidates, first_pass: bool) -> Iterator[NameEntry]:
    """Other definitions of the bound files, the file used nearest the cursor first: in the
    first pass a few per file (top-level and most used first), in the second the rest."""
    popularity = snap.popularity
    for key in found.files:
        record = snap.files.get(key)
        if record is None:
            continue
        entries = [d for d in record.definitions if offered(d, key, found)]
        entries.sort(key=lambda d: (d.container is not None, -popularity.get(d.name, 0)))
        chosen = entries[:FIRST_PASS_PER_FILE] if first_pass else entries[FIRST_PASS_PER_FILE:]
        for definition in chosen:
            yield key, definition
