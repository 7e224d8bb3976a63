"""The host protocol's payloads, typed once for both ends (the host builds them, clients read them).

Names and meanings are documented in docs/protocol.md; method names and error codes
are in `protocol.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NotRequired, Required, TypedDict


class InfillInfo(TypedDict):
    pre: int
    suf: int
    mid: int
    eot: int


class ModelInfo(TypedDict):
    name: str
    context_window: int
    vocab_size: int
    can_infill: bool
    chat_format: str
    stop_ids: list[int]
    infill: InfillInfo | None


class HelloResult(TypedDict):
    protocol_version: int
    host_version: str
    pid: int
    state: str
    progress: float
    engine: str
    model: ModelInfo | None
    max_message_bytes: int  # the largest message this host accepts (and sends)


class ContextItem(TypedDict):
    """A snippet of another file: `path` relative to the workspace, `text` its source lines."""

    path: str
    text: str


class CompleteRequest(TypedDict, total=False):
    """`complete` params as a client sends them (only `prefix` is required)."""

    prefix: str
    suffix: str | None
    order: str
    max_tokens: int
    temperature: float
    top_p: float
    stop: list[str]
    seed: int
    stream: bool
    # The document the request is for: requests for one document go to one engine
    # replica, whose prefix cache then keeps hitting while the user types.
    document: str
    # Other files' snippets (definitions the code at the cursor uses): the host renders them as
    # a comment header before the prefix, in the comment syntax of `language` (an LSP languageId).
    context: list[ContextItem]
    language: str


class Timings(TypedDict):
    queue_ms: float
    first_token_ms: float
    total_ms: float
    tokens_per_s: float
    prompt_tokens: int
    cached_tokens: int  # prompt tokens the engine did not recompute (prefix cache)


class GenerateResult(TypedDict):
    text: str
    finish_reason: str  # "end" | "length" | "stop"
    prompt_tokens: int
    generated_tokens: int
    timings: Timings
    mode: NotRequired[str]  # complete only: "infill" | "prefix"


class StreamNote(TypedDict):
    id: int
    text: str
    index: int
    tokens: int  # tokens generated so far, this piece included


class StateNote(TypedDict):
    state: str
    progress: float
    message: str


class CancelledData(TypedDict):
    generated_tokens: int
    text: str  # what was generated before the cancel
    timings: NotRequired[Timings]  # once generation had started


class ChatRequest(TypedDict, total=False):
    """`chat` params as a client sends them (only `messages` is required)."""

    messages: Required[Sequence[Mapping[str, str]]]  # each {role, content}; checked by rpc/chat.py
    max_tokens: int
    temperature: float
    top_p: float
    stop: list[str]
    seed: int
    stream: bool


class PromptRequest(CompleteRequest, total=False):
    """`prompt` (dry run) params: `kind` "complete" with complete's params, or "chat" with `messages`."""

    kind: Required[str]
    messages: Sequence[Mapping[str, str]]


class PromptResult(TypedDict):
    ids: list[int]
    pieces: list[str]
    text: str
    mode: str
    tokens: int


class CountTokensResult(TypedDict):
    counts: list[int]


class Percentiles(TypedDict):
    p50: float | None
    p95: float | None


class StatusResult(TypedDict):
    state: str
    progress: float
    message: str
    model: ModelInfo | None
    queue_depth: int
    active: int
    decode_steps: int
    requests_in_flight: int
    clients: int
    uptime_s: float
    served: int
    failed: int
    cancelled: int
    busy_refusals: int
    tokens_generated: int
    prompt_tokens: int
    cached_tokens: int
    latency_ms: Percentiles
    first_token_ms: Percentiles
    engine: dict[str, object]  # the backend's own figures
