"""Prompt budgeting in real model tokens: which lines around the cursor go into the FIM prompt.

How the prefix and suffix are chosen (see `build_context`):

1. If the whole file fits the budget it is returned whole.
2. Otherwise each side is filled in priority order from the outline (see outline.py):
   the cursor line's own text; then the lines that open (prefix) or close (suffix) the
   scopes around the cursor; then the focus (the function around the cursor) line by line
   nearest the cursor first; then the other members of the enclosing containers and then of
   the file, whole, nearest first. Once something does not fit, everything farther on that
   side is dropped, so the kept text next to the cursor is contiguous and whole definitions
   go farthest first. The prefix also keeps the file header (imports) whenever it fits.
3. The budget is split `prefix_share` / rest; what one side leaves unused flows to the other.

Counting is batched: every piece that could be needed is counted in one `count_tokens` call
(a second one if the text packs more characters per token than guessed), chosen with a
chars-per-token bound so a 20,000-line file costs no more than a small one. Token counts of
joined pieces can differ from the sum of the pieces' counts, so the finished prefix and
suffix are counted once more and trimmed further if they overshoot.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Literal

from .languages import LanguageSpec
from .outline import Outline, Span, build_outline
from .syntax import DocumentSyntax
from .text import line_col, split_lines

CountTokens = Callable[[Sequence[str]], Awaitable[list[int]]]

# No piece of the Llama/Code Llama SentencePiece vocabulary is longer than 16 characters, so a
# text of n characters is at least ceil(n / 16) tokens. Pass another bound for other tokenizers.
MAX_CHARS_PER_TOKEN = 16
_VERIFY_ROUNDS = 3

Key = Span | Literal["head", "tail"]


@dataclass(frozen=True)
class PromptContext:
    """The text around the cursor that fits the budget, and what was left out of it."""

    prefix: str
    suffix: str
    prefix_tokens: int
    suffix_tokens: int
    budget_tokens: int
    whole_file: bool
    # Document lines (0-based, [start, end)) left out above and below the cursor line.
    dropped_prefix_lines: tuple[tuple[int, int], ...] = ()
    dropped_suffix_lines: tuple[tuple[int, int], ...] = ()
    # Only a cursor line longer than the whole budget is cut, keeping the text nearest the cursor.
    clipped_cursor_line: bool = False
    count_calls: int = 0
    counted_chars: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prefix_tokens + self.suffix_tokens


@dataclass
class _Tier:
    """Pieces in priority order. "each": independent, all-or-nothing (signatures, header).
    "window": nearest first; the first misfit ends this and every later window tier."""

    kind: Literal["each", "window"]
    spans: list[Span]
    # The nearest unit, when too big whole, may be kept in part: its lines nearest the cursor.
    splittable: bool = True


@dataclass
class _Side:
    mandatory: Literal["head", "tail"]
    tiers: list[_Tier]
    upward: bool  # prefix side: lines nearest the cursor are the last ones of a unit


@dataclass
class _Filled:
    used: int = 0
    lines: set[int] = field(default_factory=set)


class _Costs:
    """Token cost of a piece: counted when known, else an optimistic estimate (and noted)."""

    def __init__(self, texts: _Texts, known: dict[Key, int], chars_per_token: float | None) -> None:
        self.texts = texts
        self.known = known
        self.chars_per_token = chars_per_token  # None: uncounted pieces never fit
        self.wanted: set[Key] = set()

    def mandatory(self, key: Key) -> int:
        """The cursor line's halves are always taken, so always counted."""
        if key in self.known:
            return self.known[key]
        size = self.texts.size(key)
        if size:
            self.wanted.add(key)
        return math.ceil(size / (self.chars_per_token or self.texts.max_chars_per_token))

    def __call__(self, key: Key, remaining: int) -> int:
        if key in self.known:
            return self.known[key]
        size = self.texts.size(key)
        if size == 0:
            return 0
        floor = math.ceil(size / self.texts.max_chars_per_token)
        if self.chars_per_token is None or floor > remaining:
            return max(floor, remaining + 1)  # cannot fit, no need to count it
        self.wanted.add(key)
        return math.ceil(size / self.chars_per_token)


class _Texts:
    """Texts of pieces of one document, with O(1) sizes from cumulative line lengths."""

    def __init__(self, lines: list[str], head: str, tail: str, max_chars_per_token: int) -> None:
        self.lines = lines
        self.head = head
        self.tail = tail
        self.max_chars_per_token = max_chars_per_token
        self._cum = [0, *accumulate(map(len, lines))]

    def size(self, key: Key) -> int:
        if key == "head":
            return len(self.head)
        if key == "tail":
            return len(self.tail)
        return self._cum[key.end] - self._cum[key.start]

    def text(self, key: Key) -> str:
        if key == "head":
            return self.head
        if key == "tail":
            return self.tail
        return "".join(self.lines[key.start : key.end])


def _fill(side: _Side, budget: int, cost: _Costs) -> _Filled:
    filled = _Filled(used=cost.mandatory(side.mandatory))
    blocked = started = False

    def offer(span: Span) -> bool:
        if all(line in filled.lines for line in range(span.start, span.end)):
            return True
        price = cost(span, budget - filled.used)
        if filled.used + price > budget:
            return False
        filled.used += price
        filled.lines.update(range(span.start, span.end))
        return True

    for tier in side.tiers:
        if tier.kind == "each":
            for span in tier.spans:
                offer(span)
            continue
        if blocked:
            continue
        for span in tier.spans:
            if offer(span):
                started = True
                continue
            if tier.splittable and not started:
                # Even the nearest unit is too big: keep the lines of it nearest the cursor.
                rows = range(span.start, span.end)
                for row in reversed(rows) if side.upward else rows:
                    if not offer(Span(row, row + 1)):
                        break
            blocked = True
            break
    return filled


def _sides(outline: Outline) -> tuple[_Side, _Side]:
    cl = outline.cursor_line
    containers = outline.levels[:-1]
    file_level = outline.levels[-1]
    signatures = [s for s in (outline.focus_signature, *(c.signature for c in containers)) if s]
    closers = [s for s in (outline.focus_closer, *(c.closer for c in containers)) if s]
    focus_up: list[Span] = []
    focus_down: list[Span] = []
    if outline.focus:
        focus_up = [Span(r, r + 1) for r in range(cl - 1, outline.focus.start - 1, -1)]
        focus_down = [Span(r, r + 1) for r in range(cl + 1, outline.focus.end)]
    prefix = _Side(
        "head",
        [
            _Tier("each", signatures),
            _Tier("window", focus_up, splittable=False),
            _Tier("window", [u for c in containers for u in c.before]),
            _Tier("each", [outline.header] if outline.header else []),
            _Tier("window", list(file_level.before)),
        ],
        upward=True,
    )
    suffix = _Side(
        "tail",
        [
            _Tier("each", closers),
            _Tier("window", focus_down, splittable=False),
            _Tier("window", [u for c in containers for u in c.after]),
            _Tier("window", list(file_level.after)),
        ],
        upward=False,
    )
    return prefix, suffix


def _plan(
    prefix: _Side, suffix: _Side, budget: int, share: float, cost: _Costs
) -> tuple[_Filled, _Filled]:
    # Fill the prefix with its share, give the suffix the rest, then hand back what it left.
    first = _fill(prefix, int(budget * share), cost)
    after = _fill(suffix, budget - first.used, cost)
    before = _fill(prefix, budget - after.used, cost)
    return before, after


def _ranges(rows: Iterable[int]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for row in sorted(rows):
        if out and out[-1][1] == row:
            out[-1] = (out[-1][0], row + 1)
        else:
            out.append((row, row + 1))
    return tuple(out)


class _Counter:
    def __init__(self, count_tokens: CountTokens) -> None:
        self.count_tokens = count_tokens
        self.calls = 0
        self.chars = 0

    async def __call__(self, texts: Sequence[str]) -> list[int]:
        self.calls += 1
        self.chars += sum(map(len, texts))
        counts = await self.count_tokens(list(texts))
        if len(counts) != len(texts):
            raise ValueError(f"count_tokens returned {len(counts)} counts for {len(texts)} texts")
        return counts


def _clip(text: str, tokens: int, keep_end: bool) -> str:
    # Up to 4 byte tokens per character plus one for the leading space the tokenizer adds.
    chars = max(0, (tokens - 1) // 4)
    if keep_end:
        return text[len(text) - chars :] if chars else ""
    return text[:chars]


async def build_context(
    text: str,
    offset: int,
    *,
    syntax: DocumentSyntax | None,
    lang: LanguageSpec | None,
    budget_tokens: int,
    count_tokens: CountTokens,
    prefix_share: float = 0.75,
    max_chars_per_token: int = MAX_CHARS_PER_TOKEN,
    fill_tokens: int | None = None,
) -> PromptContext:
    """The prefix (text before `offset`, a str index) and suffix that fit `budget_tokens`.

    `count_tokens` counts the model's tokens for a batch of texts; the budget covers the
    prefix and suffix text only (control tokens and the answer are the caller's to reserve).
    `syntax` is used only if it holds exactly `text`; without it plain-text rules apply.
    `fill_tokens`: a file that does not fit whole is trimmed to this many tokens instead
    (room left to type); its context still reports `budget_tokens`.
    """
    if budget_tokens < 0 or not 0.0 <= prefix_share <= 1.0:
        raise ValueError(f"bad budget {budget_tokens} or prefix share {prefix_share}")
    offset = max(0, min(offset, len(text)))
    counter = _Counter(count_tokens)
    est_chars_per_token = max_chars_per_token / 2
    # With a fill budget, trimming would keep less than a file that fits: check any file
    # that could fit at all.
    whole_gate = max_chars_per_token if fill_tokens is not None else est_chars_per_token

    if len(text) <= budget_tokens * whole_gate:
        before, after = await counter([text[:offset], text[offset:]])
        if before + after <= budget_tokens:
            return PromptContext(
                prefix=text[:offset],
                suffix=text[offset:],
                prefix_tokens=before,
                suffix_tokens=after,
                budget_tokens=budget_tokens,
                whole_file=True,
                count_calls=counter.calls,
                counted_chars=counter.chars,
            )

    full_budget = budget_tokens
    if fill_tokens is not None:
        budget_tokens = min(budget_tokens, fill_tokens)
    if syntax is not None and syntax.text != text:
        syntax = None  # a stale tree would mislead; the plain-text rules are merely coarse
    lines = split_lines(text)
    cl, col = line_col(text, offset)
    texts = _Texts(lines, lines[cl][:col], lines[cl][col:], max_chars_per_token)
    prefix_side, suffix_side = _sides(build_outline(lines, cl, offset, syntax=syntax, spec=lang))
    known: dict[Key, int] = {}
    # No text longer than this can fit the budget (a token covers at most max_chars_per_token
    # characters): a huge cursor line (minified code) is cut to it before anything is counted,
    # so no count_tokens request grows with the line.
    reach = budget_tokens * max_chars_per_token
    clipped = False
    if len(texts.head) > reach:
        texts.head = texts.head[len(texts.head) - reach :]
        prefix_side.tiers, clipped = [], True
    if len(texts.tail) > reach:
        texts.tail = texts.tail[:reach]
        suffix_side.tiers, clipped = [], True

    async def count(keys: Iterable[Key]) -> None:
        keys = list(keys)
        if keys:
            known.update(zip(keys, await counter([texts.text(k) for k in keys]), strict=True))

    # Round 1 estimates generously; round 2 counts whatever could still possibly fit.
    for chars_per_token in (est_chars_per_token, float(max_chars_per_token)):
        cost = _Costs(texts, known, chars_per_token)
        _plan(prefix_side, suffix_side, budget_tokens, prefix_share, cost)
        if not cost.wanted:
            break
        await count(cost.wanted)
        head_cut, tail_cut = _clip_cursor_line(texts, known, budget_tokens, prefix_share)
        # Whole lines glued to a cut-off line would read as one line: the cut half stands alone.
        if head_cut:
            prefix_side.tiers = []
        if tail_cut:
            suffix_side.tiers = []
        clipped = clipped or head_cut or tail_cut
    await count(k for k in ("head", "tail") if k not in known and texts.size(k))

    limit = budget_tokens
    for _ in range(_VERIFY_ROUNDS):
        before_fill, after_fill = _plan(
            prefix_side, suffix_side, limit, prefix_share, _Costs(texts, known, None)
        )
        prefix = "".join(lines[r] for r in sorted(before_fill.lines)) + texts.head
        suffix = texts.tail + "".join(lines[r] for r in sorted(after_fill.lines))
        prefix_tokens, suffix_tokens = await counter([prefix, suffix])
        if prefix_tokens + suffix_tokens <= budget_tokens:
            break
        # The joined text tokenized longer than its pieces: shrink by the overshoot and retry.
        limit -= prefix_tokens + suffix_tokens - budget_tokens
    else:
        # Still over after shrinking: the cursor line alone, or nothing if even that is over.
        before_fill, after_fill = _Filled(), _Filled()
        prefix, suffix = texts.head, texts.tail
        prefix_tokens, suffix_tokens = known.get("head", 0), known.get("tail", 0)
        if prefix_tokens + suffix_tokens > budget_tokens:
            prefix, suffix, prefix_tokens, suffix_tokens, clipped = "", "", 0, 0, True

    dropped_before = _ranges(set(range(cl)) - before_fill.lines)
    dropped_after = _ranges(set(range(cl + 1, len(lines))) - after_fill.lines)
    return PromptContext(
        prefix=prefix,
        suffix=suffix,
        prefix_tokens=prefix_tokens,
        suffix_tokens=suffix_tokens,
        budget_tokens=full_budget,
        whole_file=not (dropped_before or dropped_after or clipped),
        dropped_prefix_lines=dropped_before,
        dropped_suffix_lines=dropped_after,
        clipped_cursor_line=clipped,
        count_calls=counter.calls,
        counted_chars=counter.chars,
    )


def _clip_cursor_line(
    texts: _Texts, known: dict[Key, int], budget: int, share: float
) -> tuple[bool, bool]:
    """Cut the cursor line's two halves if together they exceed the budget (a minified file).

    The head keeps its end and the tail its start: the text nearest the cursor survives.
    Clipped halves are forgotten from `known` so that they are counted again. Returns which
    half was cut.
    """
    head, tail = known.get("head", 0), known.get("tail", 0)
    head_cut = tail_cut = False
    if head + tail <= budget:
        return head_cut, tail_cut
    head_allowance = max(int(budget * share), budget - tail)
    if head > head_allowance:
        texts.head = _clip(texts.head, head_allowance, keep_end=True)
        known.pop("head")
        head, head_cut = head_allowance, True
    if tail > budget - head:
        texts.tail = _clip(texts.tail, budget - head, keep_end=False)
        known.pop("tail")
        tail_cut = True
    return head_cut, tail_cut
