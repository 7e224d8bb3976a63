"""Context engine: text + cursor + token budget in, FIM prompt parts and shaped suggestions out."""

from __future__ import annotations

from .budget import MAX_CHARS_PER_TOKEN, CountTokens, PromptContext, build_context
from .languages import (
    ALL_LANGUAGES,
    LanguageSpec,
    detect_language,
    spec_for_language_id,
    spec_for_path,
)
from .mode import CompletionMode, detect_mode
from .outline import Level, Outline, Span, build_outline
from .shaping import (
    CONTROL_MARKERS,
    DEFAULT_MAX_LINES,
    Shaper,
    shape_suggestion,
    strip_control_markers,
)
from .syntax import DocumentSyntax, InputEdit, compute_edit

__all__ = [
    "ALL_LANGUAGES",
    "CONTROL_MARKERS",
    "DEFAULT_MAX_LINES",
    "MAX_CHARS_PER_TOKEN",
    "CompletionMode",
    "CountTokens",
    "DocumentSyntax",
    "InputEdit",
    "LanguageSpec",
    "Level",
    "Outline",
    "PromptContext",
    "Shaper",
    "Span",
    "build_context",
    "build_outline",
    "compute_edit",
    "detect_language",
    "detect_mode",
    "shape_suggestion",
    "spec_for_language_id",
    "spec_for_path",
    "strip_control_markers",
]
