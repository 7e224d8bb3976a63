"""The instruction prompt of an edit: the selection, the code around it, the definitions it uses.

The code around the selection is cut by the completion path's budgeter (`build_context`);
the definitions from other files are the cross-file index's choice, as chat gets them; the
messages are put together by chat's `with_code`, and fitted to the window by the host's dry
run: other files' definitions go first, then the surrounding code, never the selection.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..chat import CodeContext, fenced, with_code
from ..config import ChatSettings
from ..context import LanguageSpec, build_context
from ..host import HostLink
from ..workspace import Snippet
from .errors import EditInputError

if TYPE_CHECKING:
    from ..crossfile import CrossFileContext

# What each preset (a code action that needs no typed instruction) asks; {lang} is the language.
PRESET_INSTRUCTIONS = {
    "fix": "Fix the bugs in this code.",
    "document": (
        "Add documentation comments to this code in the usual {lang} style "
        "(docstrings, doc comments); do not change the code itself."
    ),
    "tests": (
        "Keep this code as it is and add unit tests for it after it, "
        "using the usual test framework for {lang}."
    ),
}
DIAGNOSTICS_NOTE = "The editor reports these problems in it; fix them:"
ANSWER_RULES = (
    "Answer with the rewritten selected code only, in one fenced code block, keeping its "
    "indentation and without the code around it; no explanation."
)
CONTEXT_SHARE = 0.5  # of the prompt's room, for the code around the selection
FIT_ATTEMPTS = 6


@dataclass(frozen=True)
class EditPrompt:
    """What to ask the model: the fitted messages and the answer's token cap."""

    messages: list[dict[str, str]]
    max_tokens: int
    before: str  # the surrounding code the prompt shows (for taking repeats off the answer)
    after: str


@dataclass(frozen=True)
class EditSubject:
    uri: str
    path: str  # shown to the model: relative to the workspace where possible
    language: str
    lang: LanguageSpec | None
    text: str  # the document as it was when the edit started
    start: int  # the selection, whole lines (string offsets)
    end: int
    instruction: str
    problems: tuple[str, ...] = ()  # diagnostics as "line N: message"


def preset_instruction(preset: str, language: str) -> str:
    return PRESET_INSTRUCTIONS[preset].format(lang=language or "this language's")


def edit_messages(
    subject: EditSubject,
    before: str,
    after: str,
    ctx: CodeContext,
    system_prompt: str,
) -> list[dict[str, str]]:
    lang = subject.language
    head = [
        f"Rewrite the selected {lang or 'code'} code of {subject.path} as instructed.",
        f"Instruction: {subject.instruction}",
    ]
    if subject.problems:
        head.append("\n".join([DIAGNOSTICS_NOTE, *(f"- {p}" for p in subject.problems)]))
    if before.strip():
        head.append(f"The code before the selection (do not repeat it):\n{fenced(before, lang)}")
    if after.strip():
        head.append(f"The code after the selection (do not repeat it):\n{fenced(after, lang)}")
    head.append("The selected code is the last code block below.")
    messages = with_code([{"role": "user", "content": "\n\n".join(head)}], ctx, system_prompt)
    messages[-1]["content"] += f"\n\n{ANSWER_RULES}\nInstruction: {subject.instruction}"
    return messages


async def build_prompt(
    link: HostLink,
    subject: EditSubject,
    cfg: ChatSettings,
    crossfile: CrossFileContext | None,
) -> EditPrompt:
    """The messages for `subject`, fitted to the model's window with room for the answer."""
    selected = subject.text[subject.start : subject.end]
    window = link.context_window
    (selection_tokens,) = await link.count_tokens([selected])
    # The answer holds the whole rewrite: room for it to grow, and for a fence and a line of chat.
    max_tokens = min(max(cfg.max_tokens, 2 * selection_tokens + 128), window // 2)
    room = window - max_tokens
    if selection_tokens * 2 > room:
        raise EditInputError(
            f"the selection ({selection_tokens} tokens) is too long to rewrite in the model's "
            f"{window}-token window; select less"
        )
    definitions: tuple[Snippet, ...] = ()
    if crossfile is not None:
        definitions = crossfile.for_chat(
            subject.uri,
            subject.text,
            (subject.start, subject.end),
            subject.language,
            room - selection_tokens,
        )
    ctx = CodeContext(selected, subject.language, subject.uri, definitions)
    budget = max(0, int((room - 2 * selection_tokens) * CONTEXT_SHARE))
    around = subject.text[: subject.start] + subject.text[subject.end :]
    for _ in range(FIT_ATTEMPTS):
        before, after = "", ""
        if budget > 0:
            parts = await build_context(
                around,
                subject.start,
                syntax=None,
                lang=subject.lang,
                budget_tokens=budget,
                count_tokens=link.count_tokens,
                prefix_share=0.6,
            )
            before, after = parts.prefix, parts.suffix
        messages = edit_messages(subject, before, after, ctx, cfg.system_prompt)
        dry = await link.prompt({"kind": "chat", "messages": messages})
        tokens = int(dry["tokens"])
        if tokens <= room:
            return EditPrompt(messages, min(max_tokens, window - tokens), before, after)
        if ctx.definitions:
            ctx = dataclasses.replace(ctx, definitions=())
        elif budget > 0:
            budget = budget // 2 if budget > 64 else 0
        else:
            break
    raise EditInputError(
        f"the selection and instruction need more than the model's {window}-token window; "
        "select less"
    )
