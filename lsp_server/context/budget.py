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

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from .fill import Costs, Filled, Key, Side, Texts, plan, sides
from .languages import LanguageSpec
from .outline import build_outline
from .syntax import DocumentSyntax
from .text import line_col, split_lines

CountTokens = Callable[[Sequence[str]], Awaitable[list[int]]]

# No piece of the Llama/Code Llama SentencePiece vocabulary is longer than 16 characters, so a
# text of n characters is at least ceil(n / 16) tokens. Pass another bound for other tokenizers.
MAX_CHARS_PER_TOKEN = 16
_VERIFY_ROUNDS = 3


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
    whole = await _whole_file(
        text, offset, counter, budget_tokens, max_chars_per_token, fill_tokens
    )
    if whole is not None:
        return whole

    fill = budget_tokens if fill_tokens is None else min(budget_tokens, fill_tokens)
    if syntax is not None and syntax.text != text:
        syntax = None  # a stale tree would mislead; the plain-text rules are merely coarse
    lines = split_lines(text)
    cl, col = line_col(text, offset)
    texts = Texts(lines, lines[cl][:col], lines[cl][col:], max_chars_per_token)
    prefix_side, suffix_side = sides(build_outline(lines, cl, offset, syntax=syntax, spec=lang))
    known: dict[Key, int] = {}
    clipped = _clip_to_reach(texts, prefix_side, suffix_side, fill * max_chars_per_token)
    sides_ = (prefix_side, suffix_side)
    clipped = await _count_pieces(counter, texts, known, sides_, fill, prefix_share) or clipped
    fit = await _fit(counter, texts, known, sides_, fill, prefix_share)
    dropped_before = _ranges(set(range(cl)) - fit.before.lines)
    dropped_after = _ranges(set(range(cl + 1, len(lines))) - fit.after.lines)
    return PromptContext(
        prefix=fit.prefix,
        suffix=fit.suffix,
        prefix_tokens=fit.prefix_tokens,
        suffix_tokens=fit.suffix_tokens,
        budget_tokens=budget_tokens,
        whole_file=not (dropped_before or dropped_after or clipped or fit.clipped),
        dropped_prefix_lines=dropped_before,
        dropped_suffix_lines=dropped_after,
        clipped_cursor_line=clipped or fit.clipped,
        count_calls=counter.calls,
        counted_chars=counter.chars,
    )


def _clip_to_reach(texts: Texts, prefix_side: Side, suffix_side: Side, reach: int) -> bool:
    """Cut the cursor line's halves to `reach` characters; whether one was cut.

    No text longer than `reach` can fit the budget (a token covers at most
    max_chars_per_token characters): a huge cursor line (minified code) is cut to it before
    anything is counted, so no count_tokens request grows with the line."""
    clipped = False
    if len(texts.head) > reach:
        texts.head = texts.head[len(texts.head) - reach :]
        prefix_side.tiers, clipped = [], True
    if len(texts.tail) > reach:
        texts.tail = texts.tail[:reach]
        suffix_side.tiers, clipped = [], True
    return clipped


async def _whole_file(
    text: str,
    offset: int,
    counter: _Counter,
    budget_tokens: int,
    max_chars_per_token: int,
    fill_tokens: int | None,
) -> PromptContext | None:
    """The whole file as the context, where it fits the budget; None otherwise."""
    est_chars_per_token = max_chars_per_token / 2
    # With a fill budget, trimming would keep less than a file that fits: check any file
    # that could fit at all.
    whole_gate = max_chars_per_token if fill_tokens is not None else est_chars_per_token
    if len(text) > budget_tokens * whole_gate:
        return None
    before, after = await counter([text[:offset], text[offset:]])
    if before + after > budget_tokens:
        return None
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


async def _count(
    counter: _Counter, texts: Texts, known: dict[Key, int], keys: Iterable[Key]
) -> None:
    """Count the pieces `keys` in one call, into `known`."""
    keys = list(keys)
    if keys:
        known.update(zip(keys, await counter([texts.text(k) for k in keys]), strict=True))


async def _count_pieces(
    counter: _Counter,
    texts: Texts,
    known: dict[Key, int],
    sides_: tuple[Side, Side],
    budget: int,
    share: float,
) -> bool:
    """Count every piece that could be in the prompt (into `known`); whether the cursor
    line had to be cut."""
    prefix_side, suffix_side = sides_
    clipped = False
    # Round 1 estimates generously; round 2 counts whatever could still possibly fit.
    for chars_per_token in (texts.max_chars_per_token / 2, float(texts.max_chars_per_token)):
        cost = Costs(texts, known, chars_per_token)
        plan(prefix_side, suffix_side, budget, share, cost)
        if not cost.wanted:
            break
        await _count(counter, texts, known, cost.wanted)
        head_cut, tail_cut = _clip_cursor_line(texts, known, budget, share)
        # Whole lines glued to a cut-off line would read as one line: the cut half stands alone.
        if head_cut:
            prefix_side.tiers = []
        if tail_cut:
            suffix_side.tiers = []
        clipped = clipped or head_cut or tail_cut
    await _count(
        counter, texts, known, (k for k in ("head", "tail") if k not in known and texts.size(k))
    )
    return clipped


@dataclass
class _Fit:
    """The planned prefix and suffix, counted joined, and the lines they hold."""

    before: Filled
    after: Filled
    prefix: str
    suffix: str
    prefix_tokens: int
    suffix_tokens: int
    clipped: bool = False  # even the cursor line did not fit: nothing was kept


async def _fit(
    counter: _Counter,
    texts: Texts,
    known: dict[Key, int],
    sides_: tuple[Side, Side],
    budget_tokens: int,
    share: float,
) -> _Fit:
    """The plan within the budget, its joined text counted once more and shrunk while it
    overshoots."""
    prefix_side, suffix_side = sides_
    lines = texts.lines
    limit = budget_tokens
    for _ in range(_VERIFY_ROUNDS):
        before_fill, after_fill = plan(
            prefix_side, suffix_side, limit, share, Costs(texts, known, None)
        )
        prefix = "".join(lines[r] for r in sorted(before_fill.lines)) + texts.head
        suffix = texts.tail + "".join(lines[r] for r in sorted(after_fill.lines))
        prefix_tokens, suffix_tokens = await counter([prefix, suffix])
        if prefix_tokens + suffix_tokens <= budget_tokens:
            return _Fit(before_fill, after_fill, prefix, suffix, prefix_tokens, suffix_tokens)
        # The joined text tokenized longer than its pieces: shrink by the overshoot and retry.
        limit -= prefix_tokens + suffix_tokens - budget_tokens
    # Still over after shrinking: the cursor line alone, or nothing if even that is over.
    fit = _Fit(
        Filled(), Filled(), texts.head, texts.tail, known.get("head", 0), known.get("tail", 0)
    )
    if fit.prefix_tokens + fit.suffix_tokens > budget_tokens:
        fit.prefix, fit.suffix, fit.prefix_tokens, fit.suffix_tokens, fit.clipped = (
            "",
            "",
            0,
            0,
            True,
        )
    return fit


def _clip_cursor_line(
    texts: Texts, known: dict[Key, int], budget: int, share: float
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
