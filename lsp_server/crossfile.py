"""Cross-file context of a completion: its share of the prompt budget, the index's snippets, the sticky header.

The workspace index (`lsp_server.workspace`) picks the definitions the code at the cursor
uses; this module sizes what it may pick, counts the header the host will render from it
(`model_host.text.header`, the host's own function) with the host's tokenizer, trims it from
the end when the count runs over (whole snippets, then the last one line by line), and keeps the header sticky: the header
sits before the prefix, so a new header costs the engine's prefix cache everything after
it. The last header of a document is sent again, unchanged, while the names the index
selects are the same ones or fewer and no file it quotes has changed since.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from model_host.rpc.messages import ContextItem
from model_host.stats import LatencyWindow
from model_host.text.header import render_header

from .config import CrossFileSettings
from .context import CountTokens, PromptContext
from .workspace import GAP, Snippet, WorkspaceIndex

log = logging.getLogger(__name__)

# Characters of snippet text per token of the header's share: what `select` is told it may
# take (then the rendered header is counted exactly and trimmed).
CHARS_PER_TOKEN = 3
# Paths whose change is remembered for stickiness; past this, every header is made afresh once.
MAX_TOUCHED = 4096
MAX_WORD = 128  # a longer run of word characters (minified code) is no word being typed
_TRIM_ROUNDS = 4

Key = tuple[str, str]  # (snippet path, definition name, or "" for a window of an open buffer)


def header_budget(budget_tokens: int, cfg: CrossFileSettings) -> int:
    """Tokens of the prompt budget set aside for the header: `share` of it, at least
    `min_tokens`, never more than half (the file's own text comes first)."""
    if not cfg.enable or budget_tokens <= 0:
        return 0
    return min(max(cfg.min_tokens, int(budget_tokens * cfg.share)), budget_tokens // 2)


def visible_span(text: str, ctx: PromptContext) -> tuple[int, int]:
    """The offsets of the document text the prompt shows without a gap around the cursor."""
    start_row = max((end for _, end in ctx.dropped_prefix_lines), default=0)
    end_row = min((start for start, _ in ctx.dropped_suffix_lines), default=None)
    return _row_start(text, start_row), len(text) if end_row is None else _row_start(text, end_row)


def _row_start(text: str, row: int) -> int:
    if row <= 0:
        return 0
    rest = text.split("\n", row)
    return len(text) - len(rest[-1]) if len(rest) > row else len(text)


@dataclass(frozen=True)
class Header:
    """The cross-file text of one request, as sent to the host."""

    snippets: tuple[Snippet, ...]
    language: str
    tokens: int  # of the rendered header, counted by the host's tokenizer
    budget_tokens: int
    reused: bool = False

    def to_wire(self) -> list[ContextItem]:
        return [{"path": s.path, "text": s.text} for s in self.snippets]

    def keys(self) -> frozenset[Key]:
        return _keys(self.snippets)


# The index names a window of an open buffer by its lines ("lines 12-23"): which lines the
# window covers moves with every word typed, but a window of the same file is the same help.
_WINDOW_NAME = re.compile(r"lines \d+-\d+")


def _keys(snippets: Sequence[Snippet]) -> frozenset[Key]:
    return frozenset(
        (s.path, "" if _WINDOW_NAME.fullmatch(n) else n)
        for s in snippets
        for n in (s.names or ("",))
    )


class IndexSource(Protocol):
    """Where the index comes from (the server's `IndexFeed`)."""

    @property
    def index(self) -> WorkspaceIndex | None: ...

    @property
    def has_sources(self) -> bool:
        """Whether a header could quote anything: a workspace folder, another open buffer."""
        ...


@dataclass(frozen=True)
class _Last:
    header: Header
    epoch: int  # the touch counter when it was made
    word_start: int = -1  # where the word at the cursor of the last request started
    word: str = ""  # ... and what it was

    def typing_on(self, start: int, word: str) -> bool:
        """Whether the user typed on (or erased back) in the word of the last request."""
        if start != self.word_start or not word or word == self.word:
            return False
        return word.startswith(self.word) or self.word.startswith(word)


def word_before(text: str, offset: int) -> tuple[int, str]:
    """The identifier the cursor is typing (the word characters just before it) and its start."""
    start = offset
    while (
        start > 0
        and offset - start < MAX_WORD
        and (text[start - 1].isalnum() or text[start - 1] in "_$")
    ):
        start -= 1
    return start, text[start:offset]


class CrossFileContext:
    """Headers per document, kept sticky; `touched` hears of every file whose text changed."""

    def __init__(self, source: IndexSource, settings: Callable[[], CrossFileSettings]) -> None:
        self._source = source
        self._settings = settings
        self._last: dict[str, _Last] = {}
        self._touched: OrderedDict[str, int] = OrderedDict()  # path -> epoch, newest last
        self._epoch = 0
        self._floor = 0  # headers older than this are made afresh (touches were forgotten)
        self.reused = 0
        self.selected = 0
        self.select_ms = LatencyWindow()

    def forget(self, uri: str) -> None:
        self._last.pop(uri, None)

    def touched(self, path: Path | str) -> None:
        """A file's text changed (an edit of an open buffer, a save, a change on disk)."""
        self._epoch += 1
        key = Path(path).as_posix()
        self._touched[key] = self._epoch
        self._touched.move_to_end(key)
        if len(self._touched) > MAX_TOUCHED:
            self._touched.clear()
            self._floor = self._epoch

    def budget(self, budget_tokens: int) -> int:
        """The header's share of a prompt budget; 0 when there is nothing it could quote."""
        if self._source.index is None or not self._source.has_sources:
            return 0  # nothing to quote: the file keeps its whole budget
        return header_budget(budget_tokens, self._settings())

    async def header(
        self,
        uri: str,
        text: str,
        offset: int,
        *,
        language_id: str,
        visible: tuple[int, int],
        budget_tokens: int,
        count_tokens: CountTokens,
    ) -> Header | None:
        """The header for a completion at `offset`, or None (disabled, no index, nothing found)."""
        index = self._source.index
        if index is None or budget_tokens <= 0 or not self._settings().enable:
            return None
        epoch = self._epoch  # a file touched while the header is counted makes it stale
        start, word = word_before(text, offset)
        last = self._last.get(uri)
        fresh = last is not None and self._unchanged(last, budget_tokens, language_id)
        if last is not None and fresh and last.typing_on(start, word):
            # Still typing the word of the last request: what the index matches by the word's
            # letters changes with each one; what the code around it uses does not.
            return self._again(uri, last, start, word)
        snippets = self._select(index, uri, text, offset, visible, budget_tokens, language_id)
        if last is not None and fresh and _keys(snippets) <= last.header.keys():
            return self._again(uri, last, start, word)
        self.selected += 1
        header = await _fit(snippets, language_id, budget_tokens, count_tokens)
        self._last[uri] = _Last(header, epoch, start, word)
        return header if header.snippets else None

    def _again(self, uri: str, last: _Last, start: int, word: str) -> Header | None:
        """The last header, sent again unchanged (the cursor's word remembered)."""
        self.reused += 1
        self._last[uri] = dataclasses.replace(last, word_start=start, word=word)
        return _reused(last.header) if last.header.snippets else None

    def for_chat(
        self, uri: str, text: str, span: tuple[int, int], language_id: str, room_tokens: int
    ) -> tuple[Snippet, ...]:
        """Definitions the code in `span` of the document uses, for a chat about that code;
        `room_tokens` is what the chat's prompt may take (the cross-file share is of that)."""
        index = self._source.index
        budget = self.budget(room_tokens)
        if index is None or budget <= 0:
            return ()
        return tuple(self._select(index, uri, text, span[1], span, budget, language_id))

    def _select(
        self,
        index: WorkspaceIndex,
        uri: str,
        text: str,
        offset: int,
        visible: tuple[int, int],
        budget_tokens: int,
        language_id: str,
    ) -> list[Snippet]:
        started = time.perf_counter()
        try:
            return index.select(
                uri,
                text,
                offset,
                visible=visible,
                budget_chars=budget_tokens * CHARS_PER_TOKEN,
                language_id=language_id,
            )
        except Exception:  # the index promises not to raise; a bug must cost the header only
            log.exception("cross-file selection failed; no header this time")
            return []
        finally:
            self.select_ms.add((time.perf_counter() - started) * 1000)

    def _unchanged(self, last: _Last, budget_tokens: int, language_id: str) -> bool:
        """Whether the last header still holds: same budget and language, and none of the
        files it quotes changed since it was made."""
        header = last.header
        if header.budget_tokens != budget_tokens or header.language != language_id:
            return False
        if last.epoch < self._floor:
            return False
        paths = {s.path for s in header.snippets}
        for path, epoch in reversed(self._touched.items()):
            if epoch <= last.epoch:
                break
            if any(path == p or path.endswith("/" + p.lstrip("/")) for p in paths):
                return False
        return True

    def stats(self) -> dict[str, object]:
        return {
            "headersReused": self.reused,
            "headersSelected": self.selected,
            "selectMs": self.select_ms.to_wire(),
        }


def _reused(header: Header) -> Header:
    return Header(header.snippets, header.language, header.tokens, header.budget_tokens, True)


async def _fit(
    snippets: Sequence[Snippet], language_id: str, budget_tokens: int, count_tokens: CountTokens
) -> Header:
    """The snippets whose rendered header fits `budget_tokens`, cut from the end.

    Whole snippets go while the excess is at least their size; the last one left is then
    cut line by line (whole lines only, a trailing `...` gap with them), so a partial
    snippet still carries its first signature lines. One count covers the whole header and
    each snippet's part, so the cut is planned from the parts and checked with one more
    count (a few rounds at most)."""
    kept = list(snippets)
    if not kept:
        return Header((), language_id, 0, budget_tokens)
    parts = [render_header([(s.path, s.text)], language_id) for s in kept]
    counts = await count_tokens([render_header(_pairs(kept), language_id), *parts])
    total, sizes = counts[0], counts[1:]
    for _ in range(_TRIM_ROUNDS):
        if total <= budget_tokens:
            return Header(tuple(kept), language_id, total, budget_tokens)
        over = total - budget_tokens
        while kept and over >= sizes[-1]:
            kept.pop()
            over -= sizes.pop()
        if kept and over > 0:
            cut = await _cut_lines(kept[-1], over, language_id, count_tokens)
            if cut is None:
                kept.pop()
                sizes.pop()
            else:
                kept[-1], sizes[-1] = cut
        if not kept:
            break
        (total,) = await count_tokens([render_header(_pairs(kept), language_id)])
    return Header((), language_id, 0, budget_tokens)


async def _cut_lines(
    snippet: Snippet, over: int, language_id: str, count_tokens: CountTokens
) -> tuple[Snippet, int] | None:
    """`snippet` without the last lines that make up `over` tokens, and its new size; None
    when no line of it would be left."""
    lines = snippet.text.split("\n")
    rendered = render_header([(snippet.path, snippet.text)], language_id).split("\n")[:-1]
    if len(lines) < 2 or len(rendered) != len(lines) + 1:
        return None  # a line the renderer splits further: no line-by-line plan, drop it whole
    counts = await count_tokens([row + "\n" for row in rendered])
    size = sum(counts)
    while len(lines) > 1 and (over > 0 or lines[-1] == GAP):
        lines.pop()
        dropped = counts.pop()
        over -= dropped
        size -= dropped
    if over > 0:
        return None
    text = "\n".join(lines)
    names = tuple(n for n in snippet.names if n in text) or snippet.names
    return Snippet(snippet.path, text, names), size


def _pairs(snippets: Sequence[Snippet]) -> list[tuple[str, str]]:
    return [(s.path, s.text) for s in snippets]
