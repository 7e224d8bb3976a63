"""Prints the fault suite's table at the end of a pytest run that ran it."""

from __future__ import annotations

from typing import Any

from tests.faults import suite


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for report in suite.LAST_REPORTS:
        terminalreporter.section(f"fault suite ({report.mode} mode)")
        terminalreporter.write_line(report.table())
        if report.notes():
            terminalreporter.write_line("")
            terminalreporter.write_line(report.notes())
