"""Edit extraction benchmark: does the applied edit equal the intended rewrite, whatever the answer's shape?

Selections are cut from real code (the shaping benchmark's corpus under .tandem-cache/ when
it is there, else this repository's Python, TypeScript and Lua): runs of 2-10 whole lines
at one level of nesting or deeper, a quarter of them in CRLF files. Each gets an intended
rewrite (a line inserted after the first, one removed, the last changed) and is answered
in the shapes models answer in: fenced with or without a language tag, bare, with a chatty
line before or an explanation after, the common indentation dropped or added, tabs turned
to spaces, the code then a usage example, the old code quoted before the new, the lines
around the selection repeated, Code Llama's [PYTHON] tags, a fence never closed.

Each answer goes the server's way (extract.py, then diff.py's minimal TextEdits, applied
to the document as an editor applies them) and, in the same run, the naive rule of simple
assistants: the first fenced block as it is (the whole answer without one) in place of the
selection. A case scores when the document after the edit equals the intended one exactly;
"parses" counts results whose syntax tree (tree-sitter) has no error the intended one has not.
Exits 1 when the server's exact share is under --target (99%).

    .venv/bin/python -m tests.bench.bench_edit                # corpus or repo files
    .venv/bin/python -m tests.bench.bench_edit --per-language 40 --seed 3
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lsp_server.context import spec_for_language_id
from lsp_server.context.syntax import DocumentSyntax
from lsp_server.edit.diff import Selection, line_edits, split_lines
from lsp_server.edit.extract import extract_rewrite, fenced_blocks
from lsp_server.positions import UTF16, LineIndex
from tests.bench.common import table
from tests.bench.shaping.corpus import CACHE, PROJECTS
from tests.paths import ROOT

COMMENT = {"python": "#", "lua": "--", "yaml": "#"}
REPO_SOURCES = {
    "python": ("lsp_server", ".py"),
    "typescript": ("editor-plugins/vscode/src", ".ts"),
    "lua": ("editor-plugins/nvim/lua", ".lua"),
}


@dataclass(frozen=True)
class Case:
    language: str
    text: str  # the document
    start: int  # the selection: whole lines [start, end)
    end: int
    rewrite: str  # what the selection should become

    @property
    def old(self) -> str:
        return self.text[self.start : self.end]

    @property
    def intended(self) -> str:
        return self.text[: self.start] + self.rewrite + self.text[self.end :]

    def lines_around(self, n: int) -> tuple[str, str]:
        before = split_lines(self.text[: self.start])[-n:]
        after = split_lines(self.text[self.end :])[:n]
        return "".join(before), "".join(after)


# ---- cases -----------------------------------------------------------------------------------
def corpus_files(per_language: int, rng: random.Random) -> dict[str, list[Path]]:
    """Source files per language: the shaping corpus where it was fetched, else this repo."""
    files: dict[str, list[Path]] = defaultdict(list)
    for project in PROJECTS:
        root = CACHE / project.key
        if root.is_dir():
            found = sorted(p for p in root.rglob("*") if p.suffix in project.extensions)
            files[project.language] += found
    if not files:
        for language, (folder, suffix) in REPO_SOURCES.items():
            files[language] = sorted((ROOT / folder).rglob(f"*{suffix}"))
    return {
        lang: rng.sample(paths, min(len(paths), per_language))
        for lang, paths in sorted(files.items())
        if paths
    }


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def pick_selection(lines: list[str], rng: random.Random) -> tuple[int, int] | None:
    """Lines [i, j): non-blank ends, every line at the first one's indentation or deeper."""
    for _ in range(50):
        i = rng.randrange(len(lines))
        first = lines[i].rstrip("\r\n")
        if not first.strip() or len(first) > 160:
            continue
        depth = len(_indent(first))
        j = i + 1
        want = rng.randint(2, 10)
        while j < len(lines) and j - i < want:
            line = lines[j].rstrip("\r\n")
            if line.strip() and len(_indent(line)) < depth:
                break
            j += 1
        while j > i + 1 and not lines[j - 1].strip():
            j -= 1
        if j - i >= 2 and lines[j - 1].endswith(("\n", "\r")):
            return i, j
    return None


def rewrite_of(old_lines: list[str], language: str, eol: str) -> str:
    """The intended rewrite: a line inserted after the first, a middle one removed, the last changed."""
    mark = COMMENT.get(language, "//")
    body = [x.rstrip("\r\n") for x in old_lines]
    deeper = [x for x in body[1:] if x.strip()]
    indent = _indent(deeper[0]) if deeper else _indent(body[0])
    out = [body[0], f"{indent}{mark} checked here", *body[1:]]
    if len(out) >= 5:
        del out[3]
    out[-1] = f"{out[-1]}  {mark} changed"
    return eol.join(out) + eol


def make_cases(per_language: int, per_file: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    cases = []
    for language, paths in corpus_files(per_language, rng).items():
        for path in paths:
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            if "\r" in text or ("\t" in text and language not in ("go", "c")):
                continue  # keep the kinds of indentation each language really uses
            crlf = rng.random() < 0.25
            if crlf:
                text = text.replace("\n", "\r\n")
            lines = split_lines(text)
            if len(lines) < 12:
                continue
            for _ in range(per_file):
                picked = pick_selection(lines, rng)
                if picked is None:
                    continue
                i, j = picked
                start, end = sum(map(len, lines[:i])), sum(map(len, lines[:j]))
                rewrite = rewrite_of(lines[i:j], language, "\r\n" if crlf else "\n")
                cases.append(Case(language, text, start, end, rewrite))
    return cases


# ---- answers ---------------------------------------------------------------------------------
def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def _dedent(code: str) -> str:
    lines = code.split("\n")
    indents = [_indent(x) for x in lines if x.strip()]
    common = min(indents, key=len) if indents else ""
    while common and not all(i.startswith(common) for i in indents):
        common = common[:-1]
    return "\n".join(x[len(common) :] if x.strip() else x for x in lines)


def _fence(code: str, tag: str = "") -> str:
    return f"```{tag}\n{code.rstrip(chr(10))}\n```"


Shape = Callable[[Case], str | None]  # None: the shape does not apply to this case


def _tag(case: Case) -> str:
    return {"javascript": "js", "typescript": "ts"}.get(case.language, case.language)


def _repeat_around(case: Case) -> str | None:
    before, after = case.lines_around(1)
    if not before.strip() or not after.strip():
        return None
    return _fence(_lf(before) + _lf(case.rewrite) + _lf(after), _tag(case))


def _spaces_for_tabs(case: Case) -> str | None:
    if "\t" not in case.old:
        return None
    return _fence(_lf(case.rewrite).replace("\t", "    "), _tag(case))


SHAPES: dict[str, Shape] = {
    "fenced, language tag": lambda c: _fence(_lf(c.rewrite), _tag(c)),
    "fenced, no tag": lambda c: _fence(_lf(c.rewrite)),
    "bare code": lambda c: _lf(c.rewrite),
    "prose before": lambda c: (
        "Sure! Here is the updated code:\n\n" + _fence(_lf(c.rewrite), _tag(c))
    ),
    "explanation after": lambda c: (
        _fence(_lf(c.rewrite), _tag(c))
        + "\n\nThis adds a check after the first line and marks the last one as changed."
    ),
    "bare, prose around": lambda c: (
        "Here is the rewritten code:\n"
        + _lf(c.rewrite)
        + "\nThe change adds a check and drops a line that was not needed."
    ),
    "indent dropped": lambda c: _fence(_dedent(_lf(c.rewrite)), _tag(c)),
    "indent added": lambda c: _fence(
        "\n".join("    " + x if x.strip() else x for x in _lf(c.rewrite).split("\n")), _tag(c)
    ),
    "tabs to spaces": _spaces_for_tabs,
    "code + usage block": lambda c: (
        _fence(_lf(c.rewrite), _tag(c))
        + "\n\nYou can try it like this:\n\n"
        + _fence("result = run()\nprint(result)", _tag(c))
    ),
    "old code quoted first": lambda c: (
        "Your code:\n"
        + _fence(_lf(c.old), _tag(c))
        + "\n\nUpdated:\n"
        + _fence(_lf(c.rewrite), _tag(c))
    ),
    "repeats lines around": _repeat_around,
    "[PYTHON] tags": lambda c: (
        f"[PYTHON]\n{_lf(c.rewrite)}[/PYTHON]" if c.language == "python" else None
    ),
    "fence not closed": lambda c: f"```{_tag(c)}\n{_lf(c.rewrite)}",
}


# ---- the two rules -----------------------------------------------------------------------------
def tandem(case: Case, answer: str) -> str:
    """The server's way: extract, diff into minimal TextEdits, apply them as an editor does."""
    before, after = case.lines_around(8)
    new = extract_rewrite(answer, case.old, before=before, after=after)
    index = LineIndex(case.text)
    edits = line_edits(index, Selection(case.start, case.end), new, UTF16)
    text = case.text
    for e in reversed(edits):
        s = index.offset(e.range.start.line, e.range.start.character, UTF16)
        t = index.offset(e.range.end.line, e.range.end.character, UTF16)
        text = text[:s] + e.new_text + text[t:]
    return text


def naive(case: Case, answer: str) -> str:
    """Simple assistants' rule: the first fenced block as it is (the answer without one)."""
    blocks = fenced_blocks(answer.replace("\r\n", "\n"))
    code = blocks[0].code if blocks else answer
    if case.old.endswith("\n") and not code.endswith("\n"):
        code += "\n"
    return case.text[: case.start] + code + case.text[case.end :]


def parses(case: Case, text: str) -> bool:
    """No syntax error the intended rewrite does not have (tree-sitter; True without a grammar)."""
    if text == case.intended:
        return True
    spec = spec_for_language_id(case.language)
    if spec is None:
        return True
    tree = DocumentSyntax.create(text, spec)
    intended = DocumentSyntax.create(case.intended, spec)
    if tree is None or intended is None:
        return True
    return intended.root.has_error or not tree.root.has_error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-language", type=int, default=12, help="files per language")
    parser.add_argument("--per-file", type=int, default=3, help="selections per file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", type=float, default=99.0, help="least exact %% to pass")
    parser.add_argument("--show-misses", type=int, default=0, help="print this many misses")
    args = parser.parse_args(argv)

    cases = make_cases(args.per_language, args.per_file, args.seed)
    score: dict[str, list[int]] = defaultdict(
        lambda: [0, 0, 0, 0, 0]
    )  # n, t, t_parse, naive, n_parse
    by_lang: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    misses: list[tuple[str, Case, str, str]] = []
    for case in cases:
        for name, shape in SHAPES.items():
            answer = shape(case)
            if answer is None:
                continue
            ours, theirs = tandem(case, answer), naive(case, answer)
            hit = [1, ours == case.intended, parses(case, ours), theirs == case.intended]
            hit.append(parses(case, theirs))
            for row in (score[name], by_lang[case.language], score["all"]):
                for k, v in enumerate(hit):
                    row[k] += int(v)
            if ours != case.intended and len(misses) < args.show_misses:
                misses.append((name, case, answer, ours))

    def pct(part: int, whole: int) -> float:
        return 100.0 * part / whole if whole else 0.0

    headers = [
        "answer shape",
        "answers",
        "Tandem exact %",
        "Tandem parses %",
        "naive exact %",
        "naive parses %",
    ]
    rows = [
        [name, n, pct(t, n), pct(tp, n), pct(nv, n), pct(np_, n)]
        for name, (n, t, tp, nv, np_) in score.items()
        if name != "all"
    ]
    n, t, tp, nv, np_ = score["all"]
    rows.append(["**all**", n, pct(t, n), pct(tp, n), pct(nv, n), pct(np_, n)])
    print(f"{len(cases)} selections, {n} answers (seed {args.seed})\n")
    print(table(headers, rows))
    print()
    lang_rows = [
        [lang, n_, pct(t_, n_), pct(tp_, n_), pct(nv_, n_), pct(np2, n_)]
        for lang, (n_, t_, tp_, nv_, np2) in sorted(by_lang.items())
    ]
    print(table(["language", *headers[1:]], lang_rows))
    for name, case, answer, ours in misses:
        print(
            f"\n--- miss: {name} ({case.language})\n{answer}\n--- got:\n{ours[case.start - 200 : case.start + 400]}"
        )
    exact = pct(t, n)
    print(
        f"\nTandem exact {exact:.1f}% (target {args.target:g}%): {'PASS' if exact >= args.target else 'FAIL'}"
    )
    return 0 if exact >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
