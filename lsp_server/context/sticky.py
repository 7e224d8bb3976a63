"""Keeping a prompt's far edges where they were while the user types, so the engine's cache keeps hitting.

A fresh selection (`budget.build_context`) picks whole lines around the cursor by the
outline. Run on every keystroke, it would move its far edges whenever the prompt grows
by a token or a half-typed line confuses the parser, and every move changes prompt ids
near their start: the engine's prefix cache would miss almost the whole prompt. So the
last selection is kept per document and used again while the lines it kept are
unchanged, the cursor is still between them (rows added in between are new lines typed
at the cursor) and it still fits the budget. A fresh selection that has to trim aims at
`1 - slack` of the budget, leaving room to type before the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .budget import CountTokens, PromptContext, build_context
from .languages import LanguageSpec
from .syntax import DocumentSyntax
from .text import line_col, split_lines

SLACK = 0.1


@dataclass(frozen=True)
class Selection:
    """The rows a prompt kept around its cursor row, with their text (to see they are unchanged)."""

    budget_tokens: int
    cursor_row: int
    line_count: int
    prefix_rows: tuple[int, ...]
    prefix_lines: tuple[str, ...]
    suffix_rows: tuple[int, ...]
    suffix_lines: tuple[str, ...]


def selection_of(ctx: PromptContext, lines: Sequence[str], row: int) -> Selection | None:
    """What `ctx` kept of the document's `lines` (the cursor on `row`), or None when it
    cannot be kept (a clipped cursor line)."""
    if ctx.clipped_cursor_line:
        return None
    gone_before = {r for a, b in ctx.dropped_prefix_lines for r in range(a, b)}
    gone_after = {r for a, b in ctx.dropped_suffix_lines for r in range(a, b)}
    above = tuple(r for r in range(row) if r not in gone_before)
    below = tuple(r for r in range(row + 1, len(lines)) if r not in gone_after)
    return Selection(
        budget_tokens=ctx.budget_tokens,
        cursor_row=row,
        line_count=len(lines),
        prefix_rows=above,
        prefix_lines=tuple(lines[r] for r in above),
        suffix_rows=below,
        suffix_lines=tuple(lines[r] for r in below),
    )


def _ranges(rows: Sequence[int], start: int, end: int) -> tuple[tuple[int, int], ...]:
    """[start, end) minus `rows` (ascending), as ranges."""
    out: list[tuple[int, int]] = []
    at = start
    for r in [*rows, end]:
        if r > at:
            out.append((at, r))
        at = max(at, r + 1)
    return tuple(out)


async def reuse(
    selection: Selection, lines: Sequence[str], row: int, col: int, count_tokens: CountTokens
) -> PromptContext | None:
    """The same rows for the cursor at (`row`, `col`) in the edited document's `lines`, if
    still valid and in budget."""
    shift = len(lines) - selection.line_count
    if row < selection.cursor_row or row - selection.cursor_row != shift:
        return None  # the cursor moved elsewhere, or lines changed away from it
    for r, line in zip(selection.prefix_rows, selection.prefix_lines, strict=True):
        if lines[r] != line:
            return None
    below = tuple(r + shift for r in selection.suffix_rows)
    for r, line in zip(below, selection.suffix_lines, strict=True):
        if r <= row or lines[r] != line:
            return None
    above = (*selection.prefix_rows, *range(selection.cursor_row, row))
    prefix = "".join(lines[r] for r in above) + lines[row][:col]
    suffix = lines[row][col:] + "".join(lines[r] for r in below)
    prefix_tokens, suffix_tokens = await count_tokens([prefix, suffix])
    if prefix_tokens + suffix_tokens > selection.budget_tokens:
        return None
    dropped_before = _ranges(above, 0, row)
    dropped_after = _ranges(below, row + 1, len(lines))
    return PromptContext(
        prefix=prefix,
        suffix=suffix,
        prefix_tokens=prefix_tokens,
        suffix_tokens=suffix_tokens,
        budget_tokens=selection.budget_tokens,
        whole_file=not (dropped_before or dropped_after),
        dropped_prefix_lines=dropped_before,
        dropped_suffix_lines=dropped_after,
        count_calls=1,
        counted_chars=len(prefix) + len(suffix),
    )


class StickyContexts:
    """The last selection per document; `build` reuses it when it can, else selects afresh."""

    def __init__(self, slack: float = SLACK) -> None:
        self.slack = slack
        self._last: dict[str, Selection] = {}
        self.reused = 0
        self.selected = 0

    def forget(self, uri: str) -> None:
        self._last.pop(uri, None)

    async def build(
        self,
        uri: str,
        text: str,
        offset: int,
        *,
        syntax: DocumentSyntax | None,
        lang: LanguageSpec | None,
        budget_tokens: int,
        count_tokens: CountTokens,
        prefix_share: float,
    ) -> PromptContext:
        lines = split_lines(text)  # once per keystroke, for both reuse and remembering
        row, col = line_col(text, offset)
        last = self._last.get(uri)
        if last is not None and last.budget_tokens == budget_tokens:
            ctx = await reuse(last, lines, row, col, count_tokens)
            if ctx is not None:
                self.reused += 1
                self._remember(uri, ctx, lines, row)
                return ctx
        self.selected += 1

        # A file that does not fit whole is trimmed a little more than the budget asks,
        # so the next keystrokes still fit.
        ctx = await build_context(
            text,
            offset,
            syntax=syntax,
            lang=lang,
            budget_tokens=budget_tokens,
            count_tokens=count_tokens,
            prefix_share=prefix_share,
            fill_tokens=int(budget_tokens * (1 - self.slack)) if self.slack > 0 else None,
        )
        self._remember(uri, ctx, lines, row)
        return ctx

    def _remember(self, uri: str, ctx: PromptContext, lines: Sequence[str], row: int) -> None:
        selection = selection_of(ctx, lines, row)
        if selection is None:
            self._last.pop(uri, None)
        else:
            self._last[uri] = selection
