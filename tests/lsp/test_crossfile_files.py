"""Cross-file context and the files behind it: edits on disk, saves, deletes, no imports, no workspace,
nothing read outside the workspace, a big folder added later (with `$/progress`)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from lsp_server.indexing import PROGRESS_TITLE
from tests.hostproc import HostProcess
from tests.lsp.conftest import SERVER, init_options
from tests.lsp.crossfile_workspace import (
    context_when,
    end_of,
    folder,
    index_ready,
    lines,
    open_file,
    plan_at,
    status,
    write,
)

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]

EDITS = {
    "shapes.py": "def area(width: int, height: int) -> int:\n    return width * height\n",
    "main.py": "from shapes import area\n\nprint(area(",
}
PLAIN = {  # no imports at all: the definitions sit in the same folder
    "helpers.py": "def slugify(title: str, sep: str = '-') -> str:\n    return sep.join(title.split())\n",
    "script.py": "def main():\n    print(slugify(",
}
SECURE = {
    "ok.py": "def allowed(x: int) -> int:\n    return x\n",
    "app.py": lines(
        "import linked",
        "from linkdir.mod import leak_from_dir",
        "from ..outside.leak import leak_secret",
        "from ok import allowed",
        "",
        "allowed(linked.leak_secret(leak_from_dir(leak_secret(",
    ),
    "app.js": 'import { leakSecret } from "../outside/leak.js";\n\nleakSecret(',
}
OUTSIDE = {
    "leak.py": "def leak_secret(token: str) -> str:\n    return token\n",
    "leak.js": "export function leakSecret(token) {\n  return token;\n}\n",
    "pkg/mod.py": "def leak_from_dir(token: str) -> str:\n    return token\n",
}
BIG_FILES = 240


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("xfiles")
    write(root / "edits", EDITS)
    write(root / "plain", PLAIN)
    write(root / "secure", SECURE)
    write(root / "outside", OUTSIDE)  # not a workspace folder
    (root / "secure" / "linked.py").symlink_to(root / "outside" / "leak.py")
    (root / "secure" / "linkdir").symlink_to(root / "outside" / "pkg", target_is_directory=True)
    big = {
        f"mod_{i}.py": f"def helper_{i}(value: int) -> int:\n    return value + {i}\n"
        for i in range(BIG_FILES)
    }
    big["use.py"] = "from mod_7 import helper_7\n\nhelper_7("
    write(root / "big", big)
    return root


@pytest_lsp.fixture(config=SERVER, scope="module")
async def client(
    lsp_client: LanguageClient, host: HostProcess, workspace: Path
) -> AsyncIterator[None]:
    folders = [folder(workspace / name) for name in ("edits", "plain", "secure")]
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options=init_options(host.address),
            root_uri=folders[0].uri,
            workspace_folders=folders,
        )
    )
    await index_ready(lsp_client)
    yield
    await lsp_client.shutdown_session()


def watched(client: LanguageClient, path: Path, kind: types.FileChangeType) -> None:
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(changes=[types.FileEvent(uri=path.as_uri(), type=kind)])
    )


async def test_files_edited_saved_deleted_on_disk_change_what_is_sent(
    client: LanguageClient, workspace: Path
) -> None:
    shapes = workspace / "edits" / "shapes.py"
    uri = open_file(client, workspace / "edits" / "main.py", "python")
    pos = end_of(EDITS["main.py"])
    await context_when(client, uri, pos, lambda t: "def area(width: int, height: int) -> int:" in t)
    # Edited on disk, reported by the client's file watcher.
    shapes.write_text(
        "def area(width: float, height: float, depth: float = 1.0) -> float:\n    ...\n"
    )
    watched(client, shapes, types.FileChangeType.Changed)
    await context_when(client, uri, pos, lambda t: "depth: float = 1.0" in t)
    # Saved from the editor (didSave; the server asked for no text: it reads the file).
    shapes.write_text("def area(side: int) -> int:\n    return side * side\n")
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=shapes.as_uri())
        )
    )
    await context_when(client, uri, pos, lambda t: "def area(side: int) -> int:" in t)
    # Deleted: the definition leaves the prompt.
    shapes.unlink()
    watched(client, shapes, types.FileChangeType.Deleted)
    await context_when(client, uri, pos, lambda t: "def area" not in t)
    # Created again.
    shapes.write_text("def area(radius: float) -> float:\n    return 3.14 * radius * radius\n")
    watched(client, shapes, types.FileChangeType.Created)
    await context_when(client, uri, pos, lambda t: "def area(radius: float) -> float:" in t)


async def test_no_imports_same_folder_and_open_buffers(
    client: LanguageClient, workspace: Path
) -> None:
    uri = open_file(client, workspace / "plain" / "script.py", "python")
    plan = await plan_at(client, uri, end_of(PLAIN["script.py"]))
    assert any(
        "def slugify(title: str, sep: str = '-') -> str:" in s["text"] for s in plan["context"]
    ), plan
    # An open buffer in another folder, and no import: its code still reaches the prompt.
    other = workspace / "plain" / "web" / "dates.js"
    dates = "export function formatDate(date, pattern) {\n  return pattern.replace('YYYY', date.getFullYear());\n}\n"
    open_file(client, other, "javascript", dates)
    view = workspace / "plain" / "web" / "view" / "page.js"
    page = "export function header(post) {\n  return formatDate(post.date, "
    page_uri = open_file(client, view, "javascript", page)
    await context_when(
        client, page_uri, end_of(page), lambda t: "function formatDate(date, pattern)" in t
    )


def _atimes(root: Path) -> dict[Path, int]:
    return {p: p.stat().st_atime_ns for p in root.rglob("*") if p.is_file()}


async def test_nothing_outside_the_workspace_is_read(
    client: LanguageClient, workspace: Path
) -> None:
    outside = workspace / "outside"
    # Access times tell whether a file was read: put them well before the last change, so the
    # next read (even with relatime) moves them. Where the file system keeps none, skip that.
    for path in _atimes(outside):
        os.utime(path, ns=(1_000_000_000, path.stat().st_mtime_ns))
    probe = outside / "probe.txt"
    probe.write_text("x")
    os.utime(probe, ns=(1_000_000_000, probe.stat().st_mtime_ns))
    probe.read_text()
    tracks_reads = probe.stat().st_atime_ns != 1_000_000_000
    probe.unlink()
    before = _atimes(outside)
    # Re-index the folder that links out (a new root set), then complete in it.
    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[], removed=[folder(workspace / "secure")]
            )
        )
    )
    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[folder(workspace / "secure")], removed=[]
            )
        )
    )
    await index_ready(client)
    for name, language in (("app.py", "python"), ("app.js", "javascript")):
        uri = open_file(client, workspace / "secure" / name, language)
        plan = await plan_at(client, uri, end_of(SECURE[name]))
        text = "\n".join(s["text"] for s in plan["context"])
        assert "leak" not in text.lower() and "outside" not in str(plan["context"]), plan["context"]
        if name == "app.py":  # the folder itself is indexed: the test is not vacuous
            assert "def allowed(x: int) -> int:" in text
    if tracks_reads:
        assert _atimes(outside) == before


async def test_a_big_folder_added_later_is_indexed_with_progress(
    client: LanguageClient, workspace: Path
) -> None:
    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(added=[folder(workspace / "big")], removed=[])
        )
    )
    await index_ready(client)
    use = workspace / "big" / "use.py"
    uri = open_file(client, use, "python")
    await context_when(
        client, uri, end_of(use.read_text()), lambda t: "def helper_7(value: int) -> int:" in t
    )
    cross = (await status(client))["crossFile"]
    assert cross["files"] >= BIG_FILES and str(workspace / "big") in cross["roots"]
    reports = [r for rs in client.progress_reports.values() for r in rs]
    begins = [
        r
        for r in reports
        if isinstance(r, types.WorkDoneProgressBegin) and r.title == PROGRESS_TITLE
    ]
    assert begins, reports
    assert any(isinstance(r, types.WorkDoneProgressEnd) for r in reports)


@pytest_lsp.fixture(config=SERVER, loop_scope="module")
async def lone_client(lsp_client: LanguageClient, host: HostProcess) -> AsyncIterator[None]:
    """Neovim's capabilities (no dynamic file watching), no workspace folder at all."""
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim"),
            initialization_options=init_options(host.address),
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_a_single_file_gets_its_open_neighbours(
    lone_client: LanguageClient, tmp_path: Path
) -> None:
    write(
        tmp_path / "a",
        {"tools.py": "def parse_config(path: str, strict: bool = True) -> dict:\n    return {}\n"},
    )
    write(tmp_path / "b", {"main.py": "settings = parse_config("})
    open_file(lone_client, tmp_path / "a" / "tools.py", "python")
    uri = open_file(lone_client, tmp_path / "b" / "main.py", "python")
    await context_when(
        lone_client,
        uri,
        end_of("settings = parse_config("),
        lambda t: "def parse_config(path: str" in t,
    )
    cross = (await status(lone_client))["crossFile"]
    assert cross["roots"] == []
    assert lone_client.registrations == []  # type: ignore[attr-defined]
