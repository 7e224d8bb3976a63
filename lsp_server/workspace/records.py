"""One file to one `FileRecord`: definitions, imports and package, from bytes or from disk.

`parse_batch` is also what the indexing subprocess runs, so it takes and returns only plain
picklable values.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import replace

from ..context.languages import LanguageSpec, spec_for_path
from .definitions import extract_definitions
from .imports import default_export, package_of, parse_imports
from .lexical import used_names
from .model import Definition, FileRecord

BatchItem = tuple[str, str, int, int]  # (key, rel, mtime_ns, size) of a file the walk found


def build_record(
    source: bytes,
    key: str,
    rel: str,
    spec: LanguageSpec,
    *,
    mtime_ns: int = 0,
    yield_gil: bool = False,
) -> FileRecord:
    text = source.decode("utf-8", "replace")
    return FileRecord(
        key=key,
        rel=rel,
        language=spec.name,
        definitions=_visible(extract_definitions(source, spec, yield_gil=yield_gil), key, spec),
        imports=parse_imports(text, spec.name),
        package=package_of(text, spec.name),
        mtime_ns=mtime_ns,
        size=len(source),
        names=used_names(text, spec.name),
        default=default_export(text, spec.name),
    )


_C_SOURCES = (".c", ".cc", ".cpp", ".cxx", ".c++", ".m", ".mm")
_FILE_LOCAL_KINDS = frozenset({"macro", "type", "struct", "union", "enum", "member", "field"})


def _visible(
    definitions: tuple[Definition, ...], key: str, spec: LanguageSpec
) -> tuple[Definition, ...]:
    """A C/C++ source file's macros and types are its own (only headers share them)."""
    if spec.name not in ("c", "cpp") or not key.lower().endswith(_C_SOURCES):
        return definitions
    return tuple(
        replace(d, exported=False) if d.kind in _FILE_LOCAL_KINDS and d.exported else d
        for d in definitions
    )


def read_record(item: BatchItem, max_bytes: int, *, yield_gil: bool = False) -> FileRecord | None:
    """The record of a file on disk; None if it vanished, grew over the cap or is unreadable.

    The caller has checked that `key` is a real path inside the workspace folders.
    """
    key, rel, mtime_ns, _size = item
    spec = spec_for_path(key)
    if spec is None:
        return None
    try:
        with open(key, "rb") as handle:
            source = handle.read(max_bytes + 1)
    except OSError:
        return None
    if len(source) > max_bytes:
        return None
    return build_record(source, key, rel, spec, mtime_ns=mtime_ns, yield_gil=yield_gil)


def parse_batch(items: list[BatchItem], max_bytes: int) -> list[FileRecord | None]:
    """Records for a batch of files (run in the indexing subprocess)."""
    return [read_record(item, max_bytes) for item in items]


def lower_priority() -> None:
    """The indexing subprocess yields the CPU to the editor, the server and the model host."""
    with contextlib.suppress(AttributeError, OSError):
        os.nice(10)
