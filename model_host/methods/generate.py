"""One generation: a backend's ids through the output processor, streamed as text as it comes."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..backends.base import Backend, GenerateRequest, Sampling
from ..checkpoint.load import Checkpoint
from ..rpc.messages import CancelledData, GenerateResult, StreamNote
from ..rpc.protocol import ErrorCode, RpcError
from ..text.output import Clock, OutputProcessor, result
from .params import GenerateParams

# Receives each piece of text as it becomes safe to show, in order, while the generation runs.
StreamSink = Callable[[StreamNote], Awaitable[None]]


@dataclass
class Prompt:
    ids: list[int]
    mode: str  # "infill" | "prefix" | "chat"


@dataclass
class Generation:
    """Feeds one prompt to a backend and turns the ids it streams into the answer.

    What it has made so far stays readable while it runs, so a cancelled request can
    still answer with the text and timings it had.
    """

    backend: Backend
    checkpoint: Checkpoint
    prompt: Prompt
    gen: GenerateParams
    strip_leading_space: bool
    priority: int
    affinity: str | None = None
    msgid: int = 0  # the request's id, carried by its stream notes
    clock: Clock = field(default_factory=Clock)
    cached_tokens: int = 0
    out: OutputProcessor = field(init=False)
    request: GenerateRequest = field(init=False)

    def __post_init__(self) -> None:
        profile = self.checkpoint.profile
        window, n = profile.context_window, len(self.prompt.ids)
        if n >= window:
            raise RpcError(
                ErrorCode.CONTEXT_OVERFLOW,
                f"the prompt is {n} tokens; the model's context window is {window}",
                {"prompt_tokens": n, "context_window": window},
            )
        self.request = GenerateRequest(
            prompt=tuple(self.prompt.ids),
            max_tokens=min(self.gen.max_tokens, window - n),
            sampling=Sampling(self.gen.temperature, self.gen.top_p, self.gen.seed),
            stop_ids=frozenset(profile.stop_ids),
            priority=self.priority,
            affinity=self.affinity,
        )
        self.out = OutputProcessor(
            self.checkpoint.tokenizer,
            stops=self.gen.stop,
            stop_ids=self.request.stop_ids,
            strip_leading_space=self.strip_leading_space,
        )

    @property
    def generated(self) -> int:
        return self.out.generated

    async def run(self, sink: StreamSink | None = None) -> GenerateResult:
        """Generate to the end (a stop id, a stop string, max_tokens); `sink` gets the
        text as it comes when the request asked to stream."""
        out, clock = self.out, self.clock
        finish = "length"
        index = 0
        async with contextlib.aclosing(self.backend.generate(self.request)) as deltas:
            async for delta in deltas:
                if clock.first_token is None and delta.ids:
                    clock.first_token = time.perf_counter()
                if delta.cached_tokens is not None:
                    self.cached_tokens = delta.cached_tokens
                text = out.feed(delta.ids)
                if delta.finish is not None:
                    text += out.flush()
                    finish = delta.finish
                if out.stopped:
                    finish = "stop"
                if text and self.gen.stream and sink is not None:
                    note: StreamNote = {
                        "id": self.msgid,
                        "text": text,
                        "index": index,
                        "tokens": out.generated,
                    }
                    await sink(note)
                    index += 1
                if delta.finish is not None or out.stopped:
                    break  # leaving the stream stops the backend (a stop string)
        clock.finished = time.perf_counter()
        n = len(self.prompt.ids)
        timings = clock.timings(out.generated, n, self.cached_tokens)
        return result(out, finish_reason=finish, prompt_tokens=n, timings=timings)

    def partial(self) -> CancelledData:
        """What a cancelled generation had made: its text, token count and timings."""
        out = self.out
        data: CancelledData = {"generated_tokens": out.generated, "text": out.text}
        data["timings"] = self.clock.timings(
            out.generated, len(self.prompt.ids), self.cached_tokens
        )
        return data
