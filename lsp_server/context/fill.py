"""Which lines fill each side of a prompt budget: the prefix and suffix as tiers of pieces in
priority order (`sides`, from the outline), filled nearest first until something does not
fit (`fill`), the prefix's share first and what one side leaves unused handed to the other
(`plan`). Pieces cost their counted tokens where known, else an estimate (`Costs`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Literal

from .outline import Outline, Span

Key = Span | Literal["head", "tail"]


@dataclass
class Tier:
    """Pieces in priority order. "each": independent, all-or-nothing (signatures, header).
    "window": nearest first; the first misfit ends this and every later window tier."""

    kind: Literal["each", "window"]
    spans: list[Span]
    # The nearest unit, when too big whole, may be kept in part: its lines nearest the cursor.
    splittable: bool = True


@dataclass
class Side:
    mandatory: Literal["head", "tail"]
    tiers: list[Tier]
    upward: bool  # prefix side: lines nearest the cursor are the last ones of a unit


@dataclass
class Filled:
    used: int = 0
    lines: set[int] = field(default_factory=set)


class Costs:
    """Token cost of a piece: counted when known, else an optimistic estimate (and noted)."""

    def __init__(self, texts: Texts, known: dict[Key, int], chars_per_token: float | None) -> None:
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


class Texts:
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


def fill(side: Side, budget: int, cost: Costs) -> Filled:
    filled = Filled(used=cost.mandatory(side.mandatory))
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


def sides(outline: Outline) -> tuple[Side, Side]:
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
    prefix = Side(
        "head",
        [
            Tier("each", signatures),
            Tier("window", focus_up, splittable=False),
            Tier("window", [u for c in containers for u in c.before]),
            Tier("each", [outline.header] if outline.header else []),
            Tier("window", list(file_level.before)),
        ],
        upward=True,
    )
    suffix = Side(
        "tail",
        [
            Tier("each", closers),
            Tier("window", focus_down, splittable=False),
            Tier("window", [u for c in containers for u in c.after]),
            Tier("window", list(file_level.after)),
        ],
        upward=False,
    )
    return prefix, suffix


def plan(
    prefix: Side, suffix: Side, budget: int, share: float, cost: Costs
) -> tuple[Filled, Filled]:
    # Fill the prefix with its share, give the suffix the rest, then hand back what it left.
    first = fill(prefix, int(budget * share), cost)
    after = fill(suffix, budget - first.used, cost)
    before = fill(prefix, budget - after.used, cost)
    return before, after
