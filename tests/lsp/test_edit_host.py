"""Edit by instruction end to end with the real host and the tiny random model.

Its text is noise, so this checks structure: the request reaches the host's chat and comes
back as an edit whose TextEdits turn the document into the proposal (or, when the noise holds
no code at all, the "no code" error), never a crash or a stall.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient, client_capabilities

from lsp_server.demo import plain
from lsp_server.positions import LineIndex
from tests.hostproc import ROOT, HostProcess
from tests.lsp.conftest import SERVER, init_options

REQUEST_FAILED = -32803
CODE = "def add(a, b):\n    return a + b\n\n\nprint(add(1, 2))\n"


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, host: HostProcess) -> AsyncIterator[None]:
    options = init_options(host.address)
    options["chat"] = {"temperature": 0, "maxTokens": 48}
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options=options,
            root_uri=ROOT.as_uri(),
        )
    )
    yield
    await lsp_client.shutdown_session()


def applied(text: str, edits: list[dict[str, Any]]) -> str:
    index = LineIndex(text)
    spans = []
    for e in edits:
        r = e["range"]
        start = index.offset(r["start"]["line"], r["start"]["character"], "utf-16")
        end = index.offset(r["end"]["line"], r["end"]["character"], "utf-16")
        spans.append((start, end, e["newText"]))
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


async def test_an_edit_runs_through_the_real_host(client: LanguageClient) -> None:
    uri = (ROOT / "tests" / "lsp" / "edit-samples" / "add.py").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=CODE
            )
        )
    )
    chunks: list[str] = []
    client.feature("tandem/editChunk")(lambda params: chunks.append(plain(params)["text"]))
    params = {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}},
        "instruction": "add type hints",
        "stream": True,
        "editId": "tiny",
    }
    try:
        result = plain(await client.protocol.send_request_async("tandem/edit", params))
    except JsonRpcException as exc:  # noise with no line of code in it
        assert exc.code == REQUEST_FAILED and "without code" in exc.message
        return
    assert result["editId"] == "tiny" and result["generatedTokens"] > 0
    assert result["promptTokens"] > 0 and result["finishReason"] in ("end", "length", "stop")
    lines = CODE.split("\n")
    assert result["range"]["start"] == {"line": 0, "character": 0}
    assert result["range"]["end"] == {"line": 2, "character": 0}
    proposal = result["newText"] + "\n".join(lines[2:])
    assert applied(CODE, result["edits"]) == proposal
    assert proposal.endswith("\n\nprint(add(1, 2))\n")  # nothing outside the selection moved
    assert chunks, "the answer streamed as tandem/editChunk"


async def test_code_actions_are_offered_for_the_tiny_model(client: LanguageClient) -> None:
    uri = (ROOT / "tests" / "lsp" / "edit-samples" / "act.py").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=CODE
            )
        )
    )
    await client.protocol.send_request_async("tandem/status", {})  # the host has said its model
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(
                start=types.Position(line=0, character=0), end=types.Position(line=2, character=0)
            ),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert actions and {a.title for a in actions} >= {
        "Tandem: Fix",
        "Tandem: Document",
        "Tandem: Add tests",
    }
