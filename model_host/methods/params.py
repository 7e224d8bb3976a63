"""Typed parsing of request params: every bad field becomes one INVALID_PARAMS error naming it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from ..rpc.chat import ChatMessage, MessagesError
from ..rpc.chat import parse_messages as wire_messages
from ..rpc.protocol import ORDERS, ErrorCode, RpcError
from ..text.header import ContextSnippet

T = TypeVar("T")

MAX_STOPS = 16
MAX_STOP_CHARS = 128

# The ranges every generation parameter is held to (docs/protocol.md lists them). They are
# the guarantee that nothing this module accepts can fail downstream: a temperature between
# 0 and MIN_TEMPERATURE (1e-45, say) would turn logits / temperature into inf and NaN, a
# seed outside 64 bits is refused by torch.Generator.manual_seed.
MAX_TOKENS = 1 << 20  # the host also clips it to the room left in the context window
MIN_TEMPERATURE = 0.01  # below this, ask for 0: greedy decoding
MAX_TEMPERATURE = 5.0
MIN_TOP_P = 0.001
MAX_SEED = (1 << 63) - 1

# `complete`'s cross-file `context`: snippets of other files the host renders before the prefix.
MAX_CONTEXT_ITEMS = 64
MAX_CONTEXT_PATH = 1024
MAX_CONTEXT_TEXT = 1 << 16  # characters of one snippet
MAX_CONTEXT_CHARS = 1 << 18  # characters of all snippets together
MAX_LANGUAGE = 64


def invalid(message: str) -> RpcError:
    return RpcError(ErrorCode.INVALID_PARAMS, message)


def as_map(params: Any, method: str) -> Mapping[str, Any]:
    if params is None:
        return {}
    # msgpack-rpc peers (neovim's rpcrequest among them) send params as an array.
    if isinstance(params, (list, tuple)) and len(params) == 1 and isinstance(params[0], Mapping):
        return params[0]
    if not isinstance(params, Mapping):
        raise invalid(f"{method}: params must be a map, got {type(params).__name__}")
    return params


def field(
    p: Mapping[str, Any], name: str, kind: type[T] | tuple[type, ...], default: Any = ...
) -> Any:
    if name not in p or p[name] is None:
        if default is ...:
            raise invalid(f"missing required field {name!r}")
        return default
    value = p[name]
    # bool is an int in Python, but never a valid count or temperature.
    if isinstance(value, bool) and kind is not bool:
        raise invalid(f"{name!r} must be {_kind_name(kind)}, got a boolean")
    if kind is float and isinstance(value, int):
        value = float(value)
    if not isinstance(value, kind):
        raise invalid(f"{name!r} must be {_kind_name(kind)}, got {type(value).__name__}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        "str": "a string",
        "int": "an integer",
        "float": "a number",
        "bool": "a boolean",
        "list": "an array",
        "dict": "a map",
    }
    if isinstance(kind, tuple):
        return " or ".join(names.get(k.__name__, k.__name__) for k in kind)
    return names.get(kind.__name__, kind.__name__)


@dataclass(frozen=True)
class GenerateParams:
    max_tokens: int
    temperature: float
    top_p: float
    stop: tuple[str, ...]
    seed: int | None
    stream: bool


def parse_generate(p: Mapping[str, Any], *, default_max_tokens: int) -> GenerateParams:
    max_tokens = field(p, "max_tokens", int, default_max_tokens)
    if not 1 <= max_tokens <= MAX_TOKENS:
        raise invalid(f"'max_tokens' must be between 1 and {MAX_TOKENS}")
    temperature = field(p, "temperature", float, 0.2)
    if not (temperature == 0.0 or MIN_TEMPERATURE <= temperature <= MAX_TEMPERATURE):
        raise invalid(
            f"'temperature' must be 0 (greedy) or between {MIN_TEMPERATURE:g} and {MAX_TEMPERATURE:g}"
        )
    top_p = field(p, "top_p", float, 0.95)
    if not MIN_TOP_P <= top_p <= 1.0:
        raise invalid(f"'top_p' must be between {MIN_TOP_P:g} and 1")
    stop = field(p, "stop", list, [])
    if len(stop) > MAX_STOPS or not all(
        isinstance(s, str) and 0 < len(s) <= MAX_STOP_CHARS for s in stop
    ):
        raise invalid(
            f"'stop' must be at most {MAX_STOPS} non-empty strings of <= {MAX_STOP_CHARS} chars"
        )
    seed = field(p, "seed", int, None)
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise invalid("'seed' must be between 0 and 2^63 - 1")
    stream = field(p, "stream", bool, False)
    return GenerateParams(max_tokens, temperature, top_p, tuple(stop), seed, stream)


@dataclass(frozen=True)
class CompleteParams:
    prefix: str
    suffix: str | None
    order: Literal["psm", "spm"]
    gen: GenerateParams
    document: str | None = None  # routing key: one document's requests go to one replica
    context: tuple[ContextSnippet, ...] = ()  # other files' snippets, rendered before the prefix
    language: str = ""  # the file's LSP languageId: the header's comment syntax


def parse_complete(params: Any) -> CompleteParams:
    p = as_map(params, "complete")
    order = field(p, "order", str, "psm")
    if order not in ORDERS:
        raise invalid(f"'order' must be one of {', '.join(ORDERS)}")
    language = field(p, "language", str, "")
    if len(language) > MAX_LANGUAGE:
        raise invalid(f"'language' must be at most {MAX_LANGUAGE} characters")
    return CompleteParams(
        prefix=field(p, "prefix", str),
        suffix=field(p, "suffix", str, None),
        order=order,
        gen=parse_generate(p, default_max_tokens=128),
        document=field(p, "document", str, None),
        context=parse_context(p),
        language=language,
    )


def parse_context(p: Mapping[str, Any]) -> tuple[ContextSnippet, ...]:
    """`context: [{path, text}]`, bounded in items and characters."""
    raw = field(p, "context", list, [])
    if len(raw) > MAX_CONTEXT_ITEMS:
        raise invalid(f"'context' must hold at most {MAX_CONTEXT_ITEMS} items, got {len(raw)}")
    out: list[ContextSnippet] = []
    total = 0
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise invalid(f"context[{i}] must be a map with 'path' and 'text'")
        path, text = item.get("path"), item.get("text")
        if not isinstance(path, str) or not 0 < len(path) <= MAX_CONTEXT_PATH:
            raise invalid(
                f"context[{i}].path must be a string of 1 to {MAX_CONTEXT_PATH} characters"
            )
        if not isinstance(text, str) or len(text) > MAX_CONTEXT_TEXT:
            raise invalid(
                f"context[{i}].text must be a string of at most {MAX_CONTEXT_TEXT} characters"
            )
        total += len(path) + len(text)
        if total > MAX_CONTEXT_CHARS:
            raise invalid(f"'context' must hold at most {MAX_CONTEXT_CHARS} characters in all")
        out.append(ContextSnippet(path, text))
    return tuple(out)


@dataclass(frozen=True)
class ChatParams:
    messages: tuple[ChatMessage, ...]
    gen: GenerateParams


def parse_messages(p: Mapping[str, Any]) -> tuple[ChatMessage, ...]:
    try:
        return tuple(wire_messages(field(p, "messages", list)))
    except MessagesError as exc:
        raise invalid(str(exc)) from None


def parse_chat(params: Any) -> ChatParams:
    p = as_map(params, "chat")
    return ChatParams(parse_messages(p), parse_generate(p, default_max_tokens=512))
