"""The seam between the host's methods and whatever runs the model: prompt ids in, a stream of ids out.

Everything that makes Tandem's output Tandem's (exact prompts, detokenizing, stop
strings, timings, the wire format) lives above this interface, so the in-process
engine and a remote serving engine produce identical text and the same guarantees.
A backend only generates: it stops at the request's stop ids or its token limit,
and a consumer that stops reading (closes the stream or is cancelled) aborts the
request on the engine.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ..rpc.protocol import ErrorCode, RpcError

# Why a backend stopped on its own: a stop id ("end") or the token limit ("length").
BackendFinish = Literal["end", "length"]

PRIORITY_COMPLETE = 0  # ghost text: someone is waiting on every keystroke
PRIORITY_CHAT = 1


@dataclass(frozen=True)
class Sampling:
    """How the next token is chosen. Temperature 0 is greedy."""

    temperature: float = 0.2
    top_p: float = 0.95
    seed: int | None = None

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0


@dataclass(frozen=True)
class GenerateRequest:
    prompt: tuple[int, ...]
    max_tokens: int
    sampling: Sampling
    stop_ids: frozenset[int]
    priority: int = PRIORITY_COMPLETE
    # A key (the document's URI) that keeps related requests together: a remote
    # backend routes them to the same replica so its prefix cache keeps hitting.
    affinity: str | None = None


@dataclass
class Delta:
    """New ids since the previous delta; the last one has `finish` set."""

    ids: list[int] = field(default_factory=list)
    finish: BackendFinish | None = None
    # Prompt tokens the engine did not have to compute (prefix cache), when it knows.
    cached_tokens: int | None = None


class BackendError(RpcError):
    """A generation the backend could not run (busy, unreachable, failed); converted at the edge."""


def backend_failed(message: str, data: Any = None) -> BackendError:
    return BackendError(ErrorCode.INTERNAL_ERROR, message, data)


class Backend(Protocol):
    """What the host needs from an engine.

    `generate` is an async iterator of deltas. Cancellation is by cancelling the
    task that iterates it, or by closing it (`aclose()`): the backend then stops
    the request on its engine within one step.
    """

    name: str

    def generate(self, request: GenerateRequest) -> AsyncGenerator[Delta, None]: ...

    def status(self) -> dict[str, Any]: ...

    async def close(self) -> None: ...
