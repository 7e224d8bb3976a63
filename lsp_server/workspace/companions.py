"""What comes with a type the code uses: an enum's members, a struct's fields, a constructor.

The model that sees `Ast` used needs `Ast::Alternation` next; one that sees `Command` needs
its fields; one that sees an interface needs its methods; one that sees a class needs how to
build it. Members are taken from the type's own file (one line each), a few per type.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator

from .model import Definition
from .snapshot import NameEntry, Snapshot

_TYPES = frozenset({"class", "struct", "enum", "interface", "trait", "union", "record", "type"})
_CONSTRUCTORS = frozenset({"new", "__init__", "constructor", "create", "default", "init"})
MAX_TYPES = 64  # types whose members are offered
MAX_MEMBERS = 16  # members per type
SMALL_CONTRACT_LINES = 40  # an interface this short offers all its members
MAX_SCANNED = 512  # definitions of one constructor name scanned for another file's


def _wanted(owner: Definition, member: Definition) -> bool:
    if owner.kind == "enum":
        return member.kind == "member"
    if owner.kind in ("interface", "trait"):  # the contract of a small one
        return owner.end_line - owner.start_line <= SMALL_CONTRACT_LINES
    if owner.kind in ("struct", "union", "record"):
        return member.kind == "field" or member.name in _CONSTRUCTORS
    return member.name in _CONSTRUCTORS


def companions(snap: Snapshot, entries: Iterable[NameEntry]) -> Iterator[NameEntry]:
    """Members of the types among `entries` (in their order), each type's in file order."""
    types = 0
    for key, owner in entries:
        if owner.kind not in _TYPES:
            continue
        record = snap.files.get(key)
        if record is None:
            continue
        types += 1
        if types > MAX_TYPES:
            return
        taken = 0
        for member in record.definitions:
            if member.container != owner.name or member.start_line < owner.start_line:
                continue
            if member.start_line > owner.end_line and owner.kind != "struct":
                continue  # Rust/Go methods live in impl blocks after the struct
            if _wanted(owner, member) and member.exported:
                yield key, member
                taken += 1
                if taken >= MAX_MEMBERS:
                    break
        if owner.kind in ("struct", "enum", "union", "class"):
            yield from _constructors_elsewhere(snap, key, owner)


def _constructors_elsewhere(snap: Snapshot, key: str, owner: Definition) -> Iterator[NameEntry]:
    """A type's constructor defined in another file of its folder tree (a Rust `impl` in
    error.rs for the `Error` of lib.rs)."""
    folder = posixpath.dirname(key)
    for name in sorted(_CONSTRUCTORS):
        entries = snap.by_name.get(name, ())
        if len(entries) > MAX_SCANNED:
            continue
        found = sorted(
            (
                (other, member)
                for other, member in entries
                if member.container == owner.name
                and other != key
                and member.exported
                and other.startswith(folder + "/")
            ),
            key=lambda entry: (entry[0], entry[1].start_line),
        )
        yield from found[:1]
