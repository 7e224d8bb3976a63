"""Windows of open buffers and their identifier sets, for the Copilot-style similar-window match."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

WINDOW_LINES = 12
STRIDE = 6
MAX_LINES = 4000  # a longer buffer contributes its first lines only
MIN_SCORE = 0.12  # a window sharing less than this (Jaccard) is no help
IDENT = re.compile(r"[A-Za-z_$][\w$]*")


@dataclass(frozen=True, slots=True)
class Windows:
    """A buffer's lines and, per window start, the identifiers the window holds."""

    lines: tuple[str, ...]
    starts: tuple[int, ...]
    tokens: tuple[frozenset[str], ...]


def windows_of(text: str) -> Windows:
    lines = tuple(text.split("\n")[:MAX_LINES])
    starts = tuple(range(0, max(1, len(lines) - WINDOW_LINES + STRIDE), STRIDE))
    tokens = tuple(
        frozenset(IDENT.findall("\n".join(lines[start : start + WINDOW_LINES]))) for start in starts
    )
    return Windows(lines, starts, tokens)


def best_window(
    query: frozenset[str], neighbours: Iterable[tuple[str, str, Windows]]
) -> tuple[str, str, int, tuple[str, ...]] | None:
    """(key, rel, first row, lines) of the window most like `query`, or None below MIN_SCORE."""
    best: tuple[float, str, str, int, tuple[str, ...]] | None = None
    if not query:
        return None
    for key, rel, windows in neighbours:
        for start, tokens in zip(windows.starts, windows.tokens, strict=True):
            shared = len(query & tokens)
            if not shared:
                continue
            score = shared / (len(query) + len(tokens) - shared)
            if score >= MIN_SCORE and (best is None or score > best[0]):
                rows = windows.lines[start : start + WINDOW_LINES]
                best = (score, key, rel, start, rows)
    return None if best is None else best[1:]
