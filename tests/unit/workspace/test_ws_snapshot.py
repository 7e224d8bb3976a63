"""Snapshots: readers keep what they were given while the builder moves on; maps stay in step."""

from __future__ import annotations

from lsp_server.context.languages import spec_for_path
from lsp_server.workspace.records import build_record
from lsp_server.workspace.snapshot import SnapshotBuilder


def _record(path: str, text: str):  # type: ignore[no-untyped-def]
    spec = spec_for_path(path)
    assert spec is not None
    return build_record(text.encode(), path, path.rsplit("/", 1)[-1], spec)


def test_published_snapshots_never_change() -> None:
    builder = SnapshotBuilder(("/ws",))
    builder.put(_record("/ws/a.py", "def parse_value():\n    helper_call()\n"))
    first = builder.publish()
    assert builder.publish() is first  # nothing changed: the same snapshot
    builder.put(_record("/ws/b.py", "def parse_value():\n    pass\n"))
    builder.put(_record("/ws/a.py", "def renamed():\n    pass\n"))
    second = builder.publish()
    assert [k for k, _ in first.by_name["parse_value"]] == ["/ws/a.py"]
    assert "renamed" not in first.by_name and set(first.files) == {"/ws/a.py"}
    assert [k for k, _ in second.by_name["parse_value"]] == ["/ws/b.py"]
    assert {k for k, _ in second.by_word["parse"]} == {"/ws/b.py"}
    assert second.by_dir["/ws"] == ("/ws/b.py", "/ws/a.py")
    assert second.popularity["helper_call"] == 1  # a file's first version counts


def test_remove_drops_every_trace() -> None:
    builder = SnapshotBuilder(("/ws",))
    builder.put(_record("/ws/pkg/a.py", "def only_here():\n    pass\n"))
    size = builder.bytes
    assert size > 0
    builder.remove("/ws/pkg/a.py")
    builder.remove("/ws/pkg/missing.py")  # unknown keys are fine
    snap = builder.publish()
    assert snap.files == {} and "only_here" not in snap.by_name and "only" not in snap.by_word
    assert snap.by_base.get("a.py") is None and builder.bytes == 0
