"""The token methods: tokenize, count_tokens, detokenize (parsed here, run off the event loop)."""

from __future__ import annotations

from typing import Any

from ..checkpoint.load import Checkpoint
from ..text.token_counts import TokenCounter
from .params import as_map, invalid
from .params import field as param


def tokenize_text(params: Any) -> str:
    return param(as_map(params, "tokenize"), "text", str)


def tokenize(ckpt: Checkpoint, text: str) -> dict[str, Any]:
    ids = ckpt.tokenizer.encode(text)
    return {"ids": ids, "pieces": [ckpt.tokenizer.piece(i) for i in ids]}


def count_texts(params: Any) -> list[str]:
    texts = param(as_map(params, "count_tokens"), "texts", list)
    if not all(isinstance(t, str) for t in texts):
        raise invalid("'texts' must be an array of strings")
    return texts


def count_tokens(counter: TokenCounter, texts: list[str]) -> dict[str, Any]:
    return {"counts": [counter.count(t) for t in texts]}


def detokenize_ids(params: Any) -> list[Any]:
    return param(as_map(params, "detokenize"), "ids", list)


def check_ids(ids: list[Any], vocab: int) -> list[int]:
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < vocab for i in ids):
        raise invalid(f"'ids' must be integers in [0, {vocab})")
    return ids


def detokenize(ckpt: Checkpoint, ids: list[int]) -> dict[str, Any]:
    return {"text": ckpt.tokenizer.decode(ids)}
