"""The index's state: immutable snapshots for readers, and the one builder the indexer owns.

Readers (`select`, on the event loop) only ever see a `Snapshot`: dicts that are never
mutated after publication, whose values are tuples. The indexing thread changes its
`SnapshotBuilder` and publishes a new snapshot now and then; publishing copies the previous
snapshot's dicts shallowly and refreshes only the entries that changed since.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from .affinity import words
from .model import Definition, FileRecord

NameEntry = tuple[str, Definition]  # (file key, definition)
T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot:
    """What the index knows at one moment. Keys are absolute paths of files."""

    files: dict[str, FileRecord] = field(default_factory=dict)
    by_name: dict[str, tuple[NameEntry, ...]] = field(default_factory=dict)
    by_dir: dict[str, tuple[str, ...]] = field(default_factory=dict)  # folder -> its files
    by_base: dict[str, tuple[str, ...]] = field(default_factory=dict)  # file name -> files
    dirs_by_base: dict[str, tuple[str, ...]] = field(default_factory=dict)  # folder name -> folders
    by_word: dict[str, tuple[NameEntry, ...]] = field(default_factory=dict)  # see affinity.words
    popularity: dict[str, int] = field(default_factory=dict)  # name -> files whose code uses it
    roots: tuple[str, ...] = ()
    go_modules: tuple[tuple[str, str], ...] = ()  # (folder of go.mod, module path)
    generation: int = 0

    # per file: name -> its definitions of that name, built on first use (readers only add)
    _by_file: dict[str, dict[str, tuple[Definition, ...]]] = field(default_factory=dict, repr=False)

    def definitions_named(self, name: str, key: str) -> tuple[Definition, ...]:
        """The definitions called `name` in file `key` (a dict lookup once the file's names
        are indexed: a name like `new` may have thousands of definitions workspace-wide)."""
        names = self._by_file.get(key)
        if names is None:
            record = self.files.get(key)
            lists: dict[str, list[Definition]] = {}
            for definition in record.definitions if record is not None else ():
                lists.setdefault(definition.name, []).append(definition)
            names = self._by_file[key] = {n: tuple(ds) for n, ds in lists.items()}
        return names.get(name, ())


class _Multi(Generic[T]):
    """A dict of lists that remembers which keys changed since it was last frozen."""

    def __init__(self) -> None:
        self.lists: dict[str, list[T]] = {}
        self.dirty: set[str] = set()
        self.frozen: dict[str, tuple[T, ...]] = {}

    def add(self, key: str, value: T) -> None:
        self.lists.setdefault(key, []).append(value)
        self.dirty.add(key)

    def discard(self, key: str, keep: Callable[[T], bool]) -> None:
        """Drop the values of `key` for which `keep(value)` is false."""
        values = self.lists.get(key)
        if values is None:
            return
        values[:] = [value for value in values if keep(value)]
        if not values:
            del self.lists[key]
        self.dirty.add(key)

    def freeze(self) -> dict[str, tuple[T, ...]]:
        if self.dirty:
            frozen = dict(self.frozen)
            for key in self.dirty:
                values = self.lists.get(key)
                if values:
                    frozen[key] = tuple(values)
                else:
                    frozen.pop(key, None)
            self.frozen, self.dirty = frozen, set()
        return self.frozen


class SnapshotBuilder:
    """The indexing thread's working copy; `publish()` hands readers an immutable snapshot."""

    def __init__(self, roots: tuple[str, ...] = ()) -> None:
        self.files: dict[str, FileRecord] = {}
        self.by_name: _Multi[NameEntry] = _Multi()
        self.by_dir: _Multi[str] = _Multi()
        self.by_base: _Multi[str] = _Multi()
        self.dirs_by_base: _Multi[str] = _Multi()
        self.by_word: _Multi[NameEntry] = _Multi()
        self.known_dirs: set[str] = set()
        self.popularity: dict[str, int] = {}
        self._counted: set[str] = set()  # files whose names are in `popularity`
        self._popularity_dirty = False
        self._popularity_frozen: dict[str, int] = {}
        self.roots = roots
        self.go_modules: tuple[tuple[str, str], ...] = ()
        self.generation = 0
        self.bytes = 0  # approximate memory held by the records
        self._published: Snapshot | None = None

    def put(self, record: FileRecord) -> None:
        """Add a file's record, replacing what the index held for the same key."""
        self.remove(record.key)
        key = record.key
        if record.names:
            # A file counts once (its first version): popularity is a soft signal, and not
            # keeping every file's names is what keeps the index small.
            if key not in self._counted:
                self._counted.add(key)
                for name in record.names:
                    self.popularity[name] = self.popularity.get(name, 0) + 1
                self._popularity_dirty = True
            record = replace(record, names=())
        self.files[key] = record
        for definition in record.definitions:
            entry = (key, definition)
            self.by_name.add(definition.name, entry)
            if definition.exported:
                for word in words(definition.name):
                    self.by_word.add(word, entry)
        folder, base = posixpath.split(key)
        self._add_dirs(folder)
        self.by_dir.add(folder, key)
        self.by_base.add(base, key)
        self.bytes += record_bytes(record)
        self.generation += 1

    def _add_dirs(self, folder: str) -> None:
        """Register a folder and its ancestors (up to a root) for folder-name lookups."""
        while folder and folder not in self.known_dirs and folder != os.sep:
            self.known_dirs.add(folder)
            self.dirs_by_base.add(posixpath.basename(folder), folder)
            parent = posixpath.dirname(folder)
            if folder in self.roots or parent == folder:
                break
            folder = parent

    def remove(self, key: str) -> None:
        record = self.files.pop(key, None)
        if record is None:
            return
        for name in {definition.name for definition in record.definitions}:
            self.by_name.discard(name, lambda entry: entry[0] != key)
        exported = {d.name for d in record.definitions if d.exported}
        for word in {word for name in exported for word in words(name)}:
            self.by_word.discard(word, lambda entry: entry[0] != key)
        folder, base = posixpath.split(key)
        self.by_dir.discard(folder, lambda entry: entry != key)
        self.by_base.discard(base, lambda entry: entry != key)
        self.bytes -= record_bytes(record)
        self.generation += 1

    def _freeze_popularity(self) -> dict[str, int]:
        if self._popularity_dirty:
            self._popularity_frozen = dict(self.popularity)
            self._popularity_dirty = False
        return self._popularity_frozen

    def publish(self) -> Snapshot:
        """The current state as an immutable snapshot (the last one again if nothing changed)."""
        last = self._published
        if last is not None and last.generation == self.generation:
            return last
        self._published = Snapshot(
            files=dict(self.files),
            by_name=self.by_name.freeze(),
            by_dir=self.by_dir.freeze(),
            by_base=self.by_base.freeze(),
            dirs_by_base=self.dirs_by_base.freeze(),
            by_word=self.by_word.freeze(),
            popularity=self._freeze_popularity(),
            roots=self.roots,
            go_modules=self.go_modules,
            generation=self.generation,
        )
        return self._published


def record_bytes(record: FileRecord) -> int:
    """An estimate of the memory a record holds (objects, strings, tuples)."""
    total = 400 + len(record.key) + len(record.rel)
    for definition in record.definitions:
        total += 220 + len(definition.name) + len(definition.doc)
        total += sum(60 + len(line) for line in definition.lines)
    total += 150 * len(record.imports)
    return total
