"""Finding a checkpoint: a local folder or a hub id's snapshot in the local Hugging Face cache."""

from __future__ import annotations

import json
import os
from pathlib import Path


class LoadError(Exception):
    """Loading failed; the message is written for the person who started the host."""


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def snapshot_dir(model: str, filename: str) -> Path | None:
    """The local folder of `model` holding `filename`: the path itself, or a hub id's
    snapshot in the local Hugging Face cache (None when neither)."""
    if Path(model).is_dir():
        return Path(model)
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    found = try_to_load_from_cache(model, filename)
    return Path(found).parent if isinstance(found, str) else None


def checkpoint_dir(model: str) -> Path:
    """The local folder of `model`: the path itself, or a hub id's snapshot in the local cache."""
    found = snapshot_dir(model, "config.json")
    if found is None:
        raise LoadError(f"{model!r} is neither a folder nor a hub id in the local cache")
    return found


def has_chat_template(folder: Path) -> bool:
    if (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file():
        return True
    try:
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and bool(config.get("chat_template"))


def require_llama(model: str, model_type: object) -> None:
    if model_type != "llama":
        raise LoadError(
            f"{model!r} is a {model_type or 'unknown'!r} model; "
            "Tandem serves Llama-architecture checkpoints (Llama 2, Code Llama)"
        )


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
