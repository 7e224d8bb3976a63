"""WorkspaceIndex: the per-workspace index the language server holds.

Every change (roots, open buffers, files on disk) is queued and applied by one background
thread, which owns the `SnapshotBuilder`; readers get the last published `Snapshot`
(replaced atomically), so `select` never waits for indexing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ..context.languages import detect_language, spec_for_path
from . import select as selection
from .files import Roots
from .imports import ImportCache
from .indexer import (
    DOC_DEBOUNCE_S,
    DOC_MIN_INTERVAL_S,
    IndexThread,
    _Doc,
    _State,
    uri_path,
)
from .model import IndexSettings, Snippet
from .resolve import Resolver
from .snapshot import Snapshot, SnapshotBuilder

__all__ = ["WorkspaceIndex", "uri_path"]

log = logging.getLogger(__name__)


class WorkspaceIndex(IndexThread):
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
        self._cond = threading.Condition()
        empty = Snapshot()
        self._state = _State(empty, Resolver(empty), {})
        self._roots = Roots(())
        self._roots_request: Roots | None = None
        self._docs: dict[str, _Doc] = {}
        self._doc_due: dict[str, float] = {}  # uri -> when to re-index it
        self._disk_jobs: dict[str, bool] = {}  # path -> deleted
        self._reverts: set[str] = set()  # keys of closed buffers: back to the disk's version
        self._ready = threading.Event()
        self._ready.set()
        self._stop_run = threading.Event()  # ends an indexing run (new roots, close)
        self._closed = False
        self._thread: threading.Thread | None = None
        self._builder = SnapshotBuilder()
        self._select_cache = selection.SelectCache()
        self._import_cache = ImportCache()
        self._last_progress = 0.0
        # uri -> (the text its record was built from, when): an edit is compared to that text
        self._indexed: dict[str, tuple[str, float]] = {}
        self.doc_parses = 0  # open buffers' texts parsed for the index ...
        self.doc_skips = 0  # ... and edits found not to change what it keeps

    # ---- the API the server calls (any thread; never blocks on indexing) --------------------

    def set_roots(self, roots: Sequence[Path]) -> None:
        """The workspace folders; (re)starts background indexing."""
        resolved = Roots(roots)
        with self._cond:
            if resolved.paths == self._roots.paths and self._roots_request is None:
                return
            self._roots = resolved
            self._roots_request = resolved
            self._stop_run.set()
            if self._settings.enable and resolved.paths:
                self._ready.clear()
            self._wake()

    def open_document(self, uri: str, text: str, language_id: str) -> None:
        """An open buffer (also outside the roots): indexed from its text."""
        spec = detect_language(language_id, uri)
        path = uri_path(uri)
        if spec is None:
            return
        key, rel = self._locate(uri, path)
        with self._cond:
            self._docs[uri] = _Doc(key, rel, spec.name, text)
            self._doc_due[uri] = 0.0
            self._wake()

    def change_document(self, uri: str, text: str) -> None:
        with self._cond:
            doc = self._docs.get(uri)
            if doc is not None:
                self._docs[uri] = _Doc(doc.key, doc.rel, doc.language, text)
                now = time.monotonic()
                last = self._indexed.get(uri, ("", -DOC_MIN_INTERVAL_S))[1]
                self._doc_due[uri] = max(now + DOC_DEBOUNCE_S, last + DOC_MIN_INTERVAL_S)
                self._wake()

    def close_document(self, uri: str) -> None:
        with self._cond:
            doc = self._docs.pop(uri, None)
            self._doc_due.pop(uri, None)
            self._indexed.pop(uri, None)
            if doc is not None:
                self._reverts.add(doc.key)
                self._wake()

    def file_changed(self, path: Path) -> None:
        """didSave / a watched file created or changed: re-read from disk if inside the roots."""
        with self._cond:
            self._disk_jobs[str(path)] = False
            self._wake()

    def file_deleted(self, path: Path) -> None:
        """A watched file deleted: its definitions leave the index."""
        with self._cond:
            self._disk_jobs[str(path)] = True
            self._wake()

    @property
    def ready(self) -> bool:
        """Whether the initial indexing finished."""
        return self._ready.is_set()

    def wait_ready(self, timeout: float) -> bool:
        """Block the calling thread (never the loop) until the initial indexing finished."""
        return self._ready.wait(timeout)

    def wait_idle(self, timeout: float) -> bool:
        """Block until every queued change (debounced edits too) is applied and published
        (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._has_work() or self._busy or self._doc_due:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return self._ready.wait(max(0.0, deadline - time.monotonic()))

    def stats(self) -> dict[str, int]:
        """files, definitions, bytes (approximate memory), open documents, generation."""
        state = self._state
        files = state.snapshot.files
        return {
            "files": len(files),
            "definitions": sum(len(record.definitions) for record in files.values()),
            "bytes": self._builder.bytes,
            "open_documents": len(state.windows),
            "doc_parses": self.doc_parses,
            "doc_skips": self.doc_skips,
            "generation": state.snapshot.generation,
        }

    def close(self) -> None:
        """Stop the background thread."""
        with self._cond:
            self._closed = True
            self._stop_run.set()
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

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
        if not self._settings.enable or budget_chars <= 0:
            return []
        try:
            state = self._state
            spec = detect_language(language_id, uri) or spec_for_path(uri)
            doc = self._docs.get(uri)
            key = doc.key if doc is not None else self._locate(uri, uri_path(uri))[0]
            request = selection.Request(
                key=key,
                language=spec.name if spec else "",
                text=text,
                offset=max(0, min(offset, len(text))),
                visible=visible,
                budget=budget_chars,
                neighbours_version=state.windows_version,
            )
            neighbours = tuple(w for u, w in sorted(state.windows.items()) if u != uri)
            return selection.select(
                state.snapshot,
                state.resolver,
                request,
                neighbours,
                self._select_cache,
                self._import_cache,
            )
        except Exception:
            log.exception("cross-file selection failed; the prompt goes without it")
            return []
