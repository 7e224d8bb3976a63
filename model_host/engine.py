"""The decode path: prefill, one decode step, sampling, and a generation's per-step state.

Shaped like gpt-fast: a few small functions with explicit shapes, a KV cache the
engine owns per sequence, and a `Generation` that advances exactly one step per
call so a scheduler can interleave many of them and stop any within one step.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import DynamicCache

from .detok import StopMatcher, StreamDecoder

PREFILL_CHUNK = 512


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.2
    top_p: float = 0.95
    seed: int | None = None


@torch.inference_mode()
def forward_last(model: Any, input_ids: torch.Tensor, cache: DynamicCache) -> torch.Tensor:
    """Run `input_ids` through the model, extending `cache`.

    input_ids: [1, S] -> logits of the last position: [1, V] (float32)
    """
    out = model(input_ids=input_ids, past_key_values=cache, use_cache=True, logits_to_keep=1)
    return out.logits[:, -1, :].float()


def prefill(model: Any, prompt: torch.Tensor, cache: DynamicCache) -> torch.Tensor:
    """prompt: [1, S] -> logits [1, V]; the whole chunk goes through in one forward."""
    return forward_last(model, prompt, cache)


def decode_one_token(model: Any, token: torch.Tensor, cache: DynamicCache) -> torch.Tensor:
    """token: [1, 1] -> logits [1, V]."""
    return forward_last(model, token, cache)


def sample(logits: torch.Tensor, sampling: Sampling, generator: torch.Generator | None) -> int:
    """logits: [1, V] -> one token id. Temperature 0 is greedy."""
    if sampling.temperature <= 0:
        return int(torch.argmax(logits, dim=-1).item())
    probs = torch.softmax(logits / sampling.temperature, dim=-1)  # [1, V]
    if sampling.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        cumulative = torch.cumsum(sorted_probs, dim=-1)
        # Keep the smallest set whose mass reaches top_p (always at least one token).
        sorted_probs[(cumulative - sorted_probs) > sampling.top_p] = 0.0
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_probs)
    return int(torch.multinomial(probs, 1, generator=generator).item())


@dataclass
class Timings:
    submitted: float = field(default_factory=time.perf_counter)
    started: float | None = None
    first_token: float | None = None
    finished: float | None = None

    def to_wire(self, generated: int) -> dict[str, float]:
        end = self.finished or time.perf_counter()
        start = self.started or end
        first = self.first_token or end
        decode_s = end - first
        return {
            "queue_ms": round((start - self.submitted) * 1000, 2),
            "first_token_ms": round((first - self.submitted) * 1000, 2),
            "total_ms": round((end - self.submitted) * 1000, 2),
            "tokens_per_s": round((generated - 1) / decode_s, 2)
            if generated > 1 and decode_s > 0
            else 0.0,
        }


@dataclass
class Generation:
    """One request's decode state. Advanced only by the scheduler's thread via `step()`.

    `on_text` and `on_done` are called from that thread; the server turns them
    into events on its own loop.
    """

    prompt: list[int]
    max_tokens: int
    sampling: Sampling
    stop_ids: frozenset[int]
    decoder: StreamDecoder
    stops: StopMatcher
    on_text: Callable[[str], None]
    on_done: Callable[[Generation], None]
    priority: int = 0
    timings: Timings = field(default_factory=Timings)
    generated: int = 0
    finish_reason: str | None = None
    error: BaseException | None = None
    text_parts: list[str] = field(default_factory=list)
    _cancel: threading.Event = field(default_factory=threading.Event)
    _cache: DynamicCache | None = None
    _prefilled: int = 0
    _last: int | None = None
    _generator: torch.Generator | None = None

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    @property
    def done(self) -> bool:
        return self.finish_reason is not None

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def step(self, model: Any, device: torch.device) -> bool:
        """Advance by one prefill chunk or one decoded token; False when no forward ran."""
        if self.cancelled:
            self.finish("cancelled")
            return False
        if self._cache is None:
            self._cache = DynamicCache()
            self.timings.started = time.perf_counter()
            if self.sampling.seed is not None:
                self._generator = torch.Generator(device=device).manual_seed(self.sampling.seed)
        if self._prefilled < len(self.prompt):
            chunk = self.prompt[self._prefilled : self._prefilled + PREFILL_CHUNK]
            ids = torch.tensor([chunk], dtype=torch.long, device=device)  # [1, S]
            logits = prefill(model, ids, self._cache)
            self._prefilled += len(chunk)
            if self._prefilled < len(self.prompt):
                return True
        else:
            assert self._last is not None
            token = torch.tensor([[self._last]], dtype=torch.long, device=device)  # [1, 1]
            logits = decode_one_token(model, token, self._cache)
        self._accept(sample(logits, self.sampling, self._generator))
        return True

    def _accept(self, token: int) -> None:
        if self.timings.first_token is None:
            self.timings.first_token = time.perf_counter()
        self.generated += 1
        self._last = token
        if token in self.stop_ids:
            self.finish("end")
            return
        visible, hit = self.stops.feed(self.decoder.push(token))
        self._emit(visible)
        if hit:
            self.finish("stop")
        elif self.generated >= self.max_tokens:
            self.finish("length")

    def _emit(self, text: str) -> None:
        if text:
            self.text_parts.append(text)
            self.on_text(text)

    def finish(self, reason: str, error: BaseException | None = None) -> None:
        if self.done:
            return
        if reason in ("end", "length"):
            # Release text held back for a possible stop string or half a character.
            visible, _ = self.stops.feed(self.decoder.flush())
            self._emit(visible + self.stops.flush())
        self.finish_reason = reason
        self.error = error
        self.timings.finished = time.perf_counter()
        self._cache = None  # free the KV cache now, not when the last reference goes
        self.on_done(self)

    def result(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "finish_reason": self.finish_reason,
            "prompt_tokens": len(self.prompt),
            "generated_tokens": self.generated,
            "timings": self.timings.to_wire(self.generated),
        }
