"""Parsing many files off the event loop: worker processes for big workspaces, else this thread.

A tree-sitter parse holds the GIL, so parsing thousands of files on a thread of the server
would slow every request the event loop serves meanwhile. Past `POOL_MIN_FILES` the files go
to low-priority worker processes (`worker.py`); the thread here only receives records. Small
workspaces, and any failure of a worker, parse here with the GIL released between chunks and
files.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

from .model import FileRecord
from .records import BatchItem, read_record
from .worker import read_frame, write_frame

log = logging.getLogger(__name__)

POOL_MIN_FILES = 400  # fewer files than this parse on the indexing thread
BATCH_FILES = 32  # small batches: a request frame always fits in the pipe's buffer


def _workers() -> int:
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def parse_files(
    items: list[BatchItem], max_bytes: int, stop: threading.Event
) -> Iterator[list[FileRecord | None]]:
    """Records for `items`, one list per batch, in order; stops early when `stop` is set."""
    batches = [items[i : i + BATCH_FILES] for i in range(0, len(items), BATCH_FILES)]
    done = 0
    if len(items) >= POOL_MIN_FILES:
        for records in _in_workers(batches, max_bytes, stop):
            done += 1
            yield records
    for batch in batches[done:]:
        if stop.is_set():
            return
        yield _in_thread(batch, max_bytes)


def _in_thread(batch: list[BatchItem], max_bytes: int) -> list[FileRecord | None]:
    records: list[FileRecord | None] = []
    for item in batch:
        records.append(read_record(item, max_bytes, yield_gil=True))
        time.sleep(0)  # let the event loop's thread run between files
    return records


def _start_worker() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "lsp_server.workspace.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def _in_workers(
    batches: list[list[BatchItem]], max_bytes: int, stop: threading.Event
) -> Iterator[list[FileRecord | None]]:
    """Batches parsed by worker processes, in order, until one fails (the caller goes on).

    Each worker has at most one batch in flight: its request is small, so neither side ever
    blocks on a full pipe while the other waits for it."""
    workers: list[subprocess.Popen[bytes]] = []
    try:
        workers = [_start_worker() for _ in range(min(_workers(), len(batches)))]
        for index, worker in enumerate(workers):
            _send(worker, batches[index], max_bytes)
        for index in range(len(batches)):
            if stop.is_set():
                return
            worker = workers[index % len(workers)]
            assert worker.stdout is not None
            records = read_frame(worker.stdout)
            if records is None:
                raise OSError(f"worker exited ({worker.poll()})")
            following = index + len(workers)
            if following < len(batches):
                _send(worker, batches[following], max_bytes)
            yield records
    except Exception as error:  # the rest parses on the indexing thread
        log.warning("indexing worker failed (%s); continuing in this process", error)
    finally:
        for worker in workers:
            _stop(worker)


def _send(worker: subprocess.Popen[bytes], batch: list[BatchItem], max_bytes: int) -> None:
    assert worker.stdin is not None
    write_frame(worker.stdin, (batch, max_bytes))


def _stop(worker: subprocess.Popen[bytes]) -> None:
    try:
        if worker.stdin is not None:
            worker.stdin.close()
        worker.wait(timeout=2)
    except Exception:
        worker.kill()
        worker.wait()
