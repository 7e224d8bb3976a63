"""Parsing off the event loop: worker processes for big workspaces, this thread as a fallback."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from ws_helpers import write_tree

from lsp_server.workspace import parsing
from lsp_server.workspace.model import FileRecord
from lsp_server.workspace.records import BatchItem


def _items(root: Path, count: int) -> list[BatchItem]:
    write_tree(root, {f"m{i}.py": f"def f{i}(x):\n    return x\n" for i in range(count)})
    return [(str(root / f"m{i}.py"), f"m{i}.py", 0, 0) for i in range(count)]


def _parse(items: list[BatchItem]) -> list[FileRecord | None]:
    return [r for batch in parsing.parse_files(items, 10_000, threading.Event()) for r in batch]


def test_worker_processes_give_the_same_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = _items(tmp_path, 70)
    in_thread = _parse(items)
    started: list[object] = []
    real_start = parsing._start_worker

    def counting_start() -> subprocess.Popen[bytes]:
        started.append(1)
        return real_start()

    monkeypatch.setattr(parsing, "POOL_MIN_FILES", 1)
    monkeypatch.setattr(parsing, "_start_worker", counting_start)
    assert _parse(items) == in_thread
    assert started  # the records really came from worker processes
    assert [r.definitions[0].name for r in in_thread if r] == [f"f{i}" for i in range(70)]


def test_a_failing_worker_falls_back_to_this_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = _items(tmp_path, 40)

    def dying_worker() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-c", "import sys; sys.stdin.buffer.read(8)"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    monkeypatch.setattr(parsing, "POOL_MIN_FILES", 1)
    monkeypatch.setattr(parsing, "_start_worker", dying_worker)
    records = _parse(items)
    assert len(records) == 40 and all(r is not None for r in records)


def test_a_stop_ends_parsing_early(tmp_path: Path) -> None:
    items = _items(tmp_path, 100)
    stop = threading.Event()
    batches = parsing.parse_files(items, 10_000, stop)
    next(batches)
    stop.set()
    assert list(batches) == []
