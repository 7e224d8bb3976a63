"""The Neovim README tried from scratch: its own setup blocks and host command, run as written.

`tandem-lsp` comes from PATH and the host listens on the default socket, as for a new user;
the checks are what that user would notice: notifications (none on the happy path), messages
with a "Press ENTER" prompt (none), and the LSP log (no server line recorded as an error).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from model_host.rpc.address import default_socket_path
from tests.editors.test_nvim import NVIM, PLUGIN, run_nvim
from tests.hostproc import HostProcess

README = PLUGIN / "README.md"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(NVIM is None, reason="needs Neovim >= 0.10")


def lua_block_after(marker: str) -> str:
    """The first ```lua block after the line holding `marker` in the Neovim README."""
    text = README.read_text()
    start = text.index(marker)
    match = re.search(r"```lua\n(.*?)```", text[start:], re.S)
    assert match, f"no lua block after {marker!r}"
    return match.group(1)


def host_command() -> list[str]:
    """The README's `tandem-host --model <checkpoint>` (no --listen: the default socket)."""
    match = re.search(r"`(tandem-host --model <checkpoint>[^`]*)`", README.read_text())
    assert match, "the README names no tandem-host command"
    return shlex.split(match.group(1))


def user_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
    }


def check_quiet(r: dict[str, object], log_path: Path) -> None:
    assert r["notified"] == [], r["notified"]  # nothing interrupted the user
    assert "LSP[tandem]" not in str(r["messages"]) and "settings must be" not in str(r["messages"])
    log = log_path.read_text(errors="replace") if log_path.exists() else ""
    assert "[ERROR]" not in log, log[-3000:]


def start_readme_host(cmd: list[str], env: dict[str, str]) -> HostProcess:
    proc = subprocess.Popen(
        [str(BIN / cmd[0]), *cmd[1:]],
        env={**os.environ, **env, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    host = HostProcess(proc, "")
    threading.Thread(target=host._pump, daemon=True).start()
    return host


@pytest.mark.timeout(180)
def test_readme_setup_as_written(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = user_env(tmp_path)
    monkeypatch.setenv("XDG_RUNTIME_DIR", env["XDG_RUNTIME_DIR"])
    sock = default_socket_path()  # where a user's host and server meet without settings
    cmd = [part.replace("<checkpoint>", str(tiny_model)) for part in host_command()]
    assert cmd[0] == "tandem-host" and "--listen" not in cmd
    host = start_readme_host(cmd, env)
    try:
        host.wait_line("tandem-host: ready", 90)
        assert f"listening on unix:{sock}" in host.stderr
        block = lua_block_after("**Plain `runtimepath`**").replace(
            "~/src/tandem/editor-plugins/nvim", str(PLUGIN)
        )
        assert 'require("tandem").setup({})' in block
        r = run_nvim(
            "readme.lua",
            tmp_path,
            plugin=False,
            init='vim.lsp.set_log_level("info")\n' + block,
            env=env,
            extra={"plugin_block": True},
        )
    finally:
        host.stop()
    assert r["client_cmd"] == ["tandem-lsp"]
    assert r["init_options"] == "{}"  # an object, not [] (which the server used to refuse)
    assert r["status"]["host"]["address"] == f"unix:{sock}"
    assert r["status"]["server"]["settingsProblems"] == []
    log_path = Path(str(r["lsp_log"]))
    check_quiet(r, log_path)
    # The server's log reached Neovim's at its own level (window/logMessage), not as stderr.
    assert "[INFO]" in log_path.read_text(errors="replace")


@pytest.mark.timeout(120)
def test_readme_builtin_completion_block(host: object, tmp_path: Path) -> None:
    block = lua_block_after("## Without this plugin")
    r = run_nvim(
        "readme.lua",
        tmp_path,
        plugin=False,
        init=block,
        env=user_env(tmp_path),
        extra={"plugin_block": False},
    )
    assert r["client_cmd"] == ["tandem-lsp"]
    assert " " in r["triggers"]
