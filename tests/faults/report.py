"""The fault suite's figures: what was sent, by kind, and how each was answered; the record.

Every input a scenario sends has a kind (`Kind`) and a right answer for that input: the
expected error code for bad input (by the request's id, or, where there is no id to read,
as JSON-RPC's `id: null` answer or the host's `error` notification), a result for a valid
request, and no answer at all for a notification or a response to nothing. Each input is
counted as answered correctly, answered wrongly (another code, an error for a valid request,
a result for bad input, a wrong result), lost (no answer), and any answer nobody asked for
(or a second answer) is spurious.
"""

from __future__ import annotations

import platform
import re
import time
from dataclasses import dataclass, field

from tests.paths import ROOT

RELIABILITY_DOC = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- fault-suite:begin -->", "<!-- fault-suite:end -->"
MAX_NOTES = 5  # per scenario and kind: the first few wrong answers, not thousands


class Kind:
    """What was sent, and (after the dash) what the right answer to it is."""

    # host (msgpack-rpc)
    HOST_VALID = "host: valid request — its result"
    HOST_FUZZED = "host: request with fuzzed params — a result or -32602"
    HOST_BAD_PARAMS = "host: bad params — -32602"
    HOST_UNKNOWN_METHOD = "host: unknown method — -32601"
    HOST_UNDECODABLE = "host: framed message that does not decode — -32700 by its id"
    HOST_BAD_SHAPE_ID = "host: request of the wrong shape — -32600 by its id"
    HOST_NO_ID = "host: wrong shape, no id — one -32600 `error` notification"
    HOST_SILENT = "host: notification or response to nothing — no answer"
    HOST_BROKEN = "host: malformed stream — -32700 notification, then close"
    HOST_OVERSIZE = "host: message over the limit — -32007 notification, then close"
    HOST_AFTER_CLOSE = "host: request after a refusal or close — no answer"
    HOST_GENERATION = "host: streamed generation — its result, or -32002 if `cancel` said so"
    HOST_CANCEL = "host: `cancel` — {cancelled} true iff the request ends cancelled"
    HOST_WRONG_TOKEN = "host: wrong token — -32006, then close"
    # language server (JSON-RPC over stdio)
    LSP_VALID = "LSP: valid request — its result"
    LSP_UNKNOWN_METHOD = "LSP: unknown method — -32601 by its id"
    LSP_BAD_PARAMS = "LSP: bad params — -32602 by its id"
    LSP_NOT_JSON = "LSP: not JSON — -32700, id null"
    LSP_NOT_REQUEST = "LSP: not a request object or a bad id — -32600, id null"
    LSP_BAD_FRAMING = "LSP: absurd Content-Length — -32600, id null"
    LSP_SILENT = "LSP: notification or response to nothing — no answer"
    LSP_AFTER_SHUTDOWN = "LSP: request after shutdown — -32600 by its id"
    LSP_HOST_LOST = "LSP: request pending when the host dies — -32803 at once"


@dataclass
class Tally:
    sent: int = 0
    right: int = 0
    wrong: int = 0
    spurious: int = 0

    @property
    def lost(self) -> int:
        return max(0, self.sent - self.right - self.wrong)

    def add(self, other: Tally) -> None:
        self.sent += other.sent
        self.right += other.right
        self.wrong += other.wrong
        self.spurious += other.spurious


@dataclass
class Row:
    """What one scenario sent, by kind, and what came of it.

    `internal` counts INTERNAL_ERROR answers (each is also a wrong answer), `crashes`
    processes that died without being killed on purpose. `figure` is the scenario's own
    measure.
    """

    scenario: str
    load: str
    kinds: dict[str, Tally] = field(default_factory=dict)
    internal: int = 0
    crashes: int = 0
    figure: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def tally(self, kind: str) -> Tally:
        return self.kinds.setdefault(kind, Tally())

    def sent(self, kind: str, count: int = 1) -> None:
        self.tally(kind).sent += count

    def judge(self, kind: str, ok: bool | None, why: str = "") -> None:
        """One answer to an input already counted as sent: right (True), wrong (False), or
        none came (None: it stays lost)."""
        t = self.tally(kind)
        if ok is True:
            t.right += 1
        elif ok is False:
            t.wrong += 1
            self._note(kind, t.wrong, f"wrong answer: {why}")

    def check(self, kind: str, ok: bool | None, why: str = "") -> None:
        """`sent` and `judge` at once."""
        self.sent(kind)
        self.judge(kind, ok, why)

    def extra(self, kind: str, count: int = 1, why: str = "") -> None:
        """Answers nobody asked for (or second answers), charged to `kind`."""
        if count > 0:
            t = self.tally(kind)
            t.spurious += count
            self._note(kind, t.spurious, f"{count} spurious: {why}")

    def _note(self, kind: str, nth: int, text: str) -> None:
        if nth <= MAX_NOTES:
            self.notes.append(f"{kind.split(' — ')[0]}: {text}")

    def total(self) -> Tally:
        out = Tally()
        for t in self.kinds.values():
            out.add(t)
        return out

    @property
    def clean(self) -> bool:
        t = self.total()
        return not (t.lost or t.wrong or t.spurious or self.internal or self.crashes)


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

    def by_kind(self) -> dict[str, Tally]:
        """Every scenario's inputs, summed per kind (in `Kind`'s order)."""
        order = [v for k, v in vars(Kind).items() if not k.startswith("_")]
        out: dict[str, Tally] = {}
        for row in self.rows:
            for kind, t in row.kinds.items():
                out.setdefault(kind, Tally()).add(t)
        return dict(sorted(out.items(), key=lambda kv: order.index(kv[0])))

    def kind_table(self) -> str:
        lines = [
            "| kind of input — its right answer | sent | answered correctly | wrong answer "
            "| lost | spurious |",
            "|---|---|---|---|---|---|",
        ]
        for kind, t in self.by_kind().items():
            lines.append(
                f"| {kind} | {t.sent:,} | {t.right:,} | {t.wrong:,} | {t.lost:,} | {t.spurious:,} |"
            )
        return "\n".join(lines)

    def scenario_table(self) -> str:
        lines = [
            "| scenario | load held | sent | answered correctly | wrong answer | lost | spurious "
            "| internal errors | crashes | figure | time |",
            "|" + "---|" * 11,
        ]
        for r in self.rows:
            t = r.total()
            lines.append(
                f"| {r.scenario} | {r.load} | {t.sent:,} | {t.right:,} | {t.wrong:,} | "
                f"{t.lost:,} | {t.spurious:,} | {r.internal} | {r.crashes} | {r.figure} | "
                f"{r.seconds:.0f} s |"
            )
        return "\n".join(lines)

    def table(self) -> str:
        took = (self.ended or time.monotonic()) - self.started
        return (
            f"By kind of input (every scenario):\n\n{self.kind_table()}\n\n"
            f"By scenario ({took:.0f} s in all):\n\n{self.scenario_table()}"
        )

    def notes(self) -> str:
        return "\n".join(f"- {r.scenario}: {n}" for r in self.rows for n in r.notes)

    def record(self, command: str) -> None:
        """Replace the tables in docs/reliability.md with this run's."""
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
