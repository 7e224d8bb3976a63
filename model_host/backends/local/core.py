"""The engine loop, on the one thread that owns the device: schedule -> execute -> update.

Other threads only hand it requests and aborts (under a lock) and receive deltas
through each request's sink. An abort lands before the next step starts, so a
cancel stops a request within one step (at most `max_batch_tokens` tokens of work).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..base import Delta, GenerateRequest, backend_failed
from .request import FINISH_ERROR, EngineRequest
from .runner import ModelRunner
from .scheduler import Scheduler

log = logging.getLogger(__name__)

# What a request's consumer receives: deltas, or the exception that ended it.
Sink = Callable[[Delta | BaseException], None]


@dataclass
class _Slot:
    request: EngineRequest
    sink: Sink
    sent_cached: bool = False


class EngineCore:
    def __init__(self, runner: ModelRunner, scheduler: Scheduler, *, max_len: int) -> None:
        self.runner = runner
        self.scheduler = scheduler
        self.max_len = max_len
        self.steps = 0
        self._ids = itertools.count(1)
        self._slots: dict[int, _Slot] = {}
        self._incoming: list[_Slot] = []
        self._aborts: list[tuple[int, Callable[[], None] | None]] = []
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="tandem-engine", daemon=True)
        self._thread.start()

    # ---- any thread ---------------------------------------------------------------
    def submit(self, request: GenerateRequest, sink: Sink) -> int:
        rid = next(self._ids)
        slot = _Slot(EngineRequest.from_generate(rid, request, self.max_len), sink)
        with self._wake:
            if self._stopping:
                raise backend_failed("the engine is stopping")
            self._incoming.append(slot)
            self._wake.notify()
        return rid

    def abort(self, rid: int, on_done: Callable[[], None] | None = None) -> None:
        """Stop `rid` before the next step; `on_done` is called (on the engine thread) once it has."""
        with self._wake:
            self._aborts.append((rid, on_done))
            self._wake.notify()

    def stop(self, timeout: float = 10.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(timeout)

    def reset_counters(self) -> None:
        """Zero the statistics (after a warm-up); call while the engine is idle."""
        self.steps = 0
        self.scheduler.preemptions = 0
        self.scheduler.kv.queried_tokens = self.scheduler.kv.hit_tokens = 0

    def counts(self) -> tuple[int, int]:
        """(waiting, running), read without stopping the loop."""
        return len(self.scheduler.waiting), len(self.scheduler.running)

    # ---- the engine thread ------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._wake:
                while not (
                    self._incoming or self._aborts or self.scheduler.has_work or self._stopping
                ):
                    self._wake.wait()
                incoming, self._incoming = self._incoming, []
                aborts, self._aborts = self._aborts, []
                stopping = self._stopping
            for slot in incoming:
                self._slots[slot.request.id] = slot
                self.scheduler.add(slot.request)
            for rid, on_done in aborts:
                self._drop(rid)
                if on_done is not None:
                    on_done()
            if stopping:
                self._fail_all("the engine stopped")
                return
            try:
                self._step()
            except Exception as exc:  # a bug in scheduling: fail what is in flight, keep serving
                log.exception("an engine step failed; failing %d requests", len(self._slots))
                self._fail_all(f"engine error: {type(exc).__name__}: {exc}")

    def _step(self) -> None:
        out = self.scheduler.schedule()
        ended, self.scheduler.ended = self.scheduler.ended, []
        for request in ended:
            self._emit(request, [])
        if out.empty:
            # Nothing fits right now (cannot happen with a pool of at least one window,
            # but never spin if it does).
            time.sleep(0.001)
            return
        try:
            sampled = self.runner.execute(out)
        except Exception as exc:
            log.exception("a forward pass failed; failing the %d requests in it", len(out.seqs))
            for request in self.scheduler.fail(out, f"{type(exc).__name__}: {exc}"):
                self._emit(request, [])
            return
        finally:
            self.steps += 1
        for request in self.scheduler.update(out, sampled):
            self._emit(request, request.tokens[-1:])

    def _fail_all(self, message: str) -> None:
        for rid in list(self._slots):
            slot = self._slots[rid]
            self._drop(rid)
            slot.sink(backend_failed(message))

    def _drop(self, rid: int) -> None:
        slot = self._slots.pop(rid, None)
        if slot is not None:
            self.scheduler.abort(rid)
        self.runner.forget(rid)

    def _emit(self, request: EngineRequest, ids: list[int]) -> None:
        slot = self._slots.get(request.id)
        if slot is None:
            return
        if request.finish_reason == FINISH_ERROR:
            self._slots.pop(request.id)
            self.runner.forget(request.id)
            slot.sink(backend_failed(f"generation failed: {request.error}"))
            return
        delta = Delta(ids=ids)
        if not slot.sent_cached:
            delta.cached_tokens = request.num_cached
            slot.sent_cached = True
        if request.finished:
            delta.finish = request.finish_reason  # type: ignore[assignment]
            self._slots.pop(request.id)
            self.runner.forget(request.id)
        slot.sink(delta)

    def status(self) -> dict[str, Any]:
        kv = self.scheduler.kv
        waiting, running = self.counts()
        return {
            "queue_depth": waiting,
            "active": running,
            "decode_steps": self.steps,
            "preemptions": self.scheduler.preemptions,
            "kv_blocks": kv.num_blocks,
            "kv_block_size": kv.block_size,
            "kv_blocks_free": kv.num_free,
            "prefix_cache": kv.prefix_cache,
            "prompt_tokens_seen": kv.queried_tokens,
            "cached_tokens": kv.hit_tokens,
        }
