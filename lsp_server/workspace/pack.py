"""Packing chosen lines into per-file snippets within a character budget.

The budget is characters, derived by the caller from a token share at three characters per
token; the host renders each line behind a comment marker and counts tokens. Code averages
fewer characters per token than that (C about 2.4, TypeScript 3.0, with the marker), so each
line is charged its characters against the budget and, separately, three times its
estimated tokens: the rendered header then fits its token share instead of being cut after
the fact.
"""

from __future__ import annotations

import functools
import re

from .model import Definition, Snippet

GAP = "..."
_SNIPPET_OVERHEAD = 8  # what the contract counts per snippet beside its path and text
_MIN_LINE = 16
_CHARS_PER_TOKEN = 3  # what the caller assumed when it turned tokens into characters
# Tokens of one rendered line (comment marker, text, newline), fitted by least squares on
# definition lines of the benchmark corpus against the Code Llama tokenizer.
_WORDS = re.compile(r"[A-Za-z]+")
_DIGITS = re.compile(r"\d+")
_MARKS = re.compile(r"[^\w\s]")
# Whole headers per language (rendered, counted) against the line model, 3% to spare.
_SCALE = {"c": 1.08, "cpp": 1.08, "typescript": 0.95, "typescriptreact": 0.95, "rust": 0.94}
_DEFAULT_SCALE = 0.92


@functools.lru_cache(maxsize=1 << 15)
def line_tokens(line: str) -> float:
    """An estimate of the tokens a line takes in the rendered header."""
    words = _WORDS.findall(line)
    long_tail = sum(len(word) - 6 for word in words if len(word) > 6)
    indent = len(line) - len(line.lstrip())
    return (
        3.0
        + 1.44 * len(words)
        + 0.19 * long_tail
        + 2.45 * len(_DIGITS.findall(line))
        + 0.53 * len(_MARKS.findall(line))
        + 0.06 * indent
    )


def token_cost(line: str, language: str = "") -> int:
    """A line's estimated tokens in the rendered header, in budget characters."""
    scale = _SCALE.get(language, _DEFAULT_SCALE) * _CHARS_PER_TOKEN
    return int(line_tokens(line) * scale + 0.999)


class Packer:
    """Lines of workspace files, grouped per file, within `budget` on two counts.

    Characters: sum(len(text) + len(path) + 8) <= budget, the contract. Tokens: the
    estimated tokens of the rendered header, times three, <= budget, so the host's count
    fits the share the budget came from. Both are counted as upper bounds while adding
    (each new run of lines may need a `...` line), so the rendered snippets always fit.
    """

    def __init__(self, budget: int, language: str = "") -> None:
        self.budget = budget
        self.language = language
        self.used = 0  # characters
        self.used_tokens = 0  # estimated tokens, in characters (x3)
        self._rows: dict[str, dict[int, str]] = {}
        self._paths: dict[str, str] = {}
        self._names: dict[str, list[str]] = {}

    def cost(self, key: str, path: str, rows: dict[int, str]) -> tuple[int, int]:
        """(characters, tokens x3) that adding `rows` of a file would take at most."""
        have = self._rows.get(key, {})
        fresh = [row for row in rows if row not in have]
        if not fresh:
            return 0, 0
        runs = sum(1 for row in fresh if row - 1 not in rows and row - 1 not in have)
        language = self.language
        chars = sum(len(rows[row]) + 1 for row in fresh) + runs * (len(GAP) + 1)
        tokens = sum(token_cost(rows[row], language) for row in fresh)
        tokens += runs * token_cost(GAP, language)
        if key not in self._rows:
            chars += len(path) + _SNIPPET_OVERHEAD
            tokens += token_cost("Path: " + path, language)
        return chars, tokens

    def add(self, key: str, path: str, rows: dict[int, str], name: str | None = None) -> bool:
        """Add the rows if they fit; True if they are (now or already) in."""
        chars, tokens = self.cost(key, path, rows)
        if self.used + chars > self.budget or self.used_tokens + tokens > self.budget:
            return False
        self.used += chars
        self.used_tokens += tokens
        self._rows.setdefault(key, {}).update(rows)
        self._paths[key] = path
        names = self._names.setdefault(key, [])
        if name and name not in names:
            names.append(name)
        return True

    def full(self) -> bool:
        """No room left for even a short line."""
        return self.budget - max(self.used, self.used_tokens) < _MIN_LINE

    def has(self, key: str, row: int) -> bool:
        return row in self._rows.get(key, {})

    def snippets(self) -> list[Snippet]:
        """One snippet per file, in the order files were first added; lines in file order."""
        out: list[Snippet] = []
        for key, rows in self._rows.items():
            lines: list[str] = []
            previous: int | None = None
            for row in sorted(rows):
                if previous is not None and row != previous + 1:
                    lines.append(GAP)
                lines.append(rows[row])
                previous = row
            out.append(Snippet(self._paths[key], "\n".join(lines), tuple(self._names[key])))
        return out


def signature_rows(definition: Definition) -> dict[int, str]:
    start = definition.start_line
    rows = {start + i: line for i, line in enumerate(definition.lines[: definition.head])}
    if definition.name_text:
        rows[definition.name_line] = definition.name_text
    return rows


def whole_rows(definition: Definition) -> dict[int, str]:
    start = definition.start_line
    return {start + i: line for i, line in enumerate(definition.lines)}


def doc_rows(definition: Definition) -> dict[int, str]:
    return {definition.doc_line: definition.doc} if definition.doc_line >= 0 else {}
