"""`.gitignore` rules: patterns compiled to regexes, matched against workspace-relative paths.

Implements git's common semantics: `#` comments, `!` negation (the last matching rule wins),
a trailing `/` for directories only, anchored patterns (a leading or inner `/`), `*`, `?`,
`[...]`, and `**` for any number of folders. A file inside an ignored folder stays ignored
(the walk never enters the folder), as in git.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_MAX_IGNORE_BYTES = 256_000  # a .gitignore larger than this is not read


@dataclass(frozen=True, slots=True)
class Rule:
    """One pattern of a `.gitignore` in folder `base` ("" for the root)."""

    base: str
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool

    def matches(self, rel: str, is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        if self.base:
            if not rel.startswith(self.base + "/"):
                return False
            rel = rel[len(self.base) + 1 :]
        return self.regex.fullmatch(rel) is not None


def _segment(glob: str) -> str:
    """One path segment's glob as a regex that never crosses `/`."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        char = glob[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and i + 1 < len(glob):
            i += 1
            out.append(re.escape(glob[i]))
        elif char == "[":
            end = glob.find("]", i + 2)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = glob[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def compile_pattern(line: str, base: str = "") -> Rule | None:
    """The rule for one `.gitignore` line, or None for blanks and comments."""
    line = line.rstrip("\n").rstrip("\r")
    if not line.endswith("\\ "):
        line = line.rstrip(" ")
    if not line or line.startswith("#"):
        return None
    negate = line.startswith("!")
    if negate or line.startswith(("\\!", "\\#")):
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    segments = line.lstrip("/").split("/")
    parts: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            parts.append(".*" if last else "(?:.*/)?")
        else:
            parts.append(_segment(segment) + ("" if last else "/"))
    regex = "".join(parts)
    if not anchored:
        regex = "(?:.*/)?" + regex
    try:
        compiled = re.compile(regex, re.DOTALL)
    except re.error:
        return None
    return Rule(base=base, regex=compiled, negate=negate, dir_only=dir_only)


def parse_rules(text: str, base: str = "") -> tuple[Rule, ...]:
    rules = (compile_pattern(line, base) for line in text.splitlines())
    return tuple(rule for rule in rules if rule is not None)


def read_rules(folder: Path, base: str) -> tuple[Rule, ...]:
    """The rules of `folder/.gitignore` (none if it is missing, unreadable or huge)."""
    path = folder / ".gitignore"
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > _MAX_IGNORE_BYTES:
            return ()
        return parse_rules(path.read_text("utf-8", "replace"), base)
    except OSError:
        return ()


def ignored(rules: tuple[Rule, ...], rel: str, is_dir: bool) -> bool:
    """Whether the last rule matching `rel` ignores it (a negation re-includes)."""
    verdict = False
    for rule in rules:
        if rule.matches(rel, is_dir):
            verdict = not rule.negate
    return verdict
