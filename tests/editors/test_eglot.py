"""The completion fallback in a client nobody tuned Tandem for: Emacs 28 + eglot, in batch mode.

eglot inserts the item's label while completing, then swaps it for the item's `textEdit`;
an item whose label does not start with the word being typed doubled text (`    ret` ->
`    meNmeN…`). The test types half a word, runs `completion-at-point` as M-TAB does, and checks
the buffer holds exactly the text before the word plus the item's `newText`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.hostproc import HostProcess
from tests.paths import ROOT

SCRIPT = Path(__file__).resolve().parent / "emacs" / "eglot_complete.el"
EMACS = shutil.which("emacs")


def has_eglot() -> bool:
    if EMACS is None:
        return False
    probe = subprocess.run(
        [EMACS, "--batch", "--eval", "(progn (package-initialize) (require 'eglot))"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    not has_eglot(), reason="needs Emacs with eglot: apt-get install emacs-nox elpa-eglot"
)


def run_eglot(
    script: Path, tmp_path: Path, host_address: str, **env: str
) -> tuple[dict[str, Any], str]:
    """Run `emacs --batch -l SCRIPT` in `tmp_path` against `tandem-lsp` on the host at
    `host_address` (`env` adds TANDEM_* settings); the script's result, and the end of the
    server's log for messages."""
    out = tmp_path / "result.json"
    server_log = tmp_path / "server.log"
    options = {"host": {"address": host_address, "autoStart": False}}
    env = {
        **os.environ,
        "HOME": str(tmp_path),  # no user init, no package cache of ours
        "TANDEM_OUT": str(out),
        "TANDEM_DIR": str(tmp_path),
        "TANDEM_PYTHON": sys.executable,
        "TANDEM_SERVER_LOG": str(server_log),
        "TANDEM_INIT_OPTIONS": json.dumps(options),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "HF_HUB_OFFLINE": "1",
        **env,
    }
    assert EMACS is not None
    proc = subprocess.run(
        [EMACS, "--batch", "-l", str(script)],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=200,
        check=False,
    )
    log = server_log.read_text(errors="replace")[-3000:] if server_log.exists() else ""
    assert out.exists(), f"emacs wrote no result ({proc.returncode}):\n{proc.stderr[-3000:]}\n{log}"
    r = json.loads(out.read_text())
    assert r.get("ok") is True, f"{r.get('error')}\n{proc.stderr[-3000:]}\n{log}"
    return r, log


def applied_item(answers: list[Any], first: int, end: int | None = None) -> dict[str, Any]:
    """The item of the last non-empty answer in answers[first:end] (the one inserted)."""
    for answer in reversed(answers[first:end]):
        items = answer if isinstance(answer, list) else (answer or {}).get("items") or []
        if items:
            assert len(items) == 1
            return dict(items[0])
    raise AssertionError(f"no completion answer had an item: {answers[first:]}")


@pytest.mark.timeout(240)
def test_eglot_completion_keeps_the_typed_word(host: HostProcess, tmp_path: Path) -> None:
    r, _ = run_eglot(SCRIPT, tmp_path, host.address)
    assert r["server"] == "tandem-lsp"

    # Mid-word: the word stays once, the whole suggestion follows it.
    item = applied_item(r["answers"], r["midword_first_answer"], r["space_first_answer"])
    new_text = item["textEdit"]["newText"]
    before = r["midword_before"]
    assert before.endswith("\n    ret")
    assert r["midword_after"] == before[: -len("ret")] + new_text
    assert item["insertTextFormat"] == 1  # no yasnippet here: plain text, inserted as is
    assert item["label"].startswith("ret") and new_text.startswith("ret")

    # After "x = ": nothing of a word typed; the suggestion goes at the cursor.
    item = applied_item(r["answers"], r["space_first_answer"])
    assert r["space_after"] == r["space_before"] + item["textEdit"]["newText"]
