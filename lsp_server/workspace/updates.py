"""One file's change on disk applied to the index's builder: re-read, forget, or a go.mod."""

from __future__ import annotations

import os

from .files import Roots, go_module_path, ignored_path
from .model import FileRecord, IndexSettings
from .records import read_record
from .snapshot import SnapshotBuilder


def refresh_from_disk(
    builder: SnapshotBuilder,
    roots: Roots,
    settings: IndexSettings,
    path: str,
    *,
    deleted: bool,
    open_keys: set[str],
) -> None:
    """Re-read one file if it lies inside the roots and the walk would index it; else forget
    it. A file outside the roots is never opened; an open buffer's text wins over the disk."""
    located = roots.resolve(path)
    key = located[0] if located else os.path.abspath(path)
    if key in open_keys:
        return
    if os.path.basename(key) == "go.mod" and located is not None:
        _refresh_go_mod(builder, key, deleted)
        return
    record: FileRecord | None = None
    if located is not None and not deleted and os.path.isfile(key):
        rel = located[1]
        if not ignored_path(roots, key, rel, settings):
            size = os.stat(key).st_size
            if size <= settings.max_file_bytes:
                mtime = os.stat(key).st_mtime_ns
                record = read_record(
                    (key, rel, mtime, size), settings.max_file_bytes, yield_gil=True
                )
    if record is not None:
        builder.put(record)
    else:
        builder.remove(key)


def _refresh_go_mod(builder: SnapshotBuilder, key: str, deleted: bool) -> None:
    folder = os.path.dirname(key)
    kept = [(f, m) for f, m in builder.go_modules if f != folder]
    module = None if deleted else go_module_path(key)
    if module:
        kept.append((folder, module))
    builder.go_modules = tuple(kept)
    builder.generation += 1
