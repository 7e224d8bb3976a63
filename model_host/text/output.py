"""From a backend's ids to the text a client gets: detokenizing, stop strings, timings, the result.

This sits above every backend, so the in-process engine and a remote one produce
exactly the same text for the same ids.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..rpc.messages import GenerateResult, Timings
from .detok import StopMatcher, StreamDecoder
from .tokenizer import Tokenizer


@dataclass
class Clock:
    submitted: float = field(default_factory=time.perf_counter)
    first_token: float | None = None
    finished: float | None = None

    def timings(self, generated: int, prompt_tokens: int, cached_tokens: int) -> Timings:
        end = self.finished or time.perf_counter()
        first = self.first_token or end
        decode_s = end - first
        return {
            "queue_ms": 0.0,  # kept for old clients; the engine has no separate queue wait
            "first_token_ms": round((first - self.submitted) * 1000, 2),
            "total_ms": round((end - self.submitted) * 1000, 2),
            "tokens_per_s": round((generated - 1) / decode_s, 2)
            if generated > 1 and decode_s > 0
            else 0.0,
            "prompt_tokens": prompt_tokens,
            "cached_tokens": cached_tokens,
        }


class OutputProcessor:
    """Feeds generated ids, yields text safe to show; knows when a stop string ended it."""

    def __init__(
        self,
        tok: Tokenizer,
        *,
        stops: Sequence[str],
        stop_ids: frozenset[int],
        strip_leading_space: bool,
    ) -> None:
        self._decoder = StreamDecoder(tok, strip_leading_space=strip_leading_space)
        self._stops = StopMatcher(stops)
        self._stop_ids = stop_ids
        self.parts: list[str] = []
        self.generated = 0
        self.stopped = False  # a stop string was reached

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def feed(self, ids: Sequence[int]) -> str:
        """Text that the new ids complete (stop ids are counted but never shown)."""
        out: list[str] = []
        for token in ids:
            if self.stopped:
                break
            self.generated += 1
            if token in self._stop_ids:
                continue
            visible, hit = self._stops.feed(self._decoder.push(token))
            out.append(visible)
            self.stopped = hit
        return self._keep("".join(out))

    def flush(self) -> str:
        """The end of generation: release text held back for a stop string or half a character."""
        if self.stopped:
            return ""
        visible, hit = self._stops.feed(self._decoder.flush())
        self.stopped = hit
        return self._keep(visible + ("" if hit else self._stops.flush()))

    def _keep(self, text: str) -> str:
        if text:
            self.parts.append(text)
        return text


def result(
    out: OutputProcessor, *, finish_reason: str, prompt_tokens: int, timings: Timings
) -> GenerateResult:
    return {
        "text": out.text,
        "finish_reason": finish_reason,
        "prompt_tokens": prompt_tokens,
        "generated_tokens": out.generated,
        "timings": timings,
    }
