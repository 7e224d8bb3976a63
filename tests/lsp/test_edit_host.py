"""Edit by instruction end to end with the real host and the tiny random model.

Its text is noise, so this checks structure: the request reaches the host's chat and comes
back as an edit whose TextEdits turn the document into the proposal (or, when the noise holds
no code at all, the "no code" error), never a crash or a stall.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_lsp
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from lsp_server.demo import plain
from tests.hostproc import HostProcess
from tests.lsp.conftest import SERVER, init_options, initialize
from tests.lsp.test_edit import Editor

REQUEST_FAILED = -32803
CODE = "def add(a, b):\n    return a + b\n\n\nprint(add(1, 2))\n"


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, host: HostProcess) -> AsyncIterator[None]:
    options = init_options(host.address)
    options["chat"] = {"temperature": 0, "maxTokens": 48}
    await initialize(lsp_client, options)
    yield
    await lsp_client.shutdown_session()


async def test_an_edit_runs_through_the_real_host(client: LanguageClient) -> None:
    ed = Editor(client)
    uri = ed.open("add.py", CODE, "python")
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
    assert ed.apply(uri, result["edits"]) == proposal
    assert proposal.endswith("\n\nprint(add(1, 2))\n")  # nothing outside the selection moved
    assert chunks, "the answer streamed as tandem/editChunk"


async def test_code_actions_are_offered_for_the_tiny_model(client: LanguageClient) -> None:
    ed = Editor(client)
    uri = ed.open("act.py", CODE, "python")
    await client.protocol.send_request_async("tandem/status", {})  # the host has said its model
    actions = await ed.actions(uri, (0, 0), (2, 0))
    assert actions and {a.title for a in actions} >= {
        "Tandem: Fix",
        "Tandem: Document",
        "Tandem: Add tests",
    }
