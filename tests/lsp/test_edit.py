"""Edit by instruction through the real `tandem-lsp`, with the stand-in host answering known rewrites.

The stand-in host (tests/standin_host.py) speaks the real host protocol and answers `chat`
with the scripted answer whose `match` is in the instruction; answers come in the shapes
models give them (fenced with prose around, indentation dropped, spaces for tabs).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient, client_capabilities

from lsp_server.demo import plain
from lsp_server.positions import LineIndex
from model_host.rpc.client import HostClient
from tests.hostproc import ROOT, HostProcess
from tests.lsp.conftest import SERVER, eventually, init_options
from tests.standin_host import STATS, start_standin

INVALID_PARAMS, CONTENT_MODIFIED, CANCELLED, CANNOT_CHAT = -32602, -32801, -32800, -32001

BOX = (
    "class Box:\n"
    "    def __init__(self, w, h):\n"
    "        self.w = w\n"
    "        self.h = h\n"
    "\n"
    "    def area(self):\n"
    "        return self.w * self.h\n"
    "\n"
    "    def grow(self, k):\n"
    "        self.w *= k\n"
    "        self.h *= k\n"
)
TOTAL = (
    "def total(items):\n"
    "    result = 0\n"
    "    for item in items:\n"
    "        result += item.price\n"
    "    return result\n"
)
GO = (
    "package store\n"
    "\n"
    "func Load(path string) (*Store, error) {\n"
    "\tdata, err := os.ReadFile(path)\n"
    "\tif err != nil {\n"
    "\t\treturn nil, err\n"
    "\t}\n"
    "\treturn parse(data)\n"
    "}\n"
)
YAML = "jobs:\n  test:\n    steps:\n      - run: make\n    timeout: 10\n"
SLOW = "x = 1\n"
LONG_ANSWER = "```python\n" + "".join(f"x_{i} = {i}\n" for i in range(200)) + "```\n"

ANSWERS = [
    {
        "match": "make area return a float",
        "answer": "Sure! Here is the updated method:\n\n```python\ndef area(self) -> float:\n"
        "    return float(self.w * self.h)\n```\n\nThe result is now always a float.",
    },
    {
        "match": "log the running total",
        "answer": "```python\ndef total(items):\n    result = 0\n    for item in items:\n"
        "        result += item.price\n        log.debug('total %s', result)\n"
        "    return result\n```",
    },
    {
        "match": "wrap the read error",
        "answer": '```go\nif err != nil {\n    return nil, fmt.Errorf("load %s: %w", path, err)\n}\n```',
    },
    {
        "match": "add a lint step",
        "answer": "```yaml\nsteps:\n  - run: make\n  - run: make lint\n```",
    },
    {"match": "rename b to c", "answer": "```python\na = 1\nc = 2\n```"},
    {"match": "say hello loudly", "answer": '```python\ngreet("👋 héllo", loud=True)\n```'},
    {"match": "double the last value", "answer": "```python\nlast = 2 * 2\n```"},
    {"match": "leave it as it is", "answer": "```python\nx = 1\n```"},
    {"match": "take your time", "answer": LONG_ANSWER, "delay": 0.05},
    {
        "match": "The editor reports these problems",
        "answer": "```python\n    def area(self):\n        return self.w * self.height\n```",
    },
    {"match": "Add documentation comments", "answer": "```python\nx = 1  # the answer\n```"},
]


class Editor:
    """The test client's copy of the documents it opened, kept by the edits it is asked to apply."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self.chunks: dict[str, list[str]] = {}
        self.applied: list[types.ApplyWorkspaceEditParams] = []
        self.encoding = "utf-16"
        self.edit_input = False  # advertises experimental.tandem.editInput

    def open(self, name: str, text: str, language: str) -> str:
        uri = (ROOT / "tests" / "lsp" / "edit-samples" / name).as_uri()
        self.texts[uri], self.versions[uri] = text, 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language, version=1, text=text
                )
            )
        )
        return uri

    def type(self, uri: str, at: types.Position, text: str) -> None:
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=at, end=at), text=text
                    )
                ],
            )
        )

    def apply(self, uri: str, edits: list[dict[str, Any]]) -> str:
        """`edits` applied as an editor does (each range in the text before any of them)."""
        text = self.texts[uri]
        index = LineIndex(text)
        spans = []
        for e in edits:
            r = e["range"]
            start = index.offset(r["start"]["line"], r["start"]["character"], self.encoding)
            end = index.offset(r["end"]["line"], r["end"]["character"], self.encoding)
            spans.append((start, end, e["newText"]))
        for start, end, new in sorted(spans, reverse=True):
            text = text[:start] + new + text[end:]
        self.texts[uri] = text
        return text

    async def edit(
        self, uri: str, start: tuple[int, int], end: tuple[int, int], instruction: str, **extra: Any
    ) -> dict[str, Any]:
        params = {
            "textDocument": {"uri": uri},
            "range": {
                "start": {"line": start[0], "character": start[1]},
                "end": {"line": end[0], "character": end[1]},
            },
            "instruction": instruction,
            **extra,
        }
        return plain(await self.client.protocol.send_request_async("tandem/edit", params))

    async def actions(
        self,
        uri: str,
        start: tuple[int, int],
        end: tuple[int, int],
        diagnostics: list[types.Diagnostic] | None = None,
        only: list[types.CodeActionKind] | None = None,
    ) -> list[types.Command | types.CodeAction] | None:
        """The code actions offered on `start`..`end` (line, character) with `diagnostics`."""
        return await self.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(
                    start=types.Position(line=start[0], character=start[1]),
                    end=types.Position(line=end[0], character=end[1]),
                ),
                context=types.CodeActionContext(diagnostics=diagnostics or [], only=only),
            )
        )


async def start_editor(
    lsp_client: LanguageClient, name: str, edit_input: bool, address: str
) -> Editor:
    editor = Editor(lsp_client)

    @lsp_client.feature("tandem/editChunk")
    def on_chunk(params: Any) -> None:
        p = plain(params)
        editor.chunks.setdefault(p["editId"], []).append(p["text"])

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(
        ls: LanguageClient, params: types.ApplyWorkspaceEditParams
    ) -> types.ApplyWorkspaceEditResult:
        editor.applied.append(params)
        unstructure = ls.protocol._converter.unstructure
        for uri, edits in (params.edit.changes or {}).items():
            editor.apply(uri, [plain(unstructure(e)) for e in edits])
        for change in params.edit.document_changes or []:
            assert isinstance(change, types.TextDocumentEdit)
            uri = change.text_document.uri
            if change.text_document.version != editor.versions[uri]:
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="stale")
            editor.apply(uri, [plain(unstructure(e)) for e in change.edits])
        return types.ApplyWorkspaceEditResult(applied=True)

    # lsprotocol reads any code action carrying a `command` as a bare Command; editors tell
    # them apart as LSP says, by whether `command` is a string.
    converter = lsp_client.protocol._converter

    def action_or_command(obj: Any, _: type) -> types.Command | types.CodeAction:
        kind = types.Command if isinstance(obj.get("command"), str) else types.CodeAction
        return converter.structure(obj, kind)  # type: ignore[no-any-return]

    converter.register_structure_hook(types.Command | types.CodeAction, action_or_command)
    capabilities = client_capabilities(name)
    editor.edit_input = edit_input
    if edit_input:
        capabilities.experimental = {"tandem": {"editInput": True}}
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            initialization_options=init_options(address),
            root_uri=ROOT.as_uri(),
        )
    )
    editor.encoding = str(result.capabilities.position_encoding or "utf-16")
    lsp_client.editor = editor  # type: ignore[attr-defined]
    lsp_client.server_capabilities = result.capabilities  # type: ignore[attr-defined]
    return editor


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory, sock_dir: Path) -> Iterator[HostProcess]:
    answers = tmp_path_factory.mktemp("edit") / "answers.json"
    answers.write_text(json.dumps(ANSWERS), encoding="utf-8")
    host = start_standin(f"unix:{sock_dir / 'edit-standin.sock'}", answers=answers)
    yield host
    host.stop()


@pytest.fixture(scope="module")
def base_standin(sock_dir: Path) -> Iterator[HostProcess]:
    host = start_standin(
        f"unix:{sock_dir / 'edit-base.sock'}", model_name="codellama/CodeLlama-7b-Python-hf"
    )
    yield host
    host.stop()


# VS Code's plugin asks for the instruction itself (editInput); Neovim's capabilities without it.
@pytest_lsp.fixture(config=SERVER, params=[("visual-studio-code", True), ("neovim", False)])
async def client(
    lsp_client: LanguageClient, request: pytest.FixtureRequest, standin: HostProcess
) -> AsyncIterator[None]:
    await start_editor(lsp_client, *request.param, standin.address)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER)
async def base_client(lsp_client: LanguageClient, base_standin: HostProcess) -> AsyncIterator[None]:
    await start_editor(lsp_client, "visual-studio-code", True, base_standin.address)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER)
async def hostless_client(lsp_client: LanguageClient, sock_dir: Path) -> AsyncIterator[None]:
    await start_editor(lsp_client, "neovim", False, f"unix:{sock_dir / 'nobody-listens.sock'}")
    yield
    await lsp_client.shutdown_session()


def editor_of(client: LanguageClient) -> Editor:
    return client.editor  # type: ignore[attr-defined, no-any-return]


async def standin_stats(host: HostProcess) -> dict[str, Any]:
    watcher = await HostClient.connect(host.address)
    try:
        await watcher.hello()
        return dict(await watcher.request(STATS))
    finally:
        await watcher.close()


# ---- edits -----------------------------------------------------------------------------------
async def test_edit_rewrites_the_selection_with_its_indentation(client: LanguageClient) -> None:
    ed = editor_of(client)
    uri = ed.open("box.py", BOX, "python")
    result = await ed.edit(
        uri, (5, 4), (6, 30), "make area return a float", editId="e-1", stream=True
    )
    expected = BOX.replace(
        "    def area(self):\n        return self.w * self.h\n",
        "    def area(self) -> float:\n        return float(self.w * self.h)\n",
    )
    assert result["editId"] == "e-1" and result["uri"] == uri and result["version"] == 1
    assert result["range"] == {
        "start": {"line": 5, "character": 0},
        "end": {"line": 7, "character": 0},
    }
    assert (
        result["newText"] == "    def area(self) -> float:\n        return float(self.w * self.h)\n"
    )
    # (pygls' client reads the uri key as a namedtuple field, renamed: compare the edits only.)
    assert list(result["edit"]["changes"].values()) == [result["edits"]]
    assert result["finishReason"] == "end" and result["generatedTokens"] > 0
    assert ed.apply(uri, result["edits"]) == expected
    # The raw answer came in order as tandem/editChunk notifications.
    await eventually(lambda: "".join(ed.chunks.get("e-1", [])).endswith("always a float."))
    assert "".join(ed.chunks["e-1"]).startswith("Sure! Here is the updated method:")


async def test_edits_are_minimal(client: LanguageClient) -> None:
    ed = editor_of(client)
    uri = ed.open("total.py", TOTAL, "python")
    result = await ed.edit(uri, (0, 0), (5, 0), "log the running total")
    # One inserted line: one edit, an insertion before `return`, nothing else rewritten.
    assert result["edits"] == [
        {
            "range": {"start": {"line": 4, "character": 0}, "end": {"line": 4, "character": 0}},
            "newText": "        log.debug('total %s', result)\n",
        }
    ]
    assert "log.debug" in ed.apply(uri, result["edits"])


async def test_go_keeps_its_tabs(client: LanguageClient) -> None:
    ed = editor_of(client)
    uri = ed.open("store.go", GO, "go")
    result = await ed.edit(uri, (4, 0), (6, 2), "wrap the read error")
    assert ed.apply(uri, result["edits"]) == GO.replace(
        "\t\treturn nil, err\n", '\t\treturn nil, fmt.Errorf("load %s: %w", path, err)\n'
    )
    assert len(result["edits"]) == 1


async def test_yaml_keeps_its_nesting(client: LanguageClient) -> None:
    ed = editor_of(client)
    uri = ed.open("ci.yaml", YAML, "yaml")
    result = await ed.edit(uri, (2, 0), (4, 0), "add a lint step")
    assert ed.apply(uri, result["edits"]) == (
        "jobs:\n  test:\n    steps:\n      - run: make\n      - run: make lint\n    timeout: 10\n"
    )


async def test_crlf_files_stay_crlf(client: LanguageClient) -> None:
    ed = editor_of(client)
    uri = ed.open("crlf.py", "a = 1\r\nb = 2\r\nprint(a)\r\n", "python")
    result = await ed.edit(uri, (0, 0), (2, 0), "rename b to c")
    assert result["newText"] == "a = 1\r\nc = 2\r\n"
    assert ed.apply(uri, result["edits"]) == "a = 1\r\nc = 2\r\nprint(a)\r\n"


async def test_multibyte_text_at_end_of_file(client: LanguageClient) -> None:
    """The last line, without a line break, has characters of 2 UTF-16 units and 4 UTF-8 bytes:
    the range's end is counted in the negotiated encoding."""
    ed = editor_of(client)
    text = 'import x\ngreet("👋 héllo")'
    uri = ed.open("hello.py", text, "python")
    last = 'greet("👋 héllo")'
    units = {
        "utf-8": len(last.encode()),
        "utf-16": len(last.encode("utf-16-le")) // 2,
        "utf-32": len(last),
    }
    result = await ed.edit(uri, (1, 3), (1, 3), "say hello loudly")
    assert result["range"]["end"] == {"line": 1, "character": units[ed.encoding]}
    assert result["newText"] == 'greet("👋 héllo", loud=True)'  # no line break added
    assert ed.apply(uri, result["edits"]) == 'import x\ngreet("👋 héllo", loud=True)'


async def test_selection_at_end_of_file(client: LanguageClient) -> None:
    ed = editor_of(client)
    uri = ed.open("last.py", "first = 1\nlast = 2", "python")
    result = await ed.edit(uri, (1, 0), (1, 8), "double the last value")
    assert result["edits"] == [
        {
            "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 8}},
            "newText": "last = 2 * 2",
        }
    ]
    assert ed.apply(uri, result["edits"]) == "first = 1\nlast = 2 * 2"


async def test_an_unchanged_proposal_has_no_edits(client: LanguageClient) -> None:
    ed = editor_of(client)
    uri = ed.open("same.py", SLOW, "python")
    result = await ed.edit(uri, (0, 0), (1, 0), "leave it as it is")
    assert result["edits"] == [] and result["newText"] == SLOW


# ---- never a stale edit; cancelling ------------------------------------------------------------
async def test_a_document_edited_mid_request_gets_content_modified(
    client: LanguageClient, standin: HostProcess
) -> None:
    ed = editor_of(client)
    uri = ed.open("busy.py", SLOW, "python")
    before = (await standin_stats(standin))["cancelled"]
    pending = asyncio.ensure_future(
        ed.edit(uri, (0, 0), (1, 0), "take your time", editId="busy", stream=True)
    )
    await eventually(lambda: bool(ed.chunks.get("busy")) or pending.done(), timeout=10)
    ed.type(uri, types.Position(line=1, character=0), "y = 2\n")
    with pytest.raises(JsonRpcException) as err:
        await asyncio.wait_for(pending, 10)
    assert err.value.code == CONTENT_MODIFIED
    # The generation was stopped, not left running for nobody.
    for _ in range(100):
        if (await standin_stats(standin))["cancelled"] > before:
            break
        await asyncio.sleep(0.05)
    assert (await standin_stats(standin))["cancelled"] > before


async def test_a_document_closed_mid_request_gets_content_modified(
    client: LanguageClient,
) -> None:
    ed = editor_of(client)
    uri = ed.open("closing.py", SLOW, "python")
    pending = asyncio.ensure_future(
        ed.edit(uri, (0, 0), (1, 0), "take your time", editId="closing", stream=True)
    )
    await eventually(lambda: bool(ed.chunks.get("closing")) or pending.done(), timeout=10)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    with pytest.raises(JsonRpcException) as err:
        await asyncio.wait_for(pending, 10)
    assert err.value.code == CONTENT_MODIFIED


async def test_no_host_is_request_failed_with_the_reason(hostless_client: LanguageClient) -> None:
    ed = editor_of(hostless_client)
    uri = ed.open("alone.py", SLOW, "python")
    with pytest.raises(JsonRpcException) as err:
        await ed.edit(uri, (0, 0), (1, 0), "leave it as it is")
    assert err.value.code == -32803 and "model host" in err.value.message
    # And no code actions are offered without a model that can chat.
    actions = await ed.actions(uri, (0, 0), (1, 0))
    assert not actions


async def test_a_stale_version_gets_content_modified(client: LanguageClient) -> None:
    ed = editor_of(client)
    uri = ed.open("old.py", SLOW, "python")
    ed.type(uri, types.Position(line=0, character=0), "# hi\n")
    with pytest.raises(JsonRpcException) as err:
        await ed.edit(uri, (0, 0), (1, 0), "leave it as it is", version=1)
    assert err.value.code == CONTENT_MODIFIED


async def test_cancel_reaches_the_host_generation(
    client: LanguageClient, standin: HostProcess
) -> None:
    ed = editor_of(client)
    uri = ed.open("cancel.py", SLOW, "python")
    before = (await standin_stats(standin))["cancelled"]
    params = {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}},
        "instruction": "take your time",
        "editId": "to-cancel",
        "stream": True,
    }
    pending = asyncio.ensure_future(
        client.protocol.send_request_async("tandem/edit", params, msg_id="edit-to-cancel")
    )
    await eventually(lambda: bool(ed.chunks.get("to-cancel")) or pending.done(), timeout=10)
    client.protocol.notify("$/cancelRequest", types.CancelParams(id="edit-to-cancel"))
    with pytest.raises(JsonRpcException) as err:
        await asyncio.wait_for(pending, 10)
    assert err.value.code == CANCELLED
    for _ in range(100):
        if (await standin_stats(standin))["cancelled"] > before:
            break
        await asyncio.sleep(0.05)
    assert (await standin_stats(standin))["cancelled"] > before


# ---- bad input ---------------------------------------------------------------------------------
async def test_bad_params_are_invalid_params(client: LanguageClient) -> None:
    ed = editor_of(client)
    uri = ed.open("bad.py", SLOW, "python")
    rng = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}
    doc = {"uri": uri}
    for bad in (
        {"range": rng, "instruction": "x"},
        {"textDocument": doc, "instruction": "x"},
        {"textDocument": doc, "range": rng},
        {"textDocument": doc, "range": rng, "instruction": "   "},
        {"textDocument": doc, "range": rng, "instruction": "x" * 2001},
        {
            "textDocument": doc,
            "range": {"start": {"line": 40, "character": 0}, "end": {"line": 41, "character": 0}},
            "instruction": "x",
        },
        {
            "textDocument": doc,
            "range": {"start": {"line": 1, "character": 0}, "end": {"line": 0, "character": 0}},
            "instruction": "x",
        },
        {"textDocument": {"uri": "file:///nowhere.py"}, "range": rng, "instruction": "x"},
        {"textDocument": doc, "range": rng, "instruction": "x", "stream": "yes"},
        "not an object",
    ):
        with pytest.raises(JsonRpcException) as err:
            await client.protocol.send_request_async("tandem/edit", bad)
        assert err.value.code == INVALID_PARAMS, bad
    with pytest.raises(JsonRpcException) as err:
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="tandem.edit", arguments=[{"uri": uri}])
        )
    assert err.value.code == INVALID_PARAMS
    # The server is still fine.
    assert (await ed.edit(uri, (0, 0), (1, 0), "leave it as it is"))["edits"] == []


async def test_a_model_that_cannot_chat_is_told_and_offers_no_actions(
    base_client: LanguageClient,
) -> None:
    ed = editor_of(base_client)
    uri = ed.open("base.py", BOX, "python")
    with pytest.raises(JsonRpcException) as err:
        await ed.edit(uri, (5, 0), (7, 0), "make area return a float")
    assert err.value.code == CANNOT_CHAT
    assert "CodeLlama-7b-Python-hf is a base/Python checkpoint" in err.value.message
    assert "codellama/CodeLlama-7b-Instruct-hf" in err.value.message
    actions = await ed.actions(uri, (5, 0), (7, 0))
    assert not actions
    status = plain(await base_client.protocol.send_request_async("tandem/status", {}))
    assert status["model"]["can_chat"] is False


# ---- code actions ------------------------------------------------------------------------------
async def test_code_actions_are_registered_and_offered(client: LanguageClient) -> None:
    ed = editor_of(client)
    caps = client.server_capabilities  # type: ignore[attr-defined]
    assert "tandem.edit" in caps.execute_command_provider.commands
    assert "quickfix.tandem.fix" in caps.code_action_provider.code_action_kinds
    status = plain(await client.protocol.send_request_async("tandem/status", {}))
    assert status["model"]["can_chat"] is True
    uri = ed.open("actions.py", BOX, "python")
    actions = await ed.actions(uri, (5, 0), (7, 0))
    assert actions is not None
    titles = [a.title for a in actions]  # type: ignore[union-attr]
    presets = ["Tandem: Fix", "Tandem: Document", "Tandem: Add tests"]
    assert titles == (["Tandem: Edit…"] if ed.edit_input else []) + presets
    for action in actions:
        assert isinstance(action, types.CodeAction) and action.command is not None
        assert action.command.command == "tandem.edit"
    # A cursor with no problem reported: nothing to offer.
    assert not await ed.actions(uri, (5, 3), (5, 3))


async def test_fix_on_a_diagnostic_is_applied_with_its_message_in_the_prompt(
    client: LanguageClient, standin: HostProcess
) -> None:
    ed = editor_of(client)
    uri = ed.open("fix.py", BOX, "python")
    problem = types.Diagnostic(
        range=types.Range(
            start=types.Position(line=6, character=25), end=types.Position(line=6, character=26)
        ),
        message="Box has no attribute 'h'; did you mean 'height'?",
    )
    actions = await ed.actions(uri, (6, 25), (6, 25), [problem])
    assert actions is not None and [a.title for a in actions] == ["Tandem: Fix"]  # type: ignore[union-attr]
    fix = actions[0]
    assert isinstance(fix, types.CodeAction) and fix.kind == "quickfix.tandem.fix" and fix.command
    result = plain(
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=fix.command.command, arguments=fix.command.arguments)
        )
    )
    assert result["applied"] is True
    assert ed.applied and ed.applied[-1].label == "Tandem: Fix"
    assert ed.texts[uri] == BOX.replace("return self.w * self.h", "return self.w * self.height")
    prompt = (await standin_stats(standin))["last"]["messages"][-1]["content"]
    assert "line 7: Box has no attribute 'h'; did you mean 'height'?" in prompt


async def test_document_action_runs_and_applies(client: LanguageClient) -> None:
    ed = editor_of(client)
    uri = ed.open("doc.py", SLOW, "python")
    actions = await ed.actions(uri, (0, 0), (1, 0), only=[types.CodeActionKind.RefactorRewrite])
    assert actions is not None
    assert [a.title for a in actions if isinstance(a, types.CodeAction)][-2:] == [
        "Tandem: Document",
        "Tandem: Add tests",
    ]
    document = next(
        a for a in actions if isinstance(a, types.CodeAction) and a.title == "Tandem: Document"
    )
    assert document.command is not None
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=document.command.command, arguments=document.command.arguments
        )
    )
    assert ed.texts[uri] == "x = 1  # the answer\n"
