"""The LSP server and its host's life: auto-start with progress, a host killed mid-request, recovery."""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient, client_capabilities

from lsp_server.demo import plain
from model_host.rpc.client import HostClient
from model_host.rpc.protocol import Method
from tests.hostproc import ROOT, start_host
from tests.lsp.conftest import SERVER, eventually, init_options

pytestmark = pytest.mark.timeout(120)
REQUEST_FAILED = -32803
REQUEST_CANCELLED = -32800


@pytest.fixture
def sock() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tdh-") as d:
        yield Path(d) / "host.sock"


@pytest_lsp.fixture(config=SERVER)
async def fresh(lsp_client: LanguageClient) -> AsyncIterator[None]:
    chunks: list[str] = []

    def on_chunk(params: Any) -> None:
        chunks.append(plain(params)["text"])

    lsp_client.feature("tandem/chatChunk")(on_chunk)
    lsp_client.chunk_list = chunks  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def initialize(client: LanguageClient, options: dict[str, Any]) -> None:
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options=options,
            root_uri=ROOT.as_uri(),
        )
    )


async def wait_state(client: LanguageClient, state: str, timeout: float = 60) -> dict[str, Any]:
    for _ in range(int(timeout * 10)):
        status = plain(await client.protocol.send_request_async("tandem/status", {}))
        if status["host"].get("state") == state:
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"host never reached {state}: {status}")


def loading_reports(client: LanguageClient) -> list[list[Any]]:
    """The `$/progress` sequences of model loading, one per token (indexing the workspace, this
    repository, has its own)."""
    return [
        list(reports)
        for reports in client.progress_reports.values()
        if isinstance(reports[0], types.WorkDoneProgressBegin)
        and "loading model" in reports[0].title
    ]


async def test_auto_start_shows_progress(
    fresh: LanguageClient, tiny_model: Path, sock: Path
) -> None:
    lsp_client = fresh
    options = init_options(f"unix:{sock}")
    options["host"].update({"autoStart": True, "model": str(tiny_model)})
    await initialize(lsp_client, options)
    status = await wait_state(lsp_client, "ready")
    # The happy path interrupts nobody: the start is in the log and in $/progress only.
    assert lsp_client.messages == []
    assert any("starting the model host" in m.message for m in lsp_client.log_messages)
    reports = loading_reports(lsp_client)
    assert len(reports) == 1
    assert isinstance(reports[0][-1], types.WorkDoneProgressEnd)
    # The auto-started host logs next to its socket, every line; the status names the file.
    log_file = sock.with_suffix(".log")
    assert status["host"]["logFile"] == str(log_file)
    await eventually(lambda: "tandem-host: ready" in log_file.read_text())
    # The auto-started host is shared: a second client reaches it at the same address.
    host = await HostClient.connect(f"unix:{sock}")
    info = await host.hello()
    assert info["state"] == "ready"
    await host.request(Method.SHUTDOWN)
    await host.close()


async def test_host_killed_mid_request_then_recovered(
    fresh: LanguageClient, tiny_model: Path, sock: Path
) -> None:
    lsp_client = fresh
    host = start_host(tiny_model, f"unix:{sock}")
    try:
        options = init_options(f"unix:{sock}")
        options["chat"]["temperature"] = 1.0
        await initialize(lsp_client, options)
        await wait_state(lsp_client, "ready")
        uri = (sock.parent / "k.py").as_uri()
        lsp_client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text="def f(x):\n    "
                )
            )
        )
        chat = asyncio.ensure_future(
            lsp_client.protocol.send_request_async(
                "tandem/chat",
                {
                    "messages": [{"role": "user", "content": "long answer please"}],
                    "maxTokens": 1500,
                },
            )
        )
        for _ in range(500):
            if lsp_client.chunk_list or chat.done():  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.01)
        os.kill(host.proc.pid, signal.SIGKILL)
        host.proc.wait(10)
        with pytest.raises(JsonRpcException) as err:
            await asyncio.wait_for(chat, 10)  # fails fast, never hangs
        assert err.value.code == REQUEST_FAILED and "host" in err.value.message
        await eventually(
            lambda: any("lost the model host" in m.message for m in lsp_client.messages)
        )
        # While the host is down, ghost text is simply empty.
        result = await asyncio.wait_for(
            lsp_client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=1, character=4),
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Invoked
                    ),
                )
            ),
            10,
        )
        assert isinstance(result, types.InlineCompletionList) and not result.items
        # A new host on the same address: the server reconnects and serves again.
        host = start_host(tiny_model, f"unix:{sock}")
        await wait_state(lsp_client, "ready", timeout=30)
        assert any("connected to the model host" in m.message for m in lsp_client.messages)
        answer = plain(
            await asyncio.wait_for(
                lsp_client.protocol.send_request_async(
                    "tandem/chat", {"messages": [{"role": "user", "content": "hi"}], "maxTokens": 8}
                ),
                30,
            )
        )
        assert answer["generatedTokens"] >= 1
    finally:
        host.stop()


def host_starts(log_file: Path) -> int:
    """How many hosts were started with this log file (one header line each)."""
    if not log_file.exists():
        return 0
    return sum(line.startswith("=== ") for line in log_file.read_text().splitlines())


async def inline_empty(client: LanguageClient, uri: str) -> None:
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=1, character=4),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    assert isinstance(result, types.InlineCompletionList) and not result.items


async def test_a_model_that_cannot_load_is_not_restarted_until_fixed(
    fresh: LanguageClient, sock: Path
) -> None:
    lsp_client = fresh
    checkpoint = sock.parent / "ckpt"
    checkpoint.mkdir()  # a folder without a model in it (yet)
    options = init_options(f"unix:{sock}")
    options["host"].update({"autoStart": True, "model": str(checkpoint)})
    await initialize(lsp_client, options)
    status = await wait_state(lsp_client, "failed")
    assert "cannot read a model config" in status["host"]["error"]
    uri = (sock.parent / "f.py").as_uri()
    lsp_client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text="def f(x):\n    "
            )
        )
    )
    # Requests keep coming (an editor asks on every keystroke): none starts another host.
    for _ in range(15):
        t0 = time.monotonic()
        await inline_empty(lsp_client, uri)
        assert time.monotonic() - t0 < 2.0  # nothing to wait for: empty at once
        await asyncio.sleep(0.2)
    assert (await wait_state(lsp_client, "failed"))["host"]["state"] == "failed"
    log_file = sock.with_suffix(".log")
    assert host_starts(log_file) == 1
    # The reason reached the editor once, as an error; nothing else interrupted the user.
    assert [m.type for m in lsp_client.messages] == [types.MessageType.Error]
    assert "cannot read a model config" in lsp_client.messages[0].message
    assert str(log_file) in lsp_client.messages[0].message
    assert "tandem-host: error: cannot load" in log_file.read_text()
    assert "Traceback" not in log_file.read_text()

    # Fixing the checkpoint is noticed: the next request starts a host that loads it.
    from model_host.devtools.tiny import make_tiny

    await asyncio.to_thread(make_tiny, checkpoint)
    await wait_state(lsp_client, "ready", timeout=90)
    assert host_starts(log_file) == 2
    assert len(lsp_client.messages) == 1
    # Each loading got its own progress token, each begun and ended.
    loadings = loading_reports(lsp_client)
    assert len(loadings) == 2
    for reports in loadings:
        kinds = [type(r) for r in reports]
        assert kinds[-1] is types.WorkDoneProgressEnd, kinds
    await shut_down_host(sock)


async def test_new_settings_retry_a_failed_start_at_once(
    fresh: LanguageClient, tiny_model: Path, sock: Path
) -> None:
    lsp_client = fresh
    not_llama = sock.parent / "gpt2"
    not_llama.mkdir()
    (not_llama / "config.json").write_text('{"model_type": "gpt2"}')
    options = init_options(f"unix:{sock}")
    options["host"].update({"autoStart": True, "model": str(not_llama)})
    await initialize(lsp_client, options)
    status = await wait_state(lsp_client, "failed")
    assert "'gpt2' model" in status["host"]["error"]
    lsp_client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"tandem": {"host": {"model": str(tiny_model)}}}
        )
    )
    # No request needed: the new model starts loading as soon as the setting changes.
    status = await wait_state(lsp_client, "ready", timeout=90)
    assert status["model"]["name"]
    assert host_starts(sock.with_suffix(".log")) == 2
    assert len(lsp_client.messages) == 1  # the failure; the recovery needs no message
    await shut_down_host(sock)


async def test_a_new_address_starts_a_host_there_while_the_old_one_runs(
    fresh: LanguageClient, tiny_model: Path, sock: Path
) -> None:
    lsp_client = fresh
    options = init_options(f"unix:{sock}")
    options["host"].update({"autoStart": True, "model": str(tiny_model)})
    await initialize(lsp_client, options)
    await wait_state(lsp_client, "ready")
    moved = sock.parent / "moved.sock"
    lsp_client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"tandem": {"host": {"address": f"unix:{moved}"}}}
        )
    )
    # The host started for the old address idles on; one is started at the new one at once
    # (not after the old one exits by itself, minutes later).
    for _ in range(600):
        status = plain(await lsp_client.protocol.send_request_async("tandem/status", {}))
        if status["host"].get("state") == "ready" and moved.exists():
            break
        await asyncio.sleep(0.1)
    assert status["host"]["state"] == "ready" and moved.exists(), status
    assert host_starts(moved.with_suffix(".log")) == 1
    await shut_down_host(moved)
    await shut_down_host(sock)


async def shut_down_host(sock: Path) -> None:
    host = await HostClient.connect(f"unix:{sock}")
    await host.hello()
    await host.request(Method.SHUTDOWN)
    await host.close()


async def test_a_listener_that_never_says_hello_is_not_waited_on_forever(
    fresh: LanguageClient,
) -> None:
    lsp_client = fresh
    accepted: list[asyncio.StreamReader] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(reader)  # accepts, answers nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        await initialize(lsp_client, init_options(f"tcp:127.0.0.1:{port}"))
        uri = "file:///silent.py"
        lsp_client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text="x = "
                )
            )
        )
        started = asyncio.get_running_loop().time()
        result = await lsp_client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked),
                text_document=types.TextDocumentIdentifier(uri),
                position=types.Position(0, 4),
            )
        )
        status = plain(await lsp_client.protocol.send_request_async("tandem/status", {}))
        # An empty answer after the hello timeout, and the reason once, in the editor.
        assert (
            result is not None and list(result.items if hasattr(result, "items") else result) == []
        )
        assert asyncio.get_running_loop().time() - started < 25
        assert "did not answer as a model host" in status["host"]["error"]
        assert [m.message for m in lsp_client.messages] == [
            f"Tandem: tcp:127.0.0.1:{port} accepted the connection but did not answer as a "
            "model host in 10 s"
        ]
        # The server closed the connection it gave up on: reading it ends (at its hello).
        assert accepted
        for reader in accepted:
            await asyncio.wait_for(reader.read(), 5)
    finally:
        server.close()


async def test_settings_changed_while_a_start_fails_get_their_own_try(
    fresh: LanguageClient, tiny_model: Path, sock: Path
) -> None:
    lsp_client = fresh
    not_llama = sock.parent / "gpt2"
    not_llama.mkdir()
    (not_llama / "config.json").write_text('{"model_type": "gpt2"}')
    options = init_options(f"unix:{sock}")
    options["host"].update({"autoStart": True, "model": str(not_llama)})
    await initialize(lsp_client, options)
    # The new model arrives while the host for the old one is still starting (and failing):
    # that failure belongs to the old settings, never to the new ones.
    await eventually(lambda: sock.with_suffix(".log").exists())
    lsp_client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"tandem": {"host": {"model": str(tiny_model)}}}
        )
    )
    status = await wait_state(lsp_client, "ready", timeout=90)
    assert status["model"]["name"]
    await shut_down_host(sock)


def inline_request(
    client: LanguageClient, uri: str, line: int, character: int, msg_id: str | None = None
) -> asyncio.Future[list[str]]:
    async def ask() -> list[str]:
        result = await client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION,
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=character),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Invoked
                ),
            ),
            msg_id=msg_id,
        )
        assert isinstance(result, types.InlineCompletionList)
        return [str(item.insert_text) for item in result.items]

    return asyncio.ensure_future(ask())


async def cancelled(future: asyncio.Future[list[str]]) -> bool:
    try:
        await asyncio.wait_for(future, 5)
    except JsonRpcException as exc:
        return exc.code == REQUEST_CANCELLED
    return False


async def test_the_first_suggestion_waits_for_a_cold_start(
    fresh: LanguageClient, tiny_model: Path, sock: Path
) -> None:
    """Requests made while the server starts the host, and while the host loads its model,
    are answered once it is ready instead of coming back empty; while they wait, a
    `$/cancelRequest` or the next request for the same document still ends them."""
    lsp_client = fresh
    options = init_options(f"unix:{sock}")
    # The host holds its load until `gate` exists: a tiny model otherwise loads before a
    # poll of the server's status can see it loading.
    gate = sock.parent / "load-gate"
    options["host"].update(
        {
            "autoStart": True,
            "model": str(tiny_model),
            "requestTimeout": 90,
            "args": ["--test-hold-load", str(gate)],
        }
    )
    await initialize(lsp_client, options)
    text = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    "
    uris = [(sock.parent / f"cold{n}.py").as_uri() for n in range(4)]
    for uri in uris:
        lsp_client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            )
        )
    # Sent before the host listens: the server is still starting it.
    first = inline_request(lsp_client, uris[0], 5, 4)
    # Sent while the host, listening now, loads its model.
    await wait_state(lsp_client, "loading")
    assert not first.done(), "the first request was answered before the model was loaded"
    second = inline_request(lsp_client, uris[1], 5, 4)
    to_cancel = inline_request(lsp_client, uris[2], 5, 4, msg_id="cold-cancel")
    superseded = inline_request(lsp_client, uris[3], 5, 4)
    await asyncio.sleep(0.2)
    lsp_client.protocol.notify("$/cancelRequest", types.CancelParams(id="cold-cancel"))
    newest = inline_request(lsp_client, uris[3], 5, 4)  # the next keystroke in that document
    await asyncio.sleep(0.5)
    assert not (first.done() or second.done() or newest.done()), (
        "a request was answered while the model was loading"
    )
    gate.touch()
    assert await asyncio.wait_for(first, 90), "the first request after a cold start came back empty"
    assert await asyncio.wait_for(second, 90), (
        "a request made while the model loaded came back empty"
    )
    assert await asyncio.wait_for(newest, 90)
    assert await cancelled(to_cancel), "a cancelled request was not ended by its cancel"
    assert await cancelled(superseded), "a superseded request was not ended by the next one"


async def test_without_a_model_to_start_requests_fail_fast(
    fresh: LanguageClient, sock: Path
) -> None:
    """Nothing listens and no host.model: nothing to wait for, so ghost text is empty at once."""
    lsp_client = fresh
    options = init_options(f"unix:{sock}")
    options["host"].update({"autoStart": True, "requestTimeout": 60})
    await initialize(lsp_client, options)
    uri = (sock.parent / "none.py").as_uri()
    lsp_client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text="def f(x):\n    "
            )
        )
    )
    for _ in range(3):
        t0 = time.monotonic()
        assert await asyncio.wait_for(inline_request(lsp_client, uri, 1, 4), 60) == []
        assert time.monotonic() - t0 < 2.0
        await asyncio.sleep(0.3)  # past the first back-off step
