"""WorkspaceIndex: the per-workspace index the language server holds.

Every change (roots, open buffers, files on disk) is queued and applied by one background
thread, which owns the `SnapshotBuilder`; readers get the last published `Snapshot`
(replaced atomically), so `select` never waits for indexing.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..context.languages import detect_language, spec_for_path
from . import select as selection
from .edits import body_only
from .files import Roots, walk
from .imports import ImportCache
from .model import IndexSettings, Snippet
from .parsing import parse_files
from .records import build_record
from .resolve import Resolver
from .similar import Windows, windows_of
from .snapshot import Snapshot, SnapshotBuilder
from .updates import refresh_from_disk

log = logging.getLogger(__name__)

DOC_DEBOUNCE_S = 0.3  # an open buffer is re-indexed once its edits pause this long ...
DOC_MIN_INTERVAL_S = 2.0  # ... and at most this often while they go on
PUBLISH_EVERY_S = 2.0  # while a workspace indexes, readers see progress this often ...
PUBLISH_DUTY = 0.02  # ... or less often: publishing takes at most this share of the time
# After each batch of records the indexing thread pauses for this share of the CPU time the
# batch took it: the records arrive from worker processes, and what is left here (unpickling, the
# builder's maps) holds the GIL that the event loop needs for requests.
BATCH_PAUSE = 0.5
BATCH_PAUSE_MAX_S = 0.02
PROGRESS_EVERY_S = 0.25


@dataclass(frozen=True)
class _Doc:
    """An open buffer: where it lives, its language and its latest text."""

    key: str
    rel: str
    language: str
    text: str


@dataclass(frozen=True)
class _State:
    """What readers use, swapped as one reference."""

    snapshot: Snapshot
    resolver: Resolver
    windows: dict[str, tuple[str, str, Windows]]  # uri -> (key, rel, windows) of open buffers
    windows_version: int = 0


def uri_path(uri: str) -> str | None:
    """The filesystem path of a `file:` URI (None for other schemes)."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("file", ""):
        return None
    path = unquote(parsed.path)
    return path if os.path.isabs(path) else None


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

    def _locate(self, uri: str, path: str | None) -> tuple[str, str]:
        if path is None:
            name = urlparse(uri).path.rsplit("/", 1)[-1] or "untitled"
            return f"/{urlparse(uri).scheme}/{name}", name
        located = self._roots.resolve(path)
        if located is not None:
            return located
        return os.path.abspath(path), os.path.basename(path)

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

    # ---- the indexing thread ----------------------------------------------------------------

    _busy = False

    def _wake(self) -> None:
        """Start the thread on first use and signal it (caller holds the lock)."""
        if self._closed or not self._settings.enable:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="workspace-index", daemon=True)
            self._thread.start()
        self._cond.notify_all()

    def _has_work(self) -> bool:
        return bool(
            self._roots_request is not None
            or self._disk_jobs
            or self._reverts
            or any(due <= time.monotonic() for due in self._doc_due.values())
        )

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and not self._has_work():
                    due = min(self._doc_due.values(), default=None)
                    timeout = None if due is None else max(0.0, due - time.monotonic())
                    self._cond.wait(timeout)
                if self._closed:
                    return
                roots, self._roots_request = self._roots_request, None
                self._busy = True
            try:
                if roots is not None:
                    self._index_roots(roots)
                self._apply_changes()
                self._publish()
            except Exception:
                log.exception("workspace indexing failed; the index keeps what it had")
                self._ready.set()
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _index_roots(self, roots: Roots) -> None:
        self._stop_run.clear()
        self._builder = SnapshotBuilder(roots.paths)
        with self._cond:  # buffers opened before the roots were known move under them
            for uri, doc in list(self._docs.items()):
                key, rel = self._locate(uri, uri_path(uri))
                self._docs[uri] = _Doc(key, rel, doc.language, doc.text)
        self._apply_changes(every_doc=True)
        result = walk(roots, self._settings, self._stop_run)
        self._builder.go_modules = tuple(result.go_modules)
        with self._cond:
            open_keys = {doc.key for doc in self._docs.values()}
        items = [(e.key, e.rel, e.mtime_ns, e.size) for e in result.files if e.key not in open_keys]
        total, done = len(items), 0
        self._progress(0, total, force=True)
        published, publish_s = time.monotonic(), 0.0
        started = time.thread_time()
        for records in parse_files(items, self._settings.max_file_bytes, self._stop_run):
            with self._cond:
                open_keys = {doc.key for doc in self._docs.values()}
            for record in records:
                if record is not None and record.key not in open_keys:
                    self._builder.put(record)
            done += len(records)
            self._progress(done, total)
            if time.monotonic() - published > max(PUBLISH_EVERY_S, publish_s / PUBLISH_DUTY):
                began = time.perf_counter()
                self._apply_changes()
                self._publish()
                publish_s = time.perf_counter() - began
                published = time.monotonic()
            took = time.thread_time() - started  # this thread's CPU: unpickling, putting ...
            time.sleep(min(BATCH_PAUSE_MAX_S, took * BATCH_PAUSE))
            started = time.thread_time()
        if not self._stop_run.is_set():
            self._publish()
            self._progress(total, total, force=True)
            self._ready.set()

    def _progress(self, done: int, total: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if self._on_progress is None or (
            not force and now - self._last_progress < PROGRESS_EVERY_S
        ):
            return
        self._last_progress = now
        try:
            self._on_progress(done, total)
        except Exception:
            log.exception("index progress callback failed")

    def _apply_changes(self, *, every_doc: bool = False) -> None:
        """Apply queued buffer edits, closed buffers and disk events to the builder."""
        now = time.monotonic()
        with self._cond:
            due = [u for u, t in self._doc_due.items() if every_doc or t <= now]
            docs = {uri: self._docs[uri] for uri in due if uri in self._docs}
            for uri in due:
                self._doc_due.pop(uri, None)
            open_keys = {doc.key for doc in self._docs.values()}
            reverts, self._reverts = self._reverts - open_keys, set()
            disk, self._disk_jobs = self._disk_jobs, {}
        for uri, doc in docs.items():
            if not every_doc and self._unchanged_record(uri, doc):
                self.doc_skips += 1
                continue
            spec = spec_for_path(doc.key) or detect_language(doc.language)
            if spec is not None:
                source = doc.text.encode("utf-8", "surrogatepass")
                self._builder.put(build_record(source, doc.key, doc.rel, spec, yield_gil=True))
                self.doc_parses += 1
            self._indexed[uri] = (doc.text, time.monotonic())
            self._set_windows(uri, doc)
        for path, deleted in [*((key, False) for key in reverts), *disk.items()]:
            refresh_from_disk(
                self._builder,
                self._roots,
                self._settings,
                path,
                deleted=deleted,
                open_keys=open_keys,
            )
        with self._cond:
            closed = set(self._state.windows) - set(self._docs)
        for uri in closed:
            self._set_windows(uri, None)

    def _unchanged_record(self, uri: str, doc: _Doc) -> bool:
        """Whether the buffer's record still holds: the edits since it was built lie inside
        one long body (typing in a function leaves its header and the imports alone)."""
        indexed = self._indexed.get(uri)
        record = self._builder.files.get(doc.key)
        return (
            indexed is not None and record is not None and body_only(indexed[0], doc.text, record)
        )

    def _set_windows(self, uri: str, doc: _Doc | None) -> None:
        state = self._state
        windows = dict(state.windows)
        if doc is None:
            windows.pop(uri, None)
        else:
            windows[uri] = (doc.key, doc.rel, windows_of(doc.text))
        self._state = _State(state.snapshot, state.resolver, windows, state.windows_version + 1)

    def _publish(self) -> None:
        snapshot = self._builder.publish()
        state = self._state
        if snapshot is not state.snapshot:
            self._state = _State(snapshot, Resolver(snapshot), state.windows, state.windows_version)
