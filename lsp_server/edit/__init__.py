"""Edit by instruction: rewrite a selection as the user asks, answered as minimal text edits."""

from __future__ import annotations

from .ability import cannot_chat_reason
from .diff import Selection, line_edits, widen
from .errors import CannotChat, ContentModified, EditError, EditInputError
from .extract import extract_rewrite

__all__ = [
    "CannotChat",
    "ContentModified",
    "EditError",
    "EditInputError",
    "Selection",
    "cannot_chat_reason",
    "extract_rewrite",
    "line_edits",
    "widen",
]
