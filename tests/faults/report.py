"""The fault suite's figures: one row per scenario, one table, and the record in docs/reliability.md."""

from __future__ import annotations

import platform
import re
import time
from dataclasses import dataclass, field

from tests.paths import ROOT

RELIABILITY_DOC = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- fault-suite:begin -->", "<!-- fault-suite:end -->"


@dataclass
class Row:
    """What one scenario did and what came of it.

    `expected` answers the scenario could demand; `answered` of those arrived; `lost` are
    the missing ones, `spurious` answers to nothing asked (or a second answer), `internal`
    INTERNAL_ERROR answers to inputs the validator accepted, `crashes` processes that died
    without being killed on purpose. `figure` is the scenario's own measure.
    """

    scenario: str
    load: str
    bad_inputs: int = 0
    faults: int = 0
    expected: int = 0
    answered: int = 0
    spurious: int = 0
    internal: int = 0
    crashes: int = 0
    figure: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.answered)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.spurious or self.internal or self.crashes)


@dataclass
class Report:
    mode: str
    rows: list[Row] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    _mark: float = field(default_factory=time.monotonic)
    ended: float | None = None

    def add(self, row: Row) -> Row:
        row.seconds = time.monotonic() - self._mark
        self._mark = time.monotonic()
        self.rows.append(row)
        return row

    def restart_clock(self) -> None:
        self._mark = time.monotonic()

    def finish(self) -> None:
        self.ended = time.monotonic()

    def table(self) -> str:
        head = (
            "| scenario | load held | bad inputs | faults | answered | lost | spurious "
            "| internal errors | crashes | figure | time |"
        )
        lines = [head, "|" + "---|" * 11]
        for r in self.rows:
            lines.append(
                f"| {r.scenario} | {r.load} | {r.bad_inputs:,} | {r.faults:,} | "
                f"{r.answered:,}/{r.expected:,} | {r.lost} | {r.spurious} | {r.internal} | "
                f"{r.crashes} | {r.figure} | {r.seconds:.0f} s |"
            )
        total = Row("**total**", "")
        for r in self.rows:
            total.bad_inputs += r.bad_inputs
            total.faults += r.faults
            total.expected += r.expected
            total.answered += r.answered
            total.spurious += r.spurious
            total.internal += r.internal
            total.crashes += r.crashes
        lines.append(
            f"| **total** | | {total.bad_inputs:,} | {total.faults:,} | "
            f"{total.answered:,}/{total.expected:,} | {total.lost} | {total.spurious} | "
            f"{total.internal} | {total.crashes} | | {(self.ended or time.monotonic()) - self.started:.0f} s |"
        )
        return "\n".join(lines)

    def notes(self) -> str:
        return "\n".join(f"- {r.scenario}: {n}" for r in self.rows for n in r.notes)

    def record(self, command: str) -> None:
        """Replace the table in docs/reliability.md with this run's."""
        text = RELIABILITY_DOC.read_text()
        machine = f"{platform.machine()}, {_cpus()} CPUs, Python {platform.python_version()}"
        block = (
            f"{BEGIN}\nLast run: `{command}` ({self.mode} mode; {machine}; "
            f"{time.strftime('%Y-%m-%d')}).\n\n{self.table()}\n"
            + (f"\n{self.notes()}\n" if self.notes() else "")
            + END
        )
        pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
        RELIABILITY_DOC.write_text(pattern.sub(lambda _: block, text))


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))
