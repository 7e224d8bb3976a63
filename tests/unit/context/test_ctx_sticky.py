"""Sticky prompt edges: while the user types, the prompt keeps its lines and only grows at the cursor."""

from __future__ import annotations

import pytest
from conftest import FakeCounter, SentencePieceCounter
from ctx_samples import SAMPLES
from test_ctx_budget import assert_whole_lines

from lsp_server.context import DocumentSyntax, PromptContext
from lsp_server.context.sticky import StickyContexts

URI = "file:///work/x"


async def ask(
    sticky: StickyContexts, text: str, offset: int, language: str, budget: int, counter: object
) -> PromptContext:
    spec = SAMPLES[language].spec
    return await sticky.build(
        URI,
        text,
        offset,
        syntax=DocumentSyntax.create(text, spec),
        lang=spec,
        budget_tokens=budget,
        count_tokens=counter,  # type: ignore[arg-type]
        prefix_share=0.75,
    )


def type_at(text: str, offset: int, typed: str) -> tuple[str, int]:
    return text[:offset] + typed + text[offset:], offset + len(typed)


@pytest.mark.parametrize("language", ["python", "go", "rust", "unknown"])
async def test_typing_keeps_the_lines_and_the_prompt_only_grows_at_the_cursor(
    language: str,
) -> None:
    text, offset = SAMPLES[language].build(30)
    sticky = StickyContexts()
    first = await ask(sticky, text, offset, language, 700, FakeCounter())
    assert not first.whole_file and first.total_tokens <= 700 * 0.9
    previous = first
    for typed in ["x", " = ", "compute(", "a, ", "b", ")", "\n", "    ", "return x"]:
        text, offset = type_at(text, offset, typed)
        ctx = await ask(sticky, text, offset, language, 700, FakeCounter())
        assert ctx.prefix == previous.prefix + typed  # same start: the engine's cache hits
        assert ctx.suffix == previous.suffix
        assert ctx.total_tokens <= 700
        assert_whole_lines(ctx, text, offset)
        previous = ctx
    assert (sticky.selected, sticky.reused) == (1, 9)


async def test_a_new_selection_comes_only_when_the_budget_is_used_up() -> None:
    text, offset = SAMPLES["python"].build(30)
    sticky = StickyContexts(slack=0.1)
    first = await ask(sticky, text, offset, "python", 700, FakeCounter())
    selections = sticky.selected
    grown = 0
    while sticky.selected == selections:
        text, offset = type_at(text, offset, "abcd")  # one fake token per keystroke
        ctx = await ask(sticky, text, offset, "python", 700, FakeCounter())
        assert ctx.total_tokens <= 700
        grown += 1
    # A fresh selection left at least the slack (70 tokens) free; typing used it all up.
    assert 70 <= grown == 700 - first.total_tokens + 1


async def test_moving_away_or_editing_a_kept_line_selects_again() -> None:
    text, offset = SAMPLES["python"].build(30)
    sticky = StickyContexts()
    first = await ask(sticky, text, offset, "python", 700, FakeCounter())
    away = text.index("def helper_020")
    await ask(sticky, text, away, "python", 700, FakeCounter())
    assert sticky.selected == 2
    await ask(sticky, text, offset, "python", 700, FakeCounter())
    kept_line = first.prefix.splitlines(keepends=True)[3]
    at = text.index(kept_line)
    edited = text[:at] + "# note\n" + text[at:]
    await ask(sticky, edited, offset + 7, "python", 700, FakeCounter())
    assert sticky.selected == 4 and sticky.reused == 0


async def test_a_file_that_fits_stays_whole(sp_counter: SentencePieceCounter) -> None:
    text, offset = SAMPLES["rust"].build(2)
    sticky = StickyContexts()
    for typed in ["", "let", " y", " = 2;", "\n"]:
        text, offset = type_at(text, offset, typed)
        ctx = await ask(sticky, text, offset, "rust", 4096, sp_counter)
        assert ctx.whole_file and (ctx.prefix, ctx.suffix) == (text[:offset], text[offset:])
        assert ctx.total_tokens == sp_counter.count(ctx.prefix) + sp_counter.count(ctx.suffix)
    assert sticky.selected == 1


@pytest.mark.parametrize("language", ["python", "go", "unknown"])
async def test_a_fresh_selection_trims_to_the_slack_in_one_pass(language: str) -> None:
    from lsp_server.context import build_context

    text, offset = SAMPLES[language].build(30)
    spec = SAMPLES[language].spec
    syntax = DocumentSyntax.create(text, spec)
    counter = FakeCounter()
    ctx = await ask(StickyContexts(slack=0.1), text, offset, language, 700, counter)
    # The same lines as a selection made for 90% of the budget, reported against the budget...
    roomy = await build_context(
        text,
        offset,
        syntax=syntax,
        lang=spec,
        budget_tokens=630,
        count_tokens=FakeCounter(),
        prefix_share=0.75,
    )
    assert (ctx.prefix, ctx.suffix) == (roomy.prefix, roomy.suffix)
    assert ctx.budget_tokens == 700 and not ctx.whole_file
    # ...for less counting than a selection at the full budget and another at 90% cost.
    full, again = FakeCounter(), FakeCounter()
    for budget, c in ((700, full), (630, again)):
        await build_context(
            text,
            offset,
            syntax=syntax,
            lang=spec,
            budget_tokens=budget,
            count_tokens=c,
            prefix_share=0.75,
        )
    assert counter.calls < full.calls + again.calls


@pytest.mark.parametrize("language", ["python", "unknown"])
async def test_a_file_that_fits_the_budget_is_still_sent_whole(language: str) -> None:
    text, offset = SAMPLES[language].build(30)
    # A budget between 90% and 100% of the file: trimming to the slack must not cut it.
    whole_tokens = sum(await FakeCounter()([text[:offset], text[offset:]]))
    budget = int(whole_tokens / 0.95)
    ctx = await ask(StickyContexts(slack=0.1), text, offset, language, budget, FakeCounter())
    assert ctx.whole_file and ctx.prefix + ctx.suffix == text
