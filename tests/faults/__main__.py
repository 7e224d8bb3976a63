"""`python -m tests.faults [--long] [--record]`: run the fault suite and print its tables.

The quick mode is what `bash tests/run-all.sh` runs (as tests/faults/test_faults.py);
`--long` pushes harder; `--record` writes the tables into docs/reliability.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from model_host.devtools.tiny import make_tiny
from tests.faults.modes import LONG, QUICK
from tests.faults.suite import run


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.faults")
    ap.add_argument("--long", action="store_true", help="the long mode (minutes), for benchmarks")
    ap.add_argument("--record", action="store_true", help="write the tables to docs/reliability.md")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    mode = LONG if args.long else QUICK
    with tempfile.TemporaryDirectory(prefix="tdm-") as tmp:
        model = make_tiny(Path(tmp) / "model")
        report, facts = asyncio.run(run(mode, model, Path(tmp), seed=args.seed))
    print(report.table())
    if report.notes():
        print("\n" + report.notes())
    print(
        f"\nhost RSS growth {facts.host_growth_pct:+.2f}%, LSP RSS growth {facts.lsp_growth_pct:+.2f}%, "
        f"10 MB file {facts.ten_mb_ratio:.1f}× its text, worst cross-client wait {facts.worst_stall_ms:.0f} ms"
    )
    if args.record:
        command = "python -m tests.faults" + (" --long" if args.long else "") + " --record"
        report.record(command)
        print("recorded in docs/reliability.md")
    return 0 if all(r.clean for r in report.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
