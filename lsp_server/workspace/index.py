"""WorkspaceIndex: the per-workspace index the language server holds (API surface first)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from .model import IndexSettings, Snippet


class WorkspaceIndex:
    """Definitions and imports of the workspace's files, kept in immutable snapshots.

    Indexing runs on a background thread; `select` only reads the current snapshot, so it may
    be called from the event loop thread while indexing runs.
    """

    def __init__(
        self, settings: IndexSettings, *, on_progress: Callable[[int, int], None] | None = None
    ) -> None:
        # on_progress(done_files, total_files) is called from the indexing thread
        # (the caller marshals it to its loop).
        self._settings = settings
        self._on_progress = on_progress
        self._lock = threading.Lock()
        self._roots: tuple[Path, ...] = ()
        self._documents: dict[str, str] = {}
        self._ready = threading.Event()
        self._ready.set()

    def set_roots(self, roots: Sequence[Path]) -> None:
        """The workspace folders; (re)starts background indexing."""
        with self._lock:
            self._roots = tuple(roots)

    def open_document(self, uri: str, text: str, language_id: str) -> None:
        """An open buffer (also outside the roots): indexed from its text."""
        with self._lock:
            self._documents[uri] = text

    def change_document(self, uri: str, text: str) -> None:
        with self._lock:
            if uri in self._documents:
                self._documents[uri] = text

    def close_document(self, uri: str) -> None:
        with self._lock:
            self._documents.pop(uri, None)

    def file_changed(self, path: Path) -> None:
        """didSave / a watched file created or changed: re-read from disk if inside the roots."""

    def file_deleted(self, path: Path) -> None:
        """A watched file deleted: its definitions leave the index."""

    @property
    def ready(self) -> bool:
        """Whether the initial indexing finished."""
        return self._ready.is_set()

    def wait_ready(self, timeout: float) -> bool:
        """Block the calling thread (never the loop) until the initial indexing finished."""
        return self._ready.wait(timeout)

    def stats(self) -> dict[str, int]:
        """files, definitions, bytes (approximate memory) ..."""
        with self._lock:
            return {"files": len(self._documents), "definitions": 0, "bytes": 0}

    def close(self) -> None:
        """Stop the background thread."""

    def select(
        self,
        uri: str,
        text: str,
        offset: int,
        *,
        visible: tuple[int, int],
        budget_chars: int,
        language_id: str,
    ) -> list[Snippet]:
        """Cross-file snippets for a completion at `offset` in document `uri` with `text`.

        `visible` = (start, end) string offsets of the part of the document the prompt shows.
        Never raises; returns [] when disabled or nothing is found; runs in a few ms on the
        caller's thread (all heavy work is done by the background indexer; select only reads
        immutable snapshots). Deterministic: the same inputs (same set of names used) give the
        same list in the same order, so the prompt header is stable while the user types.
        sum(len(s.text) + len(s.path) + 8 for s) <= budget_chars.
        """
        return []
