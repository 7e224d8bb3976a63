"""The language server finds a token host's token in `host.token` or, when that is empty, in TANDEM_TOKEN."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from lsp_server.demo import plain
from tests.hostproc import ROOT, HostProcess, start_host
from tests.lsp.conftest import editor_client, init_options

pytestmark = pytest.mark.timeout(120)

SECRET = "lsp-token-test-5d1e"
LSP = [sys.executable, "-m", "lsp_server"]
WITHOUT = {k: v for k, v in os.environ.items() if k != "TANDEM_TOKEN"}


@pytest.fixture(scope="module")
def token_host(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    secret = tmp_path_factory.mktemp("token") / "token"
    secret.write_text(SECRET + "\n")
    secret.chmod(0o600)
    host = start_host(tiny_model, "tcp:127.0.0.1:0", "--token-file", str(secret))
    yield host
    host.stop()


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=LSP,
        server_env={**WITHOUT, "TANDEM_TOKEN": SECRET},
        client_factory=editor_client,
    )
)
async def with_env(lsp_client: LanguageClient) -> AsyncIterator[None]:
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=LSP, server_env=WITHOUT, client_factory=editor_client)
)
async def without_env(lsp_client: LanguageClient) -> AsyncIterator[None]:
    yield
    await lsp_client.shutdown_session()


async def _host_state(client: LanguageClient, options: dict[str, Any]) -> dict[str, Any]:
    """Initialize, then the server's view of the host once it has tried to connect."""
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options=options,
            root_uri=ROOT.as_uri(),
        )
    )
    host: dict[str, Any] = {}
    for _ in range(100):
        host = plain(await client.protocol.send_request_async("tandem/status", {}))["host"]
        if host.get("state") == "ready" or host.get("error"):
            break
        await asyncio.sleep(0.1)
    return host


async def test_the_token_comes_from_the_environment(
    with_env: LanguageClient, token_host: HostProcess
) -> None:
    host = await _host_state(with_env, init_options(token_host.address))
    assert host.get("state") == "ready", host


async def test_without_it_the_host_refuses_the_server(
    without_env: LanguageClient, token_host: HostProcess
) -> None:
    host = await _host_state(without_env, init_options(token_host.address))
    assert host.get("state") != "ready" and "token" in host["error"].lower(), host
    options = init_options(token_host.address)
    options["host"]["token"] = SECRET  # the setting works as before
    without_env.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"tandem": options})
    )
    for _ in range(100):
        status = plain(await without_env.protocol.send_request_async("tandem/status", {}))
        if status["host"].get("state") == "ready":
            break
        await asyncio.sleep(0.1)
    assert status["host"].get("state") == "ready", status["host"]
