"""Every Markdown file renders as written: parsed by a real CommonMark parser (markdown-it-py,
with GitHub's tables), each fenced code block ends where its author closed it, and no heading,
table or fence is swallowed into code.

A fence line with text after it (```` ``` Typing… ````) is not a closing fence: the block runs
on to the next bare ```` ``` ````, and what lies between (headings, tables, prose) renders as code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from tests.paths import ROOT

SKIP = {"node_modules", ".venv", ".tandem-cache", "artifacts"}


def markdown_files() -> list[Path]:
    files = [ROOT / "README.md"]
    for folder in ("docs", "editor-plugins"):
        files += [
            p
            for p in sorted((ROOT / folder).rglob("*.md"))
            if not SKIP & set(p.relative_to(ROOT).parts)
        ]
    return files


FILES = markdown_files()
PARSER = MarkdownIt("commonmark").enable("table")
# A line that opens or closes a fence: three or more backticks or tildes.
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
HEADING = re.compile(r"^ {0,3}#{1,6}\s+\S")
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$")


def fences(tokens: list[Token]) -> list[Token]:
    return [t for t in tokens if t.type == "fence"]


def problems(text: str) -> list[str]:
    """What renders differently from what the author wrote, one line each."""
    lines = text.split("\n")
    out = []
    for t in fences(PARSER.parse(text)):
        assert t.map is not None
        start, end = t.map
        opener = f"line {start + 1} ({lines[start].strip()!r})"
        last = lines[end - 1] if end - 1 > start else ""
        closer = FENCE.match(last)
        if not (closer and closer[1][0] == t.markup[0] and len(closer[1]) >= len(t.markup)):
            out.append(f"the fence at {opener} never closes")
        elif closer[2].strip():
            out.append(f"the fence at {opener} closes with text after it")
        for n in range(start + 1, end - 1):
            line = lines[n]
            inner = FENCE.match(line)
            # A fence-like line inside the block was meant to end it (a longer fence may hold one).
            if inner and inner[1][0] == t.markup[0] and len(inner[1]) >= len(t.markup):
                out.append(f"line {n + 1} ({line.strip()!r}) is code of the fence at {opener}")
            elif t.info.strip() not in ("md", "markdown") and (
                (HEADING.match(line) and line.lstrip().startswith("##")) or TABLE_RULE.match(line)
            ):
                out.append(f"line {n + 1} ({line.strip()!r}) is swallowed by the fence at {opener}")
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_renders_as_written(path: Path) -> None:
    text = path.read_text()
    assert problems(text) == []
    # Every heading outside code is a heading to the parser (not code, not paragraph text).
    tokens = PARSER.parse(text)
    code = {
        n
        for t in tokens
        if t.type in ("fence", "code_block", "html_block") and t.map
        for n in range(t.map[0], t.map[1])
    }
    written = [
        n for n, line in enumerate(text.split("\n")) if n not in code and HEADING.match(line)
    ]
    parsed = [t.map[0] for t in tokens if t.type == "heading_open" and t.map]
    assert sorted(parsed) == written


def test_the_neovim_readme_has_its_sections_and_tables() -> None:
    """The sections after *Ghost text* render as sections, the key and command tables as tables."""
    tokens = PARSER.parse((ROOT / "editor-plugins" / "nvim" / "README.md").read_text())
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    for name in ("Ghost text", "Chat and selection commands", "Without this plugin", "Health"):
        assert name in headings
    cells = [t.content for t in tokens if t.type == "inline"]
    for cell in ("`<Tab>`", "`:TandemChat {question}`", "`:TandemLog`"):
        assert cell in cells, cell
    assert sum(t.type == "table_open" for t in tokens) >= 2


def test_the_checks_catch_a_fence_that_never_closes() -> None:
    broken = "# A\n\n```lua\nx = 1\n``` Typing on\n\n## B\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    found = problems(broken)
    assert any("never closes" in p for p in found), found
    assert any("'``` Typing on') is code" in p for p in found), found
    swallowed = "# A\n\n```sh\nrun\n\n## B\n\n|a|b|\n|---|---|\n```\n"
    found = problems(swallowed)
    assert any("'## B') is swallowed" in p for p in found), found
    assert any("'|---|---|') is swallowed" in p for p in found), found
    assert problems("# A\n\n````md\n```lua\nx\n```\n````\n") == []
