"""Token counts of texts, line by line through a cache, so a keystroke recounts only its own line.

A Llama vocabulary has no piece that holds a newline, so SentencePiece never merges
across one: a text's ids are its lines' ids end to end (the first line with the implicit
leading space, the others without, as `encode_infilling` does). Counting line by line is
therefore exact. The counter checks that on a probe when it is built and counts whole
texts instead for a vocabulary where it does not hold.
"""

from __future__ import annotations

import threading

from .tokenizer import Tokenizer

# Texts shorter than this are counted directly: the cache would cost more than it saves.
SMALL_TEXT = 256
MAX_ENTRIES = 200_000

_PROBE = 'def f(x):\n    return {"a": x}  # ☺ 😀\n\n\tif (a &&\n b) { }\n  \n<PRE> x\n'


class TokenCounter:
    def __init__(self, tok: Tokenizer, *, max_entries: int = MAX_ENTRIES) -> None:
        self._tok = tok
        self._max = max_entries
        self._first: dict[str, int] = {}  # a text's first line: with the leading space
        self._rest: dict[str, int] = {}  # any later line
        self._lock = threading.Lock()
        self.line_additive = self._lines_add_up(_PROBE)

    def count(self, text: str) -> int:
        if not self.line_additive or len(text) < SMALL_TEXT:
            return len(self._tok.encode(text))
        lines = text.split("\n")
        last = lines.pop()
        total = 0
        for n, line in enumerate(lines):
            total += self._line(line + "\n", first=n == 0)
        if last:
            total += self._line(last, first=not lines)
        return total

    def _line(self, line: str, *, first: bool) -> int:
        cache = self._first if first else self._rest
        found = cache.get(line)
        if found is None:
            ids = self._tok.encode(line) if first else self._tok.encode_infilling(line)
            found = len(ids)
            with self._lock:  # counts run on several threads: one trim at a time
                cache[line] = found
                if len(cache) > self._max:
                    self._trim(cache)
        return found

    @staticmethod
    def _trim(cache: dict[str, int]) -> None:
        """Drop the older half (dicts keep insertion order)."""
        for key in list(cache)[: len(cache) // 2]:
            cache.pop(key, None)

    def _lines_add_up(self, text: str) -> bool:
        lines = text.split("\n")
        parts = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
        joined = self._tok.encode(parts[0]) + [
            i for part in parts[1:] for i in self._tok.encode_infilling(part)
        ]
        return joined == self._tok.encode(text)
