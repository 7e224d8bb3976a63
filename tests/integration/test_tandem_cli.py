"""The `tandem` command as the README gives it: the demo, and one clear line (no traceback) for every mistake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostproc import start_host
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
    done = tandem("demo", "--max-tokens", "16", tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tiny RANDOM model" in done.stdout
    assert "ghost text (" in done.stdout and "chat answer (" in done.stdout
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
