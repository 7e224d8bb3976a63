"""Typed parsing of request params: every bad field becomes one INVALID_PARAMS error naming it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from .rpc.protocol import ORDERS, ROLES, ErrorCode, RpcError

T = TypeVar("T")

MAX_STOPS = 16
MAX_STOP_CHARS = 128


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
    if max_tokens < 1:
        raise invalid("'max_tokens' must be at least 1")
    temperature = field(p, "temperature", float, 0.2)
    if not (math.isfinite(temperature) and 0.0 <= temperature <= 5.0):
        raise invalid("'temperature' must be between 0 and 5")
    top_p = field(p, "top_p", float, 0.95)
    if not (math.isfinite(top_p) and 0.0 < top_p <= 1.0):
        raise invalid("'top_p' must be in (0, 1]")
    stop = field(p, "stop", list, [])
    if len(stop) > MAX_STOPS or not all(
        isinstance(s, str) and 0 < len(s) <= MAX_STOP_CHARS for s in stop
    ):
        raise invalid(
            f"'stop' must be at most {MAX_STOPS} non-empty strings of <= {MAX_STOP_CHARS} chars"
        )
    seed = field(p, "seed", int, None)
    stream = field(p, "stream", bool, False)
    return GenerateParams(max_tokens, temperature, top_p, tuple(stop), seed, stream)


@dataclass(frozen=True)
class CompleteParams:
    prefix: str
    suffix: str | None
    order: Literal["psm", "spm"]
    gen: GenerateParams
    document: str | None = None  # routing key: one document's requests go to one replica


def parse_complete(params: Any) -> CompleteParams:
    p = as_map(params, "complete")
    order = field(p, "order", str, "psm")
    if order not in ORDERS:
        raise invalid(f"'order' must be one of {', '.join(ORDERS)}")
    return CompleteParams(
        prefix=field(p, "prefix", str),
        suffix=field(p, "suffix", str, None),
        order=order,
        gen=parse_generate(p, default_max_tokens=128),
        document=field(p, "document", str, None),
    )


@dataclass(frozen=True)
class ChatParams:
    messages: tuple[dict[str, str], ...]
    gen: GenerateParams


def parse_messages(p: Mapping[str, Any]) -> tuple[dict[str, str], ...]:
    raw = field(p, "messages", list)
    if not raw:
        raise invalid("'messages' must not be empty")
    messages = []
    for i, m in enumerate(raw):
        if not isinstance(m, Mapping):
            raise invalid(f"messages[{i}] must be a map with 'role' and 'content'")
        role, content = m.get("role"), m.get("content")
        if role not in ROLES:
            raise invalid(f"messages[{i}].role must be one of {', '.join(ROLES)}")
        if not isinstance(content, str):
            raise invalid(f"messages[{i}].content must be a string")
        messages.append({"role": role, "content": content})
    return tuple(messages)


def parse_chat(params: Any) -> ChatParams:
    p = as_map(params, "chat")
    return ChatParams(parse_messages(p), parse_generate(p, default_max_tokens=512))
