"""The rewritten code out of a model's answer, fitted back where the selection was.

A model asked to rewrite a selection answers in many shapes: one fenced block (with or
without a language tag, sometimes Code Llama's `[PYTHON] … [/PYTHON]`), several blocks
(the code and a usage example, or the old code then the new), bare code, code with a
chatty line before or an explanation after, code repeating the lines around the selection,
code with its common indentation dropped or added, tabs turned to spaces. This finds the
code and gives it the selection's indentation, blank lines at either end, line ends and
final line break.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n`]*$")
_TAG_OPEN = re.compile(r"^[ \t]*\[([A-Z]+)\][ \t]*$")  # Code Llama Instruct's [PYTHON]
_CODE_CHARS = re.compile(r"[(){}\[\];=<>]|->|::|\w\.\w|^\s*[#/*@-]")
_OPENERS = re.compile(
    r"^(sure|here|certainly|of course|okay|ok|below|the following|this|these|i |i'|i've|"
    r"note|explanation|in this|the (code|function|change|rewritten|updated|new)|changes|"
    r"rewritten|updated|great|alright|you can|we |it |now )",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Block:
    code: str
    language: str


def extract_rewrite(answer: str, original: str, *, before: str = "", after: str = "") -> str:
    """The code of `answer` to put in place of `original` (whole lines of a document).

    `before` and `after` are the document's lines around the selection: an answer that
    repeats them has them taken off again.
    """
    eol = _eol_of(original + before + after)
    text = answer.replace("\r\n", "\n").replace("\r", "\n")
    old = original.replace("\r\n", "\n").replace("\r", "\n")
    blocks = fenced_blocks(text)
    code = _choose(blocks, old) if blocks else strip_prose(text)
    lines = code.split("\n")
    lines = _drop_repeated_context(lines, old.split("\n"), before, after)
    lines = _trim_blank(lines)
    lines = fit_indentation(lines, old.split("\n"))
    lead, tail = _blank_ends(old)
    body = "\n".join(lines)
    new = lead + body + ("\n" + tail if tail and body else tail)
    if old.endswith("\n") and body and not new.endswith("\n"):
        new += "\n"
    elif not old.endswith("\n"):
        new = new.rstrip("\n")
    return new.replace("\n", eol) if eol != "\n" else new


# ---- finding the code -----------------------------------------------------------------------
def fenced_blocks(text: str) -> list[Block]:
    """Every fenced block of a Markdown answer, in order; an unclosed last one runs to the end
    (an answer cut at its token limit)."""
    blocks: list[Block] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        tag = _TAG_OPEN.match(lines[i]) if fence is None else None
        if fence is None and tag is None:
            i += 1
            continue
        if fence is not None:
            marker, language = fence.group(1), fence.group(2)

            def closes(line: str, marker: str = marker) -> bool:
                s = line.strip()
                return s.startswith(marker[0] * len(marker)) and not s.strip(marker[0])
        else:
            assert tag is not None
            marker, language = f"[/{tag.group(1)}]", tag.group(1).lower()

            def closes(line: str, marker: str = marker) -> bool:
                return line.strip() == marker

        body: list[str] = []
        i += 1
        while i < len(lines) and not closes(lines[i]):
            body.append(lines[i])
            i += 1
        blocks.append(Block("\n".join(body), language))
        i += 1
    return blocks


def _choose(blocks: list[Block], old: str) -> str:
    """The block most like the selection: the rewrite, not a usage example; never a block that
    only repeats the selection when another one differs (an answer quoting the old code)."""
    same = _squash(old)
    changed = [b for b in blocks if _squash(b.code) != same and b.code.strip()]
    pool = changed or blocks
    old_lines = [x.strip() for x in old.split("\n") if x.strip()]

    def likeness(block: Block) -> tuple[float, int]:
        new_lines = [x.strip() for x in block.code.split("\n") if x.strip()]
        ratio = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False).ratio()
        return ratio, len(block.code)

    return max(pool, key=likeness).code


def _squash(code: str) -> str:
    return "\n".join(x.strip() for x in code.split("\n") if x.strip())


def is_prose(line: str) -> bool:
    """A line of chat, not of code: an opener ("Sure, here is…"), a sentence, a lead-in ending in ':'."""
    s = line.strip()
    if not s:
        return False
    words = s.split()
    if _OPENERS.match(s) and (len(words) >= 3 or s.endswith(":")):
        return not _CODE_CHARS.search(s) or s.endswith((":", ".", "!"))
    if _CODE_CHARS.search(s) or len(words) < 4:
        return False
    return s[0].isupper() and s.endswith((".", ":", "!", "?"))


def strip_prose(text: str) -> str:
    """An unfenced answer without its chatty lines before the code and paragraphs after it."""
    lines = text.split("\n")
    while lines and (not lines[0].strip() or is_prose(lines[0])):
        lines.pop(0)
    # After the code, an explanation: paragraphs (blank-line separated) that start in prose.
    while True:
        lines = _trim_blank(lines)
        blanks = [i for i, x in enumerate(lines) if not x.strip()]
        start = blanks[-1] + 1 if blanks else 0
        if start == 0 or not is_prose(lines[start]):
            break
        lines = lines[:start]
    while lines and is_prose(lines[-1]):
        lines.pop()
    return "\n".join(lines)


def _drop_repeated_context(lines: list[str], old: list[str], before: str, after: str) -> list[str]:
    """Take off lines the answer repeats from just before or after the selection."""
    norm_before = [x.strip() for x in before.replace("\r", "").split("\n")]
    norm_after = [x.strip() for x in after.replace("\r", "").split("\n")]
    if norm_before and norm_before[-1] == "":
        norm_before.pop()  # `before` ends with its line break
    got = [x.strip() for x in lines]
    had = [x.strip() for x in old]
    # Lines that are both the context's and the selection's own (a `}` after a `}`) are the
    # context's only when the selection's own start (or end) follows them again.
    for k in range(min(len(norm_before), len(got) - 1), 0, -1):
        head = got[:k]
        if (
            any(head)
            and head == norm_before[-k:]
            and (head != had[:k] or got[k : 2 * k] == had[:k])
        ):
            lines, got = lines[k:], got[k:]
            break
    for k in range(min(len(norm_after), len(got) - 1), 0, -1):
        tail = got[-k:]
        if (
            any(tail)
            and tail == norm_after[:k]
            and (tail != had[-k:] or got[-2 * k : -k] == had[-k:])
        ):
            lines = lines[:-k]
            break
    return lines


# ---- fitting it in --------------------------------------------------------------------------
def _trim_blank(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _blank_ends(old: str) -> tuple[str, str]:
    """The selection's blank lines before its first and after its last non-blank line."""
    lines = old.split("\n")
    if old.endswith("\n"):
        lines.pop()
    if not any(x.strip() for x in lines):
        return "", ""
    lead = 0
    while not lines[lead].strip():
        lead += 1
    tail = 0
    while not lines[-1 - tail].strip():
        tail += 1
    return "\n" * lead, "\n" * tail


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _unit(indents: list[str]) -> int:
    """The width of one level of space indentation (4 when the lines do not tell)."""
    widths = [len(i) for i in indents if i and set(i) == {" "}]
    unit = math.gcd(*widths) if widths else 0
    if unit > 4 and unit % 4 == 0:
        return 4  # one width seen (say 8): two levels of 4 far more often than one of 8
    return unit if unit >= 2 else 4


def fit_indentation(lines: list[str], old: list[str]) -> list[str]:
    """`lines` with the selection's kind of indentation (tabs or spaces) and common indent."""
    old_indents = [_indent(x) for x in old if x.strip()]
    new_indents = [_indent(x) for x in lines if x.strip()]
    if not old_indents or not new_indents:
        return lines
    old_tabs = any("\t" in i for i in old_indents)
    new_tabs = any("\t" in i for i in new_indents)
    if old_tabs and not new_tabs:
        unit = _unit(new_indents)
        lines = [_retab(x, unit) for x in lines]
    elif new_tabs and not old_tabs and any(old_indents):
        unit = _unit(old_indents)
        lines = [_untab(x, unit) for x in lines]
    old_common = _common(old_indents)
    new_common = _common([_indent(x) for x in lines if x.strip()])
    if old_common == new_common:
        return lines
    return [old_common + x[len(new_common) :] if x.strip() else x for x in lines]


def _retab(line: str, unit: int) -> str:
    indent = _indent(line)
    if not line.strip() or "\t" in indent:
        return line
    return "\t" * (len(indent) // unit) + " " * (len(indent) % unit) + line[len(indent) :]


def _untab(line: str, unit: int) -> str:
    indent = _indent(line)
    return indent.replace("\t", " " * unit) + line[len(indent) :] if line.strip() else line


def _common(indents: list[str]) -> str:
    common = indents[0]
    for i in indents[1:]:
        while not i.startswith(common):
            common = common[:-1]
    return common


def _eol_of(text: str) -> str:
    at = text.find("\n")
    if at > 0 and text[at - 1] == "\r":
        return "\r\n"
    if at < 0 and "\r" in text:
        return "\r"
    return "\n"
