"""The fault suite in its quick mode, as part of every test run: its tables print at the end."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.faults import suite
from tests.faults.modes import QUICK

pytestmark = pytest.mark.timeout(900)


def test_fault_suite_quick(tiny_model: Path, sock_dir: Path) -> None:
    report, facts = asyncio.run(suite.run(QUICK, tiny_model, sock_dir))
    suite.LAST_REPORTS.append(report)
    for row in report.rows:
        assert row.crashes == 0, (row.scenario, row.notes)
        assert row.internal == 0, (row.scenario, row.notes)
    # Every input of every kind got its right answer: the expected error code for bad
    # input, a result for a valid request, nothing for a notification; and nothing else came.
    for kind, t in report.by_kind().items():
        assert (t.wrong, t.lost, t.spurious) == (0, 0, 0), (kind, t, report.notes())
        assert t.right == t.sent > 0, (kind, t)
    # Memory is flat under load: a leak of even a few dozen bytes per request shows here.
    assert facts.host_growth_pct <= 5, facts
    assert facts.lsp_growth_pct <= 5, facts
    assert facts.ten_mb_ratio <= 5, facts
    # Not asserted: the worst cross-client wait, a timing (it is in the table).
