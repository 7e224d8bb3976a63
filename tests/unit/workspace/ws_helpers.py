"""Helpers for the workspace index's unit tests: small workspaces written to tmp_path."""

from __future__ import annotations

from pathlib import Path

from lsp_server.context.languages import spec_for_path
from lsp_server.workspace.records import build_record
from lsp_server.workspace.snapshot import Snapshot, SnapshotBuilder


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (POSIX paths relative to root -> text) and return root."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def snapshot_of(root: Path, files: dict[str, str]) -> Snapshot:
    """A snapshot built from texts directly (no disk, no thread): for resolution tests."""
    builder = SnapshotBuilder((str(root),))
    for rel, text in files.items():
        spec = spec_for_path(rel)
        assert spec is not None, rel
        builder.put(build_record(text.encode(), str(root / rel), rel, spec))
    return builder.publish()
