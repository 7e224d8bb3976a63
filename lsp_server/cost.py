"""Where the server's own time per suggestion goes: wall time by phase, host waits apart."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from model_host.stats import LatencyWindow

# The phases, in the order a suggestion passes them. `tokens` and `host` are waits on the
# model host (counting prompt tokens, generating); the rest is this server's own work.
PHASES = ("context", "tokens", "host", "shaping", "other")
HOST_WAITS = ("tokens", "host")


@dataclass
class SuggestionCost:
    """One model-backed suggestion's wall time, split by phase, in seconds."""

    started: float = field(default_factory=time.perf_counter)
    started_cpu: float = field(default_factory=time.thread_time)
    spent: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    total: float = 0.0
    cpu: float = 0.0  # this thread's CPU time over the whole suggestion, host waits included

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.spent[name] += time.perf_counter() - t0

    def counting(
        self, count: Callable[[Sequence[str]], Awaitable[list[int]]]
    ) -> Callable[[Sequence[str]], Awaitable[list[int]]]:
        """`count` with its waits booked to `tokens` (and taken out of the phase around it)."""

        async def timed(texts: Sequence[str]) -> list[int]:
            t0 = time.perf_counter()
            try:
                return await count(texts)
            finally:
                self.spent["tokens"] += time.perf_counter() - t0
                self.spent["context"] -= time.perf_counter() - t0

        return timed

    def finish(self) -> None:
        self.total = time.perf_counter() - self.started
        self.cpu = time.thread_time() - self.started_cpu
        booked = sum(v for k, v in self.spent.items() if k != "other")
        self.spent["other"] = max(0.0, self.total - booked)

    @property
    def own(self) -> float:
        """Seconds this server spent beyond waiting on the host."""
        return self.total - sum(self.spent[k] for k in HOST_WAITS)

    def to_wire(self) -> dict[str, float]:
        ms = {k: round(v * 1000, 3) for k, v in self.spent.items()}
        return {
            "ownMs": round(self.own * 1000, 3),
            "totalMs": round(self.total * 1000, 3),
            "cpuMs": round(self.cpu * 1000, 3),
            **ms,
        }


@dataclass
class CostWindows:
    """The last suggestions' own time and phases, as percentiles for `tandem/status`."""

    own: LatencyWindow = field(default_factory=LatencyWindow)
    phases: dict[str, LatencyWindow] = field(
        default_factory=lambda: {k: LatencyWindow() for k in PHASES}
    )
    last: SuggestionCost | None = None
    count: int = 0

    def add(self, cost: SuggestionCost) -> None:
        self.count += 1
        self.own.add(cost.own * 1000)
        for name, seconds in cost.spent.items():
            self.phases[name].add(seconds * 1000)
        self.last = cost

    def to_wire(self) -> dict[str, object]:
        return {
            "count": self.count,
            "ownMs": self.own.to_wire(),
            "phasesMs": {k: w.to_wire() for k, w in self.phases.items()},
            "last": self.last.to_wire() if self.last is not None else None,
        }
