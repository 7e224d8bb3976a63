"""The baseline: the indentation heuristic Tabby ships, fed the same stops Tandem gets.

Written from the behaviour of Tabby: its server's stop words (a newline followed by one of
the language's top-level keywords or its line comment), then tabby-agent's postprocessing
(limit the scope by indentation: a line indented less than the block ends it, unless that
line both closes and opens a block, like `} else {`; drop a closing line the suffix already
has; trim a single line that runs into the rest of the line; drop auto-closed characters the
suffix starts with). Text rules only, no syntax. A line suggestion gets the newline stop
Tandem's request carries.
"""

from __future__ import annotations

import re

# Tabby's "fill-in-line" mode: the cursor line goes on with more than auto-closed characters.
_AUTO_CLOSED_ONLY = re.compile(r"^[\s)\]}'\"`;,]*$")
_PAIRS = {"(": ")", "[": "]", "{": "}"}
# Tabby's per-language top-level keywords and line comment: each, after a newline, stops the
# model.
_TOP_LEVEL: dict[str, tuple[str, tuple[str, ...]]] = {
    "python": ("#", ("def", "from", "class", "import")),
    "javascript": (
        "//",
        (
            "abstract",
            "async",
            "class",
            "const",
            "export",
            "function",
            "interface",
            "module",
            "package",
            "type",
            "var",
            "enum",
            "let",
        ),
    ),
    "go": ("//", ("func", "interface", "struct", "package", "type", "import", "var", "const")),
    "rust": ("//", ("fn", "trait", "impl", "enum", "pub", "extern", "static", "unsafe", "use")),
    "c": ("//", ("struct", "union", "enum", "typedef", "static", "extern", "#include")),
    "lua": ("--", ("function", "local")),
}
_TOP_LEVEL["typescript"] = _TOP_LEVEL["javascript"]


def stop_words(language: str) -> list[str]:
    comment, keywords = _TOP_LEVEL.get(language, ("//", ()))
    return [f"\n{word}" for word in (*keywords, comment)]


def cut_at_stops(raw: str, stops: list[str]) -> str:
    """The model's text before the first stop word, as the server would end it."""
    cut = min((i for i in (raw.find(s) for s in stops if s) if i >= 0), default=len(raw))
    return raw[:cut]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _blank(line: str) -> bool:
    return not line.strip()


def _unpaired_closers(text: str) -> str:
    """Closers at the end of `text` that close nothing opened inside `text`."""
    stack: list[str] = []
    unpaired = ""
    for char in text:
        if char in _PAIRS:
            stack.append(_PAIRS[char])
        elif char in ")]}":
            if stack and stack[-1] == char:
                stack.pop()
            else:
                unpaired += char
    return unpaired


def tabby_like(
    raw: str, prefix: str, suffix: str, language: str, *, line_mode: bool = False
) -> str | None:
    """The suggestion the heuristic shows for `raw` between `prefix` and `suffix`; a line
    suggestion (`line_mode`) is stopped at its newline, as Tandem's is."""
    raw = cut_at_stops(raw, ["\n"] if line_mode else stop_words(language))
    line_prefix = prefix[prefix.rfind("\n") + 1 :]
    line_suffix = suffix.split("\n", 1)[0]
    suffix_lines = suffix.split("\n")
    prefix_lines = prefix.split("\n")
    lines = raw.split("\n")
    if not _AUTO_CLOSED_ONLY.match(line_suffix):
        # Fill-in-line: one line; several lines only when the first one runs into the suffix.
        first = lines[0].rstrip()
        if len(lines) > 1:
            target = line_suffix.rstrip()
            if not target or not first.endswith(target) or len(first) == len(target):
                return None
            first = first[: len(first) - len(target)]
        return first if first.strip() else None
    lines = _drop_suffix_repeat(lines, suffix_lines)
    lines = _limit_scope(lines, prefix_lines, suffix_lines, language)
    lines = _drop_duplicated_closing_line(lines, line_prefix, suffix_lines)
    text = "\n".join(lines).rstrip()
    if _blank(line_prefix) and _indent(line_prefix):
        text = text.lstrip(" \t")  # the editor already indented the cursor line
    last = text.split("\n")[-1]
    unpaired = _unpaired_closers(last)
    target = line_suffix.strip()
    if unpaired and target and target.startswith(unpaired):
        text = text[: len(text) - len(unpaired)] if text.endswith(unpaired) else text
    text = "\n".join(line.rstrip() for line in text.split("\n")).rstrip()
    return text if text.strip() else None


def _drop_suffix_repeat(lines: list[str], suffix_lines: list[str]) -> list[str]:
    """Cut where the completion starts repeating the lines after the cursor (at least two of
    them, or all it has left), as Tabby's duplicated-content filters do."""
    following = [ln.strip() for ln in suffix_lines[1:] if not _blank(ln)]
    if not following:
        return lines
    for index in range(1, len(lines)):
        rest = [ln.strip() for ln in lines[index:] if not _blank(ln)]
        if not rest or rest[0] != following[0]:
            continue
        size = min(len(rest), len(following))
        if rest[:size] == following[:size] and (size >= 2 or len(rest) == size):
            return lines[:index]
    return lines


def _limit_scope(
    lines: list[str], prefix_lines: list[str], suffix_lines: list[str], language: str
) -> list[str]:
    """tabby-agent's limitScopeByIndentation: the block ends at the first line indented less
    than it, kept as the closing line where the context allows one; a line that both closes
    and opens a block (`} else {`) does not end it."""
    current = prefix_lines[-1]
    reference = next((ln for ln in reversed(prefix_lines) if not _blank(ln)), "")
    ref_indent = _indent(reference)
    first_non_blank = next((i for i, ln in enumerate(lines) if not _blank(ln)), None)
    if first_non_blank is None:
        return lines
    detect = [current + lines[0], *lines[1:]]
    completion_ref = lines[first_non_blank]
    completion_indent = (
        _indent(completion_ref) if _blank(lines[0]) else _indent(current + completion_ref)
    )
    allow_closing = True
    if not _blank(lines[0]) and not _blank(current):
        limit = ref_indent + 1
        allow_closing = _opens(detect, 0)
    elif completion_indent > ref_indent:
        limit = ref_indent + 1
    else:
        limit = ref_indent
    next_suffix = next((ln for ln in suffix_lines[1:] if not _blank(ln)), None)
    if next_suffix is not None:
        allow_closing = allow_closing and _indent(next_suffix) < limit
    for index in range(1, len(lines)):
        line = lines[index]
        if _blank(line) or _indent(line) >= limit:
            continue
        if _closes(detect, index) and _opens(detect, index):
            continue
        if allow_closing and (language != "python" or not _blank(lines[index - 1])):
            return lines[: index + 1]
        return lines[:index]
    return lines


def _opens(lines: list[str], index: int) -> bool:
    return 0 <= index < len(lines) - 1 and _indent(lines[index]) < _indent(lines[index + 1])


def _closes(lines: list[str], index: int) -> bool:
    return 0 < index < len(lines) and _indent(lines[index - 1]) > _indent(lines[index])


def _drop_duplicated_closing_line(
    lines: list[str], line_prefix: str, suffix_lines: list[str]
) -> list[str]:
    if len(lines) < 2:
        return lines
    last = lines[-1]
    closing = bool(last.strip()) and _indent(last) < _indent(
        line_prefix + lines[0] if len(lines) == 1 else lines[-2]
    )
    if not closing:
        return lines
    following = next((ln for ln in suffix_lines[1:] if not _blank(ln)), None)
    if following is not None and (
        last.startswith(following.rstrip()) or following.startswith(last.rstrip())
    ):
        return lines[:-1]
    return lines
