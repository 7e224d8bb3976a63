"""Local-only suggestion statistics (shown/accepted/rejected, latency). Nothing leaves the machine."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from model_host.stats import LatencyWindow

from .cost import CostWindows, SuggestionCost


@dataclass
class SuggestionStats:
    requested: int = 0
    shown: int = 0
    accepted: int = 0
    partially_accepted: int = 0
    rejected: int = 0
    cache_hits: int = 0
    empty: int = 0
    latency: LatencyWindow = field(default_factory=LatencyWindow)
    # Prompt tokens the host had to compute per model call (the rest came from its cache).
    recomputed: LatencyWindow = field(default_factory=LatencyWindow)
    last_timings: dict[str, Any] | None = None
    # This server's own wall time per model-backed suggestion, by phase (host waits apart).
    cost: CostWindows = field(default_factory=CostWindows)
    # Tokens the model generated for suggestions, how many requests were stopped the moment
    # their suggestion was decided, and how many tokens came after that moment anyway (the
    # decode runs on while the stop travels to the host).
    generated_tokens: int = 0
    stopped_at_decision: int = 0
    discarded_tokens: int = 0
    # Ids already counted per event kind: an editor may report one acceptance twice
    # (the item's command and a suggestionEvent); each suggestion counts once.
    _seen: OrderedDict[tuple[str, str], None] = field(default_factory=OrderedDict)

    def record_latency(self, ms: float) -> None:
        self.latency.add(ms)

    def record_cost(self, cost: SuggestionCost) -> None:
        self.cost.add(cost)

    def record_host(self, timings: Mapping[str, Any]) -> None:
        """A model call's timings as the host reported them (an older host may lack fields)."""
        self.last_timings = dict(timings)
        prompt, cached = timings.get("prompt_tokens"), timings.get("cached_tokens")
        if isinstance(prompt, int) and isinstance(cached, int):
            self.recomputed.add(prompt - cached)

    def record_tokens(self, generated: object, decided_at: int | None) -> None:
        """One request's token count, and the count when its suggestion was decided."""
        if not isinstance(generated, int):
            return
        self.generated_tokens += generated
        if decided_at is not None:
            self.stopped_at_decision += 1
            self.discarded_tokens += max(0, generated - decided_at)

    def record_event(self, kind: str, suggestion_id: str | None = None) -> None:
        if suggestion_id is not None:
            key = (kind, suggestion_id)
            if key in self._seen:
                return
            self._seen[key] = None
            if len(self._seen) > 10_000:
                self._seen.popitem(last=False)
        if kind == "shown":
            self.shown += 1
        elif kind == "accepted":
            self.accepted += 1
        elif kind == "partiallyAccepted":
            self.partially_accepted += 1
        elif kind == "rejected":
            self.rejected += 1

    def to_wire(self) -> dict[str, object]:
        return {
            "requested": self.requested,
            "shown": self.shown,
            "accepted": self.accepted,
            "partiallyAccepted": self.partially_accepted,
            "rejected": self.rejected,
            "cacheHits": self.cache_hits,
            "empty": self.empty,
            "latencyMs": self.latency.to_wire(),
            "serverCost": self.cost.to_wire(),
            "recomputedTokens": self.recomputed.to_wire(),
            "lastHostTimings": self.last_timings,
            "generatedTokens": self.generated_tokens,
            "stoppedAtDecision": self.stopped_at_decision,
            "discardedTokens": self.discarded_tokens,
        }
