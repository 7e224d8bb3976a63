"""Parsing many files off the event loop: a subprocess for big workspaces, else this thread.

A tree-sitter parse holds the GIL, so parsing thousands of files on a thread of the server
would slow every request the event loop serves meanwhile. Past `POOL_MIN_FILES` the files go
to a low-priority subprocess (spawned, so it shares nothing with the server's threads); the
thread here only receives records. Small batches, and any failure to start the subprocess,
parse here with the GIL released between chunks and files.
"""

from __future__ import annotations

import concurrent.futures as futures
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator

from .model import FileRecord
from .records import BatchItem, lower_priority, parse_batch, read_record

log = logging.getLogger(__name__)

POOL_MIN_FILES = 400  # fewer files than this parse on the indexing thread
BATCH_FILES = 64
_AHEAD = 3  # batches in flight per worker process


def _workers() -> int:
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def parse_files(
    items: list[BatchItem], max_bytes: int, stop: threading.Event
) -> Iterator[list[FileRecord | None]]:
    """Records for `items`, one list per batch, in order; stops early when `stop` is set."""
    batches = [items[i : i + BATCH_FILES] for i in range(0, len(items), BATCH_FILES)]
    done = 0
    if len(items) >= POOL_MIN_FILES:
        for records in _in_subprocess(batches, max_bytes, stop):
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


def _in_subprocess(
    batches: list[list[BatchItem]], max_bytes: int, stop: threading.Event
) -> Iterator[list[FileRecord | None]]:
    """Batches parsed by worker processes, in order, until one fails (the caller goes on)."""
    try:
        pool = futures.ProcessPoolExecutor(
            max_workers=_workers(),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=lower_priority,
        )
    except (OSError, ValueError, NotImplementedError) as error:
        log.warning("indexing in this process: no worker process (%s)", error)
        return
    try:
        pending: list[futures.Future[list[FileRecord | None]]] = []
        next_batch = 0
        while next_batch < len(batches) or pending:
            while next_batch < len(batches) and len(pending) < _AHEAD * _workers():
                pending.append(pool.submit(parse_batch, batches[next_batch], max_bytes))
                next_batch += 1
            if stop.is_set():
                return
            yield pending.pop(0).result()
    except Exception as error:  # a broken pool: the rest parses on the indexing thread
        log.warning("indexing worker process failed (%s); continuing in this process", error)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
