"""Definition recall: is a needed definition's signature line in what the model receives?

A definition counts as delivered when some cross-file item *from its defining file* holds its
signature line (whitespace-normalized, as a whole line). The defining file is never the
current file, so the prefix and suffix cannot hold it; an item quoting the same line from
another file does not count (a re-export or a copy is not the definition).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .baselines import Item
from .truth import Need


def normalize(line: str) -> str:
    return " ".join(line.split())


def clean_path(path: str) -> str:
    return path.replace("\\", "/").removeprefix("./")


def delivered(needs: Sequence[Need], items: Iterable[Item]) -> list[bool]:
    """Per need, whether its signature line is among the items from its file."""
    lines: dict[str, set[str]] = {}
    for path, text in items:
        lines.setdefault(clean_path(path), set()).update(normalize(x) for x in text.split("\n"))
    return [normalize(n.definition.signature) in lines.get(n.definition.path, set()) for n in needs]
