"""Where a block suggestion starts re-writing the statements the document already has after
the cursor, as a model half-remembers them: a name renamed throughout, a literal changed, a
statement left out.

The exact repeat (repeat_cuts.repeat_cut) is tried first; this rule catches the copies it cannot.
A copy must line up with the document statement by statement, at the column where the
document's next statement stands, for up to `WINDOW` statements or through to the end of
the body (its closer or next clause, which the candidate must reach too); within that
stretch it may rename one name (the same way everywhere), change one literal, and leave out
one statement. A single statement never proves a copy on its own: an edited match needs a
second statement, or the body's end, to agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from tree_sitter import Node

from .nodes import Cut, children_from, is_comment, leaves

# Statements compared before a copy counts as proven.
WINDOW = 3
# A copy the stream ends in the middle of is compared as text, up to this much of it...
PREFIX_BYTES = 4096
# ... and must be at least this many words long to prove anything.
PREFIX_WORDS = 12
_NAME = re.compile(rb"[A-Za-z_]\w*\Z")
_WORDS = re.compile(rb"(\W+)")  # splits into words and the runs between them

Tokens = tuple[bytes, ...]


@dataclass(frozen=True)
class Upcoming:
    """The document's statements after the cursor in the body being filled."""

    statements: tuple[Tokens, ...]  # the first few, as token texts
    ends: bool  # the body ends after them (its closer or next clause comes next)
    column: int  # where the first of them starts on its line
    words: tuple[bytes, ...]  # the body's text from the first of them on, as words


def tokens(node: Node, source: bytes) -> Tokens:
    if node.child_count == 0:
        return (source[node.start_byte : node.end_byte],)  # a comment: one token
    return tuple(
        source[leaf.start_byte : leaf.end_byte]
        for leaf in leaves(node, node.start_byte, node.end_byte)
        if not leaf.is_missing and not is_comment(leaf)
    )


def upcoming(
    body: Node, cursor: int, source: bytes, clauses: frozenset[str], closers: frozenset[str]
) -> Upcoming | None:
    """The statements (and comments) of `body` after the cursor, up to one more than a
    window's worth."""
    found: list[Node] = []
    ends = True
    for child in children_from(body, cursor):
        if child.start_byte < cursor or child.is_missing:
            continue
        if child.type in clauses or child.type in closers:
            break
        if not child.is_named and not is_comment(child):
            continue  # the separators of a list
        if child.is_error:
            return None
        if len(found) > WINDOW:
            ends = False
            break
        found.append(child)
    if not found:
        return None
    statements = tuple(tokens(node, source) for node in found)
    stop = body.end_byte
    words = _words(source[found[0].start_byte : min(stop, found[0].start_byte + PREFIX_BYTES)])
    return Upcoming(statements, ends, found[0].start_point.column, words)


def _words(code: bytes) -> tuple[bytes, ...]:
    return tuple(b"".join(word.split()) for word in _WORDS.split(code) if word.strip())


class _Budget:
    """The edits a near copy may make: one rename (the same everywhere), one literal, and
    one line left out (a whole statement, or a run of tokens inside one)."""

    def __init__(self) -> None:
        self.rename: tuple[bytes, bytes] | None = None
        self.literal = False
        self.dropped = False

    def matches(self, written: Tokens, original: Tokens, *, inner_drop: bool = False) -> bool:
        if len(written) == len(original):
            return self._pairs(zip(written, original, strict=True))
        if not inner_drop or self.dropped or len(written) > len(original):
            return False
        # A line left out inside a compound statement: one run of the original's tokens
        # missing, everything else paired up.
        pairs: list[tuple[bytes, bytes]] = []
        missing = 0
        matcher = SequenceMatcher(None, written, original, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "insert":
                missing += 1
            elif tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
                pairs.extend(zip(written[i1:i2], original[j1:j2], strict=True))
            else:
                return False
        if missing != 1 or not self._pairs(pairs):
            return False
        self.dropped = True
        return True

    def _pairs(self, pairs: Iterable[tuple[bytes, bytes]]) -> bool:
        rename, literal = self.rename, self.literal
        for new, old in pairs:
            if new == old:
                continue
            if _NAME.match(new) and _NAME.match(old):
                if rename is None:
                    rename = (old, new)
                elif rename != (old, new):
                    return False
            elif (words := _renamed_words(new, old, rename)) is not None:
                rename = words  # a comment or string naming the renamed name
            elif not literal:
                literal = True
            else:
                return False
        self.rename, self.literal = rename, literal
        return True


def _renamed_words(
    new: bytes, old: bytes, rename: tuple[bytes, bytes] | None
) -> tuple[bytes, bytes] | None:
    """The rename that turns `old` into `new` word by word (one name, the same everywhere,
    agreeing with `rename`), or None."""
    new_words, old_words = _WORDS.split(new), _WORDS.split(old)
    if len(new_words) != len(old_words):
        return None
    for new_word, old_word in zip(new_words, old_words, strict=True):
        if new_word == old_word:
            continue
        if not (_NAME.match(new_word) and _NAME.match(old_word)):
            return None
        if rename is None:
            rename = (old_word, new_word)
        elif rename != (old_word, new_word):
            return None
    return rename


def near_copy_cut(
    body: Node,
    anchor: int,
    end: int,
    source: bytes,
    doc: Upcoming,
    closing: Cut | None,
    *,
    final: bool,
) -> Cut | None:
    """Before the first statement of the candidate (after the first) from which the
    candidate is a near copy of the document's upcoming statements."""
    stop = closing.at if closing is not None else end
    written = [
        child
        for child in children_from(body, anchor)
        if child.start_byte >= anchor and child.start_byte < stop and child.is_named
    ]
    for first in range(1, len(written)):
        if written[first].start_point.column != doc.column:
            continue
        verdict = _aligns(written[first:], doc, source, end, closing, final=final)
        if verdict is None:
            return None  # not enough text yet to tell
        if verdict or (final and _starts_copy(source[written[first].start_byte : end], doc)):
            return Cut(written[first].start_byte, True)
    return None


def _starts_copy(code: bytes, doc: Upcoming) -> bool:
    """Whether `code`, where the stream ended, is the start of the document's text from its
    next statement on (the last word may be cut short), with at most one name renamed."""
    words = _words(code)
    if len(words) < PREFIX_WORDS or len(words) > len(doc.words):
        return False
    rename: tuple[bytes, bytes] | None = None
    for index, (new, old) in enumerate(zip(words, doc.words, strict=False)):
        if new == old or (index == len(words) - 1 and old.startswith(new)):
            continue
        if not (_NAME.match(new) and _NAME.match(old)) or rename not in (None, (old, new)):
            return False
        rename = (old, new)
    return True


def _step(text: Tokens, statements: tuple[Tokens, ...], j: int, budget: _Budget) -> int | None:
    """Where the document's statements go on (from `j`) once the written statement `text`
    matches within the edit budget; None where it matches none."""
    if budget.matches(text, statements[j]):
        return j + 1
    if not budget.dropped and j + 1 < len(statements) and budget.matches(text, statements[j + 1]):
        budget.dropped = True  # a statement left out
        return j + 2
    if budget.matches(text, statements[j], inner_drop=True):
        return j + 1  # a line left out inside this statement
    return None


def _aligns(
    written: list[Node],
    doc: Upcoming,
    source: bytes,
    end: int,
    closing: Cut | None,
    *,
    final: bool,
) -> bool | None:
    """Whether `written` lines up with the document's statements within the edit budget
    (None: the candidate stops before it can tell)."""
    budget = _Budget()
    i = j = compared = matched = 0
    statements = doc.statements
    while j < len(statements) and compared < WINDOW:
        if i >= len(written):
            if closing is None:
                if not final:
                    return None
                # The stream ended inside the copy: what it wrote must be proof enough.
                return compared >= 2 or matched >= PREFIX_WORDS
            # The candidate's body ended: only a left-out last statement is allowed.
            if not budget.dropped and j == len(statements) - 1 and doc.ends:
                budget.dropped = True
                j += 1
                break
            return False
        node = written[i]
        text = tokens(node, source)
        if node.end_byte >= end:
            if not final:
                return None
            # The stream ended inside this statement: it must start like the document's.
            want = statements[j]
            if len(text) > len(want) or not budget.matches(text[:-1], want[: len(text) - 1]):
                return False
            return compared >= 1 or len(text) >= PREFIX_WORDS
        matched += len(text)
        step = _step(text, statements, j, budget)
        if step is None:
            return False
        j = step
        i += 1
        compared += 1
    if j >= len(statements) and doc.ends:
        # The document's body ends here: so must the candidate's.
        if i < len(written):
            return False
        if closing is None and not final:
            return None
        compared += 1  # the candidate ends there too (its closer, or its last text)
    return compared >= 2
