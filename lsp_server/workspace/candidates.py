"""Which definitions a request may need: names used around the cursor, resolved, and the rest.

Everything here reads the snapshot and the resolver's caches only; order is deterministic.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from . import affinity
from .lexical import code_only, keywords
from .model import Definition
from .modules import shared_prefix
from .resolve import Binding, Resolver
from .snapshot import NameEntry, Snapshot

MAX_USES = 160  # distinct names considered, nearest to the cursor first
GLOBAL_MAX = 3  # a name matched workspace-wide only when it has this few definitions
FIRST_PASS_PER_FILE = 10  # exports per imported file before the other files get theirs
MAX_SCORED_FILES = 64  # bound files whose definitions are ranked by name affinity
MIN_AFFINITY = 0.34  # at least a third of a name's words must be near the cursor
RELATED_WORDS = 16  # profile words looked up workspace-wide ...
RELATED_MAX_ENTRIES = 400  # ... unless that many definitions carry the word
MIN_RELATED = 0.5  # workspace-wide matches need half their words near the cursor
RELATED_MAX = 40
_FAMILY = {
    "cpp": "c",
    "javascriptreact": "javascript",
    "typescript": "javascript",
    "typescriptreact": "javascript",
}
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
# An identifier, and the one after it when a member operator joins them (`q.name` gives
# ("q", "name") then ("name", "")): one regex pass yields the names and their qualifiers.
_TOKENS = re.compile(r"([A-Za-z_$][\w$]*)(?:[ \t]*(?:\.|::|->|\?\.)[ \t]*(?=([A-Za-z_$][\w$]*)))?")
_LUA_TOKENS = re.compile(r"([A-Za-z_]\w*)(?:[ \t]*[.:][ \t]*(?=([A-Za-z_]\w*)))?")
SCAN_BEFORE = 16_000  # characters of code read before the cursor ...
SCAN_AFTER = 6_000  # ... and after it
_TYPED = re.compile(r"[A-Za-z_$][\w$]*$")
_SKIP_KINDS = frozenset({"var", "field"})  # too many and too rarely needed as "other exports"


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
    package_files: set[str] = field(default_factory=set)  # files of the same package
    typed: str = ""  # the word being typed at the cursor
    weights: dict[str, float] = field(default_factory=dict)  # word profile of the code in view


def typed_word(text: str, offset: int) -> str:
    found = _TYPED.search(text, max(0, offset - 80), offset)
    return found.group(0) if found else ""


def uses_in(shown: str, base: int, offset: int, language: str = "") -> list[Use]:
    """Distinct identifiers of the shown code, nearest to the cursor first (ties by name).

    Distance counts identifiers between the cursor and a name's nearest occurrence. Only
    `SCAN_BEFORE`/`SCAN_AFTER` characters around the cursor are read; the scans are regex
    passes and dict comprehensions, so a long window stays cheap.
    """
    cut = max(0, min(len(shown), offset - base))
    pattern = _LUA_TOKENS if language == "lua" else _TOKENS
    before = pattern.findall(code_only(shown[max(0, cut - SCAN_BEFORE) : cut], language))
    after = pattern.findall(code_only(shown[cut : cut + SCAN_AFTER], language))
    total = len(before)
    nearest = {token[0]: total - index for index, token in enumerate(before)}
    count = len(after)
    for name, distance in {t[0]: count - i for i, t in enumerate(reversed(after))}.items():
        if distance < nearest.get(name, 1 << 60):
            nearest[name] = distance
    skip = keywords(language)
    ranked = sorted(
        (item for item in nearest.items() if len(item[0]) > 1 and item[0] not in skip),
        key=lambda item: (item[1], item[0]),
    )[:MAX_USES]
    qualifiers: dict[str, set[str]] = {}
    for qualifier, name in (token for token in before + after if token[1]):
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
        if not entries and use.name not in local_names and not use.qualifiers:
            entries = _global(snap, use.name, current)  # `io.write`: not a workspace name
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
    out.package_files = {binding.key for binding in bindings if binding.line == -1}
    out.typed = typed
    out.weights = affinity.profile([use.name for use in uses], typed)
    return out


def ranked_exports(snap: Snapshot, resolver: Resolver, found: Candidates) -> list[NameEntry]:
    """Definitions of the bound files whose names share words with the code at the cursor (or
    the word being typed), best first: likely names of the code about to be written."""
    scored: dict[tuple[str, int], tuple[float, int, NameEntry]] = {}
    for rank, key in enumerate(found.files[:MAX_SCORED_FILES]):
        record = snap.files.get(key)
        if record is None:
            continue
        index = resolver.words.of(record)
        for word in found.weights:
            for definition in index.get(word, ()):
                marker = (key, definition.start_line)
                if marker in scored or not _offered(definition, key, found):
                    continue
                value = affinity.score(definition.name, found.weights)
                value += (2 - _relevance(definition.name, found.typed)) * 0.5
                if value >= MIN_AFFINITY:
                    scored[marker] = (value, rank, (key, definition))
    popularity = snap.popularity
    ordered = sorted(
        scored.values(),
        key=lambda s: (-s[0], s[1], -popularity.get(s[2][1].name, 0), s[2][0], s[2][1].start_line),
    )
    return [entry for _, _, entry in ordered]


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
            if key == current or marker in scored or definition.kind in _SKIP_KINDS:
                continue
            record = snap.files.get(key)
            if record is None or _FAMILY.get(record.language, record.language) != family:
                continue
            value = affinity.score(definition.name, found.weights)
            value += (2 - _relevance(definition.name, found.typed)) * 0.5
            if value >= MIN_RELATED:
                scored[marker] = (value, -shared_prefix(key, current), (key, definition))
    ordered = sorted(scored.values(), key=lambda s: (-s[0], s[1], s[2][0], s[2][1].start_line))
    return [entry for _, _, entry in ordered[:RELATED_MAX]]


def exports(snap: Snapshot, found: Candidates, first_pass: bool) -> Iterator[NameEntry]:
    """Other definitions of the bound files, the file used nearest the cursor first: in the
    first pass a few per file (top-level first), in the second the rest."""
    for key in found.files:
        record = snap.files.get(key)
        if record is None:
            continue
        entries = [d for d in record.definitions if _offered(d, key, found)]
        popularity = snap.popularity
        entries.sort(key=lambda d: (d.container is not None, -popularity.get(d.name, 0)))
        chosen = entries[:FIRST_PASS_PER_FILE] if first_pass else entries[FIRST_PASS_PER_FILE:]
        for definition in chosen:
            yield key, definition


def _offered(definition: Definition, key: str, found: Candidates) -> bool:
    """Whether another file's definition may be offered unasked: visible from the current
    file (exported, or anything of its own package) and worth a line."""
    if definition.kind in _SKIP_KINDS or len(definition.name) < 2:
        return False
    return definition.exported or key in found.package_files


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
            else:  # `Type::new`, `Class.create`: a member of an imported type
                found.extend(_members(snap, resolver, binding, use.name))
    if found:
        return found
    for binding in stars:
        entries = resolver.lookup(use.name, binding.key, 1)
        found.extend(e for e in entries if e[1].exported or binding.line == -1)
        if len(found) >= 2:
            return found
    if found or not use.qualifiers:
        return found
    for key in bound_files:  # `obj.method` with an unknown receiver: members of bound files
        found.extend((key, d) for d in snap.definitions_named(use.name, key) if d.container)
    return found[:2]


def _members(snap: Snapshot, resolver: Resolver, binding: Binding, name: str) -> list[NameEntry]:
    """Members called `name` of the type a binding imports, in the files defining it."""
    owner = binding.name or ""
    found: list[NameEntry] = []
    for key, _ in resolver.lookup(owner, binding.key):
        found.extend((key, d) for d in snap.definitions_named(name, key) if d.container == owner)
    return found


def _global(snap: Snapshot, name: str, current: str) -> list[NameEntry]:
    """A rare name's definitions anywhere in the workspace, nearest folder first."""
    entries = [
        entry
        for entry in snap.by_name.get(name, ())
        if entry[0] != current and entry[1].exported and entry[1].kind not in _SKIP_KINDS
    ]
    if not entries or len(entries) > GLOBAL_MAX:
        return []
    folder = posixpath.dirname(current)

    def score(entry: tuple[str, Definition]) -> tuple[int, str, int]:
        common = shared_prefix(entry[0], folder)
        return (-common, entry[0], entry[1].start_line)

    return sorted(entries, key=score)[:2]
