"""The workspace index's background thread: it applies every queued change (roots, open
buffers, files on disk) to the `SnapshotBuilder` it owns and publishes the result as the
readers' `_State` (replaced atomically), so `WorkspaceIndex.select` never waits for indexing.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from ..context.languages import detect_language, spec_for_path
from . import select as selection
from .edits import body_only
from .files import Roots, walk
from .imports import ImportCache
from .model import IndexSettings
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


class IndexThread:
    """The indexing half of `WorkspaceIndex`: the queues its API fills, and the thread that
    drains them into the builder and publishes snapshots."""

    _settings: IndexSettings
    _on_progress: Callable[[int, int], None] | None
    _cond: threading.Condition
    _state: _State
    _roots: Roots
    _roots_request: Roots | None
    _docs: dict[str, _Doc]
    _doc_due: dict[str, float]  # uri -> when to re-index it
    _disk_jobs: dict[str, bool]  # path -> deleted
    _reverts: set[str]  # keys of closed buffers: back to the disk's version
    _ready: threading.Event
    _stop_run: threading.Event  # ends an indexing run (new roots, close)
    _closed: bool
    _thread: threading.Thread | None
    _builder: SnapshotBuilder
    _select_cache: selection.SelectCache
    _import_cache: ImportCache
    _last_progress: float
    # uri -> (the text its record was built from, when): an edit is compared to that text
    _indexed: dict[str, tuple[str, float]]
    doc_parses: int  # open buffers' texts parsed for the index ...
    doc_skips: int  # ... and edits found not to change what it keeps

    _busy = False

    def _locate(self, uri: str, path: str | None) -> tuple[str, str]:
        if path is None:
            name = urlparse(uri).path.rsplit("/", 1)[-1] or "untitled"
            return f"/{urlparse(uri).scheme}/{name}", name
        located = self._roots.resolve(path)
        if located is not None:
            return located
        return os.path.abspath(path), os.path.basename(path)

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
