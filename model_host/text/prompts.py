"""Prompt builders: infilling, plain completion and chat, straight to token ids."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from model_host.rpc.chat import ChatMessage, MessagesError, parse_messages
from model_host.text.tokenizer import STEP_PIECE, Tokenizer

ChatFormat = Literal["llama2", "codellama-70b", "template"]
InfillOrder = Literal["psm", "spm"]
CHAT_FORMATS: tuple[ChatFormat, ...] = ("llama2", "codellama-70b", "template")


Message = ChatMessage


class PromptError(Exception):
    """A dialog or request that cannot be turned into a prompt; `str(err)` says why."""


@dataclass(frozen=True)
class InfillIds:
    """Code Llama's infilling control ids, looked up by piece name."""

    pre: int
    suf: int
    mid: int
    eot: int

    @classmethod
    def from_tokenizer(cls, tok: Tokenizer) -> InfillIds | None:
        """The four ids, or None when the vocabulary lacks any of them."""
        ids = [tok.piece_id(p) for p in ("▁<PRE>", "▁<SUF>", "▁<MID>", "▁<EOT>")]
        if any(i is None for i in ids):
            return None
        pre, suf, mid, eot = (i for i in ids if i is not None)
        return cls(pre=pre, suf=suf, mid=mid, eot=eot)


# -- completion -----------------------------------------------------------------


def infill_prompt(
    tok: Tokenizer, prefix: str, suffix: str, *, order: InfillOrder, ids: InfillIds
) -> list[int]:
    """Meta's `infilling_prompt_tokens` (codellama llama/generation.py).

    PSM: `<PRE> {pre} <SUF>{suf} <MID>`; SPM (`suffix_first=True`):
    `<PRE> <SUF>{suf} <MID> {pre}`. In both, Meta encodes the prefix with
    plain `encode` (implicit leading space) and the suffix with
    `encode_infilling` (none).
    """
    if order == "psm":
        body = [*tok.encode(prefix), ids.suf, *tok.encode_infilling(suffix)]
        return [tok.bos_id, ids.pre, *body, ids.mid]
    if order == "spm":
        return [
            tok.bos_id,
            ids.pre,
            ids.suf,
            *tok.encode_infilling(suffix),
            ids.mid,
            *tok.encode(prefix),
        ]
    raise PromptError(f"unknown infill order {order!r}; expected 'psm' or 'spm'")


def prefix_prompt(tok: Tokenizer, prefix: str) -> list[int]:
    """Plain continuation, for models that cannot infill: Meta's `text_completion`."""
    return [tok.bos_id, *tok.encode(prefix)]


# -- chat ---------------------------------------------------------------------

B_INST, E_INST = "[INST]", "[/INST]"
B_SYS, E_SYS = "<<SYS>>\n", "\n<</SYS>>\n\n"


def chat_prompt(
    tok: Tokenizer,
    messages: Sequence[Message],
    fmt: ChatFormat,
    *,
    hf_tokenizer: Any = None,
) -> list[int]:
    """The prompt asking the model for the next assistant turn of `messages`."""
    _check_messages(messages)
    if fmt == "llama2":
        return _llama2(tok, messages)
    if fmt == "codellama-70b":
        return _codellama_70b(tok, messages)
    if fmt == "template":
        return _template(tok, messages, hf_tokenizer)
    raise PromptError(f"unknown chat format {fmt!r}; expected one of {', '.join(CHAT_FORMATS)}")


def _check_messages(messages: Sequence[Message]) -> None:
    try:
        parse_messages(list(messages))
    except MessagesError as exc:
        raise PromptError(str(exc)) from None


def _check_alternation(turns: Sequence[Message]) -> None:
    for n, m in enumerate(turns):
        want = "user" if n % 2 == 0 else "assistant"
        if m["role"] != want:
            raise PromptError(
                "after an optional system message, turns must alternate user/assistant "
                f"starting with user; turn {n} is {m['role']}"
            )


def _llama2(tok: Tokenizer, messages: Sequence[Message]) -> list[int]:
    """Meta's `chat_completion` (llama and codellama llama/generation.py)."""
    turns = list(messages)
    if turns[0]["role"] == "system":  # and, checked above, a user turn follows
        # Meta folds the system prompt into the first user turn, then strips
        # the combination, so the system text itself keeps its whitespace.
        folded = B_SYS + turns[0]["content"] + E_SYS + turns[1]["content"]
        turns = [Message(role=turns[1]["role"], content=folded), *turns[2:]]
    _check_alternation(turns)
    ids: list[int] = []
    for user, answer in zip(turns[::2], turns[1::2], strict=False):
        text = f"{B_INST} {user['content'].strip()} {E_INST} {answer['content'].strip()} "
        ids += [tok.bos_id, *tok.encode(text), tok.eos_id]
    ids += [tok.bos_id, *tok.encode(f"{B_INST} {turns[-1]['content'].strip()} {E_INST}")]
    return ids


def _codellama_70b(tok: Tokenizer, messages: Sequence[Message]) -> list[int]:
    """CodeLlama-70b-Instruct: every turn its own segment, ended by `<step>`.

    Matches the reference ids on the model card (Meta's `dialog_prompt_tokens`).
    """
    step = tok.piece_id(STEP_PIECE)
    if step is None:
        raise PromptError("the codellama-70b chat format needs a <step> piece in the vocabulary")
    turns = list(messages)
    if turns[0]["role"] != "system":
        # Meta's reference inserts an empty system turn.
        turns.insert(0, Message(role="system", content=""))
    _check_alternation(turns[1:])
    ids = [tok.bos_id]
    for m in turns:
        ids += [*tok.encode(f"Source: {m['role']}\n\n {m['content'].strip()}"), step]
    ids += tok.encode("Source: assistant\nDestination: user\n\n ")
    return ids


# -- checkpoint chat templates ---------------------------------------------------

# Message text is rendered with runs of risky characters swapped for
# "\ue000<n>\ue001" (private-use characters, never in a template).
_ESCAPE = "\ue000{}\ue001"
_ESCAPED = re.compile("\ue000(\\d+)\ue001")


class _Control(NamedTuple):
    """An added token written by the template itself."""

    id: int
    lstrip: bool  # transformers drops whitespace on its left
    rstrip: bool  # ... and on its right


def _template(tok: Tokenizer, messages: Sequence[Message], hf: Any) -> list[int]:
    """The checkpoint's Jinja chat template, with message text kept out of its control tokens.

    Before rendering, every run of message characters that occur in some
    control token's text (`<`, `s`, `>`, ... for `<s>`) is swapped for an
    escape, so no control token can be found in, or reach into, message
    text; escapes are not whitespace, so the template's own strip()/trim
    behave as on the real text. Control tokens are then found in the
    rendered text, the escapes undone, and each run of text between control
    tokens is encoded with `encode`, which cannot produce control ids. Like
    Meta's reference, each run gets SentencePiece's implicit leading space;
    whitespace next to an added token marked lstrip/rstrip is dropped, as
    transformers does.
    """
    if hf is None or not getattr(hf, "chat_template", None):
        raise PromptError("the checkpoint has no chat template; use chat format llama2")
    controls = _control_tokens(hf, tok)
    risky = {c for text in controls for c in text if not c.isspace()} | {"\ue000", "\ue001"}
    table: list[str] = []
    escaped = [_escape(m["content"], risky, table) for m in messages]
    rendered = _render(hf, messages, escaped)
    items: list[str | _Control] = []
    for item in _split_controls(rendered, controls):
        items.append(item if isinstance(item, _Control) else _unescape(item, table))
    return _encode_items(tok, items)


def _escape(text: str, risky: set[str], table: list[str]) -> str:
    out: list[str] = []
    run: list[str] = []
    for ch in [*text, ""]:
        if ch and ch in risky:
            run.append(ch)
            continue
        if run:
            out.append(_ESCAPE.format(len(table)))
            table.append("".join(run))
            run.clear()
        out.append(ch)
    return "".join(out)


def _unescape(text: str, table: list[str]) -> str:
    def restore(found: re.Match[str]) -> str:
        n = int(found.group(1))
        if n >= len(table):
            raise PromptError("the chat template produced text Tandem did not give it")
        return table[n]

    leftover = _ESCAPED.sub("", text)
    if "\ue000" in leftover or "\ue001" in leftover:
        # Escapes were cut up: the template edits message text beyond stripping it.
        raise PromptError(
            "the chat template changes message text in a way Tandem cannot keep apart "
            "from its control tokens; set chat_format to llama2 or codellama-70b"
        )
    return _ESCAPED.sub(restore, text)


def _render(hf: Any, messages: Sequence[Message], contents: Sequence[str]) -> str:
    stand_ins = [{"role": m["role"], "content": c} for m, c in zip(messages, contents, strict=True)]
    try:
        text = hf.apply_chat_template(stand_ins, add_generation_prompt=True, tokenize=False)
    except Exception as err:  # jinja raises its own kinds, and templates raise_exception()
        raise PromptError(f"the chat template rejected the dialog: {err}") from err
    if not isinstance(text, str):
        raise PromptError("the chat template did not render to text")
    return text


def _control_tokens(hf: Any, tok: Tokenizer) -> dict[str, _Control]:
    """Added-token text -> its control, for every special token the template may write."""
    out: dict[str, _Control] = {}
    for token_id, added in (getattr(hf, "added_tokens_decoder", None) or {}).items():
        text = str(getattr(added, "content", added))
        if text and tok.is_special(int(token_id)):
            lstrip, rstrip = (
                bool(getattr(added, "lstrip", False)),
                bool(getattr(added, "rstrip", False)),
            )
            out[text] = _Control(int(token_id), lstrip, rstrip)
    for token_id in (tok.bos_id, tok.eos_id):
        out.setdefault(tok.piece(token_id), _Control(token_id, False, False))
    return out


def _split_controls(text: str, controls: dict[str, _Control]) -> list[str | _Control]:
    pattern = "|".join(re.escape(c) for c in sorted(controls, key=len, reverse=True))
    items: list[str | _Control] = []
    pos = 0
    for found in re.finditer(pattern, text):
        items += [text[pos : found.start()], controls[found.group(0)]]
        pos = found.end()
    items.append(text[pos:])
    return items


def _encode_items(tok: Tokenizer, items: Sequence[str | _Control]) -> list[int]:
    # Neighbouring template text and message content form one run, encoded
    # together exactly as one encode() of that part of the rendered string.
    runs: list[str | _Control] = []
    for item in items:
        if isinstance(item, str) and runs and isinstance(runs[-1], str):
            runs[-1] += item
        else:
            runs.append(item)
    ids: list[int] = []
    for n, run in enumerate(runs):
        if isinstance(run, _Control):
            ids.append(run.id)
            continue
        before = runs[n - 1] if n > 0 else None
        after = runs[n + 1] if n + 1 < len(runs) else None
        if isinstance(before, _Control) and before.rstrip:
            run = run.lstrip()
        if isinstance(after, _Control) and after.lstrip:
            run = run.rstrip()
        ids += tok.encode(run)
    return ids
