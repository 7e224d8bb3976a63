"""The real `tandem-lsp` + real host + tiny model, with VS Code's and Neovim's client capabilities."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import Future
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import JsonRPCRequestMessage
from pytest_lsp import LanguageClient, client_capabilities

from lsp_server.demo import plain
from lsp_server.items import ClientTraits
from model_host.rpc.client import HostClient
from model_host.rpc.protocol import Method
from tests.hostproc import HostProcess
from tests.lsp.conftest import eventually

pytestmark = pytest.mark.timeout(90)

CONTROL_MARKERS = ("<PRE>", "<SUF>", "<MID>", "<EOT>", "<s>", "</s>", "<step>", "[INST]")
INVALID_PARAMS = -32602


def units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def end_position(text: str, encoding: str) -> types.Position:
    lines = text.split("\n")
    return types.Position(line=len(lines) - 1, character=units(lines[-1], encoding))


def open_doc(client: LanguageClient, uri: str, language: str, text: str) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )


async def inline(
    client: LanguageClient, uri: str, pos: types.Position
) -> list[types.InlineCompletionItem]:
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=pos,
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    assert isinstance(result, types.InlineCompletionList)
    return list(result.items)


async def prompt(client: LanguageClient, uri: str, pos: types.Position) -> dict[str, Any]:
    return plain(
        await client.protocol.send_request_async(
            "tandem/prompt",
            {
                "textDocument": {"uri": uri},
                "position": {"line": pos.line, "character": pos.character},
            },
        )
    )


async def status(client: LanguageClient) -> dict[str, Any]:
    return plain(await client.protocol.send_request_async("tandem/status", {}))


CASES = [
    ("python", "a.py", "import os\n\n\ndef add(a, b):\n    ", "block"),
    ("python", "b.py", "def f(x):\n    return x\n\nvalue = f(", "line"),
    ("javascript", "c.js", "function greet(name) {\n  ", "block"),
    ("typescript", "d.ts", "export function sum(xs: number[]): number {\n  ", "block"),
    ("go", "e.go", "package main\n\nfunc main() {\n\t", "block"),
    ("rust", "f.rs", "fn main() {\n    let v = ", "line"),
    ("c", "g.c", "#include <stdio.h>\n\nint main(void) {\n    ", "block"),
    ("lua", "h.lua", "local function f(x)\n  ", "block"),
    ("plaintext", "notes.txt", "Things to do:\n- ", "line"),
]


@pytest.mark.parametrize(("language", "name", "text", "mode"), CASES, ids=[c[1] for c in CASES])
async def test_inline_completion_across_languages(
    client: LanguageClient, language: str, name: str, text: str, mode: str, tmp_path: Any
) -> None:
    uri = (tmp_path / name).as_uri()
    open_doc(client, uri, language, text)
    pos = end_position(text, client.encoding)  # type: ignore[attr-defined]
    plan = await prompt(client, uri, pos)
    assert plan["mode"] == mode
    assert plan["prefix"] == text and plan["suffix"] == "" and plan["wholeFile"]
    items = await inline(client, uri, pos)
    assert len(items) <= 1
    for item in items:
        assert item.range == types.Range(start=pos, end=pos)
        assert isinstance(item.insert_text, str) and item.insert_text.strip()
        assert not any(m in item.insert_text for m in CONTROL_MARKERS)
        if mode == "line":
            assert "\n" not in item.insert_text
        assert item.command is not None and item.command.command == "tandem.didAccept"


async def test_some_positions_get_suggestions(client: LanguageClient, tmp_path: Any) -> None:
    """The tiny model is noise, but over a few spots the server must produce ghost text."""
    got = 0
    for i, (language, name, text, _) in enumerate(CASES):
        uri = (tmp_path / f"{i}{name}").as_uri()
        open_doc(client, uri, language, text)
        got += len(await inline(client, uri, end_position(text, client.encoding)))  # type: ignore[attr-defined]
    assert got >= 3


async def test_typed_ahead_cache_answers_without_the_model(
    client: LanguageClient, tmp_path: Any
) -> None:
    uri = (tmp_path / "t.py").as_uri()
    text = "def add(a, b):\n    "
    open_doc(client, uri, "python", text)
    enc = client.encoding  # type: ignore[attr-defined]
    items = []
    for _ in range(3):
        items = await inline(client, uri, end_position(text, enc))
        if items and len(items[0].insert_text) > 2:  # type: ignore[arg-type]
            break
    if not items:
        pytest.skip("the random model gave nothing to type ahead into")
    suggestion = str(items[0].insert_text)
    before = (await status(client))["host"]["served"]
    typed = suggestion[:2]
    pos = end_position(text, enc)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=pos, end=pos), text=typed
                )
            ],
        )
    )
    rest = await inline(client, uri, end_position(text + typed, enc))
    assert [i.insert_text for i in rest] == [suggestion[2:]]
    after = await status(client)
    assert after["host"]["served"] == before  # no model call
    assert after["suggestions"]["cacheHits"] >= 1


async def test_emoji_and_cjk_before_the_cursor(client: LanguageClient, tmp_path: Any) -> None:
    uri = (tmp_path / "u.py").as_uri()
    enc = client.encoding  # type: ignore[attr-defined]
    assert enc == ("utf-8" if client.client_name == "neovim" else "utf-16")  # type: ignore[attr-defined]
    text = 's = "😀 漢字\tü"; t = '
    open_doc(client, uri, "python", text + "\n")
    pos = types.Position(line=0, character=units(text, enc))
    plan = await prompt(client, uri, pos)
    assert plan["prefix"] == text and plan["suffix"] == "\n"
    # Edits given in the client's units land where the client meant them.
    insert_at = types.Position(line=0, character=units('s = "😀', enc))
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=insert_at, end=insert_at), text="🎉"
                )
            ],
        )
    )
    new_text = 's = "😀🎉 漢字\tü"; t = '
    pos = types.Position(line=0, character=units(new_text, enc))
    assert (await prompt(client, uri, pos))["prefix"] == new_text
    for item in await inline(client, uri, pos):
        assert item.range == types.Range(start=pos, end=pos)


async def test_completion_fallback(client: LanguageClient, tmp_path: Any) -> None:
    """Neither client announces inline completion here, so `auto` serves completion items.

    Mid-word ("    ret"), the item's edit replaces the word with the word plus the
    suggestion, and its label and filterText start with the word: what eglot and Neovim's
    built-in completion need to keep what was typed (tests/editors prove it in them)."""
    uri = (tmp_path / "v.py").as_uri()
    text = "def add(a, b):\n    ret"
    open_doc(client, uri, "python", text)
    pos = end_position(text, client.encoding)  # type: ignore[attr-defined]
    result = None
    for _ in range(4):
        result = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=pos,
                context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked),
            )
        )
        if isinstance(result, types.CompletionList) and result.items:
            break
    assert isinstance(result, types.CompletionList)
    assert len(result.items) == 1
    item = result.items[0]
    edit = item.text_edit
    assert isinstance(edit, types.TextEdit)
    assert edit.range == types.Range(start=types.Position(line=1, character=4), end=pos)
    assert item.label.startswith("ret") and item.filter_text == item.label
    traits = ClientTraits.of(client_capabilities(client.client_name))  # type: ignore[attr-defined]
    snippets = traits.snippets  # both: yes; VS Code also keeps the text as is (insertTextMode)
    want = types.InsertTextFormat.Snippet if snippets else types.InsertTextFormat.PlainText
    assert item.insert_text_format == want
    assert (item.insert_text_mode == types.InsertTextMode.AsIs) == traits.as_is
    new_text = re.sub(r"\\(.)", r"\1", edit.new_text, flags=re.S) if snippets else edit.new_text
    assert new_text.startswith("ret") and len(new_text) > 3
    # Clients that complete only after a trigger character get some (Neovim's autotrigger).
    provider = client.server_capabilities.completion_provider  # type: ignore[attr-defined]
    assert {".", "(", " "} <= set(provider.trigger_characters)
    # Switched off by configuration: no items.
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"tandem": {"completion": {"fallback": "never"}}}
        )
    )
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos)
    )
    assert isinstance(result, types.CompletionList) and not result.items


async def test_streamed_chat(client: LanguageClient, tmp_path: Any) -> None:
    uri = (tmp_path / "w.py").as_uri()
    open_doc(client, uri, "python", "def square(x):\n    return x * x\n")
    result = plain(
        await client.protocol.send_request_async(
            "tandem/chat",
            {
                "messages": [{"role": "user", "content": "What does this do?"}],
                "context": {
                    "uri": uri,
                    "range": {
                        "start": {"line": 0, "character": 0},
                        "end": {"line": 2, "character": 0},
                    },
                },
                "chatId": "c1",
                "maxTokens": 24,
            },
        )
    )
    await asyncio.sleep(0.1)
    chunks = client.chunks.by_chat["c1"]  # type: ignore[attr-defined]
    assert result["chatId"] == "c1"
    assert len(chunks) >= 2 and "".join(chunks) == result["text"]
    assert result["generatedTokens"] <= 24 and result["promptTokens"] > 20


async def test_selection_command(client: LanguageClient, tmp_path: Any) -> None:
    uri = (tmp_path / "x.py").as_uri()
    open_doc(client, uri, "python", "def inc(x):\n    return x + 1\n")
    result = plain(
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="tandem.explain",
                arguments=[
                    {
                        "uri": uri,
                        "range": {
                            "start": {"line": 0, "character": 0},
                            "end": {"line": 1, "character": 16},
                        },
                        "chatId": "e1",
                    }
                ],
            )
        )
    )
    await asyncio.sleep(0.1)
    assert result["chatId"] == "e1"
    assert "".join(client.chunks.by_chat["e1"]) == result["text"]  # type: ignore[attr-defined]
    with pytest.raises(JsonRpcException):
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="tandem.fix", arguments=["not an object"])
        )


async def test_cancellation_reaches_the_host(
    client: LanguageClient, host: HostProcess, tmp_path: Any
) -> None:
    watcher = await HostClient.connect(host.address)
    await watcher.hello()
    cancelled_before = (await watcher.request(Method.STATUS))["cancelled"]
    # Sampled, so the random model does not settle on end-of-text; retried if it ends anyway.
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"tandem": {"chat": {"temperature": 1.0}}})
    )
    err = None
    for attempt in range(3):
        chat_id = f"long{attempt}"
        future = asyncio.ensure_future(
            client.protocol.send_request_async(
                "tandem/chat",
                {
                    "messages": [{"role": "user", "content": "write a long essay"}],
                    "chatId": chat_id,
                    "maxTokens": 1500,
                },
                msg_id=f"chat-to-cancel-{attempt}",
            )
        )
        for _ in range(500):
            if client.chunks.by_chat.get(chat_id) or future.done():  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.01)
        client.protocol.notify(
            "$/cancelRequest", types.CancelParams(id=f"chat-to-cancel-{attempt}")
        )
        try:
            await asyncio.wait_for(future, 10)
        except JsonRpcException as exc:
            err = exc
            break
    assert err is not None and err.code == -32800  # RequestCancelled
    for _ in range(50):
        host = await watcher.request(Method.STATUS)
        if host["active"] == 0 and host["cancelled"] > cancelled_before:
            break
        await asyncio.sleep(0.1)
    assert host["cancelled"] > cancelled_before and host["active"] == 0
    steps = host["decode_steps"]
    await asyncio.sleep(0.4)
    assert (await watcher.request(Method.STATUS))["decode_steps"] == steps
    await watcher.close()


async def test_configuration_changes(client: LanguageClient, tmp_path: Any) -> None:
    uri = (tmp_path / "y.py").as_uri()
    text = "def add(a, b):\n    "
    open_doc(client, uri, "python", text)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={
                "tandem": {
                    "completion": {"debounceMs": "soon", "maxTokensLine": -3, "enable": False}
                }
            }
        )
    )
    await eventually(lambda: any("Tandem settings" in m.message for m in client.messages))
    warning = [m.message for m in client.messages if "Tandem settings" in m.message]
    assert warning and "debounceMs" in warning[-1] and "maxTokensLine" in warning[-1]
    assert await inline(client, uri, end_position(text, client.encoding)) == []  # type: ignore[attr-defined]
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"tandem": {"completion": {"enable": True, "maxTokensBlock": 4}}}
        )
    )
    plan = await prompt(client, uri, end_position(text, client.encoding))  # type: ignore[attr-defined]
    assert plan["maxTokens"] == 4
    assert (await status(client))["host"]["state"] == "ready"


async def test_bad_requests_get_errors_and_the_server_lives(
    client: LanguageClient, tmp_path: Any
) -> None:
    uri = (tmp_path / "z.py").as_uri()
    open_doc(client, uri, "python", "x = 1\n")
    with pytest.raises(JsonRpcException) as unknown:
        await inline(
            client, (tmp_path / "never-opened.py").as_uri(), types.Position(line=0, character=0)
        )
    assert unknown.value.code == INVALID_PARAMS
    with pytest.raises(JsonRpcException) as past:
        await inline(client, uri, types.Position(line=99, character=0))
    assert past.value.code == INVALID_PARAMS
    # Params of the wrong type (sent raw, past the client's own typing): stock pygls
    # would never answer this one.
    answer: Future[Any] = Future()
    client.protocol._request_futures["bad-types"] = answer
    client.protocol._send_data(
        JsonRPCRequestMessage(
            id="bad-types",
            method="textDocument/inlineCompletion",
            jsonrpc="2.0",
            params={
                "textDocument": {"uri": uri},
                "position": "nowhere",
                "context": {"triggerKind": 1},
            },
        )
    )
    with pytest.raises(JsonRpcException) as wrong:
        await asyncio.wait_for(asyncio.wrap_future(answer), 10)
    assert wrong.value.code == INVALID_PARAMS
    assert "textDocument/inlineCompletion" in wrong.value.message
    for bad in (
        {"messages": "hi"},
        {"messages": [{"role": "robot", "content": "x"}]},
        {"messages": []},
        {"messages": [{"role": "user", "content": "x"}], "context": {"uri": 5}},
    ):
        with pytest.raises(JsonRpcException) as chat_err:
            await client.protocol.send_request_async("tandem/chat", bad)
        assert chat_err.value.code == INVALID_PARAMS
    # Past the end of a line is clamped (LSP), not an error.
    items = await inline(client, uri, types.Position(line=0, character=500))
    assert all(i.range.start == types.Position(line=0, character=5) for i in items)  # type: ignore[union-attr]
    assert (await status(client))["server"]["documents"] >= 1


def big_python_file(functions: int = 2500) -> str:
    """About 20,000 lines: imports, then many small functions."""
    head = "import os\nimport sys\nfrom pathlib import Path\n\n\n"
    body = "".join(
        f"def func_{i}(x, y):\n    total = x + y * {i}\n    if total > {i}:\n        return total\n"
        "    return -total\n\n\n\n"
        for i in range(functions)
    )
    return head + body


async def test_twenty_thousand_line_file(client: LanguageClient, tmp_path: Any) -> None:
    text = big_python_file()
    lines = text.split("\n")
    assert len(lines) >= 20_000
    uri = (tmp_path / "big.py").as_uri()
    open_doc(client, uri, "python", text)
    target = lines.index("def func_1250(x, y):")
    pos = types.Position(line=target + 1, character=4)  # inside func_1250, after the indent
    plan = await prompt(client, uri, pos)
    assert not plan["wholeFile"]
    assert plan["prefixTokens"] + plan["suffixTokens"] <= plan["budgetTokens"]
    assert plan["droppedPrefixLines"] and plan["droppedSuffixLines"]
    assert plan["prefix"].startswith(
        "import os\nimport sys\nfrom pathlib import Path\n"
    )  # header kept
    assert plan["prefix"].endswith(
        "def func_1250(x, y):\n    "
    )  # the text at the cursor is never clipped
    items = await asyncio.wait_for(inline(client, uri, pos), 30)
    assert len(items) <= 1
    # An incremental edit far away is seen by the next request, in step with the tree.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=target, character=4),
                        end=types.Position(line=target, character=13),
                    ),
                    text="renamed",
                )
            ],
        )
    )
    plan = await prompt(client, uri, pos)
    assert plan["prefix"].endswith("def renamed(x, y):\n    ")


async def test_new_request_supersedes_the_one_in_flight(
    client: LanguageClient, tmp_path: Any
) -> None:
    uri = (tmp_path / "s.py").as_uri()
    text = "def add(a, b):\n    "
    open_doc(client, uri, "python", text)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"tandem": {"completion": {"debounceMs": 3000}}}
        )
    )
    pos = end_position(text, client.encoding)  # type: ignore[attr-defined]
    # An automatic trigger waits out the debounce; an explicit one goes at once and replaces it.
    first = asyncio.ensure_future(
        client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=pos,
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Automatic
                ),
            )
        )
    )
    await asyncio.sleep(0.3)
    second = await asyncio.wait_for(inline(client, uri, pos), 10)
    with pytest.raises(JsonRpcException) as err:
        await asyncio.wait_for(first, 1)  # long before its debounce would have ended
    assert err.value.code == -32800  # RequestCancelled
    assert len(second) <= 1
