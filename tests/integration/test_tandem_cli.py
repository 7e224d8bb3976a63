"""The `tandem` command as the README gives it: the demo, and one clear line (no traceback) for every mistake."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from model_host.rpc.protocol import Method
from tests.hostproc import HostProcess, start_host
from tests.paths import ROOT

BIN = Path(sys.executable).parent


def tandem_cmd() -> list[str]:
    exe = BIN / "tandem"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "lsp_server.tandem_cli"]


def tandem_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TANDEM_TOKEN"}
    env.update(
        HF_HUB_OFFLINE="1",
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        XDG_RUNTIME_DIR=str(tmp_path / "run"),
        **extra,
    )
    return env


def tandem(
    *args: str, tmp_path: Path, timeout: float = 240, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*tandem_cmd(), *args],
        cwd=tmp_path,
        env={**tandem_env(tmp_path), **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("tandem: ")]
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["status", "--address", "foo"], 2, "bad --address"),
        (
            ["status", "--address", "unix:/nonexistent/dir/h.sock"],
            1,
            "no model host listens at unix:/nonexistent/dir/h.sock: start one with "
            "`tandem-host --model …` or open a file in an editor with host.model set",
        ),
        (["status", "--address", "tcp:127.0.0.1:1"], 1, "no model host listens at tcp:127.0.0.1:1"),
        (["status", "--address", "stdio"], 2, "bad --address: stdio is a host an editor runs"),
        (["status", "--token-file", "missing"], 2, "--token-file missing does not exist"),
        (["status", "--token", ""], 2, "--token is empty"),
        (["demo", "--file", "missing.py"], 2, "cannot read missing.py"),
        (["demo", "--address", "somewhere"], 2, "bad --address"),
        (["make-tiny", "a-file.txt"], 2, "is not a folder"),
    ],
)
def test_mistakes_are_one_line_and_an_exit_code(
    args: list[str], code: int, needle: str, tmp_path: Path
) -> None:
    (tmp_path / "a-file.txt").write_text("not a folder")
    done = tandem(*args, tmp_path=tmp_path, timeout=60)
    assert done.returncode == code, done.stderr
    assert needle in one_line_error(done)


def test_version() -> None:
    for exe in ("tandem", "tandem-lsp", "tandem-host"):
        done = subprocess.run(
            [str(BIN / exe), "--version"], capture_output=True, text=True, check=False, timeout=60
        )
        assert done.returncode == 0 and done.stdout.startswith(f"{exe} 0."), done


def test_demo_as_the_readme_runs_it(tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="tdi-") as private:  # where its host listens
        done = tandem("demo", "--max-tokens", "16", tmp_path=tmp_path, env={"TMPDIR": private})
        assert processes_with(private) == [], "the host the demo started outlived it"
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tiny RANDOM model" in done.stdout
    assert "ghost text (" in done.stdout and "chat answer (" in done.stdout
    assert "host served 2 requests (1 completion " in done.stdout
    assert "Traceback" not in done.stderr
    assert (ROOT / "README.md").read_text().count(".venv/bin/tandem demo") >= 1


def test_demo_with_a_model_that_cannot_load(tmp_path: Path) -> None:
    not_llama = tmp_path / "gpt2"
    not_llama.mkdir()
    (not_llama / "config.json").write_text('{"model_type": "gpt2"}')
    done = tandem("demo", "--model", str(not_llama), tmp_path=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    line = one_line_error(done)
    assert "could not load the model" in line and "'gpt2' model" in line, line
    assert "None" not in line


def test_status_of_a_host_that_wants_a_token(tmp_path: Path, tiny_model: Path) -> None:
    secret = "s3cret-for-status"
    host = start_host(tiny_model, "tcp:127.0.0.1:0", "--token", secret)
    try:
        address = ["status", "--address", host.address]
        done = tandem(*address, tmp_path=tmp_path, timeout=60)
        assert done.returncode == 3, done.stderr
        line = one_line_error(done)
        assert f"the model host at {host.address} refused" in line, line
        assert "pass --token-file PATH or set TANDEM_TOKEN" in line, line

        wrong = tandem(*address, "--token", "guess", tmp_path=tmp_path, timeout=60)
        assert wrong.returncode == 3 and "not the host's" in one_line_error(wrong)

        from_env = tandem(*address, tmp_path=tmp_path, timeout=60, env={"TANDEM_TOKEN": secret})
        assert from_env.returncode == 0, from_env.stderr
        assert json.loads(from_env.stdout)["state"] == "ready"

        token_file = tmp_path / "token"
        token_file.write_text(secret + "\n")
        token_file.chmod(0o600)
        from_file = tandem(*address, "--token-file", str(token_file), tmp_path=tmp_path, timeout=60)
        assert from_file.returncode == 0 and from_file.stderr == "", from_file.stderr
        assert json.loads(from_file.stdout)["state"] == "ready"
        # The flag and the file win over the environment, as for tandem-host.
        flag = tandem(
            *address, "--token", secret, tmp_path=tmp_path, timeout=60,
            env={"TANDEM_TOKEN": "stale"},
        )  # fmt: skip
        assert flag.returncode == 0, flag.stderr

        token_file.chmod(0o644)  # readable by others: said, not refused
        shared = tandem(*address, "--token-file", str(token_file), tmp_path=tmp_path, timeout=60)
        assert shared.returncode == 0, shared.stderr
        assert "can be read by other users" in shared.stderr and "chmod 600" in shared.stderr
    finally:
        host.stop()


def processes_with(needle: str) -> list[int]:
    """Pids of the processes whose command line holds `needle`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if needle in cmdline:
                found.append(int(entry.name))
    return found


def children_of(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if f"\nPPid:\t{pid}\n" in status:
                kids.append(int(entry.name))
    return kids


@pytest.mark.timeout(240)
@pytest.mark.parametrize("whom", ["terminal", "demo-only"])
def test_ctrl_c_while_the_model_loads(whom: str, tmp_path: Path, tiny_model: Path) -> None:
    """Ctrl-C in a terminal (the whole process group: demo and language server) or a SIGINT
    to the demo alone: one line, exit 130, and the host it started is stopped too."""
    with tempfile.TemporaryDirectory(prefix="tdi-") as private:  # short: a socket lives here
        proc = subprocess.Popen(
            [*tandem_cmd(), "demo", "--model", str(tiny_model)],
            cwd=tmp_path,
            env=tandem_env(tmp_path, TMPDIR=private, PYTHONUNBUFFERED="1"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 120
            # The host the demo's server started listens: the model is loading now.
            while not list(Path(private).glob("tdm-*/host.sock")):
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the demo's host never listened"
                time.sleep(0.05)
            assert processes_with(private), "no host process found"
            server = children_of(proc.pid)
            assert server, "the demo's language server is not running"
            if whom == "terminal":
                os.killpg(proc.pid, signal.SIGINT)
            else:
                proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        assert proc.returncode == 130, out + err
        assert err == "tandem: interrupted\n", err
        assert "host + LSP server ready" not in out  # it was interrupted while loading
        # Both stop on their own at once; a loaded machine may take a moment to schedule them.
        gone = time.monotonic() + 10
        while processes_with(private) and time.monotonic() < gone:
            time.sleep(0.1)
        assert processes_with(private) == [], "the demo's host is still running"
        while any(Path(f"/proc/{pid}").exists() for pid in server) and time.monotonic() < gone:
            time.sleep(0.1)
        assert not any(Path(f"/proc/{pid}").exists() for pid in server), "its server still runs"


def test_demo_says_what_the_host_did(tmp_path: Path, tiny_model: Path, host: HostProcess) -> None:
    """The count comes from the host's counters for the demo's two requests, each with its fate
    (a completion the server stopped at its decision is the host's "cancelled")."""

    async def counts() -> dict[str, int]:
        client = await host.client()
        try:
            # Something for the host's totals to hold beside the demo's own requests.
            await client.request(Method.COMPLETE, {"prefix": "def f(", "max_tokens": 2})
            status = await client.request(Method.STATUS)
        finally:
            await client.close()
        return {k: int(status[k]) for k in ("served", "cancelled", "failed")}

    before = asyncio.run(counts())
    done = tandem(
        "demo", "--model", str(tiny_model), "--address", host.address, "--max-tokens", "16",
        tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    after = asyncio.run(counts())
    delta = {k: after[k] - before[k] - (k == "served") for k in after}  # less our own request
    match = re.search(r"host served (\d+) requests? \((.*?)\);", done.stdout)
    assert match, done.stdout
    assert int(match.group(1)) == sum(delta.values()) == 2, (match.group(0), delta)
    fates = match.group(2)
    assert re.fullmatch(r"1 completion (finished|stopped at its decision), 1 chat finished", fates)
    finished = fates.count("finished")
    assert (finished, fates.count("stopped at its decision")) == (
        delta["served"],
        delta["cancelled"],
    ), (fates, delta)
