"""Open documents: text, line index, language and an incrementally edited syntax tree per URI."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .context.languages import LanguageSpec, detect_language
from .context.syntax import DocumentSyntax
from .positions import LineIndex, PositionError

log = logging.getLogger(__name__)


class UnknownDocument(LookupError):
    """A request named a document the editor never opened."""


# Past this many characters a document gets no syntax tree: tree-sitter's nodes cost about
# 40 bytes per byte of source (a 10 MB file: ~370 MiB), so huge files use the plain-text
# rules instead. A document edited back under RESUME_TREE_CHARS gets its tree again.
MAX_TREE_CHARS = 1 << 20
RESUME_TREE_CHARS = MAX_TREE_CHARS * 3 // 4


@dataclass
class Document:
    """One open document. With a syntax tree, the tree's copy of the text is the only copy."""

    uri: str
    language_id: str
    version: int
    _text: str
    lang: LanguageSpec | None = None
    syntax: DocumentSyntax | None = None
    _index: LineIndex | None = field(default=None, repr=False)
    # The tree was left out for the text's size (not for want of a grammar).
    too_big_for_tree: bool = False

    @property
    def text(self) -> str:
        return self.syntax.text if self.syntax is not None else self._text

    def replace(self, text: str) -> None:
        """Take a whole new text (a change without a range)."""
        if self.syntax is not None and len(text) <= MAX_TREE_CHARS:
            self.syntax.replace(text)
            return
        if self.syntax is not None:
            self.syntax, self.too_big_for_tree = None, True
        self._text = text
        self._resume_tree()

    @property
    def index(self) -> LineIndex:
        if self._index is None or self._index.text is not self.text:
            self._index = LineIndex(self.text)
        return self._index

    def offset_at(self, line: int, character: int, encoding: str) -> int:
        return self.index.offset(line, character, encoding)

    def position_at(self, offset: int, encoding: str) -> tuple[int, int]:
        return self.index.position(offset, encoding)

    def apply(self, start: int, end: int, new_text: str) -> None:
        """Replace text[start:end], keeping the syntax tree in step (edit + incremental reparse)."""
        index = self.index
        old = self.text
        if self.syntax is not None and len(old) - (end - start) + len(new_text) > MAX_TREE_CHARS:
            self._text, self.syntax, self.too_big_for_tree = old, None, True
        if self.syntax is None:
            self._text = old[:start] + new_text + old[end:]
            self._resume_tree()
        else:
            try:
                self.syntax.apply_change(start, end, new_text)
            except Exception:  # a broken tree must never break completion: reparse from scratch
                log.exception("incremental reparse failed for %s; reparsing", self.uri)
                self.syntax.replace(old[:start] + new_text + old[end:])
        index.edited(start, self.text, new_text)
        self._index = index

    def _resume_tree(self) -> None:
        if self.too_big_for_tree and len(self._text) <= RESUME_TREE_CHARS:
            self.too_big_for_tree = False
            self.syntax = _parse(self._text, self.lang)
            if self.syntax is not None:
                self._text = ""  # the tree holds the text now


def _parse(text: str, lang: LanguageSpec | None) -> DocumentSyntax | None:
    if len(text) > MAX_TREE_CHARS:
        return None
    try:
        return DocumentSyntax.create(text, lang)
    except Exception:
        log.exception("tree-sitter could not parse this document; using plain-text rules")
        return None


class DocumentStore:
    def __init__(self) -> None:
        self._docs: dict[str, Document] = {}

    def open(self, uri: str, language_id: str, version: int, text: str) -> Document:
        lang = detect_language(language_id, uri)
        doc = Document(uri, language_id, version, text, lang, _parse(text, lang))
        doc.too_big_for_tree = lang is not None and len(text) > MAX_TREE_CHARS
        self._docs[uri] = doc
        return doc

    def get(self, uri: str) -> Document:
        doc = self._docs.get(uri)
        if doc is None:
            raise UnknownDocument(f"document {uri} is not open")
        return doc

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)

    def change(self, uri: str, version: int, changes: list[Any], encoding: str) -> Document:
        """Apply LSP content changes in order; a change without a range replaces everything."""
        doc = self.get(uri)
        for change in changes:
            rng = getattr(change, "range", None)
            if rng is None:
                doc.replace(change.text)
                continue
            try:
                start = doc.index.offset(
                    rng.start.line, rng.start.character, encoding, strict=False
                )
                end = doc.index.offset(rng.end.line, rng.end.character, encoding, strict=False)
            except PositionError:
                log.warning("change with an invalid range ignored for %s: %s", uri, rng)
                continue
            doc.apply(min(start, end), max(start, end), change.text)
        doc.version = version
        return doc

    def __len__(self) -> int:
        return len(self._docs)

    def __iter__(self) -> Iterator[Document]:
        return iter(list(self._docs.values()))
