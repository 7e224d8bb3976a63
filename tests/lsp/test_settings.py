"""Settings as a user types them: misspelled keys are named once, with the key meant; the rest apply."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from lsp_server.demo import plain
from tests.hostproc import ROOT, HostProcess
from tests.lsp.conftest import eventually, init_options

pytestmark = pytest.mark.timeout(120)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"]))
async def lsp(lsp_client: LanguageClient) -> AsyncIterator[None]:
    yield
    await lsp_client.shutdown_session()


def warnings(client: LanguageClient) -> list[str]:
    return [m.message for m in client.messages if m.type == types.MessageType.Warning]


async def status(client: LanguageClient) -> dict[str, Any]:
    return dict(plain(await client.protocol.send_request_async("tandem/status", {})))


async def prompt_max_tokens(client: LanguageClient, uri: str) -> int:
    plan = plain(
        await client.protocol.send_request_async(
            "tandem/prompt",
            {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 8}},
        )
    )
    return int(plan["maxTokens"])


def reconfigure(client: LanguageClient, settings: dict[str, Any]) -> None:
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"tandem": settings})
    )


async def test_misspelled_settings_are_named_once_with_the_key_meant(
    lsp: LanguageClient, host: HostProcess, tmp_path: Any
) -> None:
    lsp_client = lsp
    options = init_options(host.address, maxTokenLine=9, maxTokensLine=7)
    options["host"]["modle"] = "/models/CodeLlama-7b-hf"
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim"),
            initialization_options=options,
            root_uri=ROOT.as_uri(),
        )
    )
    await eventually(lambda: bool(warnings(lsp_client)))
    [message] = warnings(lsp_client)
    assert "host.modle" in message and "did you mean host.model?" in message, message
    assert "completion.maxTokenLine" in message, message
    assert "did you mean completion.maxTokensLine?" in message, message
    problems = (await status(lsp_client))["server"]["settingsProblems"]
    assert sorted(p.split(":")[0] for p in problems) == [
        "tandem.completion.maxTokenLine",
        "tandem.host.modle",
    ], problems

    # The valid settings given beside the typos apply.
    uri = (tmp_path / "a.py").as_uri()
    lsp_client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text="x = f(1, "
            )
        )
    )
    assert await prompt_max_tokens(lsp_client, uri) == 7

    # An editor sends every setting on each change: the same typos are not shown again,
    # though they stay in the log and the status, and the new valid value applies.
    options["completion"]["maxTokensLine"] = 5
    reconfigure(lsp_client, options)
    await eventually(lambda: any("host.modle" in m.message for m in lsp_client.log_messages))
    assert await prompt_max_tokens(lsp_client, uri) == 5
    assert len(warnings(lsp_client)) == 1, warnings(lsp_client)
    assert len((await status(lsp_client))["server"]["settingsProblems"]) == 2

    # Another set of unknown keys is news: one more message, naming only what is unknown now.
    options["host"]["adress"] = options["host"].pop("address")
    reconfigure(lsp_client, options)
    await eventually(lambda: len(warnings(lsp_client)) == 2)
    assert "host.adress" in warnings(lsp_client)[1] and "host.address?" in warnings(lsp_client)[1]

    # Fixed: nothing to say, nothing listed.
    options["host"]["address"] = options["host"].pop("adress")
    del options["host"]["modle"], options["completion"]["maxTokenLine"]
    reconfigure(lsp_client, options)
    for _ in range(50):
        if not (await status(lsp_client))["server"]["settingsProblems"]:
            break
        await asyncio.sleep(0.1)
    assert (await status(lsp_client))["server"]["settingsProblems"] == []
    assert len(warnings(lsp_client)) == 2
