"""The `tandem` command as the README gives it: the demo, and one clear line (no traceback) for every mistake."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT

BIN = Path(sys.executable).parent


def tandem(*args: str, tmp_path: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    exe = BIN / "tandem"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "lsp_server.tandem_cli"]
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
    }
    return subprocess.run(
        [*cmd, *args],
        cwd=tmp_path,
        env=env,
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
        (["status", "--address", "unix:/nonexistent/dir/h.sock"], 1, "no host reachable"),
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
