"""The language server's own cost per suggestion: wall time in `tandem-lsp` beyond the host's.

The shaping benchmark's requests (real code, every language x kind, both answer styles) go
through the real `tandem-lsp` against its replay host, which answers at once. After each
suggestion the benchmark reads `tandem/status`'s `suggestions.serverCost.last`: the
server's wall time for that suggestion split by phase (context building, waiting for the
host to count prompt tokens, waiting for the host to generate, shaping, the rest). The
server's own time is the total less the two host waits. The same requests run with the
shaping fast paths on and off (`TANDEM_SHAPING_FAST=0`), interleaved by round, in the
same run.

    .venv/bin/python -m tests.bench.bench_server_cost                    # 16 holes per cell
    .venv/bin/python -m tests.bench.bench_server_cost --per-cell 4 --rounds 1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_shaping import STYLES, TANDEM, Results, run
from tests.bench.shaping import corpus
from tests.bench.shaping.holes import KINDS

TARGET_P50_MS, TARGET_P95_MS = 2.0, 10.0
ROWS = (
    ("server's own (total - host waits)", "ownMs"),
    ("  context (mode, selection)", "context"),
    ("  shaping (parse in place, cuts)", "shaping"),
    ("  other (cache, bookkeeping)", "other"),
    ("server's own, CPU", "ownCpuMs"),
    ("  context, CPU", "cpu:context"),
    ("  shaping, CPU", "cpu:shaping"),
    ("  other, CPU", "cpu:other"),
    ("server CPU, whole request", "cpuMs"),
    ("host wait: counting tokens", "tokens"),
    ("host wait: generating", "host"),
    ("client round trip", "clientMs"),
)
FAST_ENV = "TANDEM_SHAPING_FAST"


def percentile(values: list[float], q: float) -> float:
    """Nearest rank, as the server's own windows compute it."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


async def measure(
    languages: list[str], kinds: list[str], per_cell: int, seed: int, jobs: int, fast: bool
) -> tuple[list[dict[str, Any]], Results]:
    costs: list[dict[str, Any]] = []
    saved = os.environ.get(FAST_ENV)
    os.environ[FAST_ENV] = "1" if fast else "0"  # the servers inherit it
    try:
        results = await run(languages, kinds, per_cell, seed, jobs, costs=costs)
    finally:
        if saved is None:
            os.environ.pop(FAST_ENV, None)
        else:
            os.environ[FAST_ENV] = saved
    return costs, results


def table(runs: dict[str, list[list[dict[str, Any]]]]) -> str:
    """p50 / p95 per phase for each configuration: the median over rounds of each round's
    percentile (rounds interleave the configurations, so machine noise hits both)."""
    names = list(runs)
    head = "| ms per suggestion | " + " | ".join(f"{n} p50 | {n} p95" for n in names) + " |"
    rows = [head, "|---|" + "---:|" * (2 * len(names))]
    for label, key in ROWS:
        cells = []
        for name in names:
            for q in (50, 95):
                per_round = [percentile([_value(c, key) for c in r], q) for r in runs[name] if r]
                cells.append(f"{statistics.median(per_round):.2f}")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _value(cost: dict[str, Any], key: str) -> float:
    """A figure of one suggestion's `serverCost.last`; `cpu:PHASE` is its CPU time there."""
    if key.startswith("cpu:"):
        return float(cost["cpuPhasesMs"][key[4:]])
    return float(cost[key])


def own(runs: list[list[dict[str, Any]]], q: float, key: str = "ownMs") -> float:
    return statistics.median(percentile([c[key] for c in r], q) for r in runs if r)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-cell", type=int, default=16, help="holes per language x kind")
    parser.add_argument("--languages", default=",".join(corpus.LANGUAGES))
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each configuration")
    parser.add_argument("--jobs", type=int, default=1, help="servers run side by side")
    parser.add_argument("--no-baseline", action="store_true", help="measure the fast path only")
    args = parser.parse_args(argv)
    languages, kinds = args.languages.split(","), args.kinds.split(",")
    configs = {"fast": True} if args.no_baseline else {"baseline": False, "fast": True}
    runs: dict[str, list[list[dict[str, Any]]]] = {name: [] for name in configs}
    exact: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(args.rounds):
        for name, fast in configs.items():
            costs, results = asyncio.run(
                measure(languages, kinds, args.per_cell, args.seed, args.jobs, fast)
            )
            runs[name].append(costs)
            exact[name].append(min(results.rate(TANDEM, style) for style in STYLES))
    count = len(runs["fast"][0])
    print(
        f"server cost benchmark: {args.per_cell} holes per cell, seed {args.seed}, "
        f"{count} model-backed suggestions per run, {args.rounds} rounds, {args.jobs} server(s)"
    )
    print(table(runs))
    for name in configs:
        print(f"{name}: exact match (worse style) {min(exact[name]):.2f}%")
    p50, p95 = own(runs["fast"], 50), own(runs["fast"], 95)
    ok = p50 <= TARGET_P50_MS and p95 <= TARGET_P95_MS
    print(
        f"target: own p50 <= {TARGET_P50_MS} ms and p95 <= {TARGET_P95_MS} ms: "
        f"p50 {p50:.2f} ms, p95 {p95:.2f} ms: {'PASS' if ok else 'FAIL'}"
    )
    # The same target in CPU time: what a quiet machine would see (shown, not judged: the
    # wall-time target above decides).
    cpu50, cpu95 = own(runs["fast"], 50, "ownCpuMs"), own(runs["fast"], 95, "ownCpuMs")
    met = cpu50 <= TARGET_P50_MS and cpu95 <= TARGET_P95_MS
    print(
        f"in CPU time: own p50 {cpu50:.2f} ms, p95 {cpu95:.2f} ms: "
        f"{'within' if met else 'beyond'} the target"
    )
    texts = {
        tuple(sorted((c["key"], c["text"] or "") for c in r))
        for name in configs
        for r in runs[name]
    }
    same = len(texts) == 1
    if not same:
        print("FAIL: the fast path shapes differently from the baseline")
    return 0 if ok and same else 1


if __name__ == "__main__":
    sys.exit(main())
