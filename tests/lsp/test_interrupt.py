"""Ctrl-C: the real `tandem-lsp` interrupted in a terminal, and while it serves an editor."""

from __future__ import annotations

import asyncio
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.faults.lsp_wire import RawLsp
from tests.hostproc import HostProcess
from tests.lsp.conftest import init_options
from tests.paths import ROOT

pytestmark = pytest.mark.timeout(120)

EXIT_INTERRUPTED = 130


def assert_quiet(stderr: str) -> None:
    assert "Traceback" not in stderr and "Fatal Python error" not in stderr, stderr


def test_ctrl_c_in_a_terminal(tmp_path: Path) -> None:
    """stdin a terminal (someone trying `tandem-lsp` by hand): read on a thread, which once
    held stdin's buffer lock at exit: "Fatal Python error: _enter_buffered_busy", exit 134."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lsp_server"],
            cwd=ROOT,
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        # Up and reading: the stdin thread has started (a second thread in /proc).
        deadline = time.monotonic() + 60
        while len(os.listdir(f"/proc/{proc.pid}/task")) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "the server never started"
            time.sleep(0.05)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        os.close(leader)
        os.close(follower)
    assert proc.returncode == EXIT_INTERRUPTED, err.decode()
    assert_quiet(err.decode())


async def test_ctrl_c_while_serving_an_editor(host: HostProcess) -> None:
    lsp = await RawLsp.start()
    await lsp.initialize(init_options(host.address))
    for _ in range(100):  # connected to the host
        status = await lsp.request("tandem/status", {})
        if status["result"]["host"]["state"] == "ready":
            break
        await asyncio.sleep(0.1)
    assert status["result"]["host"]["state"] == "ready", status
    lsp.proc.send_signal(signal.SIGINT)
    code = await asyncio.wait_for(lsp.proc.wait(), 30)
    await asyncio.sleep(0.2)  # the stderr pump's last bytes
    assert code == EXIT_INTERRUPTED, lsp.stderr
    assert_quiet(lsp.stderr)
