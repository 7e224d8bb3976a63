"""The baseline: a simple indentation heuristic of the kind Tabby's agent ships.

Written from the behaviour of tabby-agent's postprocessing (limit the scope by indentation,
drop a closing line the suffix already has, trim a single line that runs into the rest of
the line, drop auto-closed characters the suffix starts with); text rules only, no syntax.
"""

from __future__ import annotations

import re

# Tabby's "fill-in-line" mode: the cursor line goes on with more than auto-closed characters.
_AUTO_CLOSED_ONLY = re.compile(r"^[\s)\]}'\"`;,]*$")
_PAIRS = {"(": ")", "[": "]", "{": "}"}


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


def tabby_like(raw: str, prefix: str, suffix: str, language: str) -> str | None:
    """The suggestion the heuristic shows for `raw` between `prefix` and `suffix`."""
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
    current = prefix_lines[-1]
    reference = next((ln for ln in reversed(prefix_lines) if not _blank(ln)), "")
    ref_indent = _indent(reference)
    first_non_blank = next((i for i, ln in enumerate(lines) if not _blank(ln)), None)
    if first_non_blank is None:
        return lines
    completion_ref = lines[first_non_blank]
    completion_indent = (
        _indent(completion_ref) if _blank(lines[0]) else _indent(current + completion_ref)
    )
    if not _blank(lines[0]) and not _blank(current):
        limit = ref_indent + 1
        allow_closing = len(lines) > 1 and _indent(lines[1]) > ref_indent
    elif completion_indent > ref_indent:
        limit, allow_closing = ref_indent + 1, True
    else:
        limit, allow_closing = ref_indent, True
    next_suffix = next((ln for ln in suffix_lines[1:] if not _blank(ln)), None)
    if next_suffix is not None:
        allow_closing = allow_closing and _indent(next_suffix) < limit
    for index in range(1, len(lines)):
        line = lines[index]
        if _blank(line) or _indent(line) >= limit:
            continue
        opening = index + 1 < len(lines) and _indent(line) < _indent(lines[index + 1])
        if opening:
            continue
        duplicated = next_suffix is not None and (
            line.startswith(next_suffix) or next_suffix.startswith(line)
        )
        closing_ok = allow_closing and not duplicated
        if closing_ok and (language != "python" or not _blank(lines[index - 1])):
            return lines[: index + 1]
        return lines[:index]
    return lines


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
