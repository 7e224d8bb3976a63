"""Prompt budgeting: whole files, trimming at syntax boundaries, exact budgets, large files."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest
from conftest import FakeCounter, SentencePieceCounter
from ctx_samples import CURSOR, SAMPLES, Sample, split_cursor

from lsp_server.context import (
    CountTokens,
    DocumentSyntax,
    PromptContext,
    build_context,
    spec_for_language_id,
)
from lsp_server.context.text import line_col, split_lines

LANGUAGES = sorted(SAMPLES)
CONTAINER_OPENERS = {"java": "public class Orders {", "cpp": "namespace orders {"}


async def _build(
    text: str,
    offset: int,
    language_id: str | None,
    budget: int,
    counter: CountTokens,
    prefix_share: float = 0.75,
) -> PromptContext:
    spec = spec_for_language_id(language_id) if language_id else None
    return await build_context(
        text,
        offset,
        syntax=DocumentSyntax.create(text, spec),
        lang=spec,
        budget_tokens=budget,
        count_tokens=counter,
        prefix_share=prefix_share,
    )


def assert_whole_lines(ctx: PromptContext, text: str, offset: int) -> None:
    """The prompt is the document's whole lines minus the reported dropped ranges."""
    lines = split_lines(text)
    row, col = line_col(text, offset)
    gone_before = {r for a, b in ctx.dropped_prefix_lines for r in range(a, b)}
    gone_after = {r for a, b in ctx.dropped_suffix_lines for r in range(a, b)}
    assert (
        ctx.prefix
        == "".join(lines[r] for r in range(row) if r not in gone_before) + (lines[row][:col])
    )
    assert ctx.suffix == lines[row][col:] + "".join(
        lines[r] for r in range(row + 1, len(lines)) if r not in gone_after
    )


def kept_helpers(text: str) -> list[int]:
    return [i for i in range(200) if Sample.name(i) + "(" in text]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_whole_file_fits_in_one_call(language: str) -> None:
    sample = SAMPLES[language]
    text, offset = sample.build(2)
    counter = FakeCounter()
    ctx = await _build(text, offset, sample.language_id, 4096, counter)
    assert ctx.whole_file
    assert (ctx.prefix, ctx.suffix) == (text[:offset], text[offset:])
    assert (ctx.dropped_prefix_lines, ctx.dropped_suffix_lines) == ((), ())
    assert counter.calls == 1
    assert ctx.prefix_tokens == math.ceil(offset / 4)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_trimming_keeps_header_scope_and_nearest_definitions(language: str) -> None:
    sample = SAMPLES[language]
    n = 30
    text, offset = sample.build(n)
    counter = FakeCounter()
    ctx = await _build(text, offset, sample.language_id, 700, counter)

    assert not ctx.whole_file
    assert ctx.total_tokens <= 700
    assert ctx.total_tokens == sum(math.ceil(len(t) / 4) for t in (ctx.prefix, ctx.suffix))
    assert counter.calls <= 3
    assert_whole_lines(ctx, text, offset)
    # The header leads the prompt and the enclosing scope runs right up to the cursor.
    assert ctx.prefix.startswith(sample.header)
    assert ctx.prefix.endswith(sample.target_head)
    if language in CONTAINER_OPENERS:
        assert CONTAINER_OPENERS[language] + "\n" in ctx.prefix
        assert ctx.suffix.endswith(sample.closing.lstrip("\n"))
    # Definitions go farthest first: what is kept is a run next to the cursor, each one whole.
    before = kept_helpers(ctx.prefix)
    after = kept_helpers(ctx.suffix)
    assert 0 < len(before) < n and before == list(range(n - len(before), n))
    assert 0 < len(after) < n and after == list(range(n, n + len(after)))
    for i in before:
        assert sample.helper(i).strip("\n") in ctx.prefix
    for i in after:
        assert sample.helper(i).strip("\n") in ctx.suffix


@pytest.mark.parametrize("language", LANGUAGES)
async def test_budget_holds_with_the_real_tokenizer(
    language: str, sp_counter: SentencePieceCounter
) -> None:
    sample = SAMPLES[language]
    text, offset = sample.build(30)
    ctx = await _build(text, offset, sample.language_id, 512, sp_counter)
    assert not ctx.whole_file
    prefix_tokens, suffix_tokens = sp_counter.count(ctx.prefix), sp_counter.count(ctx.suffix)
    assert (prefix_tokens, suffix_tokens) == (ctx.prefix_tokens, ctx.suffix_tokens)
    assert prefix_tokens + suffix_tokens <= 512
    # Nearly all of the budget is used: trimming is by whole units, not by wide margins.
    assert prefix_tokens + suffix_tokens >= 512 * 0.8
    assert ctx.prefix.endswith(sample.target_head)
    assert_whole_lines(ctx, text, offset)


@pytest.mark.parametrize("language", ["python", "java", "lua", "unknown"])
@pytest.mark.parametrize("use_tree", [True, False])
async def test_a_20000_line_file_costs_two_small_count_calls(language: str, use_tree: bool) -> None:
    sample = SAMPLES[language]
    text, offset = sample.build(1400)
    assert text.count("\n") > 20_000
    spec = sample.spec
    counter = FakeCounter()
    budget = 2048
    ctx = await build_context(
        text,
        offset,
        syntax=DocumentSyntax.create(text, spec) if use_tree else None,
        lang=spec,
        budget_tokens=budget,
        count_tokens=counter,
    )
    assert counter.calls <= 3
    # What gets counted scales with the budget, never with the file.
    assert counter.chars <= 16 * budget
    assert counter.chars < len(text) / 10
    assert ctx.total_tokens <= budget
    assert ctx.prefix.endswith(sample.target_head)
    assert_whole_lines(ctx, text, offset)


async def test_an_enclosing_scope_bigger_than_the_budget_keeps_its_signature_and_nearest_lines(
    sp_counter: SentencePieceCounter,
) -> None:
    body = "".join(f"    value_{i} = compute({i}, value_{max(i - 1, 0)})\n" for i in range(400))
    marked = f"import os\n\n\ndef giant(seed):\n{body}    {CURSOR}\n    return value_399\n"
    text, offset = split_cursor(marked)
    ctx = await _build(text, offset, "python", 300, sp_counter)
    assert ctx.total_tokens <= 300
    assert_whole_lines(ctx, text, offset)
    assert "def giant(seed):\n" in ctx.prefix
    assert ctx.prefix.endswith("    value_399 = compute(399, value_398)\n    ")
    kept = [i for i in range(400) if f"value_{i} = " in ctx.prefix]
    assert kept == list(range(kept[0], 400)) and kept[0] > 50
    assert ctx.suffix == "\n    return value_399\n"


@pytest.mark.parametrize("language_id", ["python", None])
async def test_cursor_after_a_huge_definition_keeps_its_last_lines(language_id: str | None) -> None:
    body = "".join(f"    step_{i}()\n" for i in range(600))
    marked = f"def huge():\n{body}\n\n{CURSOR}\n\ndef after():\n    pass\n"
    text, offset = split_cursor(marked)
    ctx = await _build(text, offset, language_id, 200, FakeCounter())
    assert ctx.total_tokens <= 200
    assert_whole_lines(ctx, text, offset)
    assert "    step_599()\n" in ctx.prefix
    assert "def after():" in ctx.suffix


async def test_unused_share_flows_to_the_other_side() -> None:
    sample = SAMPLES["python"]
    text, _ = sample.build(40)
    at_end = await _build(text, len(text), "python", 1000, FakeCounter())
    assert at_end.suffix == "" and at_end.prefix_tokens > 950
    at_start = await _build(text, 0, "python", 1000, FakeCounter())
    assert at_start.prefix == "" and at_start.suffix_tokens > 950
    even = await _build(text, len(text) // 2, "python", 1000, FakeCounter(), prefix_share=0.5)
    assert abs(even.prefix_tokens - even.suffix_tokens) < 150


async def test_a_minified_line_is_clipped_around_the_cursor(
    sp_counter: SentencePieceCounter,
) -> None:
    line = "".join(f"var a{i}=function(x){{return x*{i}}};" for i in range(3000))
    text = f"// bundle\n{line}\n// end\n"
    offset = text.index("var a1500=")
    ctx = await _build(text, offset, "javascript", 256, sp_counter)
    assert ctx.clipped_cursor_line and not ctx.whole_file
    assert text[:offset].endswith(ctx.prefix) and ctx.prefix
    assert text[offset:].startswith(ctx.suffix) and ctx.suffix
    assert sp_counter.count(ctx.prefix) + sp_counter.count(ctx.suffix) <= 256


EMOJI_SOURCE = (
    "# -*- coding: utf-8 -*-\n"
    '"""Greetings in many scripts: 日本語, 中文, 한국어 😀."""\n'
    "import sys\n"
    + "".join(
        f'\n\ndef greet_{i}(name: str) -> str:\n    """挨拶 {i} 🎉"""\n'
        f'    return f"こんにちは {{name}} 😀 #{i}"\n'
        for i in range(40)
    )
    + '\n\ndef shout(name):\n    banner = "🎉🎉 " + name.upper() + " 世界"\n'
    + f'    print(banner, "日本語 😀", {CURSOR}\n'
    + "".join(f"\n\ndef tail_{i}():\n    return '✨ {i}'\n" for i in range(40))
)


async def test_emoji_and_cjk_before_the_cursor(sp_counter: SentencePieceCounter) -> None:
    text, offset = split_cursor(EMOJI_SOURCE)
    whole = await _build(text, offset, "python", 100_000, sp_counter)
    assert whole.whole_file and whole.prefix == text[:offset]
    assert whole.prefix.endswith('print(banner, "日本語 😀", ')

    trimmed = await _build(text, offset, "python", 400, sp_counter)
    assert not trimmed.whole_file
    assert sp_counter.count(trimmed.prefix) + sp_counter.count(trimmed.suffix) <= 400
    nearest = '    banner = "🎉🎉 " + name.upper() + " 世界"\n    print(banner, "日本語 😀", '
    assert trimmed.prefix.endswith(nearest)
    assert trimmed.prefix.startswith("# -*- coding: utf-8 -*-\n")
    assert_whole_lines(trimmed, text, offset)


class _SuperadditiveCounter(FakeCounter):
    """Joined text costs more than its pieces, as SentencePiece merges can make it."""

    async def __call__(self, texts: Sequence[str]) -> list[int]:
        counts = await super().__call__(texts)
        return [c + (len(t) // 500) * 3 for c, t in zip(counts, texts, strict=True)]


async def test_an_overshoot_of_the_joined_prompt_is_trimmed_away() -> None:
    sample = SAMPLES["go"]
    text, offset = sample.build(30)
    counter = _SuperadditiveCounter()
    ctx = await _build(text, offset, "go", 700, counter)
    recount = await counter([ctx.prefix, ctx.suffix])
    assert sum(recount) == ctx.total_tokens <= 700
    assert counter.calls <= 6
    assert ctx.prefix.endswith(sample.target_head)


async def test_a_stale_tree_is_not_trusted() -> None:
    sample = SAMPLES["python"]
    text, offset = sample.build(30)
    python = spec_for_language_id("python")
    stale = DocumentSyntax.create("def unrelated():\n    pass\n", python)
    ctx = await build_context(
        text, offset, syntax=stale, lang=python, budget_tokens=600, count_tokens=FakeCounter()
    )
    assert ctx.total_tokens <= 600
    assert ctx.prefix.endswith(sample.target_head)
    assert_whole_lines(ctx, text, offset)


async def test_a_comment_above_a_definition_goes_with_it() -> None:
    marked = "import os\n" + "".join(
        f"\n# Helper number {i}.\ndef h{i}(x):\n    return x + {i}\n" for i in range(40)
    )
    marked += f"\n\ndef target():\n    {CURSOR}\n"
    text, offset = split_cursor(marked)
    ctx = await _build(text, offset, "python", 150, FakeCounter())
    assert not ctx.whole_file
    for i in range(40):
        assert (f"# Helper number {i}." in ctx.prefix) == (f"def h{i}(x):" in ctx.prefix)
    assert "def h39(x):" in ctx.prefix and "def h0(x):" not in ctx.prefix


async def test_a_header_guard_is_a_container() -> None:
    members = "".join(f"int api_{i}(int x);\n" for i in range(200))
    marked = (
        f"#ifndef API_H\n#define API_H\n\n{members}\nstatic inline int twice(int x) {{\n"
        f"    {CURSOR}\n}}\n\n#endif\n"
    )
    text, offset = split_cursor(marked)
    ctx = await _build(text, offset, "c", 200, FakeCounter())
    assert ctx.prefix.startswith("#ifndef API_H\n")
    assert "int api_199(int x);\n" in ctx.prefix and "int api_0(int x);" not in ctx.prefix
    assert ctx.suffix.endswith("#endif\n")
    assert_whole_lines(ctx, text, offset)


async def test_edges() -> None:
    empty = await _build("", 0, "python", 100, FakeCounter())
    assert (empty.prefix, empty.suffix, empty.total_tokens, empty.whole_file) == ("", "", 0, True)
    zero = await _build("x = 1\ny = 2\n", 6, "python", 0, FakeCounter())
    assert (zero.prefix, zero.suffix, zero.total_tokens) == ("", "", 0)
    beyond = await _build("x = 1\n", 99, None, 100, FakeCounter())
    assert beyond.prefix == "x = 1\n" and beyond.suffix == ""
    with pytest.raises(ValueError):
        await _build("x", 0, None, 10, FakeCounter(), prefix_share=1.5)
