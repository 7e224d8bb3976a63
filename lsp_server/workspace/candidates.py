"""The definitions of the names the code at the cursor uses, resolved through its imports.

`collect` walks the uses nearest first: each name is looked up through the file's imports
(names, namespaces, globs, its package, included headers), else as a member of an imported
type or module, else workspace-wide when it is rare enough to be unambiguous. Imported
names the visible code does not use yet come first: the code about to be written uses them.
Everything reads the snapshot and the resolver's caches only; order is deterministic.
"""

from __future__ import annotations

import posixpath

from . import affinity, rust_modules
from .model import Definition, FileRecord
from .modules import shared_prefix
from .ranking import Candidates, relevance
from .resolve import Binding, Resolver
from .snapshot import NameEntry, Snapshot
from .uses import NEAR_USES, Use

GLOBAL_MAX = 3  # a name matched workspace-wide only when it has this few definitions
MAX_STAR_HITS = 2  # definitions of one name taken from glob-like imports
GLOBAL_SCAN = 512  # definitions of one name scanned for a type's member at most
_NO_RECORD = FileRecord("", "", "", (), ())
_SELF = frozenset({"self", "this", "cls", "Self", "super"})


class _Collector:
    """One request's lookups: the bindings indexed by local name, and what is taken."""

    def __init__(self, snap: Snapshot, resolver: Resolver, current: str, bindings: list[Binding]):
        self.snap, self.resolver, self.current = snap, resolver, current
        self.by_local: dict[str, list[Binding]] = {}
        for binding in bindings:
            if binding.local:
                self.by_local.setdefault(binding.local, []).append(binding)
        self.stars = [binding for binding in bindings if binding.star]
        self.package = {b.key for b in self.stars if b.line == -1}
        star_keys = tuple(dict.fromkeys(binding.key for binding in self.stars))
        self.star_names = resolver.merged_names(star_keys)
        # Globs whose files have imports of their own may re-export (JS barrels, Python
        # `__init__`); a C header's includes are already in the closure.
        self.reexporting = any(
            resolver.file_bindings(b.key) for b in self.stars if b.line != -1 and b.line < 10**6
        )
        self.namespaces = list(dict.fromkeys(b.key for b in bindings if b.local and not b.name))
        self.bound_files = list(dict.fromkeys(binding.key for binding in bindings))
        record = snap.files.get(current)
        self.local_names = {d.name for d in record.definitions} if record else set()
        self.seen: set[tuple[str, int]] = set()
        self.signatures: set[tuple[str, str | None, str]] = set()
        self.distance: dict[str, int] = {}  # bound file -> nearest use reaching it

    def take(
        self,
        entries: list[NameEntry] | tuple[NameEntry, ...],
        into: list[NameEntry],
        overloads: list[NameEntry],
    ) -> bool:
        """Add new entries; a second signature of the same name goes to `overloads`."""
        added = False
        for key, definition in entries:
            marker = (key, definition.start_line)
            if key == self.current or marker in self.seen:
                continue
            self.seen.add(marker)
            name = (key, definition.container, definition.name)
            (overloads if name in self.signatures else into).append((key, definition))
            self.signatures.add(name)
            added = True
        return added

    def near(self, key: str, distance: int) -> None:
        self.distance[key] = min(self.distance.get(key, 1 << 60), distance)

    def resolve(self, use: Use) -> tuple[list[NameEntry], bool]:
        """The definitions a use reaches through the file's imports, else what it may name
        (`guess`); empty if none. The flag: whether a guess may follow (not for a name the
        file defines, nor a member of its own: `self.len`)."""
        found: list[NameEntry] = []
        for binding in self.by_local.get(use.name, ()):
            if binding.name is not None:
                found.extend(self.resolver.lookup(binding.name, binding.key))
            elif self.snap.files.get(binding.key, _NO_RECORD).default:  # `f = require('./f')`
                found.extend(self.resolver.lookup("default", binding.key))
        for qualifier in use.qualifiers:
            for binding in self.by_local.get(qualifier, ()):
                if binding.name is None:
                    found.extend(self.resolver.lookup(use.name, binding.key))
                else:  # `Type::new`, `Class.create`: a member of an imported type
                    found.extend(self._members(binding, use.name))
        if not found and use.qualifiers and self.current.endswith(".rs"):
            found.extend(self._rust_path(use))
        local = self.local_names
        if found or (use.qualifiers and all(q in local or q in _SELF for q in use.qualifiers)):
            return found, False  # `Set.len`, `self.len` of the file's own: no guess elsewhere
        for key, definition in self.star_names.get(use.name, ())[:MAX_STAR_HITS]:
            if definition.exported or key in self.package:
                found.append((key, definition))
        if not found and self.reexporting:
            for binding in self.stars:  # a glob of a file that re-exports (barrels)
                entries = self.resolver.lookup(use.name, binding.key, 1)
                found.extend(e for e in entries if e[1].exported or binding.line == -1)
                if len(found) >= MAX_STAR_HITS:
                    return found, False
        return found, not found and use.name not in local

    def guess(self, use: Use) -> list[NameEntry]:
        """What an unresolved use may name: a bare name exported by a module the file binds
        whole, a member of a type of a bound file when the receiver's type is unknown."""
        found: list[NameEntry] = []
        snap = self.snap
        if not use.qualifiers:  # `local raise = utils.raise` then `raise(...)`
            for key in self.namespaces:
                found.extend((key, d) for d in snap.definitions_named(use.name, key) if d.exported)
            return found[:2]
        for key in self.bound_files:  # `obj.method`, receiver unknown: members of bound files
            found.extend((key, d) for d in snap.definitions_named(use.name, key) if d.container)
        return found[:2]

    def _rust_path(self, use: Use) -> list[NameEntry]:
        """`anyhow::Result`, `ast::Ast`: a qualifier that names a module (the crate by its
        name, a child module) without a `use` of it."""
        found: list[NameEntry] = []
        for qualifier in use.qualifiers:
            if qualifier in _SELF:
                continue
            target, rest = rust_modules.module_file(self.snap, self.current, qualifier)
            if target is not None and target != self.current and not rest:
                entries = self.resolver.lookup(use.name, target)
                found.extend(e for e in entries if e[1].exported)
        return found

    def _members(self, binding: Binding, name: str) -> list[NameEntry]:
        """Members called `name` of the type a binding imports, in the files defining it."""
        owner = binding.name or ""
        found: list[NameEntry] = []
        for key, _ in self.resolver.lookup(owner, binding.key):
            defs = self.snap.definitions_named(name, key)
            found.extend((key, d) for d in defs if d.container == owner)
        entries = self.snap.by_name.get(name, ())
        if not found and len(entries) <= GLOBAL_SCAN:  # an `impl` may sit in another file
            found = [(key, d) for key, d in entries if d.container == owner][:2]
        return found

    def workspace_wide(self, name: str) -> list[NameEntry]:
        """A rare name's exported definitions anywhere in the workspace, nearest folder first."""
        entries = [
            (key, d)
            for key, d in self.snap.by_name.get(name, ())
            if key != self.current and d.exported and d.kind not in ("var", "field")
        ]
        if not entries or len(entries) > GLOBAL_MAX:
            return []
        folder = posixpath.dirname(self.current)

        def score(entry: tuple[str, Definition]) -> tuple[int, str, int]:
            return (-shared_prefix(entry[0], folder), entry[0], entry[1].start_line)

        return sorted(entries, key=score)[:2]


def collect(
    snap: Snapshot,
    resolver: Resolver,
    current: str,
    bindings: list[Binding],
    uses: list[Use],
    typed: str,
) -> Candidates:
    out = Candidates(typed=typed)
    out.weights = affinity.profile([use.name for use in uses], typed)
    state = _Collector(snap, resolver, current, bindings)
    imported_only = {u.name for u in uses if u.count == 1 and u.name in state.by_local}
    for rank, use in enumerate(uses):
        if use.name in imported_only:
            continue  # named by an import only: taken with the imported names below
        entries, may_guess = state.resolve(use)
        into = out.used if rank < NEAR_USES else out.far
        if may_guess:
            # Guesses go after every name the imports resolve: a far `utils.x` is surer help
            # than a near `obj.method` whose receiver's type is unknown.
            into = out.guessed if rank < NEAR_USES else out.far
            entries = state.guess(use)
            if not entries and not use.qualifiers:  # not `io.write`: no workspace name
                entries = state.workspace_wide(use.name)
        if state.take(entries, into, out.overloads):
            for key, _ in entries:
                state.near(key, use.distance)
        for name in (use.name, *use.qualifiers):
            for binding in state.by_local.get(name, ()):
                state.near(binding.key, use.distance)
    _imported(state, out, bindings, {u.name for u in uses} - imported_only)
    order = {binding.key: binding.line for binding in reversed(bindings)}
    out.files = sorted(
        state.bound_files, key=lambda k: (state.distance.get(k, 1 << 60), order[k], k)
    )
    out.package_files = {binding.key for binding in bindings if binding.line == -1}
    return out


def _imported(state: _Collector, out: Candidates, bindings: list[Binding], used: set[str]) -> None:
    """Names the file imports but the code in view does not use: the most related to the code
    at the cursor first. A module imported whole ranks its file first instead."""
    imported = [b for b in bindings if b.local and b.local not in used]

    def order(binding: Binding) -> tuple[int, float, int, str]:
        local = binding.local or ""
        value = affinity.score(local, out.weights)
        return (relevance(local, out.typed), -value, binding.line, local)

    for binding in sorted(imported, key=order):
        default = state.snap.files.get(binding.key, _NO_RECORD).default
        name = binding.name or ("default" if default else "")
        if name:
            state.take(state.resolver.lookup(name, binding.key), out.imported, out.overloads)
        else:
            state.distance[binding.key] = -1
