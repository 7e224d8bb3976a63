"""The index's value types: settings, snippets handed to the prompt, definitions and file records."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Snippet:
    """Cross-file text for one prompt: lines of one workspace file."""

    path: str  # workspace-relative POSIX path of the file the text comes from ("pkg/util.py")
    text: str  # source lines verbatim (no comment markers: the host renders them), "\n"-joined, no trailing "\n"
    names: tuple[str, ...] = ()  # the definitions' names it carries (for stickiness/debug)


@dataclass(frozen=True)
class IndexSettings:
    """Limits of the workspace index (the `context.crossFile.*` settings)."""

    enable: bool = True
    max_files: int = 20000  # files indexed per workspace at most
    max_file_bytes: int = 1_000_000  # files larger are skipped
    exclude: tuple[
        str, ...
    ] = ()  # extra glob patterns, on top of .gitignore + VCS/dependency/build dirs
