"""Test helper: run the real `tandem-host` as a subprocess and wait until it serves."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from model_host.rpc.client import HostClient
from tests.paths import ROOT


@dataclass
class HostProcess:
    proc: subprocess.Popen[str]
    address: str
    lines: list[str] = field(default_factory=list)

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def wait_line(self, needle: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if needle in line:
                    return line
            if self.proc.poll() is not None and not any(needle in x for x in self.lines):
                time.sleep(0.2)  # let the pump drain what is left
                for line in list(self.lines):
                    if needle in line:
                        return line
                raise AssertionError(
                    f"host exited ({self.proc.returncode}) before {needle!r}:\n{self.stderr}"
                )
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {needle!r}:\n{self.stderr}")

    async def client(self, **hello: str) -> HostClient:
        client = await HostClient.connect(self.address)
        await client.hello(**hello)
        return client

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


def spawn(command: list[str], address: str, env: dict[str, str]) -> HostProcess:
    """Start `command` (a host that will serve on `address`) with its stderr collected."""
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    host = HostProcess(proc, address)
    threading.Thread(target=host._pump, daemon=True).start()
    return host


def start_host(
    model: Path | str,
    address: str,
    *extra: str,
    wait_ready: bool = True,
    python_args: tuple[str, ...] = (),
    timeout: float = 60.0,
    env: dict[str, str] | None = None,
) -> HostProcess:
    """`tandem-host --model MODEL --listen ADDRESS EXTRA...`, `env` set over this process's."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1", **(env or {})}
    command = [sys.executable, *python_args, "-m", "model_host", "--model", str(model)]
    host = spawn([*command, "--listen", address, *extra], address, env)
    if wait_ready:
        try:
            live = host.wait_line("listening on", timeout).split("listening on ", 1)[1]
            host.address = live  # tcp:HOST:0 becomes the port the host really got
            host.wait_line("tandem-host: ready", timeout)
        except BaseException:
            host.stop()  # the caller never gets it to stop: a slow start must not leak a host
            raise
    return host


def run_host_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """`tandem-host ARGS` to its end (usage errors, --help, failed starts), output captured."""
    return subprocess.run(
        [sys.executable, "-m", "model_host", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
