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


@dataclass(frozen=True, slots=True)
class Definition:
    """One definition of a file: a function, type, constant, macro, method, field ...

    `lines` are the definition's source lines verbatim from `start_line`: the whole definition
    when it is small (`whole`), otherwise only its header (`head` lines: the signature up to
    where the body starts). Lines are 0-based rows of the file.
    """

    name: str
    # function method class struct interface trait enum member type const var macro field
    # module value (a Lua module table's field)
    kind: str
    container: str | None  # the class / impl / namespace / module table it belongs to
    start_line: int
    end_line: int
    head: int  # how many of `lines` make the header (signature)
    lines: tuple[str, ...]
    doc_line: int = -1  # row of the first doc line (docstring or comment), -1 if none
    doc: str = ""  # that row verbatim
    # visible to other files (public, exported, not `static`, `local` or _private)
    exported: bool = True
    name_line: int = -1  # the row holding the name when the header does not (`} Name;`)
    name_text: str = ""  # that row verbatim

    @property
    def whole(self) -> bool:
        return len(self.lines) == self.end_line - self.start_line + 1

    @property
    def name_row_text(self) -> str:
        """The line that spells the name (what a reader searches for): usually the first."""
        if self.name_text:
            return self.name_text
        offset = self.name_line - self.start_line
        return self.lines[offset] if 0 < offset < len(self.lines) else self.lines[0]

    @property
    def signature(self) -> str:
        """The header joined into one line (`def f(a, b=1) -> int:`)."""
        return " ".join(line.strip() for line in self.lines[: self.head])


@dataclass(frozen=True, slots=True)
class ImportSpec:
    """One import of a file, as written, before resolution to workspace files."""

    module: str  # "pkg.util", "./util", "github.com/x/y", "crate::a::b", "util.h", "a.b"
    names: tuple[tuple[str, str], ...] = ()  # (local name, name in the module); ("*", "*") for all
    alias: str | None = (
        None  # a namespace bound to the whole module (`import x as y`, `local y = require`)
    )
    line: int = 0  # the row of the import statement
    reexport: bool = False  # `export ... from`, `pub use`
    end_line: int = -1  # the statement's last row (-1: the same as `line`)


@dataclass(frozen=True, slots=True)
class FileRecord:
    """What the index keeps of one file: its definitions and imports, no text."""

    key: str  # absolute path (real path for files on disk; the URI's path for unsaved buffers)
    rel: str  # workspace-relative POSIX path, shown in the prompt
    language: str  # LanguageSpec.name
    definitions: tuple[Definition, ...]
    imports: tuple[ImportSpec, ...]
    package: str = ""  # Go package name, Java package, Rust module path ...
    mtime_ns: int = 0
    size: int = 0
    names: tuple[str, ...] = ()  # identifiers its code uses: counted by the index, then dropped
    default: str = ""  # the name a JS/TS module exports whole (`module.exports = x`)
