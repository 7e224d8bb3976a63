"""Typing in an open buffer: which edits can change the index's record of it, and re-parses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lsp_server.context.languages import spec_for_path
from lsp_server.workspace import WorkspaceIndex
from lsp_server.workspace.edits import body_only, changed_rows
from lsp_server.workspace.model import FileRecord
from lsp_server.workspace.records import build_record

Make = Callable[..., WorkspaceIndex]

BODY = "\n".join(f"    total = total + step({i})" for i in range(14))
PY = (
    "from util import step\n\n\n"
    f"def long_one(items):\n    total = 0\n{BODY}\n    return total\n\n\n"
    "def short(x):\n    return x\n"
)


def _record(path: str, text: str) -> FileRecord:
    spec = spec_for_path(path)
    assert spec is not None
    return build_record(text.encode(), "/ws/" + path, path, spec)


def test_changed_rows() -> None:
    assert changed_rows("a\nb\nc", "a\nB\nc") == (1, 1, ["b"], ["B"])
    assert changed_rows("a\nb", "a\nb\nc") is None  # a line more
    assert changed_rows("a", "a") is None


def test_typing_inside_a_long_body_keeps_the_record() -> None:
    record = _record("m.py", PY)
    typed = PY.replace("step(3)", "step(3) + ste")
    assert body_only(PY, typed, record)
    assert not body_only(PY, PY.replace("def long_one(items)", "def long_one(items, n)"), record)
    assert not body_only(PY, PY.replace("return x", "return x + 1"), record)  # kept whole
    assert not body_only(PY, PY.replace("import step", "import stop"), record)  # an import
    assert not body_only(PY, PY.replace("step(3)", "step(3"), record)  # a bracket opened
    dedented = PY.replace("    total = total + step(3)", "def fresh(): pass")
    assert not body_only(PY, dedented, record)  # could begin a module-level definition
    assert not body_only(PY, PY + "\ndef more():\n    pass\n", record)  # lines added


def test_braces_languages() -> None:
    lines = "\n".join(f"\tx += {i}" for i in range(14))
    go = f"package m\n\nfunc Long(x int) int {{\n{lines}\n\treturn x\n}}\n"
    record = _record("m.go", go)
    assert body_only(go, go.replace("x += 5", "x += 50"), record)
    assert not body_only(go, go.replace("x += 5", "x += 5 }\nfunc"), record)
    assert not body_only(go, go.replace("\tx += 5", "}\nfunc Other() {"), record)


def test_a_buffer_is_parsed_again_only_when_it_can_matter(index_for: Make, tmp_path: Path) -> None:
    index = index_for({"m.py": PY, "util.py": "def step(i):\n    return i\n"})
    uri = (tmp_path / "ws" / "m.py").as_uri()
    index.open_document(uri, PY, "python")
    assert index.wait_idle(10)
    parses = index.stats()["doc_parses"]
    text = PY
    for word in ("s", "st", "ste"):  # typing in the body: the record holds
        text = PY.replace("step(3)", f"step(3) + {word}")
        index.change_document(uri, text)
        assert index.wait_idle(10)
    stats = index.stats()
    assert stats["doc_parses"] == parses and stats["doc_skips"] >= 1
    index.change_document(uri, text.replace("def short(x)", "def renamed(x)"))
    assert index.wait_idle(10)
    names = {d.name for r in index._state.snapshot.files.values() for d in r.definitions}
    assert "renamed" in names and "short" not in names
    assert index.stats()["doc_parses"] == parses + 1
