"""Packing chosen lines into per-file snippets within a character budget."""

from __future__ import annotations

from .model import Definition, Snippet

GAP = "..."
_SNIPPET_OVERHEAD = 8
_MIN_LINE = 16  # what the contract counts per snippet beside its path and text


class Packer:
    """Lines of workspace files, grouped per file, never over `budget` characters in all.

    Costs are counted as an upper bound while adding (each new run of lines may need a `...`
    line), so the rendered snippets always fit: sum(len(text) + len(path) + 8) <= budget.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self._rows: dict[str, dict[int, str]] = {}
        self._paths: dict[str, str] = {}
        self._names: dict[str, list[str]] = {}

    def cost(self, key: str, path: str, rows: dict[int, str]) -> int:
        have = self._rows.get(key, {})
        fresh = [row for row in rows if row not in have]
        if not fresh:
            return 0
        runs = sum(1 for row in fresh if row - 1 not in rows and row - 1 not in have)
        cost = sum(len(rows[row]) + 1 for row in fresh) + runs * (len(GAP) + 1)
        if key not in self._rows:
            cost += len(path) + _SNIPPET_OVERHEAD
        return cost

    def add(self, key: str, path: str, rows: dict[int, str], name: str | None = None) -> bool:
        """Add the rows if they fit; True if they are (now or already) in."""
        cost = self.cost(key, path, rows)
        if self.used + cost > self.budget:
            return False
        self.used += cost
        self._rows.setdefault(key, {}).update(rows)
        self._paths[key] = path
        names = self._names.setdefault(key, [])
        if name and name not in names:
            names.append(name)
        return True

    def full(self) -> bool:
        """No room left for even a short line."""
        return self.budget - self.used < _MIN_LINE

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
