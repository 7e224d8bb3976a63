"""Cross-file context benchmark: does the prompt carry the definitions the hidden code uses?

The shaping corpus's packages (tests/bench/shaping/corpus.py) are opened as workspaces of a
real `tandem-lsp`; in each, holes are cut out of lines whose code uses names defined in other
files of the package (tests/bench/crossfile/holes.py, with the benchmark's own tree-sitter
ground truth: truth.py, package.py); the hole's file and 2–3 neighbouring files are open;
an invoked inline completion at the hole reaches a recording stand-in host, which keeps what
the model would receive. **Definition recall** = share of the needed definitions whose
signature line is in a cross-file item from the defining file. In the same run, by their
published rules and in the same room: CrossCodeEval's BM25 chunks, Copilot's neighbouring-tab
windows, and the oracle (the needed signature lines themselves); two rooms: 25% of the file's
own prompt, and 4,096 characters.

Then what it costs: index time and memory for the largest package and a 10,000-file
synthetic workspace, `select` time, inline completion p95 while that workspace indexes against
idle, and tokens recomputed per keystroke with cross-file context on and off (a real host).

    .venv/bin/python -m tests.bench.bench_crossfile                      # everything
    .venv/bin/python -m tests.bench.bench_crossfile --only recall --languages python,go
    .venv/bin/python -m tests.bench.bench_crossfile --only cost --synthetic-files 2000
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.crossfile import costs, runner
from tests.bench.crossfile.report import (
    by_use,
    miss_reasons,
    packages_table,
    recall_table,
    targets,
    worst_misses,
)
from tests.bench.shaping import corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", default=",".join(corpus.LANGUAGES))
    parser.add_argument("--packages", default="", help="only these corpus packages (names)")
    parser.add_argument("--holes", type=int, default=22, help="holes per package")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=("recall", "cost", "all"), default="all")
    parser.add_argument("--synthetic-files", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs per timing figure")
    parser.add_argument("--typing-keys", type=int, default=24, help="keystrokes per typing replay")
    parser.add_argument("--worst", type=int, default=10, help="worst-missed holes to print")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(
        f"cross-file benchmark · {platform.node()} · {platform.processor() or platform.machine()}"
    )
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tdm-xfile-") as tmp:
        if args.only in ("recall", "all"):
            languages = args.languages.split(",")
            names = [n for n in args.packages.split(",") if n]
            results = asyncio.run(runner.run(Path(tmp), languages, names, args.holes, args.seed))
            print("\n### Packages")
            print(packages_table(results))
            for condition in runner.CONDITIONS:
                print(f"\n### Definition recall, room: {runner.ROOM_TITLES[condition]}")
                print(recall_table(results, condition, languages))
            for condition in runner.CONDITIONS:
                title = runner.ROOM_TITLES[condition]
                print(f"\n### Tandem's recall by how the name shows, room: {title}")
                print(by_use(results, condition, languages))
                print(f"\n### Why Tandem missed, room: {title}")
                print(miss_reasons(results, condition, languages))
            print(f"\n### The {args.worst} worst-missed holes (4,096 characters)")
            print(worst_misses(results, "4096", args.worst))
            problems += targets(results, languages)
        if args.only in ("cost", "all"):
            print(
                asyncio.run(
                    costs.run(Path(tmp), args.synthetic_files, args.repeats, args.typing_keys)
                )
            )
    print(f"\ntook {time.perf_counter() - started:.0f} s")
    for problem in problems:
        print("below target:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
