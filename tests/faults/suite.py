"""Runs every fault scenario against freshly started real processes and gathers one report."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from pathlib import Path

from tests.faults import host_faults, lsp_faults
from tests.faults.host_load import MixedLoad
from tests.faults.modes import Mode
from tests.faults.report import Report
from tests.hostproc import HostProcess, start_host

TOKEN = "fault-suite-token"
LAST_REPORTS: list[Report] = []  # for pytest's terminal summary (tests/faults/conftest.py)


@dataclass
class Facts:
    """What the quick mode asserts beyond each row being clean."""

    host_growth_pct: float
    lsp_growth_pct: float
    ten_mb_ratio: float
    worst_stall_ms: float


async def run(mode: Mode, tiny_model: Path, sock_dir: Path, seed: int = 1) -> tuple[Report, Facts]:
    rng = random.Random(seed)
    report = Report(mode.name)
    started = await asyncio.gather(
        asyncio.to_thread(start_host, tiny_model, f"unix:{sock_dir / 'faults.sock'}"),
        asyncio.to_thread(start_host, tiny_model, "tcp:127.0.0.1:0", "--token", TOKEN),
        return_exceptions=True,
    )
    failed = [r for r in started if isinstance(r, BaseException)]
    if failed:  # never leave the one that did start running
        for r in started:
            if isinstance(r, HostProcess):
                r.stop()
        raise failed[0]
    host, token_host = (r for r in started if isinstance(r, HostProcess))
    try:
        load = MixedLoad()
        await load.learn(host)
        report.restart_clock()
        report.add(await host_faults.fuzzed_frames(host, mode, rng))
        report.add(await host_faults.hostile_messages(host, mode))
        report.add(await host_faults.non_reading_client(host, mode))
        report.add(await host_faults.cancel_storm(host, mode, rng))
        report.add(await host_faults.concurrent_clients(host, mode, load))
        host_row, host_growth = await host_faults.memory_over_requests(host, mode, load)
        report.add(host_row)
        report.add(await host_faults.token_brute_force(token_host, TOKEN))
        stall_row, stall = await host_faults.cross_client_stall(host, mode)
        report.add(stall_row)
        docs_row, ratio = await lsp_faults.hostile_documents(host, mode)
        report.add(docs_row)
        edits_row, lsp_growth = await lsp_faults.edits_memory(host, mode)
        report.add(edits_row)
        report.add(await lsp_faults.protocol_fuzz(host, mode, rng))
        report.add(await lsp_faults.many_servers(host, mode))
        report.add(await lsp_faults.host_killed(tiny_model, sock_dir))
        for proc in (host, token_host):
            if proc.proc.poll() is not None:
                report.rows[0].crashes += 1
                report.rows[0].notes.append(f"a host died: {proc.stderr[-500:]}")
    finally:
        host.stop()
        token_host.stop()
        report.finish()
    return report, Facts(host_growth, lsp_growth, ratio, stall)
