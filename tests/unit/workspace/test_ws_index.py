"""The index's life: background indexing, open buffers, disk events, settings, containment."""

from __future__ import annotations

import builtins
import io
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from ws_helpers import write_tree

from lsp_server.workspace import IndexSettings, WorkspaceIndex

Make = Callable[..., WorkspaceIndex]


def _names(index: WorkspaceIndex) -> set[str]:
    snapshot = index._state.snapshot
    return {d.name for record in snapshot.files.values() for d in record.definitions}


def _select(index: WorkspaceIndex, path: Path, text: str, at: str, budget: int = 4000) -> str:
    uri = path.as_uri()
    offset = text.index(at)
    snippets = index.select(
        uri, text, offset, visible=(0, len(text)), budget_chars=budget, language_id="python"
    )
    return "\n".join(f"{s.path}:\n{s.text}" for s in snippets)


def test_indexes_in_the_background_with_progress(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {f"m{i}.py": f"def f{i}(x):\n    return x\n" for i in range(12)})
    seen: list[tuple[int, int, str]] = []
    index = WorkspaceIndex(
        IndexSettings(),
        on_progress=lambda d, t: seen.append((d, t, threading.current_thread().name)),
    )
    try:
        assert index.ready  # nothing to index yet
        index.set_roots([root])
        assert index.wait_ready(30) and index.ready
        assert seen[0][:2] == (0, 12) and seen[-1][:2] == (12, 12)
        assert all(name == "workspace-index" for _, _, name in seen)  # never the caller's
        stats = index.stats()
        assert stats["files"] == 12 and stats["definitions"] == 12 and stats["bytes"] > 0
    finally:
        index.close()
    assert index._thread is not None and not index._thread.is_alive()


def test_open_change_and_close_buffers(index_for: Make, tmp_path: Path) -> None:
    index = index_for({"a.py": "def on_disk():\n    pass\n"})
    path = tmp_path / "ws" / "a.py"
    index.open_document(path.as_uri(), "def in_buffer():\n    pass\n", "python")
    assert index.wait_idle(10)
    assert "in_buffer" in _names(index) and "on_disk" not in _names(index)  # the buffer wins
    index.change_document(path.as_uri(), "def edited():\n    pass\n")
    assert index.wait_idle(10)
    assert "edited" in _names(index) and "in_buffer" not in _names(index)
    index.close_document(path.as_uri())
    assert index.wait_idle(10)
    assert "on_disk" in _names(index) and "edited" not in _names(index)  # back to the disk's


def test_buffers_outside_the_roots_are_neighbours(tmp_path: Path) -> None:
    """A single file with no workspace still gets its open neighbours."""
    index = WorkspaceIndex(IndexSettings())
    try:
        helper = tmp_path / "loose" / "helper.py"
        main = tmp_path / "loose" / "main.py"
        index.open_document(
            helper.as_uri(), "def greet(name: str) -> str:\n    return name\n", "python"
        )
        text = "from helper import greet\n\nprint(greet('x'))\n"
        index.open_document(main.as_uri(), text, "python")
        assert index.wait_idle(10)
        assert "def greet(name: str) -> str:" in _select(index, main, text, "print")
        index.close_document(helper.as_uri())
        assert index.wait_idle(10)
        assert "greet" not in _names(index)  # nothing of a closed loose file stays
    finally:
        index.close()


def test_saved_created_and_deleted_files(index_for: Make, tmp_path: Path) -> None:
    index = index_for({"a.py": "def old():\n    pass\n"})
    root = tmp_path / "ws"
    (root / "a.py").write_text("def new():\n    pass\n")
    (root / "b.py").write_text("def created():\n    pass\n")
    index.file_changed(root / "a.py")
    index.file_changed(root / "b.py")
    assert index.wait_idle(10)
    assert {"new", "created"} <= _names(index) and "old" not in _names(index)
    (root / "b.py").unlink()
    index.file_deleted(root / "b.py")
    assert index.wait_idle(10)
    assert "created" not in _names(index)
    (root / "node_modules").mkdir()
    (root / "node_modules" / "dep.py").write_text("def dependency():\n    pass\n")
    index.file_changed(root / "node_modules" / "dep.py")  # a watched file the walk skips
    assert index.wait_idle(10)
    assert "dependency" not in _names(index)


def test_new_roots_replace_the_old(index_for: Make, tmp_path: Path) -> None:
    index = index_for({"a.py": "def first():\n    pass\n"})
    other = write_tree(tmp_path / "other", {"b.py": "def second():\n    pass\n"})
    index.set_roots([other])
    assert index.wait_ready(30)
    assert _names(index) == {"second"}


def test_disabled_index_does_nothing(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"a.py": "def f():\n    pass\n"})
    index = WorkspaceIndex(IndexSettings(enable=False))
    index.set_roots([root])
    index.open_document((root / "a.py").as_uri(), "def f():\n    pass\n", "python")
    assert index._thread is None
    assert (
        index.select(
            "file:///x.py", "f()", 0, visible=(0, 3), budget_chars=999, language_id="python"
        )
        == []
    )
    index.close()


def test_nothing_outside_the_workspace_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A symlink out and a `../` import: neither is followed, nothing out there is opened."""
    outside = write_tree(tmp_path / "outside", {"secret.py": "def secret():\n    pass\n",
                                                "lib/leak.py": "def leak():\n    pass\n"})  # fmt: skip
    main = "from ..outside.secret import secret\nimport leak\n\nsecret()\n"
    root = write_tree(tmp_path / "ws", {"pkg/main.py": main, "pkg/__init__.py": ""})
    os.symlink(outside / "secret.py", root / "pkg" / "linked.py")
    os.symlink(outside / "lib", root / "lib")
    opened: list[str] = []
    real_open = builtins.open

    def recording_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(file, (str, os.PathLike)):
            opened.append(os.path.realpath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", recording_open)
    monkeypatch.setattr(io, "open", recording_open)
    index = WorkspaceIndex(IndexSettings())
    try:
        index.set_roots([root])
        assert index.wait_ready(30)
        index.file_changed(outside / "secret.py")  # a stray event for a file out there
        index.file_changed(root / "pkg" / "linked.py")
        assert index.wait_idle(10)
        result = _select(index, root / "pkg" / "main.py", main, "secret()")
    finally:
        index.close()
    assert "secret" not in _names(index) and "leak" not in _names(index)
    assert "def secret" not in result and "def leak" not in result
    assert opened, "the recorder saw the index read its files"
    assert all(path.startswith(os.path.realpath(root) + os.sep) for path in opened), opened
