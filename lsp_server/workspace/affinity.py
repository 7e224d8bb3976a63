"""Name affinity: how much a definition's name shares words with the code around the cursor.

About a fifth of the names a completion needs appear only in the code about to be written,
so they cannot be found by name; but they tend to share words with what is near the cursor
(`LZ4_versionNumber` beside `LZ4_versionString` in `library_version_number`). Names split
into lowercase words (camelCase, snake_case, digits); the profile weighs the words of the
nearest names most.
"""

from __future__ import annotations

import functools
import re

from .model import Definition, FileRecord

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
PROFILE_NAMES = 40  # nearest names whose words make the profile
_COMMON = frozenset({"get", "set", "is", "to", "of", "new", "the", "and", "for", "in", "on"})


@functools.lru_cache(maxsize=1 << 16)
def words(name: str) -> tuple[str, ...]:
    """Lowercase words of two or more characters: `parseHTTPHeader_v2` → parse, http, header, v2."""
    found = (word.lower() for word in _WORD.findall(name))
    return tuple(dict.fromkeys(w for w in found if len(w) > 1 and w not in _COMMON))


def profile(names: list[str], typed: str) -> dict[str, float]:
    """Word weights from names nearest first (1.0 falling to ~0.2), the typed word's highest."""
    weights: dict[str, float] = {}
    for rank, name in enumerate(names[:PROFILE_NAMES]):
        weight = 1.0 / (1.0 + rank / 8.0)
        for word in words(name):
            if weight > weights.get(word, 0.0):
                weights[word] = weight
    for word in words(typed):
        weights[word] = 1.5
    return weights


def score(name: str, weights: dict[str, float]) -> float:
    """Mean weight of the name's words (0 when it shares none)."""
    own = words(name)
    if not own:
        return 0.0
    return sum(weights.get(word, 0.0) for word in own) / len(own)


class WordIndex:
    """Per file, which definitions carry each word (built on first use, per snapshot)."""

    def __init__(self) -> None:
        self._files: dict[str, dict[str, tuple[Definition, ...]]] = {}

    def of(self, record: FileRecord) -> dict[str, tuple[Definition, ...]]:
        found = self._files.get(record.key)
        if found is None:
            lists: dict[str, list[Definition]] = {}
            for definition in record.definitions:
                for word in words(definition.name):
                    lists.setdefault(word, []).append(definition)
            found = self._files[record.key] = {w: tuple(ds) for w, ds in lists.items()}
        return found
