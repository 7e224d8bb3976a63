"""Rust module paths (`crate::a::b`, `super::x`, `self::y`, `mod z;`) to the files holding them."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from typing import TypeVar

from .model import ImportSpec
from .snapshot import Snapshot

B = TypeVar("B")
_ROOT_FILES = ("lib.rs", "main.rs")


_STANDARD = frozenset({"std", "core", "alloc", "proc_macro", "test"})
_TARGET_FOLDERS = ("tests", "examples", "benches", "bin")  # each file there is a crate


def is_crate_root(key: str) -> bool:
    """lib.rs, main.rs, or a file of its own crate (`tests/x.rs`, `examples/y.rs` ...)."""
    folder, name = posixpath.split(key)
    return name in _ROOT_FILES or posixpath.basename(folder) in _TARGET_FOLDERS


def crate_root(snap: Snapshot, key: str) -> str | None:
    """The root file of the crate holding `key`."""
    return key if is_crate_root(key) else library_root(snap, key)


def library_root(snap: Snapshot, key: str) -> str | None:
    """lib.rs/main.rs above `key` (a sibling `src/` counts: what tests call the crate by name)."""
    folder = posixpath.dirname(key)
    while True:
        for candidate in (
            *(posixpath.join(folder, name) for name in _ROOT_FILES),
            *(posixpath.join(folder, "src", name) for name in _ROOT_FILES),
        ):
            if candidate in snap.files:
                return candidate
        parent = posixpath.dirname(folder)
        if parent == folder or folder in snap.roots:
            return None
        folder = parent


def _children_dir(snap: Snapshot, module_file: str) -> str:
    folder, name = posixpath.split(module_file)
    if name == "mod.rs" or is_crate_root(module_file):
        return folder
    return posixpath.join(folder, posixpath.splitext(name)[0])


def child(snap: Snapshot, module_file: str, name: str) -> str | None:
    folder = _children_dir(snap, module_file)
    for candidate in (posixpath.join(folder, name + ".rs"), posixpath.join(folder, name, "mod.rs")):
        if candidate in snap.files:
            return candidate
    return None


def parent(snap: Snapshot, module_file: str) -> str | None:
    folder, name = posixpath.split(module_file)
    if name == "mod.rs":
        folder = posixpath.dirname(folder)
    elif is_crate_root(module_file):
        return None
    for candidate in (
        posixpath.join(folder, "mod.rs"),
        folder + ".rs",
        *(posixpath.join(folder, root) for root in _ROOT_FILES),
    ):
        if candidate in snap.files:
            return candidate
    return None


def module_file(snap: Snapshot, key: str, path: str) -> tuple[str | None, list[str]]:
    """The file of the longest module prefix of `path`, and the segments left (items)."""
    segments = [segment for segment in path.split("::") if segment]
    if not segments:
        return key, []
    first, rest = segments[0], segments[1:]
    current: str | None
    if first == "crate":
        current = crate_root(snap, key)
    elif first in ("self", "super"):
        current = key if first == "self" else parent(snap, key)
        while rest and rest[0] == "super" and current is not None:
            current, rest = parent(snap, current), rest[1:]
    else:
        current = child(snap, key, first)
        root = crate_root(snap, key)
        if current is None and root is not None and root != key:
            current = child(snap, root, first)
        library = library_root(snap, key)
        if current is None and library not in (None, root) and first not in _STANDARD:
            current = library  # `use mycrate::x` from the crate's tests, examples, benches
    if current is None:
        return None, []
    for index, segment in enumerate(rest):
        found = child(snap, current, segment)
        if found is None:
            return current, rest[index:]
        current = found
    return current, []


def bindings(snap: Snapshot, key: str, spec: ImportSpec, make: Callable[..., B]) -> Iterator[B]:
    """What a `use` or `mod` binds, built with `make(key, name, local, star, line)`."""
    target, items = module_file(snap, key, spec.module)
    if target is None or target == key:
        return
    if spec.alias:
        yield make(target, None, spec.alias, False, spec.line)
    for local, name in spec.names:
        if items:
            yield make(target, items[0], local, False, spec.line)
        elif name == "*":
            yield make(target, None, None, True, spec.line)
        else:
            sub = child(snap, target, name)
            if sub is not None and sub != key:
                yield make(sub, None, local, False, spec.line)
            else:
                yield make(target, name, local, False, spec.line)
