"""The language server's side of cross-file context: the header's budget, its exact count and trim, stickiness.

The index is a scripted stand-in here (its own tests are in tests/unit/workspace/); tokens are
counted with the real Code Llama tokenizer, as the host counts them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from lsp_server.config import CrossFileSettings, parse_settings
from lsp_server.context import PromptContext
from lsp_server.crossfile import CrossFileContext, header_budget, visible_span
from lsp_server.workspace import Snippet
from model_host.text.header import render_header
from model_host.text.token_counts import TokenCounter
from model_host.text.tokenizer import SentencePieceTokenizer

UTIL = Snippet("pkg/util.py", "def helper(x: int) -> str:", ("helper",))
MATH = Snippet("pkg/math.py", "def add(a: int, b: int) -> int:\n    return a + b", ("add",))
BIG = Snippet("pkg/big.py", "\n".join(f"def f{i}(value): ..." for i in range(60)), ("f0",))
TEXT = "from pkg.util import helper\n\nx = helper(1)\n"


class ScriptedIndex:
    """Answers `select` with what the test says; records the calls."""

    def __init__(self) -> None:
        self.answer: list[Snippet] = []
        self.calls: list[dict[str, Any]] = []
        self.fail = False

    def select(self, uri: str, text: str, offset: int, **kw: Any) -> list[Snippet]:
        self.calls.append({"uri": uri, "offset": offset, **kw})
        if self.fail:
            raise RuntimeError("index bug")
        return list(self.answer)


@pytest.fixture
def counter(code_llama: SentencePieceTokenizer) -> Any:
    counts = TokenCounter(code_llama)

    async def count_tokens(texts: Sequence[str]) -> list[int]:
        return [counts.count(t) for t in texts]

    return count_tokens


class Source:
    def __init__(self, index: ScriptedIndex | None, has_sources: bool = True) -> None:
        self.index = index
        self.has_sources = has_sources


def make(settings: CrossFileSettings | None = None) -> tuple[CrossFileContext, ScriptedIndex]:
    index = ScriptedIndex()
    cfg = settings or CrossFileSettings()
    return CrossFileContext(Source(index), lambda: cfg), index  # type: ignore[arg-type]


async def header(ctx: CrossFileContext, counter: Any, budget: int = 400, **kw: Any) -> Any:
    text = kw.pop("text", TEXT)
    return await ctx.header(
        kw.pop("uri", "file:///w/main.py"),
        text,
        len(text),
        language_id=kw.pop("language_id", "python"),
        visible=(0, len(TEXT)),
        budget_tokens=budget,
        count_tokens=counter,
    )


def test_header_budget() -> None:
    cfg = CrossFileSettings(share=0.25, min_tokens=256)
    assert header_budget(16000, cfg) == 4000  # the share
    assert header_budget(800, cfg) == 256  # the floor
    assert header_budget(300, cfg) == 150  # never more than half
    assert header_budget(16000, CrossFileSettings(enable=False)) == 0
    assert header_budget(0, cfg) == 0


def test_visible_span_is_the_unbroken_text_around_the_cursor() -> None:
    text = "".join(f"line {i}\n" for i in range(10))
    whole = PromptContext(text, "", 0, 0, 100, True)
    assert visible_span(text, whole) == (0, len(text))
    cut = PromptContext(
        "",
        "",
        0,
        0,
        100,
        False,
        dropped_prefix_lines=((0, 2), (3, 4)),
        dropped_suffix_lines=((8, 10),),
    )
    assert visible_span(text, cut) == (text.index("line 4"), text.index("line 8"))


async def test_header_is_counted_exactly_and_select_gets_its_budget(counter: Any) -> None:
    ctx, index = make()
    index.answer = [UTIL, MATH]
    got = await header(ctx, counter, budget=400)
    assert got is not None and got.snippets == (UTIL, MATH) and not got.reused
    rendered = render_header([(s.path, s.text) for s in got.snippets], "python")
    assert got.tokens == (await counter([rendered]))[0]
    assert got.to_wire() == [
        {"path": UTIL.path, "text": UTIL.text},
        {"path": MATH.path, "text": MATH.text},
    ]
    assert index.calls[0]["budget_chars"] == 400 * 3
    assert index.calls[0]["visible"] == (0, len(TEXT))
    assert index.calls[0]["language_id"] == "python"


async def test_whole_snippets_are_dropped_from_the_end_until_it_fits(counter: Any) -> None:
    ctx, index = make()
    index.answer = [UTIL, MATH, BIG]
    two = render_header([(UTIL.path, UTIL.text), (MATH.path, MATH.text)], "python")
    budget = (await counter([two]))[0] + 5
    got = await header(ctx, counter, budget=budget)
    assert got is not None and got.snippets == (UTIL, MATH)
    assert got.tokens <= budget
    assert await header(make()[0], counter, budget=3) is None  # not even one fits


async def test_the_last_snippet_is_cut_by_whole_lines_to_fit(counter: Any) -> None:
    ctx, index = make()
    gap = Snippet("pkg/big.py", "def f0(value): ...\n...\ndef f9(value): ...", ("f0", "f9"))
    index.answer = [UTIL, BIG]
    first_lines = "\n".join(BIG.text.split("\n")[:5])
    want = render_header([(UTIL.path, UTIL.text), (BIG.path, first_lines)], "python")
    budget = (await counter([want]))[0] + 2
    got = await header(ctx, counter, budget=budget)
    assert got is not None and got.tokens <= budget
    assert got.snippets[0] == UTIL and got.snippets[1].path == BIG.path
    assert got.snippets[1].text == first_lines  # whole lines, from the top
    assert got.snippets[1].names == ("f0",)
    # A cut that would end on the `...` gap drops the gap with the line after it.
    ctx, index = make()
    index.answer = [gap]
    one = render_header([(gap.path, "def f0(value): ...\n...")], "python")
    got = await header(ctx, counter, budget=(await counter([one]))[0] + 1)
    assert got is not None and got.snippets[0].text == "def f0(value): ..."


async def test_the_header_sticks_while_the_names_stay(counter: Any) -> None:
    ctx, index = make()
    index.answer = [UTIL, MATH]
    first = await header(ctx, counter)
    # Same names, other text (a signature now, say): the last header is sent unchanged.
    index.answer = [Snippet(UTIL.path, "def helper(x):", ("helper",)), MATH]
    again = await header(ctx, counter)
    assert again is not None and again.reused and again.snippets == first.snippets
    # Fewer names: still the same header.
    index.answer = [MATH]
    assert (await header(ctx, counter)).snippets == first.snippets
    index.answer = []
    assert (await header(ctx, counter)).snippets == first.snippets
    # Another window of the same open buffer (the index names windows by their lines).
    index.answer = [UTIL, Snippet("web/view.js", "a\nb", ("lines 3-14",))]
    with_window = await header(ctx, counter)
    assert not with_window.reused
    index.answer = [UTIL, Snippet("web/view.js", "c\nd", ("lines 9-20",))]
    assert (await header(ctx, counter)).snippets == with_window.snippets
    first = with_window
    # A name that was not there: a new header.
    index.answer = [UTIL, MATH, Snippet("pkg/io.py", "def load(path):", ("load",))]
    new = await header(ctx, counter)
    assert new is not None and not new.reused and len(new.snippets) == 3
    assert (ctx.reused, ctx.selected) == (4, 3)


async def test_a_changed_file_it_quotes_ends_the_stickiness(counter: Any) -> None:
    ctx, index = make()
    index.answer = [UTIL]
    await header(ctx, counter)
    ctx.touched(Path("/w/pkg/other.py"))  # a file the header does not quote
    ctx.touched("file:///w/notes.txt")
    assert (await header(ctx, counter)).reused
    edited = Snippet(UTIL.path, "def helper(x: int, y: int) -> str:", ("helper",))
    index.answer = [edited]
    ctx.touched(Path("/w/pkg/util.py"))
    got = await header(ctx, counter)
    assert got is not None and not got.reused and got.snippets == (edited,)
    # ... and the new one sticks again.
    assert (await header(ctx, counter)).reused


async def test_budget_language_and_closing_start_afresh(counter: Any) -> None:
    ctx, index = make()
    index.answer = [UTIL]
    await header(ctx, counter, budget=400)
    assert not (await header(ctx, counter, budget=500)).reused
    assert not (await header(ctx, counter, budget=500, language_id="cython")).reused
    ctx.forget("file:///w/main.py")
    assert not (await header(ctx, counter, budget=500, language_id="cython")).reused
    # Headers are per document.
    assert not (await header(ctx, counter, budget=500, uri="file:///w/b.py")).reused


async def test_disabled_or_failing_index_gives_no_header(counter: Any) -> None:
    ctx, index = make(CrossFileSettings(enable=False))
    index.answer = [UTIL]
    assert await header(ctx, counter) is None and index.calls == []
    ctx, index = make()
    index.fail = True
    assert await header(ctx, counter) is None
    none = CrossFileContext(Source(None), CrossFileSettings)
    assert await header(none, counter) is None and none.budget(16000) == 0


def test_no_share_without_anything_to_quote() -> None:
    """No workspace folder and no other open buffer: the file keeps its whole budget."""
    assert make()[0].budget(16000) == 4000
    alone = CrossFileContext(Source(ScriptedIndex(), has_sources=False), CrossFileSettings)  # type: ignore[arg-type]
    assert alone.budget(16000) == 0


def test_chat_gets_the_selection_s_definitions() -> None:
    ctx, index = make()
    index.answer = [UTIL]
    assert ctx.for_chat("file:///w/main.py", TEXT, (5, 20), "python", 8000) == (UTIL,)
    call = index.calls[0]
    assert call["offset"] == 20 and call["visible"] == (5, 20)
    assert call["budget_chars"] == header_budget(8000, CrossFileSettings()) * 3
    off, index = make(CrossFileSettings(enable=False))
    assert off.for_chat("file:///w/main.py", TEXT, (0, 5), "python", 8000) == ()


def test_settings_are_typed_and_checked() -> None:
    raw = {
        "context": {
            "crossFile": {
                "enable": False,
                "share": 0.4,
                "minTokens": 64,
                "maxFiles": 500,
                "maxFileBytes": 4096,
                "exclude": ["vendor/**", "*.gen.go"],
            }
        }
    }
    settings, problems = parse_settings({"tandem": raw})
    assert problems == []
    assert settings.context.cross_file == CrossFileSettings(
        False, 0.4, 64, 500, 4096, ["vendor/**", "*.gen.go"]
    )
    bad = {"share": 0.9, "minTokens": -1, "maxFiles": "many", "exclude": [3], "enable": True}
    kept, problems = parse_settings({"context": {"crossFile": bad}}, settings)
    # Every bad value keeps the last one; the good one is taken (in a copy: the base stays).
    assert kept.context.cross_file == dataclasses.replace(settings.context.cross_file, enable=True)
    assert settings.context.cross_file.enable is False
    assert problems == [
        "tandem.context.crossFile.share: expected a value between 0 and 0.75; using the default (0.4)",
        "tandem.context.crossFile.minTokens: expected a value between 0 and 32768; using the default (64)",
        "tandem.context.crossFile.maxFiles: expected a number; using the default (500)",
        "tandem.context.crossFile.exclude: expected a list of strings; using the default (['vendor/**', '*.gen.go'])",
    ]
    assert parse_settings({})[0].context.cross_file == CrossFileSettings()


async def test_a_file_touched_while_the_header_is_counted_is_seen(counter: Any) -> None:
    ctx, index = make()
    index.answer = [UTIL]

    async def count_and_touch(texts: Sequence[str]) -> list[int]:
        ctx.touched(Path("/w/pkg/util.py"))  # saved while the count was on its way
        return list(await counter(texts))

    await header(ctx, count_and_touch)
    assert not (await header(ctx, counter)).reused


async def test_typing_a_word_keeps_the_header(counter: Any) -> None:
    """While a word is typed, the index's matches by its letters change at every key; the
    header stays until the word ends (and is not even asked for meanwhile)."""
    ctx, index = make()
    index.answer = [UTIL]
    start = "x = helper(1)\ny = "
    first = await header(ctx, counter, text=start)
    for typed in ("a", "ap", "app", "ap"):  # typed on, then erased back
        index.answer = [
            UTIL,
            Snippet("pkg/app.py", f"def {typed}_thing(): ...", (f"{typed}_thing",)),
        ]
        calls = len(index.calls)
        got = await header(ctx, counter, text=start + typed)
        assert got.reused and got.snippets == first.snippets and len(index.calls) == calls
    # The word ends: the index is asked again, and a name it did not have makes a new header.
    index.answer = [UTIL, MATH]
    new = await header(ctx, counter, text=start + "ap(")
    assert not new.reused and new.snippets == (UTIL, MATH)
    # Asked again at the same spot: asked again (a name may have come in meanwhile).
    index.answer = [UTIL, MATH, BIG]
    assert not (await header(ctx, counter, text=start + "ap(")).reused
    # A word typed elsewhere is no continuation.
    calls = len(index.calls)
    await header(ctx, counter, text="z = a")
    assert len(index.calls) == calls + 1
