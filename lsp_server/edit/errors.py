"""The ways an edit fails, each with its JSON-RPC error code (turned into wire errors in server.py)."""

from __future__ import annotations

from typing import ClassVar


class EditError(Exception):
    code: ClassVar[int] = -32603

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EditInputError(EditError):
    """Bad params: a missing or mistyped field, an empty instruction, a range off the document."""

    code = -32602


class ContentModified(EditError):
    """The document changed while the edit ran (or was not the version the client saw)."""

    code = -32801


class CannotChat(EditError):
    """The loaded checkpoint cannot follow instructions."""

    code = -32001
