"""Edit code actions in a client nobody tuned Tandem for: Emacs + eglot, in batch mode.

eglot lists the code actions on a region and runs the one chosen; "Tandem: Fix" makes the
server run the edit (here against the stand-in host, which answers the known fix) and send
`workspace/applyEdit`, which eglot applies to the buffer. eglot does not advertise
`experimental.tandem.editInput`, so "Tandem: Edit…" (which needs an instruction) is not offered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.editors.test_eglot import EMACS, has_eglot
from tests.hostproc import HostProcess
from tests.paths import ROOT
from tests.standin_host import start_standin

SCRIPT = Path(__file__).resolve().parent / "emacs" / "eglot_edit.el"
BOX = (
    "class Box:\n"
    "    def __init__(self, w, h):\n"
    "        self.w = w\n"
    "        self.h = h\n"
    "\n"
    "    def area(self):\n"
    "        return self.w * self.height\n"
    "\n"
    "    def grow(self, k):\n"
    "        self.w *= k\n"
)
FIX = "Of course! Here is the fix:\n```python\ndef area(self):\n    return self.w * self.h\n```\n"

pytestmark = pytest.mark.skipif(
    not has_eglot(), reason="needs Emacs with eglot: apt-get install emacs-nox elpa-eglot"
)


@pytest.fixture
def standin(tmp_path: Path, sock_dir: Path) -> Iterator[HostProcess]:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps([{"match": "Fix the bugs", "answer": FIX}]), encoding="utf-8")
    host = start_standin(f"unix:{sock_dir / 'eglot-edit.sock'}", answers=answers)
    yield host
    host.stop()


@pytest.mark.timeout(240)
def test_eglot_fix_action_is_listed_and_applied(standin: HostProcess, tmp_path: Path) -> None:
    (tmp_path / "box.py").write_text(BOX, encoding="utf-8")
    out = tmp_path / "result.json"
    server_log = tmp_path / "server.log"
    options = {"host": {"address": standin.address, "autoStart": False}}
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "TANDEM_OUT": str(out),
        "TANDEM_DIR": str(tmp_path),
        "TANDEM_PYTHON": sys.executable,
        "TANDEM_SERVER_LOG": str(server_log),
        "TANDEM_INIT_OPTIONS": json.dumps(options),
        "TANDEM_REGION": "6 7",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    assert EMACS is not None
    proc = subprocess.run(
        [EMACS, "--batch", "-l", str(SCRIPT)],
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
    assert r["server"] == "tandem-lsp"
    assert r["titles"] == ["Tandem: Fix", "Tandem: Document", "Tandem: Add tests"]
    assert r["before"] == BOX
    assert r["after"] == BOX.replace("self.w * self.height", "self.w * self.h"), log
