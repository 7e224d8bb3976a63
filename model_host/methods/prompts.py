"""Prompts for the host's methods: complete and chat requests as model ids, and the dry run's view."""

from __future__ import annotations

from typing import Any

from ..checkpoint.load import Checkpoint
from ..text.header import render_header
from ..text.prompts import PromptError, chat_prompt, infill_prompt, prefix_prompt
from .generate import Prompt
from .params import CompleteParams, invalid, parse_chat, parse_complete


def build_complete_prompt(ckpt: Checkpoint, p: CompleteParams) -> Prompt:
    """Infill when the model can and a suffix was given; otherwise continue the prefix.

    The cross-file header goes in front of the prefix text, in every order and mode, so it is
    encoded as the prefix is (never into control ids) and sits right before the file's code.
    """
    profile = ckpt.profile
    prefix = render_header(p.context, p.language) + p.prefix
    if p.suffix is not None and profile.can_infill and profile.infill is not None:
        ids = infill_prompt(ckpt.tokenizer, prefix, p.suffix, order=p.order, ids=profile.infill)
        return Prompt(ids, "infill")
    return Prompt(prefix_prompt(ckpt.tokenizer, prefix), "prefix")


def build_chat_prompt(ckpt: Checkpoint, messages: Any) -> Prompt:
    try:
        ids = chat_prompt(
            ckpt.tokenizer, messages, ckpt.profile.chat_format, hf_tokenizer=ckpt.hf_tokenizer
        )
    except PromptError as exc:  # a dialog the format cannot express: the caller's mistake
        raise invalid(str(exc)) from exc
    return Prompt(ids, "chat")


def render_ids(ckpt: Checkpoint, ids: list[int]) -> str:
    """Prompt ids as text, control tokens shown by their piece names (for the dry run)."""
    tok = ckpt.tokenizer
    out: list[str] = []
    pending = b""
    for i in ids:
        if tok.is_special(i):
            out.append(pending.decode("utf-8", "replace"))
            pending = b""
            out.append(tok.piece(i))
        else:
            pending += tok.token_bytes(i)
    out.append(pending.decode("utf-8", "replace"))
    return "".join(out)


def dry_run(ckpt: Checkpoint, kind: str, p: dict[str, Any]) -> dict[str, Any]:
    """The exact ids a complete/chat request would feed the model (the `prompt` method)."""
    header = ""
    if kind == "complete":
        complete = parse_complete(p)
        header = render_header(complete.context, complete.language)
        prompt = build_complete_prompt(ckpt, complete)
    elif kind == "chat":
        prompt = build_chat_prompt(ckpt, parse_chat(p).messages)
    else:
        raise invalid("'kind' must be 'complete' or 'chat'")
    return {
        "ids": prompt.ids,
        "pieces": [ckpt.tokenizer.piece(i) for i in prompt.ids],
        "text": render_ids(ckpt, prompt.ids),
        "mode": prompt.mode,
        "tokens": len(prompt.ids),
        "header": header,
    }
