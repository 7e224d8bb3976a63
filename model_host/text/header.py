"""The cross-file header: other files' snippets as comment lines in the file's language, before the prefix.

Both ends use this one function: the host puts its text in front of the prefix (so the header's
ids are encoded exactly as the prefix is, with `encode`, which never yields a control id), and
the language server renders the same text to count its tokens against its budget. The format
is Copilot's and Tabby's: per snippet a `Path:` line, then every line of the snippet, each
behind the language's line-comment marker.

    # Path: pkg/util.py
    # def helper(x: int) -> str:
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class ContextSnippet(NamedTuple):
    """One `{path, text}` item of `complete`'s `context`."""

    path: str
    text: str


_SLASHES = (
    "c",
    "cpp",
    "c++",
    "cuda",
    "objective-c",
    "objective-cpp",
    "csharp",
    "go",
    "java",
    "javascript",
    "javascriptreact",
    "jsx",
    "typescript",
    "typescriptreact",
    "tsx",
    "rust",
    "kotlin",
    "scala",
    "swift",
    "dart",
    "php",
    "zig",
    "groovy",
    "proto",
    "jsonc",
)
_DASHES = ("lua", "sql", "haskell", "elm", "ada", "vhdl")
_PERCENT = ("erlang", "latex", "tex", "matlab", "prolog")
_SEMICOLONS = ("clojure", "lisp", "scheme", "racket", "commonlisp", "fennel")

COMMENT_MARKERS: dict[str, str] = {
    **dict.fromkeys(_SLASHES, "//"),
    **dict.fromkeys(_DASHES, "--"),
    **dict.fromkeys(_PERCENT, "%"),
    **dict.fromkeys(_SEMICOLONS, ";;"),
}
# Python, shell scripts, Ruby, Perl, R, YAML, TOML, Makefiles ... and any language not listed.
DEFAULT_MARKER = "#"


def comment_marker(language: str | None) -> str:
    """The line-comment marker for an LSP languageId (`#` for one not listed)."""
    return COMMENT_MARKERS.get((language or "").strip().lower(), DEFAULT_MARKER)


def render_header(
    snippets: Iterable[ContextSnippet | tuple[str, str]], language: str | None
) -> str:
    """The header's text: empty for no snippets, else lines each ending in a newline.

    Every line a snippet holds is commented, whatever breaks it (`\\n`, `\\r\\n`, a lone `\\r`,
    the other separators `str.splitlines` knows), so no snippet text can pass for code of the
    file being completed; an empty line is the marker alone. A path (a file name may hold a
    newline) is kept on its one line.
    """
    mark = comment_marker(language)
    out: list[str] = []
    for path, text in snippets:
        out.append(f"{mark} Path: {' '.join(path.splitlines())}\n")
        out.extend(f"{mark} {line}\n" if line else f"{mark}\n" for line in text.splitlines())
    return "".join(out)
