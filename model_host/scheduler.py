"""Fair sharing of one model: a worker thread that interleaves generations step by step.

Every active generation gets one step (a prefill chunk or one token) per round,
so a long chat never freezes other windows' completions; completions (priority 0)
are admitted before chats when slots are scarce. The queue is capped: past the
cap a request is refused as busy rather than left to rot.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any

import torch

from .engine import Generation
from .rpc.protocol import ErrorCode, RpcError

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self, model: Any, device: torch.device, *, max_active: int = 4, max_queue: int = 32
    ) -> None:
        self.model = model
        self.device = device
        self.max_active = max_active
        self.max_queue = max_queue
        self.decode_steps = 0
        self._waiting: deque[Generation] = deque()
        self._active: list[Generation] = []
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="tandem-decode", daemon=True)
        self._thread.start()

    @property
    def queue_depth(self) -> int:
        return len(self._waiting)

    @property
    def active(self) -> int:
        return len(self._active)

    def submit(self, gen: Generation) -> None:
        with self._wake:
            if self._stopping:
                raise RpcError(ErrorCode.SHUTTING_DOWN, "the host is shutting down")
            if len(self._waiting) + len(self._active) >= self.max_queue:
                raise RpcError(
                    ErrorCode.BUSY,
                    f"the host is busy ({self.max_queue} requests queued); try again shortly",
                    {"queued": len(self._waiting), "active": len(self._active)},
                )
            self._waiting.append(gen)
            self._wake.notify()

    def cancel(self, gen: Generation) -> None:
        gen.cancel()
        with self._wake:
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            for gen in [*self._waiting, *self._active]:
                gen.cancel()
            self._wake.notify()
        self._thread.join(timeout=10)

    def _admit(self) -> None:
        """Move waiting generations into free slots, lower priority value first."""
        while self._waiting and len(self._active) < self.max_active:
            best = min(range(len(self._waiting)), key=lambda i: self._waiting[i].priority)
            gen = self._waiting[best]
            del self._waiting[best]
            self._active.append(gen)

    def _run(self) -> None:
        while True:
            with self._wake:
                # Cancelled generations that never started are answered at once.
                for gen in [g for g in self._waiting if g.cancelled]:
                    self._waiting.remove(gen)
                    gen.finish("cancelled")
                self._admit()
                while not self._active and not self._stopping:
                    self._wake.wait()
                    self._admit()
                if self._stopping and not self._active:
                    for gen in self._waiting:
                        gen.finish("cancelled")
                    self._waiting.clear()
                    return
                batch = list(self._active)
            for gen in batch:
                try:
                    if gen.step(self.model, self.device):
                        self.decode_steps += 1
                except Exception as exc:  # one bad request must not stop the others
                    log.exception("generation failed")
                    gen.finish("error", exc)
                if gen.done:
                    with self._wake:
                        self._active.remove(gen)
