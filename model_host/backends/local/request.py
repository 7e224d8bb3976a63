"""One request's state inside the engine: its tokens, progress, cache blocks and fate. No torch here."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field

from ..base import GenerateRequest, Sampling


class Status(enum.Enum):
    WAITING = "waiting"  # not admitted yet, or preempted back to the queue
    RUNNING = "running"  # holds cache blocks; gets tokens computed every step
    FINISHED = "finished"


# Why a request left the engine. "end"/"length" are the backend's own finishes;
# "aborted" means its consumer went away; "error" a failed forward pass.
FINISH_END = "end"
FINISH_LENGTH = "length"
FINISH_ABORTED = "aborted"
FINISH_ERROR = "error"


@dataclass(eq=False)
class EngineRequest:
    id: int
    prompt_len: int
    max_tokens: int
    sampling: Sampling
    stop_ids: frozenset[int]
    priority: int
    max_len: int  # the model's window: no position past it
    # prompt + generated so far; the last one is not in the KV cache yet while decoding
    tokens: list[int] = field(default_factory=list)
    arrival: float = field(default_factory=time.monotonic)
    status: Status = Status.WAITING
    # Tokens whose K/V are in the cache (a prefix of `tokens`).
    num_computed: int = 0
    # Prompt tokens found in the prefix cache at first admission (reported to the client).
    num_cached: int | None = None
    finish_reason: str | None = None
    error: str | None = None
    preemptions: int = 0

    @classmethod
    def from_generate(cls, rid: int, req: GenerateRequest, max_len: int) -> EngineRequest:
        return cls(
            id=rid,
            prompt_len=len(req.prompt),
            max_tokens=req.max_tokens,
            sampling=req.sampling,
            stop_ids=req.stop_ids,
            priority=req.priority,
            max_len=max_len,
            tokens=list(req.prompt),
        )

    @property
    def num_tokens(self) -> int:
        return len(self.tokens)

    @property
    def num_generated(self) -> int:
        return len(self.tokens) - self.prompt_len

    @property
    def remaining(self) -> int:
        """Known tokens whose K/V still have to be computed (prompt chunks, or the last sample)."""
        return len(self.tokens) - self.num_computed

    @property
    def finished(self) -> bool:
        return self.status is Status.FINISHED

    def order(self) -> tuple[int, float, int]:
        """Scheduling order: completions before chats, then first come first served."""
        return (self.priority, self.arrival, self.id)

    def append(self, token: int) -> str | None:
        """Take one sampled token; returns why the request is now done, if it is."""
        self.tokens.append(token)
        if token in self.stop_ids:
            return FINISH_END
        if self.num_generated >= self.max_tokens or len(self.tokens) >= self.max_len:
            return FINISH_LENGTH
        return None
