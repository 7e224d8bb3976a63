"""The workspace index's feed: workspace folders, open buffers and file events in, `$/progress` out.

One `WorkspaceIndex` per server, made at `initialize` from the `context.crossFile` settings
(and made again when its limits change). It indexes on its own thread; everything here only
hands it what happened and returns at once, so a keystroke never waits for indexing.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from .config import CrossFileSettings
from .progress import LoadProgress
from .workspace import IndexSettings, WorkspaceIndex

log = logging.getLogger(__name__)

# A workspace this big shows its indexing as `$/progress`; a smaller one is done before
# anyone could read the notice.
PROGRESS_MIN_FILES = 200
PROGRESS_TITLE = "Tandem: indexing workspace"
# What the client is asked to watch: the sources of every language the index reads, and the
# files that say how imports resolve.
WATCH_GLOBS = (
    "**/*.{py,pyi,js,jsx,mjs,cjs,ts,tsx,mts,cts,go,rs,c,h,cc,cpp,cxx,hh,hpp,hxx,java,lua}",
    "**/{go.mod,Cargo.toml,package.json,tsconfig.json,jsconfig.json}",
)
REGISTER_TIMEOUT_S = 10.0


def uri_path(uri: str) -> Path | None:
    """The file system path of a `file:` URI, else None."""
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


def index_settings(cfg: CrossFileSettings) -> IndexSettings:
    return IndexSettings(
        enable=cfg.enable,
        max_files=cfg.max_files,
        max_file_bytes=cfg.max_file_bytes,
        exclude=tuple(cfg.exclude),
    )


class IndexFeed:
    """Owns the server's `WorkspaceIndex` and keeps it told."""

    def __init__(
        self,
        server: LanguageServer,
        settings: Callable[[], CrossFileSettings],
        on_touch: Callable[[Path | str], None],
    ) -> None:
        self._server = server
        self._settings = settings
        self._on_touch = on_touch
        self._limits: IndexSettings | None = None
        self._roots: tuple[Path, ...] = ()
        self._open: dict[str, str] = {}  # open buffers: URI -> languageId
        self._indexed: set[str] = set()  # ... those the index holds
        self._progress = LoadProgress(server, PROGRESS_TITLE)
        self._showing = False
        self._percent = -1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watching: asyncio.Future[bool] | None = None
        self._initialized = False  # no request to the client before `initialized`
        self.index: WorkspaceIndex | None = None

    # ---- lifecycle -------------------------------------------------------------------
    def configure(self, documents: Iterable[tuple[str, str]] = ()) -> None:
        """Make (or drop, or remake) the index for the current settings; `documents` are the
        open buffers' (uri, text) a new index must hear of."""
        cfg = self._settings()
        limits = index_settings(cfg) if cfg.enable else None
        if limits == self._limits and (self.index is not None) == (limits is not None):
            return
        self.close()
        self._limits = limits
        if limits is None:
            return
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self.index = WorkspaceIndex(limits, on_progress=self._on_progress)
        self.index.set_roots(self._roots)
        for uri, text in documents:
            self._offer(uri, text)

    @property
    def has_sources(self) -> bool:
        """Whether a header could quote anything: a workspace folder, or two open buffers."""
        return bool(self._roots) or len(self._open) > 1

    def set_roots(self, roots: Iterable[Path]) -> None:
        self._roots = tuple(dict.fromkeys(roots))
        if self.index is not None:
            self._call("set_roots", self._roots)

    def roots_from(self, workspace: Any) -> list[Path]:
        """The workspace folders pygls keeps (initialize's and every change since), else the
        root URI or path."""
        uris = [f.uri for f in workspace.folders.values()] or [workspace.root_uri]
        paths = [uri_path(u) for u in uris if isinstance(u, str)]
        return [p for p in paths if p is not None]

    def close(self) -> None:
        index, self.index = self.index, None
        self._indexed.clear()
        if index is None:
            return
        self._end_progress("indexing stopped")
        try:
            index.close()
        except Exception:
            log.exception("closing the workspace index failed")

    # ---- documents and files ------------------------------------------------------------
    def opened(self, uri: str, text: str, language_id: str) -> None:
        self._open[uri] = language_id
        self._offer(uri, text)
        self._touch(uri)

    def changed(self, uri: str, text: str) -> None:
        self._offer(uri, text)
        self._touch(uri)

    def closed(self, uri: str) -> None:
        self._open.pop(uri, None)
        if uri in self._indexed:
            self._indexed.discard(uri)
            self._call("close_document", uri)
        self._touch(uri)

    def _offer(self, uri: str, text: str) -> None:
        """An open buffer's text for the index; one over `maxFileBytes` characters is left out,
        as such a file on disk is (its parse would take hundreds of MiB and seconds)."""
        too_big = self._limits is not None and len(text) > self._limits.max_file_bytes
        if too_big and uri in self._indexed:
            self._indexed.discard(uri)
            self._call("close_document", uri)
        elif not too_big and uri in self._indexed:
            self._call("change_document", uri, text)
        elif not too_big and uri in self._open and self.index is not None:
            self._indexed.add(uri)
            self._call("open_document", uri, text, self._open[uri])

    def saved(self, uri: str) -> None:
        path = uri_path(uri)
        if path is not None:
            self._call("file_changed", path)
            self._on_touch(path)

    def watched(self, changes: Iterable[types.FileEvent]) -> None:
        for change in changes:
            path = uri_path(change.uri)
            if path is None:
                continue
            if change.type == types.FileChangeType.Deleted:
                self._call("file_deleted", path)
            else:
                self._call("file_changed", path)
            self._on_touch(path)

    def _touch(self, uri: str) -> None:
        self._on_touch(uri_path(uri) or uri)

    def _call(self, method: str, *args: Any) -> None:
        """Tell the index; a failure there costs cross-file context, never the handler."""
        if self.index is None:
            return
        try:
            getattr(self.index, method)(*args)
        except Exception:
            log.exception("workspace index: %s failed", method)

    def stats(self) -> dict[str, object]:
        index = self.index
        if index is None:
            return {"enabled": False}
        try:
            counts = index.stats()
        except Exception:
            log.exception("workspace index: stats failed")
            counts = {}
        return {
            "enabled": True,
            "ready": index.ready,
            "roots": [str(r) for r in self._roots],
            **counts,
        }

    # ---- watching files ----------------------------------------------------------------
    def client_initialized(self) -> None:
        """The client sent `initialized`: the server may now send it requests (progress tokens,
        the watcher registration, in the background: `initialized` need not wait for them)."""
        self._initialized = True
        self._watching = asyncio.ensure_future(self.watch_files())

    async def watch_files(self) -> bool:
        """Ask the client to report file changes (where it can register that dynamically)."""
        caps = self._server.client_capabilities.workspace
        watched = caps.did_change_watched_files if caps else None
        if not (watched and watched.dynamic_registration):
            return False
        watchers = [types.FileSystemWatcher(glob_pattern=g) for g in WATCH_GLOBS]
        registration = types.Registration(
            id=f"tandem-watch-{uuid.uuid4().hex}",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
        )
        try:
            await asyncio.wait_for(
                self._server.client_register_capability_async(
                    types.RegistrationParams(registrations=[registration])
                ),
                REGISTER_TIMEOUT_S,
            )
        except Exception as exc:  # a client that refuses: files on disk are read at save only
            log.info("the client did not register file watching: %s", exc)
            return False
        return True

    # ---- progress --------------------------------------------------------------------
    def _on_progress(self, done: int, total: int) -> None:
        # Called on the indexing thread: hand it to the loop.
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._show_progress, done, total)

    def _show_progress(self, done: int, total: int) -> None:
        if self.index is None:
            return
        if done >= total:
            self._end_progress(f"{total} files indexed")
            return
        percent = done * 100 // total
        if not self._initialized or total < PROGRESS_MIN_FILES:
            return  # too early to ask the client for a token, or a small workspace
        if self._showing and percent == self._percent:
            return  # nothing new to say: one report per percent
        self._showing, self._percent = True, percent
        note = {"state": "loading", "progress": done / total, "message": f"{done}/{total} files"}
        self._progress.update(note)

    def _end_progress(self, message: str) -> None:
        if self._showing:
            self._showing, self._percent = False, -1
            self._progress.end(message)
