"""Chat: messages plus an optional code selection, fitted to the model's window, streamed back."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from model_host.rpc.chat import MessagesError
from model_host.rpc.chat import parse_messages as wire_messages

from .config import ChatSettings
from .context import MAX_CHARS_PER_TOKEN
from .host import HostLink
from .protocol import ChatChunk, ChatResult
from .workspace import Snippet

_chat_ids = itertools.count(1)

# What each selection command asks of the model; {lang} and the code block follow.
COMMAND_PROMPTS = {
    "tandem.explain": "Explain what this {lang} code does, step by step, briefly.",
    "tandem.document": "Write documentation comments for this {lang} code. Answer with the documented code.",
    "tandem.fix": "Find the bugs in this {lang} code and answer with a corrected version and a short note.",
    "tandem.writeTests": "Write unit tests for this {lang} code using the usual test framework for {lang}.",
}

FIT_ATTEMPTS = 5
DEFINITIONS_NOTE = "Definitions this code uses, from other files of the workspace:"
CUT_NOTE = "\n# … (cut to fit the model's context)\n"


class ChatInputError(ValueError):
    """The chat request itself is malformed; the message names the field."""


@dataclass(frozen=True)
class CodeContext:
    code: str
    language: str
    uri: str
    # What the code uses from other files of the workspace (the cross-file index's choice).
    definitions: tuple[Snippet, ...] = ()


def parse_messages(raw: Any) -> list[dict[str, str]]:
    """The dialog, checked as the host checks it (one rule for both processes)."""
    try:
        dialog = wire_messages(raw)
    except MessagesError as exc:
        raise ChatInputError(str(exc)) from None
    return [{"role": m["role"], "content": m["content"]} for m in dialog]


def with_code(
    messages: list[dict[str, str]], ctx: CodeContext | None, system_prompt: str
) -> list[dict[str, str]]:
    """Add the system prompt (unless given) and the code as a fenced block in the last user
    turn, after the definitions it uses from other files (each fenced, under its path)."""
    out = [dict(m) for m in messages]
    if out[0]["role"] != "system" and system_prompt:
        out.insert(0, {"role": "system", "content": system_prompt})
    if ctx is not None and ctx.code.strip():
        parts = [out[-1]["content"]]
        if ctx.definitions:
            quoted = (f"{d.path}:\n{fenced(d.text, ctx.language)}" for d in ctx.definitions)
            parts.append("\n\n".join([DEFINITIONS_NOTE, *quoted]))
        parts.append(fenced(ctx.code, ctx.language))
        out[-1]["content"] = "\n\n".join(parts)
    return out


def fenced(code: str, language: str) -> str:
    """`code` as a Markdown block tagged `language`, its fence longer than any run of
    backticks inside it."""
    fence = "```"
    while fence in code:
        fence += "`"
    return f"{fence}{language}\n{code.rstrip()}\n{fence}"


def command_message(command: str, language: str) -> str:
    return COMMAND_PROMPTS[command].format(lang=language or "the")


def chat_room(link: HostLink, cfg: ChatSettings) -> tuple[int, int]:
    """The model's window, and the tokens of it a chat's prompt may take (the rest: the answer)."""
    window = link.context_window
    return window, window - min(cfg.max_tokens, window // 2)


async def fit_to_window(
    link: HostLink, messages: list[dict[str, str]], ctx: CodeContext | None, cfg: ChatSettings
) -> tuple[list[dict[str, str]], int, CodeContext | None]:
    """Messages whose real prompt (counted by the host's dry run) leaves room for the answer.

    When it does not fit, the other files' definitions go first, then the code context is
    cut by whole lines from its end.
    """
    window, room = chat_room(link, cfg)
    code = ctx
    reach = room * MAX_CHARS_PER_TOKEN
    if code is not None and len(code.code) > reach:
        # More characters than could ever fit (a token covers at most MAX_CHARS_PER_TOKEN):
        # cut first, so the dry run never carries a whole huge file to the host.
        code = dataclasses.replace(code, code=code.code[:reach] + CUT_NOTE)
    for _ in range(FIT_ATTEMPTS):
        full = with_code(messages, code, cfg.system_prompt)
        dry = await link.prompt({"kind": "chat", "messages": full})
        tokens = int(dry["tokens"])
        if tokens <= room:
            return full, window - tokens, code
        if code is None or not code.code:
            break
        if code.definitions:
            code = dataclasses.replace(code, definitions=())
            continue
        lines = code.code.splitlines(keepends=True)
        keep = max(0, int(len(lines) * room / tokens * 0.9) - 1)
        code = dataclasses.replace(code, code="".join(lines[:keep]) + (CUT_NOTE if keep else ""))
    raise ChatInputError(
        f"the conversation needs more than the model's {window}-token window; shorten it or start a new chat"
    )


async def run_chat(
    link: HostLink,
    messages: list[dict[str, str]],
    ctx: CodeContext | None,
    cfg: ChatSettings,
    on_chunk: Callable[[ChatChunk], None],
    *,
    chat_id: str | None = None,
    max_tokens: int | None = None,
) -> ChatResult:
    """Run one chat turn; `on_chunk` gets each `tandem/chatChunk` as text is generated."""
    chat_id = chat_id or f"chat-{next(_chat_ids)}"
    full, answer_room, sent = await fit_to_window(link, messages, ctx, cfg)
    index = itertools.count()

    def on_text(text: str) -> None:
        on_chunk(ChatChunk(chatId=chat_id, text=text, index=next(index)))

    result = await link.chat(
        full,
        max_tokens=max(1, min(max_tokens or cfg.max_tokens, answer_room)),
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        on_text=on_text,
    )
    return ChatResult(
        chatId=chat_id,
        text=result["text"],
        finishReason=result["finish_reason"],
        promptTokens=result["prompt_tokens"],
        generatedTokens=result["generated_tokens"],
        timings=result["timings"],
        definitions=[{"path": d.path, "text": d.text} for d in (sent.definitions if sent else ())],
    )
