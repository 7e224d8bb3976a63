"""The decode stops when the suggestion is decided: real `tandem-lsp`, real host, tiny model.

The tiny model writes noise, so the test asks at spots where noise soon decides a
suggestion: the rest of a line whose closing bracket the editor already shows (the first `)`
the model writes that closes it ends the suggestion) and block bodies (a closing brace or a
dedented line ends them). For every request the LSP stopped, it counts the tokens the host
generated after the piece that decided it (`tandem/status`: discardedTokens).

The checkpoint is the tiny one made wider, so that one decode step on this CPU takes about
what a real model's step takes on a GPU (tens of milliseconds): the stop has to travel LSP
-> socket -> host between two steps, as it does in production. (The default tiny model
decodes a token in under a millisecond, faster than any inter-process round trip.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from lsp_server.demo import plain
from tests.hostproc import HostProcess, start_host
from tests.lsp.conftest import SERVER, init_options
from tests.paths import ROOT

pytestmark = pytest.mark.timeout(240)

SPOTS = [
    ("python", "def f(a):\n    return compute(a, █)\n"),
    ("javascript", "function f(a) {\n  return compute(a, █);\n}\n"),
    ("c", "int f(int a) {\n    return compute(a, █);\n}\n"),
    ("go", "func f(a int) int {\n\treturn compute(a, █)\n}\n"),
    ("python", "def f(a):\n    █\n\n\ndef g():\n    pass\n"),
    ("javascript", "function f(a) {\n  █\n}\n"),
]


@pytest.fixture(scope="module")
def slow_host(tmp_path_factory: pytest.TempPathFactory, sock_dir: Path) -> Iterator[HostProcess]:
    from model_host.shapes import Shape
    from model_host.tiny import make_tiny

    model = make_tiny(
        tmp_path_factory.mktemp("wide") / "model",
        shape=Shape(hidden=512, layers=8, heads=8, kv_heads=8, intermediate=1536, vocab=2000),
    )
    host = start_host(model, f"unix:{sock_dir / 'wide.sock'}", "--threads", "1")
    yield host
    host.stop()


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, slow_host: HostProcess) -> AsyncIterator[None]:
    options = init_options(slow_host.address, temperature=1.0, maxTokensLine=200)
    options["completion"]["maxTokensBlock"] = 200
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options=options,
            root_uri=ROOT.as_uri(),
        )
    )
    yield
    await lsp_client.shutdown_session()


def _position(text: str, offset: int) -> types.Position:
    line = text.count("\n", 0, offset)
    column = len(text[text.rfind("\n", 0, offset) + 1 : offset].encode("utf-16-le")) // 2
    return types.Position(line=line, character=column)


async def _status(client: LanguageClient) -> dict[str, Any]:
    return plain(await client.protocol.send_request_async("tandem/status", {}))


async def test_decode_stops_within_a_token_of_the_decision(
    client: LanguageClient, tmp_path: Path
) -> None:
    stopped = 0
    for attempt in range(8):
        for number, (language, marked) in enumerate(SPOTS):
            offset = marked.index("█")
            text = marked.replace("█", "")
            uri = (tmp_path / f"s{attempt}-{number}.{language}").as_uri()
            client.text_document_did_open(
                types.DidOpenTextDocumentParams(
                    text_document=types.TextDocumentItem(
                        uri=uri, language_id=language, version=1, text=text
                    )
                )
            )
            await asyncio.wait_for(
                client.text_document_inline_completion_async(
                    types.InlineCompletionParams(
                        text_document=types.TextDocumentIdentifier(uri=uri),
                        position=_position(text, offset),
                        context=types.InlineCompletionContext(
                            trigger_kind=types.InlineCompletionTriggerKind.Invoked
                        ),
                    )
                ),
                60,
            )
        stopped = (await _status(client))["suggestions"]["stoppedAtDecision"]
        if stopped >= 5:
            break
    stats = (await _status(client))["suggestions"]
    print("decode-stop stats:", stats, "attempts:", attempt + 1)
    assert stats["stoppedAtDecision"] >= 5, stats
    # About one token per stopped request: the step in flight when the stop arrived.
    assert stats["discardedTokens"] <= 2 * stats["stoppedAtDecision"], stats
    assert stats["generatedTokens"] > stats["discardedTokens"]
