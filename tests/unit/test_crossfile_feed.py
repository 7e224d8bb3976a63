"""The index feed: open buffers (a too-big one left out), file events, roots, turning it on and off.

The real `WorkspaceIndex` behind it; no language server (nothing here talks to a client).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from lsprotocol import types

from lsp_server.config import CrossFileSettings
from lsp_server.indexing import IndexFeed

SMALL = "def parse_config(path: str) -> dict:\n    return {}\n"


@pytest.fixture
def feed() -> Iterator[Any]:
    cfg = CrossFileSettings(max_file_bytes=1024)
    touched: list[Path | str] = []
    feed = IndexFeed(None, lambda: cfg, touched.append)  # type: ignore[arg-type]
    feed.touched = touched  # type: ignore[attr-defined]
    feed.cfg = cfg  # type: ignore[attr-defined]
    feed.configure()
    yield feed
    feed.close()


def held(feed: IndexFeed) -> int:
    """How many open buffers the index holds (after it applied what it was told)."""
    assert feed.index is not None
    assert feed.index.wait_idle(10)
    return int(feed.index.stats()["open_documents"])


def test_open_buffers_and_the_size_cap(feed: Any, tmp_path: Path) -> None:
    small, big = (tmp_path / "a.py").as_uri(), (tmp_path / "b.py").as_uri()
    feed.opened(small, SMALL, "python")
    feed.opened(big, "x = 1\n" * 400, "python")  # 2,400 characters: over the cap
    assert held(feed) == 1
    assert feed.has_sources  # two open buffers: something to quote
    feed.changed(big, SMALL)  # edited under the cap: indexed from now on
    assert held(feed) == 2
    feed.changed(small, "y = 2\n" * 400)  # grew over it: left out
    assert held(feed) == 1
    feed.closed(big)
    assert held(feed) == 0 and not feed.has_sources
    assert feed.touched == [tmp_path / p for p in ("a.py", "b.py", "b.py", "a.py", "b.py")]


def test_file_events_and_roots(feed: Any, tmp_path: Path) -> None:
    workspace = SimpleNamespace(folders={}, root_uri=tmp_path.as_uri())
    assert feed.roots_from(workspace) == [tmp_path]
    other = tmp_path / "other"
    workspace.folders = {other.as_uri(): types.WorkspaceFolder(uri=other.as_uri(), name="other")}
    assert feed.roots_from(workspace) == [other]
    feed.set_roots([tmp_path])
    assert feed.has_sources
    (tmp_path / "tools.py").write_text(SMALL)
    feed.watched(
        [types.FileEvent(uri=(tmp_path / "tools.py").as_uri(), type=types.FileChangeType.Created)]
    )
    feed.watched([types.FileEvent(uri="untitled:Untitled-1", type=types.FileChangeType.Changed)])
    feed.saved((tmp_path / "tools.py").as_uri())
    assert feed.touched == [tmp_path / "tools.py"] * 2
    assert feed.index.wait_idle(10) and feed.index.stats()["files"] == 1
    (tmp_path / "tools.py").unlink()
    feed.watched(
        [types.FileEvent(uri=(tmp_path / "tools.py").as_uri(), type=types.FileChangeType.Deleted)]
    )
    assert feed.index.wait_idle(10) and feed.index.stats()["files"] == 0


def test_turned_off_and_on(feed: Any, tmp_path: Path) -> None:
    uri = (tmp_path / "a.py").as_uri()
    feed.opened(uri, SMALL, "python")
    first = feed.index
    feed.cfg.share = 0.5  # not an index limit: the same index
    feed.configure([(uri, SMALL)])
    assert feed.index is first
    feed.cfg.enable = False
    feed.configure([(uri, SMALL)])
    assert feed.index is None and feed.stats() == {"enabled": False}
    feed.changed(uri, SMALL + "\n")  # nothing to tell: no index
    feed.cfg.enable = True
    feed.configure([(uri, SMALL)])
    assert feed.index is not None and feed.index is not first and held(feed) == 1
    feed.cfg.max_files = 10  # a limit: a new index, told of the open buffers again
    second = feed.index
    feed.configure([(uri, SMALL)])
    assert feed.index is not second and held(feed) == 1
    assert feed.stats()["enabled"] is True
