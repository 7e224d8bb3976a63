"""Whether an open buffer's edit can change what the index keeps of it.

A record holds a file's definitions (their header lines, or the whole of a small one), doc
lines and imports, never the text of a long body. Typing inside such a body, with the line
count unchanged and no bracket, block or indentation change that could end the body early,
leaves the record exactly as a fresh parse would build it: the index skips that re-parse.
"""

from __future__ import annotations

import re

from .model import FileRecord

# Tokens that open or close a block in some language: an edit that changes how many of them
# the changed lines hold could end a body early or start a definition inside it.
_BLOCKS = re.compile(r"[{}()\[\]]|\b(?:end|function|def|class|fn|func|do|then)\b")


def changed_rows(old: str, new: str) -> tuple[int, int, list[str], list[str]] | None:
    """(first, last) changed row and those rows, old and new; None when the line counts
    differ or nothing changed."""
    old_lines, new_lines = old.split("\n"), new.split("\n")
    if len(old_lines) != len(new_lines) or old == new:
        return None
    first = 0
    while old_lines[first] == new_lines[first]:
        first += 1
    last = len(old_lines) - 1
    while old_lines[last] == new_lines[last]:
        last -= 1
    return first, last, old_lines[first : last + 1], new_lines[first : last + 1]


def body_only(old: str, new: str, record: FileRecord) -> bool:
    """Whether `record`, built from `old`, is also what `new` gives: the edit lies inside the
    body of one long definition, away from every line the record keeps."""
    changed = changed_rows(old, new)
    if changed is None:
        return False
    first, last, before, after = changed
    if sorted(_BLOCKS.findall("\n".join(before))) != sorted(_BLOCKS.findall("\n".join(after))):
        return False
    for spec in record.imports:
        end = spec.end_line if spec.end_line >= 0 else spec.line
        if spec.line <= last and first <= end:
            return False
    inside = False
    for definition in record.definitions:
        kept_end = definition.start_line + len(definition.lines) - 1
        if definition.start_line <= last and first <= kept_end:
            return False  # a header line, or a small definition kept whole
        if first <= definition.doc_line <= last or first <= definition.name_line <= last:
            return False
        if not definition.whole and kept_end < first and last < definition.end_line:
            inside = inside or _indented_under(definition.lines[0], after)
    return inside


def _indented_under(header: str, rows: list[str]) -> bool:
    """Whether every non-blank row is indented deeper than the definition's first line (an
    edit that dedents could close a Python body and begin a definition of the module)."""
    depth = len(header) - len(header.lstrip())
    return all(not row.strip() or len(row) - len(row.lstrip()) > depth for row in rows)
