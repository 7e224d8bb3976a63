"""Streaming text out of generated ids: whole characters only, and stop strings cut cleanly."""

from __future__ import annotations

import codecs
from collections.abc import Sequence

from model_host.text.tokenizer import Tokenizer


class StreamDecoder:
    """Turns ids into text one at a time, never emitting half a UTF-8 character.

    Byte-fallback pieces spell a character over several ids ("😀" is four),
    so bytes are fed through an incremental UTF-8 decoder that holds back an
    unfinished sequence. Concatenating every `push` and the final `flush`
    gives `tok.decode(ids)` (or `decode_infilling` when the leading space is
    kept).
    """

    def __init__(self, tok: Tokenizer, *, strip_leading_space: bool) -> None:
        self._tok = tok
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        # Meta's decode drops SentencePiece's implicit leading space (chat);
        # decode_infilling keeps it, since a middle may really start with one.
        self._strip = strip_leading_space
        self._started = False

    def push(self, token_id: int) -> str:
        """The text that `token_id` completes; "" for control ids or a partial character."""
        return self._emit(self._utf8.decode(self._tok.token_bytes(token_id)))

    def flush(self) -> str:
        """Whatever is still held back (an unfinished character becomes U+FFFD)."""
        return self._emit(self._utf8.decode(b"", final=True))

    def _emit(self, text: str) -> str:
        if text and not self._started:
            self._started = True
            if self._strip and text.startswith(" "):
                return text[1:]
        return text


class StopMatcher:
    """Cuts a text stream at the first stop string to complete, even one split across chunks.

    `feed` returns only text that cannot be the start of a stop string; a
    tail that might be is held back until the next chunk decides it.
    """

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = tuple(s for s in stops if s)
        self._held = ""
        self.stopped = False

    def feed(self, text: str) -> tuple[str, bool]:
        """(text safe to emit now, whether a stop string was reached)."""
        if self.stopped:
            return "", True
        buf = self._held + text
        cut = _first_stop(buf, self._stops)
        if cut is not None:
            self._held, self.stopped = "", True
            return buf[:cut], True
        keep = _partial_stop_len(buf, self._stops)
        self._held = buf[len(buf) - keep :]
        return buf[: len(buf) - keep], False

    def flush(self) -> str:
        """The held-back tail, at the end of generation: it was no stop string after all."""
        held, self._held = self._held, ""
        return "" if self.stopped else held


def _first_stop(text: str, stops: Sequence[str]) -> int | None:
    """Where to cut: at the stop string that is complete first, as generation would meet it."""
    found = [(i + len(s), i) for s, i in ((s, text.find(s)) for s in stops) if i >= 0]
    return min(found)[1] if found else None


def _partial_stop_len(text: str, stops: Sequence[str]) -> int:
    """Length of the longest tail of `text` that is a proper prefix of a stop string."""
    best = 0
    for stop in stops:
        for n in range(min(len(stop) - 1, len(text)), best, -1):
            if text.endswith(stop[:n]):
                best = n
                break
    return best
