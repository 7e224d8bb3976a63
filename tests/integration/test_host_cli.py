"""`tandem-host` as a user meets it: hub ids stay local unless --download, --log-file gets every
line, the token comes from a file or the environment, a failed load or a signal with a client
connected ends quietly."""

from __future__ import annotations

import asyncio
import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from model_host.rpc.client import HostClient
from model_host.rpc.protocol import ErrorCode, LoadState, Method, RpcError
from tests.hostproc import HostProcess, run_host_cli, start_host
from tests.paths import ROOT

HUB_ID = "codellama/CodeLlama-7b-hf"


class FakeHub(http.server.ThreadingHTTPServer):
    """A stand-in for the Hugging Face Hub that knows no model: every request gets 404."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _missing(self) -> None:
                hub.paths.append(self.path)
                body = b'{"error": "Repository not found"}'
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Error-Code", "RepoNotFound")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = _missing

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    server = FakeHub()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def online_env(tmp_path: Path, hub: FakeHub) -> dict[str, str]:
    """No HF_HUB_OFFLINE, an empty cache, and the 'Hub' at our fake endpoint."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    }
    env.update(
        HF_HOME=str(tmp_path / "hf"),
        HF_ENDPOINT=f"http://127.0.0.1:{hub.server_address[1]}",
        HF_HUB_DISABLE_TELEMETRY="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def test_a_hub_id_stays_local_without_download(tmp_path: Path, hub: FakeHub) -> None:
    sock = tmp_path / "h.sock"
    done = run_host_cli(
        "--model", HUB_ID, "--listen", f"unix:{sock}", env=online_env(tmp_path, hub)
    )
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, done.stderr
    assert "not in the local Hugging Face cache" in errors[0] and "--download" in errors[0]
    assert hub.paths == []  # not one request went to the network


def test_download_asks_the_hub(tmp_path: Path, hub: FakeHub) -> None:
    sock = tmp_path / "h.sock"
    env = online_env(tmp_path, hub)
    done = run_host_cli("--model", HUB_ID, "--listen", f"unix:{sock}", "--download", env=env)
    assert done.returncode == 3, done.stderr
    assert any(HUB_ID in path for path in hub.paths), hub.paths
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "cannot read a model config" in errors[0], done.stderr


def test_help_says_what_is_downloaded() -> None:
    done = run_host_cli("--help", env=dict(os.environ))
    text = " ".join(done.stdout.split())
    assert "nothing is downloaded unless --download is given" in text
    assert "--download" in text and "--version" in text
    version = run_host_cli("--version", env=dict(os.environ))
    assert version.returncode == 0 and version.stdout.startswith("tandem-host ")


def test_log_file_gets_every_line(tmp_path: Path, tiny_model: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    bad_log = tmp_path / "bad.log"
    done = run_host_cli(
        "--model", str(tmp_path / "missing"), "--listen", f"unix:{tmp_path / 'b.sock'}",
        "--log-file", str(bad_log), env=env,
    )  # fmt: skip
    assert done.returncode == 3
    logged = bad_log.read_text()
    for line in done.stderr.splitlines():  # what stderr shows, the file holds too
        assert line in logged, line
    assert "tandem-host: listening on" in logged
    assert "tandem-host: error: cannot load" in logged and "no such folder" in logged

    good_log = tmp_path / "good.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "model_host", "--model", str(tiny_model),
         "--listen", f"unix:{tmp_path / 'g.sock'}", "--log-file", str(good_log)],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while "tandem-host: ready:" not in (good_log.read_text() if good_log.exists() else ""):
            assert proc.poll() is None and time.monotonic() < deadline, "the host never got ready"
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(30)
    logged = good_log.read_text()
    for needle in ("listening on", "loading weights", "tandem-host: ready:"):
        assert needle in logged, (needle, logged)


async def _connect(host: HostProcess) -> tuple[HostClient, list[dict[str, Any]]]:
    """A client that says hello as soon as the host listens, and collects its state notes."""
    host.wait_line("listening on")
    client = await HostClient.connect(host.address)
    notes: list[dict[str, Any]] = []
    client.state_listeners.append(notes.append)
    notes.append(await client.hello(client_name="watcher"))
    return client, notes


def test_a_model_that_fails_to_load_while_a_client_waits(tmp_path: Path, tiny_model: Path) -> None:
    """The client gets the structured failure, the log one line with the reason (no traceback)."""
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    weights = broken / "model.safetensors"
    with weights.open("r+b") as f:
        f.truncate(weights.stat().st_size // 2)
    host = start_host(broken, f"unix:{tmp_path / 'h.sock'}", wait_ready=False)

    async def watch() -> list[dict[str, Any]]:
        client, notes = await _connect(host)
        assert notes[0]["state"] == "loading", notes  # connected before the load failed
        await asyncio.wait_for(client.session.wait_closed(), 90)
        return notes

    notes = asyncio.run(watch())
    assert host.proc.wait(30) == 3
    failed = [n for n in notes if n.get("state") == "failed"]
    assert len(failed) == 1 and "cannot load the weights" in failed[0]["message"], notes
    time.sleep(0.3)  # the stderr pump's last lines
    errors = [line for line in host.lines if "error" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith("tandem-host: error: cannot load"), host.stderr
    assert "Traceback" not in host.stderr, host.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_host_quietly_with_a_client_connected(
    sig: signal.Signals, tmp_path: Path, tiny_model: Path
) -> None:
    host = start_host(tiny_model, f"unix:{tmp_path / 'h.sock'}", wait_ready=False)

    async def signal_while_loading() -> None:
        client, notes = await _connect(host)
        assert notes[0]["state"] == "loading", notes
        host.proc.send_signal(sig)
        await asyncio.wait_for(client.session.wait_closed(), 30)

    try:
        asyncio.run(signal_while_loading())
        assert host.proc.wait(30) == 0
    finally:
        host.stop()
    time.sleep(0.3)  # the stderr pump's last lines
    assert "Traceback" not in host.stderr and "ERROR" not in host.stderr, host.stderr
    assert not (tmp_path / "h.sock").exists()  # it cleaned up its socket


# ---- the token: from a file or the environment, never only from the command line ----

SECRET = "tandem-test-secret-7f3a"


async def _gate_holds(host: HostProcess, token: str) -> None:
    """The host refuses a hello without the token or with another, and admits `token`."""
    for guess in (None, "wrong"):
        client = await HostClient.connect(host.address)
        with pytest.raises(RpcError) as refused:
            await client.hello(token=guess)
        assert refused.value.code == ErrorCode.UNAUTHORIZED
        await client.close()
    client = await host.client(token=token)
    assert (await client.request(Method.STATUS))["state"] == LoadState.READY
    await client.close()


def _command_line(host: HostProcess) -> str:
    """What `ps` shows of the host (any user of the machine may read it)."""
    return Path(f"/proc/{host.proc.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


async def test_token_file_and_environment_keep_the_token_off_the_command_line(
    tmp_path: Path, tiny_model: Path
) -> None:
    secret = tmp_path / "token"
    secret.write_text(SECRET + "\n")
    secret.chmod(0o600)
    by_file = start_host(
        tiny_model, "tcp:127.0.0.1:0", "--token-file", str(secret), env={"TANDEM_TOKEN": ""}
    )
    try:
        await _gate_holds(by_file, SECRET)  # the first line, without its newline
        assert SECRET not in _command_line(by_file)
        assert "warning" not in by_file.stderr  # a private file: nothing to say
    finally:
        by_file.stop()
    by_env = start_host(tiny_model, "tcp:127.0.0.1:0", env={"TANDEM_TOKEN": SECRET})
    try:
        await _gate_holds(by_env, SECRET)
        assert SECRET not in _command_line(by_env)
    finally:
        by_env.stop()
    # --token still works, and is exactly what ps shows: the reason for the two above.
    by_flag = start_host(tiny_model, "tcp:127.0.0.1:0", "--token", SECRET)
    try:
        await _gate_holds(by_flag, SECRET)
        assert SECRET in _command_line(by_flag)
    finally:
        by_flag.stop()


async def test_a_token_file_others_can_read_is_used_with_a_warning(
    tmp_path: Path, tiny_model: Path
) -> None:
    secret = tmp_path / "token"
    secret.write_text(SECRET)
    secret.chmod(0o644)
    host = start_host(tiny_model, "tcp:127.0.0.1:0", "--token-file", str(secret))
    try:
        await _gate_holds(host, SECRET)
    finally:
        host.stop()
    warnings = [line for line in host.lines if "warning:" in line]
    assert len(warnings) == 1, host.stderr
    assert str(secret) in warnings[0] and "0644" in warnings[0]
    assert f"chmod 600 {secret}" in warnings[0]


@pytest.mark.parametrize(
    ("setup", "args", "says"),
    [
        ("missing", ["--token-file", "{dir}/nothing-here"], "{dir}/nothing-here does not exist"),
        ("empty", ["--token-file", "{dir}/token"], "{dir}/token is empty"),
        ("blank", ["--token-file", "{dir}/token"], "{dir}/token is empty"),
        ("folder", ["--token-file", "{dir}"], "cannot read --token-file {dir}"),
        (None, ["--token", ""], "--token is empty"),
        (None, ["--token", "a", "--token-file", "{dir}/token"], "not allowed with argument"),
    ],
)
def test_an_unusable_token_is_a_usage_error(
    tmp_path: Path, setup: str | None, args: list[str], says: str
) -> None:
    token = tmp_path / "token"
    if setup == "empty":
        token.write_text("")
    elif setup == "blank":
        token.write_text("  \n" + SECRET + "\n")  # the token is the first line
    argv = [a.format(dir=tmp_path) for a in args]
    done = run_host_cli(
        "--model", str(tmp_path / "unused"), "--listen", f"unix:{tmp_path / 'h.sock'}", *argv,
        env={**os.environ, "TANDEM_TOKEN": ""},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert says.format(dir=tmp_path) in done.stderr
    assert "Traceback" not in done.stderr and "listening on" not in done.stderr
