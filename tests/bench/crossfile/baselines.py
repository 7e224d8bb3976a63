"""What the peers would put in the prompt, by their published rules, and how a budget is filled.

- **BM25 chunks**, CrossCodeEval's retrieval (amazon-science/cceval,
  `prompt_builder/augment_with_cfc.py` and `rerank_utils.py`): every other file of the
  repository, nearest folders first, cut into chunks of 10 non-blank lines (no overlap), the
  first 1,000 chunks ranked by BM25 (Okapi, k1 1.5, b 0.75, `\\w+` tokens) against the last 10
  non-blank lines before the cursor; by default each hit contributes the chunk *after* it (the
  code that followed similar code), up to 50 chunks. `bm25-hit` keeps the matched chunk itself.
- **Neighbouring tabs**, Copilot's similar-files snippets (the open-source inline-completion
  prompt of microsoft/vscode-copilot-chat, `snippetInclusion/`): the last 60 lines before the
  cursor as a set of words (split on non-alphanumerics, keywords and English stop words
  dropped), every 60-line window of each open tab scored by Jaccard similarity, the best window
  per tab, the 4 best tabs, tabs of 10,000 characters or more skipped (`tabs`); and Copilot's
  wider setting for C++ (4 windows per tab, 16 in all, tabs up to 100,000 characters: `tabs-wide`).
- **Oracle**: the needed definitions' signature lines themselves.

Every method's items are `{path, text}` like Tandem's and are packed into the same room: in
characters, `cost(item) = len(path) + len(text) + 8` (what the language server's `select`
budget counts), or in tokens of the item as the host renders it; an item that no longer fits
is cut to the whole lines that do.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .syntax import split_words

Item = tuple[str, str]  # (path, text)

WORD = re.compile(r"\w+")
ALNUM_SPLIT = re.compile(r"[^a-zA-Z0-9]")

CHUNK_LINES = 10
QUERY_LINES = 10
MAX_CHUNKS = 1000
TOP_CHUNKS = 50
WINDOW = 60

ENGLISH_STOPS = frozenset(
    split_words(
        "we our you it its they them their this that these those is are was were be been being "
        "have has had having do does did doing can don t s will would should what which who "
        "when where why how a an the and or not no but because as until again further then "
        "once here there all any both each few more most other some such above below to during "
        "before after of at by about between into through from up down in out on off over "
        "under only own same so than too very just now"
    )
)
GENERIC_STOPS = ENGLISH_STOPS | frozenset(
    split_words(
        "if then else for while with def function return TODO import try catch raise finally "
        "repeat switch case match assert continue break const class enum struct static new "
        "super this var"
    )
)


def cost(item: Item) -> int:
    return len(item[0]) + len(item[1]) + 8


def pack(items: Iterable[Item], budget: int, measure: Callable[[Item], int] = cost) -> list[Item]:
    """Items in order while they fit; the first that does not is cut to the lines that do."""
    out: list[Item] = []
    room = budget
    for path, text in items:
        size = measure((path, text))
        if size <= room:
            out.append((path, text))
            room -= size
            continue
        lines = text.split("\n")
        fits, misses = 0, len(lines)  # the most whole lines that fit: binary search
        while misses - fits > 1:
            mid = (fits + misses) // 2
            if measure((path, "\n".join(lines[:mid]))) <= room:
                fits = mid
            else:
                misses = mid
        if fits:
            out.append((path, "\n".join(lines[:fits])))
        break
    return out


# ---- BM25 chunks (CrossCodeEval) ----------------------------------------------------------
def _file_distance(a: str, b: str) -> int:
    common = posixpath.commonpath([a, b]) if posixpath.dirname(a) or posixpath.dirname(b) else ""
    rel_a = posixpath.relpath(a, common) if common else a
    rel_b = posixpath.relpath(b, common) if common else b
    return rel_a.count("/") + rel_b.count("/")


class BM25:
    """rank_bm25's BM25Okapi over tokenized documents (k1 1.5, b 0.75; a negative idf is
    floored at 0.25 x the mean idf; every query token counts, repeats included)."""

    def __init__(self, docs: Sequence[Sequence[str]], k1: float = 1.5, b: float = 0.75) -> None:
        n = len(docs)
        lengths = [len(d) for d in docs]
        avgdl = sum(lengths) / n if n else 0.0
        self.size = n
        postings: dict[str, list[tuple[int, int]]] = {}
        for i, doc in enumerate(docs):
            for word, tf in Counter(doc).items():
                postings.setdefault(word, []).append((i, tf))
        idf = {w: math.log(n - len(p) + 0.5) - math.log(len(p) + 0.5) for w, p in postings.items()}
        floor = 0.25 * (sum(idf.values()) / len(idf)) if idf else 0.0
        norms = [k1 * (1 - b + b * length / avgdl) for length in lengths]
        # Each word's contribution to each document holding it, computed once.
        self.weights = {
            w: [
                (i, (idf[w] if idf[w] >= 0 else floor) * tf * (k1 + 1) / (tf + norms[i]))
                for i, tf in p
            ]
            for w, p in postings.items()
        }

    def scores(self, query: Sequence[str]) -> list[float]:
        out = [0.0] * self.size
        for word, times in Counter(query).items():
            for i, weight in self.weights.get(word, ()):
                out[i] += times * weight
        return out


@dataclass
class Chunks:
    """A package's files cut into CrossCodeEval chunks, in the order their distance gives."""

    ids: list[tuple[str, int]]  # (path, chunk number)
    texts: list[str]
    tokens: list[list[str]]
    _index: BM25 | None = None

    @property
    def index(self) -> BM25:
        """BM25 over the first MAX_CHUNKS chunks (what CrossCodeEval reranks)."""
        if self._index is None:
            self._index = BM25(self.tokens[:MAX_CHUNKS])
        return self._index


def file_chunks(text: str) -> list[str]:
    lines = [line for line in text.split("\n") if line.strip()]
    texts = ("\n".join(lines[i : i + CHUNK_LINES]) for i in range(0, len(lines), CHUNK_LINES))
    return [t for t in texts if WORD.search(t)]


def chunks_for(files: dict[str, list[str]], current: str) -> Chunks:
    """`files`: each file's chunks (file_chunks); ordered by distance from `current`."""
    ordered = sorted(
        (p for p in files if p != current), key=lambda p: (_file_distance(p, current), p)
    )
    out = Chunks([], [], [])
    for path in ordered:
        for number, text in enumerate(files[path]):
            out.ids.append((path, number))
            out.texts.append(text)
            out.tokens.append(WORD.findall(text))
            if len(out.ids) > MAX_CHUNKS:
                return out  # one past the cap: a hit's next chunk may be it
    return out


def bm25(prefix: str, chunks: Chunks) -> tuple[list[Item], list[Item]]:
    """(CrossCodeEval's pick: the chunk after each hit, the hits themselves), best first."""
    lines = [line for line in prefix.split("\n") if line.strip()]
    query = WORD.findall("\n".join(lines[-QUERY_LINES:]))
    scores = chunks.index.scores(query)
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    index = {cid: i for i, cid in enumerate(chunks.ids)}
    picks: tuple[list[Item], list[Item]] = ([], [])
    for out, next_chunk in zip(picks, (True, False), strict=True):
        seen: set[str] = set()
        for i in order:
            path, number = chunks.ids[i]
            text = chunks.texts[index.get((path, number + 1), i) if next_chunk else i]
            if text in seen:
                continue
            seen.add(text)
            out.append((path, text))
            if len(out) == TOP_CHUNKS:
                break
    return picks


# ---- neighbouring tabs (Copilot) -----------------------------------------------------------
def _words(text: str) -> set[str]:
    return {w for w in ALNUM_SPLIT.split(text) if w and w not in GENERIC_STOPS}


def _best_windows(reference: set[str], source: str) -> list[tuple[float, int, int]]:
    """Copilot's retrieveAllSnippets: every WINDOW-line window's Jaccard score, overlapping
    windows merged keeping the better; (score, start, end), best first."""
    lines = source.split("\n")
    if not lines or not reference:
        return []
    spans = (
        [(0, len(lines))]
        if len(lines) < WINDOW
        else [(s, s + WINDOW) for s in range(len(lines) - WINDOW + 1)]
    )
    line_words = [_words(line) for line in lines]
    counts: Counter[str] = Counter()
    inside = 0  # distinct window words that are in the reference
    first_start, first_end = spans[0]
    for words in line_words[first_start:first_end]:
        for w in words:
            counts[w] += 1
            if counts[w] == 1 and w in reference:
                inside += 1
    snippets: list[list[float]] = []
    for k, (start, end) in enumerate(spans):
        if k:
            for w in line_words[start - 1]:
                counts[w] -= 1
                if counts[w] == 0:
                    del counts[w]
                    if w in reference:
                        inside -= 1
            for w in line_words[end - 1]:
                counts[w] += 1
                if counts[w] == 1 and w in reference:
                    inside += 1
        union = len(counts) + len(reference) - inside
        score = inside / union if union else 0.0
        if snippets and start > 0 and snippets[-1][2] > start:
            if snippets[-1][0] < score:
                snippets[-1] = [score, start, end]
            continue
        snippets.append([score, start, end])
    ranked = sorted(snippets, key=lambda s: -s[0])
    return [(s[0], int(s[1]), int(s[2])) for s in ranked]


def neighbour_tabs(
    prefix: str,
    tabs: Sequence[tuple[str, str]],
    *,
    max_chars: int = 10_000,
    top: int = 4,
    per_file: int = 1,
    max_files: int = 20,
) -> list[Item]:
    reference = _words("\n".join(prefix.split("\n")[-WINDOW:]))
    found: list[tuple[float, str, str]] = []
    for path, source in [t for t in tabs if 0 < len(t[1]) < max_chars][:max_files]:
        lines = source.split("\n")
        for score, start, end in _best_windows(reference, source)[:per_file]:
            if score > 0:
                found.append((score, path, "\n".join(lines[start:end])))
    found.sort(key=lambda f: f[0])
    best = found[-top:] if top else []
    return [(path, text) for _, path, text in reversed(best)]


def oracle(needs: Sequence[tuple[str, str]]) -> list[Item]:
    """The needed signature lines themselves: (path, signature)."""
    return [(path, signature.strip()) for path, signature in needs]
