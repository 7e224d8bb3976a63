"""pytest-lsp fixtures: the real `tandem-lsp` over stdio, a real host with the tiny model."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

from lsp_server.demo import plain
from tests.hostproc import ROOT, HostProcess

CLIENTS = ["visual-studio-code", "neovim"]


def editor_client() -> LanguageClient:
    """pytest-lsp's client, also answering `client/registerCapability` as editors do (VS Code
    registers the server's file watchers); what was registered is in `client.registrations`."""
    client = make_test_lsp_client()
    registrations: list[types.Registration] = []
    client.registrations = registrations  # type: ignore[attr-defined]

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(ls: LanguageClient, params: types.RegistrationParams) -> None:
        registrations.extend(params.registrations)

    return client


SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "lsp_server"], client_factory=editor_client
)


def init_options(address: str, **completion: Any) -> dict[str, Any]:
    # Greedy decoding keeps the tiny model's (noise) output deterministic.
    return {
        "host": {"address": address, "autoStart": False, "requestTimeout": 30},
        "completion": {"debounceMs": 0, "temperature": 0, **completion},
        "chat": {"temperature": 0},
    }


class ChatChunks:
    """Collects `tandem/chatChunk` notifications per chat id."""

    def __init__(self) -> None:
        self.by_chat: dict[str, list[str]] = {}

    def add(self, params: Any) -> None:
        p = plain(params)
        self.by_chat.setdefault(p["chatId"], []).append(p["text"])


@pytest_lsp.fixture(config=SERVER, params=CLIENTS)
async def client(
    lsp_client: LanguageClient, request: pytest.FixtureRequest, host: HostProcess
) -> AsyncIterator[None]:
    chunks = ChatChunks()

    def on_chunk(params: Any) -> None:
        chunks.add(params)

    lsp_client.feature("tandem/chatChunk")(on_chunk)
    lsp_client.chunks = chunks  # type: ignore[attr-defined]
    lsp_client.client_name = request.param  # type: ignore[attr-defined]
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(request.param),
            initialization_options=init_options(host.address),
            root_uri=ROOT.as_uri(),
        )
    )
    lsp_client.encoding = str(result.capabilities.position_encoding or "utf-16")  # type: ignore[attr-defined]
    lsp_client.server_capabilities = result.capabilities  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def initialize(
    lsp_client: LanguageClient, options: dict[str, Any], client: str = "visual-studio-code"
) -> types.InitializeResult:
    """Start `lsp_client`'s session as `client` would, with `options` as initializationOptions."""
    return await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(client),
            initialization_options=options,
            root_uri=ROOT.as_uri(),
        )
    )


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until `check()` holds (a notification arrived, say); fail after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still not true after {timeout}s")
        await asyncio.sleep(0.02)
