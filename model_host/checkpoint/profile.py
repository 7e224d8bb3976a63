"""What a loaded checkpoint can do: context window, infilling, chat format, stop ids."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from model_host.rpc.messages import ModelInfo
from model_host.rpc.protocol import DEFAULT_CONTEXT_WINDOW
from model_host.text.prompts import CHAT_FORMATS, ChatFormat, InfillIds
from model_host.text.tokenizer import STEP_PIECE, Tokenizer

# Llama 2's window, for a config that does not say (Code Llama's say 16384).

# (hidden_size, num_hidden_layers) of the Code Llama sizes that were not
# trained to infill. Meta's codellama README: "Code Llama and Code Llama -
# Instruct 7B and 13B models are capable of filling in code given the
# surrounding context" - so not 34B, and not 70B (released later; the
# paper's v3 abstract lists 70B among infilling models, hence the override).
_NO_INFILL_SHAPES = frozenset({(8192, 48), (8192, 80)})  # 34B, 70B


class ProfileError(Exception):
    """The checkpoint, its tokenizer and the settings do not fit together; says why."""


@dataclass(frozen=True)
class ModelProfile:
    name: str
    context_window: int
    vocab_size: int
    can_infill: bool
    chat_format: ChatFormat
    stop_ids: tuple[int, ...]
    infill: InfillIds | None

    def to_wire(self) -> ModelInfo:
        """Plain msgpack-able facts for the handshake."""
        infill = self.infill
        return {
            "name": self.name,
            "context_window": self.context_window,
            "vocab_size": self.vocab_size,
            "can_infill": self.can_infill,
            "chat_format": self.chat_format,
            "stop_ids": list(self.stop_ids),
            "infill": None
            if infill is None
            else {"pre": infill.pre, "suf": infill.suf, "mid": infill.mid, "eot": infill.eot},
        }


def detect_profile(
    *,
    name: str,
    config: Mapping[str, Any],
    tok: Tokenizer,
    has_chat_template: bool,
    chat_format_override: str | None = None,
    infill_override: bool | None = None,
) -> ModelProfile:
    """Read a checkpoint's abilities from its config, tokenizer and name; overrides win."""
    vocab_size = int(config.get("vocab_size") or tok.vocab_size)
    if tok.vocab_size > vocab_size:
        raise ProfileError(
            f"the tokenizer has {tok.vocab_size} ids but the model only {vocab_size}: "
            "they are not from the same checkpoint"
        )
    chat_format = _chat_format(tok, has_chat_template, chat_format_override)
    infill_ids = InfillIds.from_tokenizer(tok)
    if infill_override is None:
        can_infill = infill_ids is not None and _trained_to_infill(name, config)
    elif infill_override and infill_ids is None:
        raise ProfileError(
            "infilling was asked for, but the vocabulary has no <PRE>/<SUF>/<MID>/<EOT>"
        )
    else:
        can_infill = infill_override
    stops = [tok.eos_id]
    if can_infill and infill_ids is not None:
        stops.append(infill_ids.eot)
    step = tok.piece_id(STEP_PIECE)
    if chat_format == "codellama-70b" and step is not None:
        stops.append(step)
    return ModelProfile(
        name=name,
        context_window=int(config.get("max_position_embeddings") or DEFAULT_CONTEXT_WINDOW),
        vocab_size=vocab_size,
        can_infill=can_infill,
        chat_format=chat_format,
        stop_ids=tuple(stops),
        infill=infill_ids if can_infill else None,
    )


def _chat_format(tok: Tokenizer, has_chat_template: bool, override: str | None) -> ChatFormat:
    if override is None:
        if tok.piece_id(STEP_PIECE) is not None:
            return "codellama-70b"
        return "template" if has_chat_template else "llama2"
    for fmt in CHAT_FORMATS:
        if override == fmt:
            if fmt == "codellama-70b" and tok.piece_id(STEP_PIECE) is None:
                raise ProfileError(
                    "chat format codellama-70b needs a <step> piece in the vocabulary"
                )
            if fmt == "template" and not has_chat_template:
                raise ProfileError("chat format template asked for, but the checkpoint has none")
            return fmt
    raise ProfileError(
        f"unknown chat format {override!r}; expected one of {', '.join(CHAT_FORMATS)}"
    )


def _trained_to_infill(name: str, config: Mapping[str, Any]) -> bool:
    """False for the Code Llama variants Meta did not train to infill."""
    # Only the last path component: a local folder may sit under ".../python3.11/...".
    base = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    if "python" in base.lower():
        return False
    shape = (config.get("hidden_size"), config.get("num_hidden_layers"))
    return shape not in _NO_INFILL_SHAPES
