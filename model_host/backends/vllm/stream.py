"""vLLM's streamed `/v1/completions` answer: server-sent events in, checked chunks of token ids out.

Only the ids are read: vLLM's own `text` is ignored, because Tandem's output
processor turns ids into text for every backend alike.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, TypeGuard

DONE = "[DONE]"
MAX_EVENT_CHARS = 1 << 20  # one chunk carries a few ids; anything this big is not vLLM talking


class StreamError(Exception):
    """The stream broke the format; the message says how (without the URL, the caller adds it)."""


@dataclass
class Chunk:
    """One event of the stream, checked."""

    ids: list[int]
    finish: str | None = None  # vLLM's finish_reason: "stop", "length", "abort", ...
    prompt_ids: list[int] | None = None  # the prompt as vLLM saw it (first chunk only)
    # From the closing usage chunk: None when vLLM sends no prompt_tokens_details (it
    # does only when started with --enable-prompt-tokens-details).
    cached_tokens: int | None = None
    usage: bool = False  # this is the usage chunk (no choices)


async def events(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The `data` of each server-sent event, until `[DONE]` (exclusive) or the end of the stream."""
    data: list[str] = []
    size = 0
    async for line in lines:
        if line == "":
            if data:
                payload = "\n".join(data)
                data, size = [], 0
                if payload == DONE:
                    return
                yield payload
            continue
        if line.startswith(":"):
            continue  # an SSE comment (keep-alive)
        name, _, value = line.partition(":")
        if name != "data":
            continue  # event:, id:, retry: carry nothing we use
        value = value[1:] if value.startswith(" ") else value
        size += len(value)
        if size > MAX_EVENT_CHARS:
            raise StreamError(f"an event of more than {MAX_EVENT_CHARS} characters")
        data.append(value)
    if data:  # the last event had no blank line after it
        payload = "\n".join(data)
        if payload != DONE:
            yield payload


def parse_chunk(payload: str) -> Chunk:
    """Check one `data:` payload of a completion stream and pull out what Tandem uses."""
    try:
        obj = json.loads(payload)
    except ValueError as exc:
        raise StreamError(f"a chunk that is not JSON ({_clip(payload)})") from exc
    if not isinstance(obj, dict):
        raise StreamError(f"a chunk that is not a JSON object ({_clip(payload)})")
    if "error" in obj:
        raise StreamError(f"an error: {error_message(obj)}")
    choices = obj.get("choices")
    if not isinstance(choices, list):
        raise StreamError(f"a chunk without 'choices' ({_clip(payload)})")
    if not choices:
        usage = obj.get("usage")
        if not isinstance(usage, dict):
            raise StreamError(f"a chunk with no choices and no usage ({_clip(payload)})")
        details = usage.get("prompt_tokens_details")
        cached = details.get("cached_tokens") if isinstance(details, dict) else None
        return Chunk([], cached_tokens=cached if _is_count(cached) else None, usage=True)
    if len(choices) != 1 or not isinstance(choices[0], dict):
        raise StreamError(f"a chunk with {len(choices)} choices where one was asked for")
    choice = choices[0]
    ids = choice.get("token_ids")
    if not _is_ids(ids):
        raise StreamError(
            "a chunk without 'token_ids' (is this vLLM? it must accept return_token_ids)"
            f" ({_clip(payload)})"
        )
    finish = choice.get("finish_reason")
    if finish is not None and not isinstance(finish, str):
        raise StreamError(f"a finish_reason that is not a string ({finish!r})")
    prompt_ids = choice.get("prompt_token_ids")
    return Chunk(list(ids), finish, list(prompt_ids) if _is_ids(prompt_ids) else None)


def error_message(obj: Any) -> str:
    """The human part of an OpenAI-style or FastAPI-style error body."""
    if isinstance(obj, dict):
        err = obj.get("error", obj)
        if isinstance(err, dict):
            msg = err.get("message") or err.get("detail")
            if msg:
                return str(msg)
        elif isinstance(err, str):
            return err
        if isinstance(obj.get("detail"), str):
            return str(obj["detail"])
    return _clip(json.dumps(obj) if not isinstance(obj, str) else obj)


def _is_ids(value: Any) -> TypeGuard[list[int]]:
    return isinstance(value, list) and all(
        isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in value
    )


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _clip(text: str, limit: int = 120) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[:limit] + "…"
