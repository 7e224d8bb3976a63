"""The decode stops when the suggestion is decided: real `tandem-lsp`, real host, a tiny model.

The model's output is fixed by its weights, so every request is decided at a known piece
and the test needs no luck: after any token but `x` it writes `x`, after `x` it writes `)`
(`x)x)x)…`, never a newline, never end-of-text). At the rest of a line whose closing bracket
the editor already shows, the first `)` decides the suggestion (`x`); the LSP then cancels
the host request, and the host must end that request as *cancelled* (its own `status`
counters say how each request ended), after generating about one token more than the
decision (the step in flight when the stop arrived). Left alone, each request would run to
its token cap. A block spot, where nothing in `x)x)…` decides, is the control: it runs to
its cap and the host counts it served.

The checkpoint is the tiny one made wider, so that one decode step on this CPU takes about
what a real model's step takes on a GPU (tens of milliseconds): the stop has to travel LSP
-> socket -> host between two steps, as it does in production.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_server.demo import plain
from tests.hostproc import HostProcess, start_host
from tests.lsp.conftest import SERVER, init_options, initialize

pytestmark = pytest.mark.timeout(240)

# Line spots: the first `)` the model writes closes the call the editor shows.
SPOTS = [
    ("python", "def f(a):\n    return compute(a, █)\n"),
    ("javascript", "function f(a) {\n  return compute(a, █);\n}\n"),
    ("c", "int f(int a) {\n    return compute(a, █);\n}\n"),
    ("go", "func f(a int) int {\n\treturn compute(a, █)\n}\n"),
    ("python", "print(█)\n"),
]
# A block body: `x)x)…` never ends it, so it runs to the block's token cap.
UNDECIDED = ("python", "def f(a):\n    █\n")
LINE_CAP, BLOCK_CAP = 200, 12


def scripted_checkpoint(out: Path) -> Path:
    """The wide tiny checkpoint with weights that make it write `x)x)x)…` after any prompt.

    Every layer's output projections are zero, so the last hidden state is the last token's
    embedding: `x` embeds as one basis vector, every other token as another, and the output
    head maps the first to `)` and the second to `x` (logits about 22 against 0: greedy and
    sampled alike pick them)."""
    import torch
    from safetensors.torch import load_file, save_file

    from model_host.devtools.shapes import Shape
    from model_host.devtools.tiny import make_tiny
    from model_host.text.tokenizer import load_tokenizer

    model = make_tiny(
        out, shape=Shape(hidden=512, layers=8, heads=8, kv_heads=8, intermediate=1536, vocab=2000)
    )
    tokenizer = load_tokenizer(model)
    x, close = tokenizer.piece_id("x"), tokenizer.piece_id(")")
    assert x is not None and close is not None
    weights = load_file(model / "model.safetensors")
    for name, tensor in weights.items():
        if name.endswith(("self_attn.o_proj.weight", "mlp.down_proj.weight")):
            tensor.zero_()
    embed, head = weights["model.embed_tokens.weight"], weights["lm_head.weight"]
    embed.zero_()
    embed[:, 0] = 1.0
    embed[x, 0], embed[x, 1] = 0.0, 1.0
    head.zero_()
    head[x, 0] = 1.0  # after anything but `x`: `x`
    head[close, 1] = 1.0  # after `x`: `)`
    weights["model.norm.weight"] = torch.ones_like(weights["model.norm.weight"])
    save_file(weights, model / "model.safetensors", metadata={"format": "pt"})
    return model


@pytest.fixture(scope="module")
def slow_host(tmp_path_factory: pytest.TempPathFactory, sock_dir: Path) -> Iterator[HostProcess]:
    model = scripted_checkpoint(tmp_path_factory.mktemp("scripted") / "model")
    host = start_host(model, f"unix:{sock_dir / 'wide.sock'}", "--threads", "1")
    yield host
    host.stop()


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, slow_host: HostProcess) -> AsyncIterator[None]:
    options = init_options(slow_host.address, maxTokensLine=LINE_CAP)  # greedy
    options["completion"]["maxTokensBlock"] = BLOCK_CAP
    await initialize(lsp_client, options)
    yield
    await lsp_client.shutdown_session()


def _position(text: str, offset: int) -> types.Position:
    line = text.count("\n", 0, offset)
    column = len(text[text.rfind("\n", 0, offset) + 1 : offset].encode("utf-16-le")) // 2
    return types.Position(line=line, character=column)


async def _status(client: LanguageClient) -> dict[str, Any]:
    return plain(await client.protocol.send_request_async("tandem/status", {}))


async def _suggest(client: LanguageClient, uri: str, language: str, marked: str) -> str:
    offset = marked.index("█")
    text = marked.replace("█", "")
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )
    reply = await asyncio.wait_for(
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
    items = reply.items if isinstance(reply, types.InlineCompletionList) else reply or []
    return "".join(str(item.insert_text) for item in items)


async def test_decode_stops_within_a_token_of_the_decision(
    client: LanguageClient, tmp_path: Path
) -> None:
    start = await _status(client)
    for number, (language, marked) in enumerate(SPOTS):
        uri = (tmp_path / f"s{number}.{language}").as_uri()
        assert await _suggest(client, uri, language, marked) == "x", (language, marked)
    decided = await _status(client)
    stops = decided["suggestions"]["stoppedAtDecision"] - start["suggestions"]["stoppedAtDecision"]
    discarded = decided["suggestions"]["discardedTokens"] - start["suggestions"]["discardedTokens"]
    generated = decided["host"]["tokens_generated"] - start["host"]["tokens_generated"]
    print(
        f"decode stop: {stops} stopped, {discarded} tokens after the decisions, {generated} in all"
    )
    # Every request was decided, and the host itself ended each one as cancelled.
    assert stops == len(SPOTS), decided["suggestions"]
    assert decided["host"]["cancelled"] - start["host"]["cancelled"] == len(SPOTS), decided["host"]
    assert decided["host"]["served"] == start["host"]["served"], decided["host"]
    # Decided at the second token; about one more per request: the step in flight when the
    # stop arrived (left alone, each would have run to LINE_CAP tokens).
    assert discarded <= 2 * len(SPOTS), decided["suggestions"]
    assert generated <= (2 + 2) * len(SPOTS), decided["host"]

    # The control: nothing decides a block body of `x)x)…`; it runs to its cap, served.
    language, marked = UNDECIDED
    await _suggest(client, (tmp_path / "block.py").as_uri(), language, marked)
    end = await _status(client)
    assert end["suggestions"]["stoppedAtDecision"] == decided["suggestions"]["stoppedAtDecision"]
    assert end["host"]["cancelled"] == decided["host"]["cancelled"], end["host"]
    assert end["host"]["served"] - decided["host"]["served"] == 1, end["host"]
    assert end["host"]["tokens_generated"] - decided["host"]["tokens_generated"] == BLOCK_CAP
