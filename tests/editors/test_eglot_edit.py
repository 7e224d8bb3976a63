"""Edit code actions in a client nobody tuned Tandem for: Emacs + eglot, in batch mode.

eglot lists the code actions on a region and runs the one chosen; "Tandem: Fix" makes the
server run the edit (here against the stand-in host, which answers the known fix) and send
`workspace/applyEdit`, which eglot applies to the buffer. eglot does not advertise
`experimental.tandem.editInput`, so "Tandem: Edit…" (which needs an instruction) is not offered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.editors.test_eglot import has_eglot, run_eglot
from tests.hostproc import HostProcess
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
    r, log = run_eglot(SCRIPT, tmp_path, standin.address, TANDEM_REGION="6 7")
    assert r["server"] == "tandem-lsp"
    assert r["titles"] == ["Tandem: Fix", "Tandem: Document", "Tandem: Add tests"]
    assert r["before"] == BOX
    assert r["after"] == BOX.replace("self.w * self.height", "self.w * self.h"), log
