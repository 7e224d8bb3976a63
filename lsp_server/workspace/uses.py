"""The names the code around the cursor uses, nearest first, with what qualifies them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexical import code_only, keywords

MAX_USES = 320  # distinct names considered, nearest to the cursor first ...
NEAR_USES = 160  # ... these first; the farther ones only in the room the ranking leaves
SCAN_BEFORE = 16_000  # characters of code read before the cursor ...
SCAN_AFTER = 6_000  # ... and after it
# An identifier, and the one after it when a member operator joins them (`q.name` gives
# ("q", "name") then ("name", "")): one regex pass yields the names and their qualifiers.
_TOKENS = re.compile(r"([A-Za-z_$][\w$]*)(?:[ \t]*(?:\.|::|->|\?\.)[ \t]*(?=([A-Za-z_$][\w$]*)))?")
_LUA_TOKENS = re.compile(r"([A-Za-z_]\w*)(?:[ \t]*[.:][ \t]*(?=([A-Za-z_]\w*)))?")
_TYPED = re.compile(r"[A-Za-z_$][\w$]*$")


@dataclass(frozen=True, slots=True)
class Use:
    name: str
    distance: int  # identifiers between the cursor and the nearest occurrence
    qualifiers: tuple[str, ...]  # names it was reached through: `q.name`, `q::name`, `q:name`
    count: int = 1  # occurrences in the scanned code


def typed_word(text: str, offset: int) -> str:
    """The identifier being typed: the word that ends at the cursor ("" if none)."""
    found = _TYPED.search(text, max(0, offset - 80), offset)
    return found.group(0) if found else ""


def uses_in(shown: str, base: int, offset: int, language: str = "") -> list[Use]:
    """Distinct identifiers of the shown code, nearest to the cursor first (ties by name).

    `shown` starts at document offset `base`. Distance counts identifiers between the cursor
    and a name's nearest occurrence. Only `SCAN_BEFORE`/`SCAN_AFTER` characters around the
    cursor are read, comments and strings blanked; the scans are regex passes and dict
    comprehensions, so a long window stays cheap.
    """
    cut = max(0, min(len(shown), offset - base))
    pattern = _LUA_TOKENS if language == "lua" else _TOKENS
    before = pattern.findall(code_only(shown[max(0, cut - SCAN_BEFORE) : cut], language))
    after = pattern.findall(code_only(shown[cut : cut + SCAN_AFTER], language))
    total = len(before)
    nearest = {token[0]: total - index for index, token in enumerate(before)}
    count = len(after)
    for name, distance in {t[0]: count - i for i, t in enumerate(reversed(after))}.items():
        if distance < nearest.get(name, 1 << 60):
            nearest[name] = distance
    counts: dict[str, int] = {}
    qualifiers: dict[str, set[str]] = {}
    for name, following in before + after:
        counts[name] = counts.get(name, 0) + 1
        if following:
            qualifiers.setdefault(following, set()).add(name)
    skip = keywords(language)
    ranked = sorted(
        (
            item
            for item in nearest.items()
            if len(item[0]) > 1 and (item[0] not in skip or _qualified(item[0], qualifiers, skip))
        ),
        key=lambda item: (item[1], item[0]),
    )[:MAX_USES]
    return [Use(n, d, tuple(sorted(qualifiers.get(n, ()))), counts[n]) for n, d in ranked]


def _qualified(name: str, qualifiers: dict[str, set[str]], skip: frozenset[str]) -> bool:
    """A built-in type's name reached through a module of the workspace (`anyhow::Result`)."""
    return name[:1].isupper() and any(q not in skip for q in qualifiers.get(name, ()))
