"""Where the server's own time per suggestion goes: wall time by phase, host waits apart,
and this thread's CPU time beside it (on a busy machine wall time also counts the waits for
a CPU; CPU time is what a quiet machine would see)."""

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
    # This thread's CPU time in each phase (in a host wait: reading the host's messages).
    spent_cpu: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    total: float = 0.0
    cpu: float = 0.0  # this thread's CPU time over the whole suggestion, host waits included

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.spent[name] += time.perf_counter() - t0
            self.spent_cpu[name] += time.thread_time() - c0

    def move(self, seconds: float, cpu: float, *, source: str, to: str) -> None:
        """Book time measured inside phase `source` to phase `to` (shaping done while the
        host streams, counting tokens during context building)."""
        self.spent[source] -= seconds
        self.spent[to] += seconds
        self.spent_cpu[source] -= cpu
        self.spent_cpu[to] += cpu

    def counting(
        self, count: Callable[[Sequence[str]], Awaitable[list[int]]]
    ) -> Callable[[Sequence[str]], Awaitable[list[int]]]:
        """`count` with its waits booked to `tokens` (and taken out of the phase around it)."""

        async def timed(texts: Sequence[str]) -> list[int]:
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return await count(texts)
            finally:
                waited, cpu = time.perf_counter() - t0, time.thread_time() - c0
                self.move(waited, cpu, source="context", to="tokens")

        return timed

    def finish(self) -> None:
        self.total = time.perf_counter() - self.started
        self.cpu = time.thread_time() - self.started_cpu
        booked = sum(v for k, v in self.spent.items() if k != "other")
        self.spent["other"] = max(0.0, self.total - booked)
        booked_cpu = sum(v for k, v in self.spent_cpu.items() if k != "other")
        self.spent_cpu["other"] = max(0.0, self.cpu - booked_cpu)

    @property
    def own(self) -> float:
        """Seconds this server spent beyond waiting on the host."""
        return self.total - sum(self.spent[k] for k in HOST_WAITS)

    @property
    def own_cpu(self) -> float:
        """This thread's CPU seconds in the server's own phases (the host waits' left out)."""
        return sum(v for k, v in self.spent_cpu.items() if k not in HOST_WAITS)

    def to_wire(self) -> dict[str, object]:
        ms = {k: round(v * 1000, 3) for k, v in self.spent.items()}
        return {
            "ownMs": round(self.own * 1000, 3),
            "ownCpuMs": round(self.own_cpu * 1000, 3),
            "totalMs": round(self.total * 1000, 3),
            "cpuMs": round(self.cpu * 1000, 3),
            **ms,
            "cpuPhasesMs": {k: round(v * 1000, 3) for k, v in self.spent_cpu.items()},
        }


@dataclass
class CostWindows:
    """The last suggestions' own time and phases, as percentiles for `tandem/status`."""

    own: LatencyWindow = field(default_factory=LatencyWindow)
    own_cpu: LatencyWindow = field(default_factory=LatencyWindow)
    phases: dict[str, LatencyWindow] = field(
        default_factory=lambda: {k: LatencyWindow() for k in PHASES}
    )
    last: SuggestionCost | None = None
    count: int = 0

    def add(self, cost: SuggestionCost) -> None:
        self.count += 1
        self.own.add(cost.own * 1000)
        self.own_cpu.add(cost.own_cpu * 1000)
        for name, seconds in cost.spent.items():
            self.phases[name].add(seconds * 1000)
        self.last = cost

    def to_wire(self) -> dict[str, object]:
        return {
            "count": self.count,
            "ownMs": self.own.to_wire(),
            "ownCpuMs": self.own_cpu.to_wire(),
            "phasesMs": {k: w.to_wire() for k, w in self.phases.items()},
            "last": self.last.to_wire() if self.last is not None else None,
        }
