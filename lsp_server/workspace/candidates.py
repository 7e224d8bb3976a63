"""Which definitions a request may need: names used around the cursor, resolved, and the rest.

Everything here reads the snapshot and the resolver's caches only; order is deterministic.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from .model import Definition
from .resolve import Binding, Resolver
from .snapshot import NameEntry, Snapshot

MAX_USES = 160  # distinct names considered, nearest to the cursor first
GLOBAL_MAX = 3  # a name matched workspace-wide only when it has this few definitions
FIRST_PASS_PER_FILE = 10  # exports per imported file before the other files get theirs
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_QUALIFIED = re.compile(r"([A-Za-z_$][\w$]*)[ \t]*(?:\.|::|->|\?\.)[ \t]*(?=([A-Za-z_$][\w$]*))")
_LUA_QUALIFIED = re.compile(r"([A-Za-z_][\w]*)[ \t]*[.:][ \t]*(?=([A-Za-z_][\w]*))")
_TYPED = re.compile(r"[A-Za-z_$][\w$]*$")
_SKIP_KINDS = frozenset({"var", "field"})  # too many and too rarely needed as "other exports"
_KEYWORD_WORDS = """
    abstract and any as assert async auto await bool boolean break byte case catch char chan
    class const constexpr continue crate def default defer del delete do double dyn elif else
    elseif end enum except export extends extern false final finally float fn for from func
    function global go goto if impl implements import in include inline instanceof int
    interface is lambda let local long loop match mod module move mut namespace new nil none
    nonlocal not null number object of or override package pass private protected pub public
    raise range readonly ref repeat require return self Self short signed sizeof static str
    string struct super switch template then this throw throws trait true try type typedef
    typeof undefined union unsafe unsigned until use using var virtual void volatile where
    while with yield None True False string len print isinstance int float list dict set
    tuple bytes object error ok err some fmt std
"""
KEYWORDS = frozenset(_KEYWORD_WORDS.split())


@dataclass(frozen=True, slots=True)
class Use:
    name: str
    distance: int  # characters from the cursor to the nearest occurrence
    qualifiers: tuple[str, ...]  # names it was reached through: `q.name`, `q::name`, `q:name`


@dataclass
class Candidates:
    used: list[NameEntry] = field(default_factory=list)  # definitions of names in view
    imported: list[NameEntry] = field(default_factory=list)  # imported names not in view yet
    files: list[str] = field(default_factory=list)  # bound files, nearest use first
    typed: str = ""  # the word being typed at the cursor


def typed_word(text: str, offset: int) -> str:
    found = _TYPED.search(text, max(0, offset - 80), offset)
    return found.group(0) if found else ""


def uses_in(shown: str, base: int, offset: int, language: str = "") -> list[Use]:
    """Distinct identifiers of the shown text, nearest to the cursor first (ties by name).

    Distance counts identifiers between the cursor and a name's nearest occurrence; the
    scans are regex `findall`s and dict comprehensions, so a long window stays cheap.
    """
    cut = max(0, min(len(shown), offset - base))
    before = _IDENT.findall(shown, 0, cut)
    after = _IDENT.findall(shown, cut)
    total = len(before)
    nearest = {name: total - index for index, name in enumerate(before)}
    count = len(after)
    for name, distance in {n: count - i for i, n in enumerate(reversed(after))}.items():
        if distance < nearest.get(name, 1 << 60):
            nearest[name] = distance
    ranked = sorted(
        (item for item in nearest.items() if len(item[0]) > 1 and item[0] not in KEYWORDS),
        key=lambda item: (item[1], item[0]),
    )[:MAX_USES]
    qualifiers: dict[str, set[str]] = {}
    pattern = _LUA_QUALIFIED if language == "lua" else _QUALIFIED
    for qualifier, name in pattern.findall(shown):
        qualifiers.setdefault(name, set()).add(qualifier)
    return [Use(n, d, tuple(sorted(qualifiers.get(n, ())))) for n, d in ranked]


def _relevance(name: str, typed: str) -> int:
    if not typed or len(typed) < 2:
        return 2
    lowered, word = name.lower(), typed.lower()
    if lowered.startswith(word):
        return 0
    return 1 if word in lowered else 2


def collect(
    snap: Snapshot,
    resolver: Resolver,
    current: str,
    bindings: list[Binding],
    uses: list[Use],
    typed: str,
) -> Candidates:
    out = Candidates()
    seen: set[tuple[str, int]] = set()
    by_local: dict[str, list[Binding]] = {}
    for binding in bindings:
        if binding.local:
            by_local.setdefault(binding.local, []).append(binding)
    stars = [binding for binding in bindings if binding.star]
    bound_files = list(dict.fromkeys(binding.key for binding in bindings))
    local_names = (
        {d.name for d in snap.files[current].definitions} if current in snap.files else set()
    )
    file_distance: dict[str, int] = {}

    def take(entries: tuple[NameEntry, ...] | list[NameEntry], into: list[NameEntry]) -> bool:
        added = False
        for key, definition in entries:
            marker = (key, definition.start_line)
            if key != current and marker not in seen:
                seen.add(marker)
                into.append((key, definition))
                added = True
        return added

    for use in uses:
        entries = _resolve_use(snap, resolver, use, by_local, stars, bound_files)
        if not entries and use.name not in local_names:
            entries = _global(snap, use.name, current)
        if take(entries, out.used):
            for key, _ in entries:
                file_distance[key] = min(file_distance.get(key, 1 << 60), use.distance)
        for binding in by_local.get(use.name, ()):
            file_distance[binding.key] = min(file_distance.get(binding.key, 1 << 60), use.distance)
        for qualifier in use.qualifiers:
            for binding in by_local.get(qualifier, ()):
                file_distance[binding.key] = min(
                    file_distance.get(binding.key, 1 << 60), use.distance
                )
    used_names = {use.name for use in uses}
    imported = [b for b in bindings if b.local and b.name and b.local not in used_names]
    imported.sort(key=lambda b: (_relevance(b.local or "", typed), b.line, b.local or ""))
    for binding in imported:
        take(resolver.lookup(binding.name or "", binding.key), out.imported)
    order = {binding.key: binding.line for binding in reversed(bindings)}
    out.files = sorted(bound_files, key=lambda k: (file_distance.get(k, 1 << 60), order[k], k))
    out.typed = typed
    return out


def exports(snap: Snapshot, found: Candidates, first_pass: bool) -> Iterator[NameEntry]:
    """Exported definitions of the bound files, the file used nearest the cursor first; in the
    first pass a few per file (sharing the typed word first), in the second the rest."""
    for key in found.files:
        record = snap.files.get(key)
        if record is None:
            continue
        entries = [d for d in record.definitions if d.exported and d.kind not in _SKIP_KINDS]
        entries.sort(key=lambda d: (_relevance(d.name, found.typed), d.container is not None))
        chosen = entries[:FIRST_PASS_PER_FILE] if first_pass else entries[FIRST_PASS_PER_FILE:]
        for definition in chosen:
            yield key, definition


def _resolve_use(
    snap: Snapshot,
    resolver: Resolver,
    use: Use,
    by_local: dict[str, list[Binding]],
    stars: list[Binding],
    bound_files: list[str],
) -> list[NameEntry]:
    """The definitions a use reaches through the file's imports (empty if none)."""
    found: list[NameEntry] = []
    for binding in by_local.get(use.name, ()):
        if binding.name is not None:
            found.extend(resolver.lookup(binding.name, binding.key))
    for qualifier in use.qualifiers:
        for binding in by_local.get(qualifier, ()):
            if binding.name is None:
                found.extend(resolver.lookup(use.name, binding.key))
    if found:
        return found
    for binding in stars:
        found.extend(resolver.lookup(use.name, binding.key, 1))
        if len(found) >= 2:
            return found
    if found or not use.qualifiers:
        return found
    for key in bound_files:  # `obj.method` with an unknown receiver: members of bound files
        found.extend((key, d) for d in snap.definitions_named(use.name, key) if d.container)
    return found[:2]


def _global(snap: Snapshot, name: str, current: str) -> list[NameEntry]:
    """A rare name's definitions anywhere in the workspace, nearest folder first."""
    entries = [entry for entry in snap.by_name.get(name, ()) if entry[0] != current]
    if not entries or len(entries) > GLOBAL_MAX:
        return []
    folder = posixpath.dirname(current)

    def score(entry: tuple[str, Definition]) -> tuple[int, str, int]:
        common = len(posixpath.commonpath([entry[0], folder])) if folder else 0
        return (-common, entry[0], entry[1].start_line)

    return sorted(entries, key=score)[:2]
