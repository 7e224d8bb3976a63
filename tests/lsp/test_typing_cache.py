"""Typing through the real `tandem-lsp`: each keystroke's prompt reuses the host's cache of the last."""

from __future__ import annotations

from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_server.demo import plain
from tests.lsp.test_lsp import end_position, inline, open_doc

pytestmark = pytest.mark.timeout(90)

HELPERS = "".join(
    f"def helper_{i}(value):\n    scaled = value * {i + 2}\n    return scaled - {i}\n\n\n"
    for i in range(120)
)


async def status(client: LanguageClient) -> dict[str, Any]:
    return plain(await client.protocol.send_request_async("tandem/status", {}))


async def test_keystrokes_recompute_only_what_changed(
    client: LanguageClient, tmp_path: Any
) -> None:
    uri = (tmp_path / "typing.py").as_uri()
    text = "import os\n\n\n" + HELPERS + "def target(items):\n    total = "
    open_doc(client, uri, "python", text)
    await inline(client, uri, end_position(text, client.encoding))  # type: ignore[attr-defined]
    version = 1
    recomputed = []
    for char in "len(items)":
        version += 1
        pos = end_position(text, client.encoding)  # type: ignore[attr-defined]
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
        before = await status(client)
        await inline(client, uri, end_position(text, client.encoding))  # type: ignore[attr-defined]
        after = await status(client)
        if after["suggestions"]["cacheHits"] > before["suggestions"]["cacheHits"]:
            continue  # the typed-ahead cache answered: no model call to look at
        timings = after["suggestions"]["lastHostTimings"]
        assert timings["prompt_tokens"] > 1000  # the file fits the tiny model's window
        recomputed.append(timings["prompt_tokens"] - timings["cached_tokens"])
        # The workspace (this repository) is indexed: a keystroke that completes a name the
        # index finds (`len(`) may bring a new cross-file header, recomputed from it on.
        header_changed = (
            after["crossFile"]["headersSelected"] > before["crossFile"]["headersSelected"]
        )
        if not header_changed:
            assert recomputed[-1] <= 8, (char, recomputed)
    assert recomputed and sorted(recomputed)[len(recomputed) // 2] <= 8, recomputed
    assert (await status(client))["suggestions"]["recomputedTokens"]["p50"] <= 8
    # The server's own time per suggestion, by phase: the phases make up the whole, and its
    # own time is the whole less the waits on the host.
    cost = (await status(client))["suggestions"]["serverCost"]
    assert cost["count"] >= len(recomputed) and cost["ownMs"]["p50"] is not None
    last = cost["last"]
    phases = ("context", "tokens", "host", "shaping", "other")
    assert abs(sum(last[k] for k in phases) - last["totalMs"]) < 0.01, last
    assert abs(last["ownMs"] - (last["totalMs"] - last["tokens"] - last["host"])) < 0.01, last
    assert last["host"] > 0 and last["tokens"] > 0 and last["context"] > 0, last
    assert last["shaping"] > 0 and last["cpuMs"] > 0, last
    # CPU time by phase: the phases make up the whole request's, the own ones `ownCpuMs`.
    cpu = last["cpuPhasesMs"]
    assert abs(sum(cpu[k] for k in phases) - last["cpuMs"]) < 0.01, last
    assert abs(last["ownCpuMs"] - (last["cpuMs"] - cpu["tokens"] - cpu["host"])) < 0.01, last
    assert cpu["context"] > 0 and cpu["shaping"] > 0, last
    assert cost["ownCpuMs"]["p50"] is not None
