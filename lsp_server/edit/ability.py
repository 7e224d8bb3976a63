"""Whether the loaded checkpoint can follow instructions (chat), from what the host says of it."""

from __future__ import annotations

from collections.abc import Mapping

INSTRUCT_EXAMPLE = "codellama/CodeLlama-7b-Instruct-hf"


def cannot_chat_reason(model: Mapping[str, object] | None) -> str | None:
    """None when the model can chat; else the message telling the user what is needed.

    A host that says `can_chat` is believed; otherwise a model without a chat format cannot,
    and neither can Code Llama's base and Python checkpoints, which share the Instruct ones'
    tokenizer and so get a chat format they were never trained on (their names tell them apart).
    """
    if model is None:
        return "the model host has not loaded a model yet"
    name = str(model.get("name") or "the model")
    said = model.get("can_chat")
    if isinstance(said, bool):
        return None if said else _message(name)
    if not model.get("chat_format"):
        return _message(name)
    base = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].lower().replace("_", "-")
    if "instruct" in base or "chat" in base:
        return None
    if "python" in base or "codellama" in base or "code-llama" in base:
        return _message(name)
    return None


def _message(name: str) -> str:
    return (
        f"the loaded model {name} is a base/Python checkpoint and cannot follow instructions; "
        f"load a Code Llama Instruct checkpoint (e.g. {INSTRUCT_EXAMPLE}) to edit by instruction"
    )
