"""Counters and latency percentiles the host reports in `status`."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from .rpc.messages import Timings


class LatencyWindow:
    """The last `size` samples, in milliseconds; percentiles by nearest rank."""

    def __init__(self, size: int = 1000) -> None:
        self._samples: deque[float] = deque(maxlen=size)

    def add(self, ms: float) -> None:
        self._samples.append(ms)

    def percentile(self, q: float) -> float | None:
        if not self._samples:
            return None
        ordered = sorted(self._samples)
        rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
        return round(ordered[rank], 2)

    def to_wire(self) -> dict[str, float | None]:
        return {"p50": self.percentile(50), "p95": self.percentile(95)}


@dataclass
class HostStats:
    started: float = field(default_factory=time.monotonic)
    served: int = 0
    failed: int = 0
    cancelled: int = 0
    busy: int = 0
    tokens_generated: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens served from the engine's prefix cache
    latency: LatencyWindow = field(default_factory=LatencyWindow)
    first_token: LatencyWindow = field(default_factory=LatencyWindow)

    def record(self, timings: Timings) -> None:
        """A served request's timings."""
        self.latency.add(timings["total_ms"])
        self.first_token.add(timings["first_token_ms"])
        self.prompt_tokens += timings["prompt_tokens"]
        self.cached_tokens += timings["cached_tokens"]

    def to_wire(self) -> dict[str, object]:
        return {
            "uptime_s": round(time.monotonic() - self.started, 1),
            "served": self.served,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "busy_refusals": self.busy,
            "tokens_generated": self.tokens_generated,
            "prompt_tokens": self.prompt_tokens,
            "cached_tokens": self.cached_tokens,
            "latency_ms": self.latency.to_wire(),
            "first_token_ms": self.first_token.to_wire(),
        }
