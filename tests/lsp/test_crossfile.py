"""Cross-file context through the real `tandem-lsp` and host: imports per language, the sticky header, chat, off.

One server (VS Code's capabilities) for the module, its workspace folders one per language;
what a completion sends is read from `tandem/prompt` (the very `complete` params) and turned
into the model's prompt by the real host's `prompt` dry run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from lsp_server.chat import CodeContext, with_code
from lsp_server.config import ChatSettings
from lsp_server.workspace import Snippet
from model_host.rpc.client import HostClient
from model_host.rpc.protocol import Method
from tests.hostproc import HostProcess
from tests.lsp.conftest import SERVER, init_options
from tests.lsp.crossfile_workspace import (
    LANGUAGES,
    Case,
    end_of,
    folder,
    header_line,
    host_dry_run,
    index_ready,
    lines,
    open_file,
    plan_at,
    request,
    status,
    write,
)
from tests.lsp.test_lsp import inline

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]

TYPING = lines(
    "from pkg.pricing import apply_discount",
    "",
    "",
    "def pay(amount):",
    "    due = apply_discount(amount, 10)",
    "    return due * ",
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("xfile")
    for case in LANGUAGES:
        write(root / case.folder, case.files)
    (root / "python" / "typing_app.py").write_text(TYPING)
    return root


@pytest_lsp.fixture(config=SERVER, scope="module")
async def client(
    lsp_client: LanguageClient, host: HostProcess, workspace: Path
) -> AsyncIterator[None]:
    folders = [folder(workspace / case.folder) for case in LANGUAGES]
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


@pytest.mark.parametrize("case", LANGUAGES, ids=[c.language for c in LANGUAGES])
async def test_an_imported_definition_reaches_the_prompt(
    client: LanguageClient, host: HostProcess, workspace: Path, case: Case
) -> None:
    path = workspace / case.folder / case.cursor_file
    uri = open_file(client, path, case.language)
    plan = await plan_at(client, uri, end_of(path.read_text()))
    lines = [line for s in plan["context"] for line in s["text"].split("\n")]
    assert any(case.signature in line for line in lines), plan["context"]
    assert plan["language"] == case.language and plan["headerTokens"] > 0
    assert all(not s["path"].startswith("/") for s in plan["context"])  # workspace-relative
    # The host puts it, commented in the file's language, before the prefix.
    dry = await host_dry_run(host.address, plan)
    line = next(line for line in lines if case.signature in line)
    assert header_line(case.language, line) in dry["header"]
    at = dry["text"].index(header_line(case.language, line))
    assert at < dry["text"].rindex(plan["prefix"].split("\n")[-1])
    assert all(
        not line.strip() or line.startswith(header_line(case.language, "").strip())
        for line in dry["header"].splitlines()
    )


async def test_the_header_sticks_while_typing(
    client: LanguageClient, host: HostProcess, workspace: Path
) -> None:
    """Keystrokes that use no new name send the identical context, so the host's prefix cache
    keeps hitting; the completion really carried it (its prompt has the dry run's length)."""
    path = workspace / "python" / "typing_app.py"
    uri = open_file(client, path, "python")
    text = TYPING
    first = await plan_at(client, uri, end_of(text))
    assert any("def apply_discount(" in s["text"] for s in first["context"])
    await inline(client, uri, end_of(text))
    recomputed: list[int] = []
    for version, char in enumerate("amount + 1", start=2):
        pos = end_of(text)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=pos, end=pos), text=char
                    )
                ],
            )
        )
        text += char
        plan = await plan_at(client, uri, end_of(text))
        assert plan["context"] == first["context"] and plan["headerReused"], plan
        before = (await status(client))["suggestions"]
        await inline(client, uri, end_of(text))
        after = (await status(client))["suggestions"]
        if after["cacheHits"] > before["cacheHits"]:
            continue  # the typed-ahead cache answered: no model call
        timings = after["lastHostTimings"]
        assert timings["prompt_tokens"] == (await host_dry_run(host.address, plan))["tokens"]
        recomputed.append(timings["prompt_tokens"] - timings["cached_tokens"])
    assert recomputed and sorted(recomputed)[len(recomputed) // 2] <= 8, recomputed


async def test_chat_gets_the_definitions(
    client: LanguageClient, host: HostProcess, workspace: Path
) -> None:
    path = workspace / "go" / "main.go"
    uri = open_file(client, path, "go")
    question = "What does checkout do?"
    result = await request(
        client,
        "tandem/chat",
        {
            "messages": [{"role": "user", "content": question}],
            "context": {"uri": uri},
            "maxTokens": 4,
        },
    )
    definitions = result["definitions"]
    assert any(
        "func ApplyDiscount(price float64, percent int) float64" in d["text"] for d in definitions
    )
    # What the host was asked is the question, the definitions under their paths, then the code.
    ctx = CodeContext(
        path.read_text(), "go", uri, tuple(Snippet(d["path"], d["text"]) for d in definitions)
    )
    messages = with_code([{"role": "user", "content": question}], ctx, ChatSettings().system_prompt)
    content = messages[-1]["content"]
    assert (
        content.index(question)
        < content.index("pricing/pricing.go:\n```go")
        < content.index("package main")
    )
    watcher = await HostClient.connect(host.address)
    try:
        await watcher.hello()
        dry = await watcher.request(Method.PROMPT, {"kind": "chat", "messages": messages})
    finally:
        await watcher.close()
    assert result["promptTokens"] == dry["tokens"]


async def test_file_watching_is_registered(client: LanguageClient) -> None:
    registrations = client.registrations  # type: ignore[attr-defined]
    watched = [r for r in registrations if r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    assert len(watched) == 1
    options = watched[0].register_options  # as the client received it: plain JSON
    globs = [w["globPattern"] for w in options["watchers"]]
    assert any("py" in g and "go" in g and "lua" in g for g in globs), globs


async def test_cross_file_off_sends_no_context(client: LanguageClient, workspace: Path) -> None:
    case = LANGUAGES[0]
    path = workspace / case.folder / case.cursor_file
    uri = open_file(client, path, case.language)
    pos = end_of(path.read_text())
    assert (await plan_at(client, uri, pos))["context"]
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"tandem": {"context": {"crossFile": {"enable": False}}}}
        )
    )
    plan = await plan_at(client, uri, pos)
    assert plan["context"] == [] and plan["language"] == "" and plan["headerTokens"] == 0
    assert (await status(client))["crossFile"]["enabled"] is False
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"tandem": {"context": {"crossFile": {"enable": True}}}}
        )
    )
    await index_ready(client)
    assert any(case.signature in s["text"] for s in (await plan_at(client, uri, pos))["context"])
