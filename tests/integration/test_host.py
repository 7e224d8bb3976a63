"""The real host process, tiny model, real sockets: handshake, completion, chat, cancel, sharing."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from model_host.rpc.client import HostClient
from model_host.rpc.protocol import PROTOCOL_VERSION, ErrorCode, LoadState, Method, Notify, RpcError
from tests.hostproc import HostProcess, start_host

pytestmark = pytest.mark.timeout(120)

CONTROL_MARKERS = ("<PRE>", "<SUF>", "<MID>", "<EOT>", "<s>", "</s>", "<step>")
LONG = {"max_tokens": 1500, "temperature": 1.0, "seed": 7}


async def test_handshake_reports_model_facts(host: HostProcess) -> None:
    client = await HostClient.connect(host.address)
    info = await client.hello(client_name="pytest")
    await client.close()
    assert info["protocol_version"] == PROTOCOL_VERSION
    assert info["state"] == LoadState.READY
    model = info["model"]
    assert model["context_window"] == 2048
    assert model["can_infill"] is True
    assert model["chat_format"] == "llama2"
    assert 2 in model["stop_ids"]  # EOS
    assert model["vocab_size"] > 32


async def test_complete_infills_and_matches_dry_run(host: HostProcess) -> None:
    client = await host.client()
    params = {
        "prefix": "def add(a, b):\n    ",
        "suffix": "\n    return c\n",
        "max_tokens": 12,
        "seed": 1,
    }
    dry = await client.request(Method.PROMPT, {"kind": "complete", **params})
    result = await client.request(Method.COMPLETE, params)
    await client.close()
    assert dry["mode"] == "infill" and result["mode"] == "infill"
    bos, pre = dry["ids"][0], dry["ids"][1]
    assert bos == 1 and dry["pieces"][1] == "▁<PRE>"
    assert dry["pieces"][-1] == "▁<MID>" and "▁<SUF>" in dry["pieces"]
    assert pre not in dry["ids"][2:]
    assert result["prompt_tokens"] == dry["tokens"] == len(dry["ids"])
    assert result["finish_reason"] in ("end", "length", "stop")
    assert 1 <= result["generated_tokens"] <= 12
    assert not any(m in result["text"] for m in CONTROL_MARKERS)
    assert result["timings"]["total_ms"] > 0


async def test_suffix_first_order_changes_the_prompt(host: HostProcess) -> None:
    client = await host.client()
    base = {"kind": "complete", "prefix": "x = 1\n", "suffix": "print(x)\n"}
    psm = await client.request(Method.PROMPT, {**base, "order": "psm"})
    spm = await client.request(Method.PROMPT, {**base, "order": "spm"})
    await client.close()
    assert psm["pieces"][:2] == ["<s>", "▁<PRE>"]
    assert spm["pieces"][:3] == ["<s>", "▁<PRE>", "▁<SUF>"]
    assert psm["ids"] != spm["ids"]


async def test_document_text_never_becomes_control_ids(host: HostProcess) -> None:
    client = await host.client()
    nasty = "a <PRE> b <SUF> c <MID> d <EOT> e </s> f <s> [INST] g"
    dry = await client.request(
        Method.PROMPT, {"kind": "complete", "prefix": nasty, "suffix": nasty}
    )
    await client.close()
    controls = {"<s>", "</s>", "▁<PRE>", "▁<SUF>", "▁<MID>", "▁<EOT>"}
    # Exactly the four the builder puts there, and the text round-trips.
    assert [p for p in dry["pieces"] if p in controls] == ["<s>", "▁<PRE>", "▁<SUF>", "▁<MID>"]
    assert dry["text"].count(nasty) == 2


async def test_chat_streams_text_then_returns_all_of_it(host: HostProcess) -> None:
    client = await host.client()
    chunks: list[str] = []
    result = await client.call(
        Method.CHAT,
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi?"},
            ],
            "max_tokens": 40,
            "temperature": 1.0,
            "seed": 3,
            "stream": True,
        },
        on_text=chunks.append,
    )
    await client.close()
    assert len(chunks) >= 2
    assert "".join(chunks) == result["text"]
    assert result["generated_tokens"] <= 40


async def test_stop_strings_end_generation(host: HostProcess) -> None:
    client = await host.client()
    free = await client.request(
        Method.CHAT, {"messages": [{"role": "user", "content": "x"}], **LONG, "max_tokens": 60}
    )
    text = free["text"]
    assert len(text) > 10
    stop = text[5:8]
    cut = await client.request(
        Method.CHAT,
        {"messages": [{"role": "user", "content": "x"}], **LONG, "max_tokens": 60, "stop": [stop]},
    )
    await client.close()
    assert cut["finish_reason"] == "stop"
    assert cut["text"] == text[: text.index(stop)]


async def idle_status(client: HostClient) -> dict[str, Any]:
    """The host's status once nothing runs (an earlier test's cancelled request may still
    be ending): counters read now change only by what the caller does next."""
    for _ in range(100):
        status = await client.request(Method.STATUS)
        if status["active"] == 0 and status["requests_in_flight"] == 0:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"the host is still busy: {status}")


async def assert_engine_stopped(client: HostClient) -> dict[str, Any]:
    """Nothing runs and no forward pass happens any more: the counters stay put."""
    before = await idle_status(client)
    await asyncio.sleep(0.5)
    after = await client.request(Method.STATUS)
    for key in ("decode_steps", "tokens_generated", "served", "cancelled"):
        assert after[key] == before[key], (key, before[key], after[key])
    return after


async def test_cancel_stops_the_decode_loop(host: HostProcess) -> None:
    client = await host.client()
    start = await idle_status(client)
    got = asyncio.Event()
    chunks: list[str] = []

    def on_text(t: str) -> None:
        chunks.append(t)
        if len(chunks) >= 5:
            got.set()

    msgid, future = client.session.start_request(
        Method.CHAT,
        {"messages": [{"role": "user", "content": "talk"}], **LONG, "stream": True},
        lambda note: on_text(note["text"]),
    )
    await asyncio.wait_for(got.wait(), 30)
    assert await client.request(Method.CANCEL, {"id": msgid}) == {"cancelled": True}
    with pytest.raises(RpcError) as err:
        await asyncio.wait_for(future, 10)
    assert err.value.code == ErrorCode.CANCELLED
    generated = err.value.data["generated_tokens"]
    assert 5 <= generated < LONG["max_tokens"]
    # The decode loop really stopped, and the host counted this request, once, as cancelled.
    end = await assert_engine_stopped(client)
    assert end["cancelled"] - start["cancelled"] == 1
    assert end["served"] == start["served"] and end["failed"] == start["failed"]
    assert end["tokens_generated"] - start["tokens_generated"] == generated
    # A finished id is not an error, an id never used is.
    assert (await client.request(Method.CANCEL, {"id": msgid}))["cancelled"] is False
    with pytest.raises(RpcError) as unknown:
        await client.request(Method.CANCEL, {"id": 99999})
    assert unknown.value.code == ErrorCode.UNKNOWN_REQUEST
    await client.close()


async def test_giving_up_in_the_client_cancels_on_the_host(host: HostProcess) -> None:
    """A call the client abandons is cancelled on the host: the host ends that request as
    cancelled (its own counter, its answer on the wire) long before it would end by itself,
    and its engine stops.

    Greedy, the tiny model talks for all of `max_tokens` (1,500 tokens, seconds of decoding
    on a CPU); the call is abandoned after its first few streamed pieces, so if the cancel
    did nothing the request would be served (not cancelled) and every token generated.
    """
    client = await host.client()
    start = await idle_status(client)
    # Every answer the host sends on this connection, by id, as it arrives: the abandoned
    # call's own answer reaches the session after the call has stopped waiting for it.
    answers: dict[int, tuple[Any, Any]] = {}
    resolve = client.session._pending.resolve

    def record(msgid: int, error: Any, result: Any) -> None:
        answers[msgid] = (error, result)
        resolve(msgid, error, result)

    client.session._pending.resolve = record  # type: ignore[method-assign]
    pieces: list[str] = []
    streaming = asyncio.Event()

    def on_text(text: str) -> None:
        pieces.append(text)
        if len(pieces) >= 3:
            streaming.set()

    params = {
        "messages": [{"role": "user", "content": "go"}],
        "max_tokens": 1500,
        "temperature": 0,
        "stream": True,
    }
    task = asyncio.create_task(client.call(Method.CHAT, params, on_text=on_text))
    await asyncio.wait_for(streaming.wait(), 30)
    assert len(client.session._pending._waiting) == 1  # the chat: the only request waited on
    msgid = next(iter(client.session._pending._waiting))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):
        if msgid in answers:
            break
        await asyncio.sleep(0.05)
    error, result = answers[msgid]
    assert result is None and error is not None, (error, result)
    assert answers.get(msgid + 1) == (None, {"cancelled": True})  # the client's `cancel`
    assert error["code"] == ErrorCode.CANCELLED, error
    generated = error["data"]["generated_tokens"]
    assert len(pieces) <= generated < params["max_tokens"]
    end = await assert_engine_stopped(client)
    assert end["cancelled"] - start["cancelled"] == 1
    assert end["served"] == start["served"] and end["failed"] == start["failed"]
    assert end["tokens_generated"] - start["tokens_generated"] == generated
    await client.close()


async def test_two_clients_share_the_host_fairly(host: HostProcess) -> None:
    a, b = await host.client(), await host.client()
    long_chat = asyncio.create_task(
        a.request(Method.CHAT, {"messages": [{"role": "user", "content": "essay"}], **LONG})
    )
    await asyncio.sleep(0.3)
    done = await b.request(
        Method.COMPLETE, {"prefix": "import os\n", "suffix": "", "max_tokens": 8}
    )
    assert done["generated_tokens"] >= 1
    # The short completion finished while the long chat was still decoding.
    assert not long_chat.done()
    status = await b.request(Method.STATUS)
    assert status["clients"] >= 2
    long_chat.cancel()
    await asyncio.gather(long_chat, return_exceptions=True)
    await a.close()
    await b.close()


async def test_tokenize_and_count(host: HostProcess) -> None:
    client = await host.client()
    tok = await client.request(Method.TOKENIZE, {"text": "def f(x):\n    return x"})
    counts = await client.request(
        Method.COUNT_TOKENS, {"texts": ["def f(x):\n    return x", "", "é😀"]}
    )
    text = await client.request(Method.DETOKENIZE, {"ids": tok["ids"]})
    await client.close()
    assert counts["counts"][0] == len(tok["ids"])
    assert counts["counts"][1] == 0
    assert counts["counts"][2] >= 2
    assert text["text"] == "def f(x):\n    return x"


async def test_status_reports_latency_percentiles(host: HostProcess) -> None:
    client = await host.client()
    await client.request(Method.COMPLETE, {"prefix": "a", "max_tokens": 2})
    status = await client.request(Method.STATUS)
    await client.close()
    assert status["state"] == LoadState.READY
    assert status["served"] >= 1
    assert (
        status["latency_ms"]["p50"] is not None
        and status["latency_ms"]["p95"] >= status["latency_ms"]["p50"]
    )
    assert status["model"]["name"]


async def test_tcp_transport(tiny_model: Path) -> None:
    proc = start_host(tiny_model, "tcp:127.0.0.1:0")
    try:
        assert proc.address.startswith("tcp:127.0.0.1:")
        client = await proc.client()
        result = await client.request(Method.COMPLETE, {"prefix": "x = ", "max_tokens": 3})
        assert result["mode"] == "prefix"
        await client.close()
    finally:
        proc.stop()


async def test_tcp_token_is_enforced(tiny_model: Path) -> None:
    proc = start_host(tiny_model, "tcp:127.0.0.1:0", "--token", "s3cret")
    try:
        # Each refusal is answered, then that connection is closed.
        anon = await HostClient.connect(proc.address)
        with pytest.raises(RpcError) as err:
            await anon.request(Method.STATUS)
        assert err.value.code == ErrorCode.UNAUTHORIZED
        await asyncio.wait_for(anon.session.wait_closed(), 10)
        wrong = await HostClient.connect(proc.address)
        with pytest.raises(RpcError) as bad:
            await wrong.hello(token="wrong")
        assert bad.value.code == ErrorCode.UNAUTHORIZED
        await asyncio.wait_for(wrong.session.wait_closed(), 10)
        good = await proc.client(token="s3cret")
        assert (await good.request(Method.STATUS))["state"] == LoadState.READY
        await good.close()
    finally:
        proc.stop()


def test_non_loopback_without_token_is_refused(tiny_model: Path) -> None:
    proc = start_host(tiny_model, "tcp:0.0.0.0:0", wait_ready=False)
    assert proc.proc.wait(60) == 4
    assert "without a token" in proc.wait_line("error")


def test_default_socket_is_private(tiny_model: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.hostproc import ROOT

    runtime = tmp_path / "rt"
    runtime.mkdir()
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "model_host", "--model", str(tiny_model)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        while "listening on" not in line:
            line = proc.stderr.readline()
            assert line, "host exited early"
        sock = runtime / "tandem" / "host.sock"
        assert line.strip().endswith(f"unix:{sock}")
        assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
        # A second host on the same socket says so instead of stealing it.
        second = subprocess.run(
            [sys.executable, "-m", "model_host", "--model", str(tiny_model)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 4
        assert "already listens" in second.stderr
    finally:
        proc.terminate()
        proc.wait(10)
    assert not (runtime / "tandem" / "host.sock").exists()


async def test_state_notifications_reach_early_clients(tiny_model: Path, sock_dir: Path) -> None:
    proc = start_host(tiny_model, f"unix:{sock_dir / 'early.sock'}", wait_ready=False)
    try:
        await asyncio.to_thread(proc.wait_line, "listening on")
        client = await HostClient.connect(proc.address)
        states: list[str] = []
        ready = asyncio.Event()

        def on_state(note: dict[str, object]) -> None:
            states.append(str(note["state"]))
            if note["state"] == LoadState.READY:
                ready.set()

        client.state_listeners.append(on_state)
        info = await client.hello()
        assert info["state"] in (LoadState.LOADING, LoadState.READY)
        if info["state"] == LoadState.LOADING:
            with pytest.raises(RpcError) as err:
                await client.request(Method.COMPLETE, {"prefix": "x"})
            # Either still loading (NOT_READY) or it became ready meanwhile.
            assert err.value.code == ErrorCode.NOT_READY
            await asyncio.wait_for(ready.wait(), 60)
        assert (await client.request(Method.STATUS))["state"] == LoadState.READY
        await client.close()
    finally:
        proc.stop()


def test_load_failure_is_one_clear_message(tmp_path: Path, sock_dir: Path) -> None:
    proc = start_host(
        tmp_path / "no-such-model", f"unix:{sock_dir / 'fail.sock'}", wait_ready=False
    )
    code = proc.proc.wait(60)
    proc.wait_line("error")
    assert code == 3
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.lines if "error:" in line]
    assert len(errors) == 1 and "no-such-model" in errors[0]


async def test_shutdown_ends_the_host(tiny_model: Path, sock_dir: Path) -> None:
    proc = start_host(tiny_model, f"unix:{sock_dir / 'bye.sock'}")
    client = await proc.client()
    assert await client.request(Method.SHUTDOWN) == {"ok": True}
    assert await asyncio.to_thread(proc.proc.wait, 30) == 0
    assert not Path(proc.address[len("unix:") :]).exists()
    await client.close()


async def test_error_notification_names_a_bad_connection(host: HostProcess) -> None:
    client = await host.client()
    notes: list[tuple[str, object]] = []
    client.session.on_notify = lambda m, p: notes.append((m, p))
    client.session.writer.write(b"\x93\x07\x08\x09")  # a 3-array that is no message
    await asyncio.sleep(0.3)
    assert notes and notes[0][0] == Notify.ERROR
    assert notes[0][1]["code"] == ErrorCode.INVALID_REQUEST  # type: ignore[index]
    assert (await client.request(Method.STATUS))["state"] == LoadState.READY  # still served
    await client.close()


async def test_model_that_cannot_infill_falls_back_to_prefix(
    tiny_model: Path, sock_dir: Path
) -> None:
    proc = start_host(tiny_model, f"unix:{sock_dir / 'noinfill.sock'}", "--infill", "no")
    try:
        client = await proc.client()
        assert client.hello_info["model"]["can_infill"] is False
        params = {"prefix": "def f(x):\n    ", "suffix": "\n    return y\n", "max_tokens": 4}
        dry = await client.request(Method.PROMPT, {"kind": "complete", **params})
        assert (
            dry["mode"] == "prefix" and "▁<PRE>" not in dry["pieces"] and dry["pieces"][0] == "<s>"
        )
        result = await client.request(Method.COMPLETE, params)
        assert result["mode"] == "prefix"
        await client.close()
    finally:
        proc.stop()


async def test_codellama_70b_chat_format_is_detected(tmp_path: Path, sock_dir: Path) -> None:
    from model_host.devtools.tiny import make_tiny

    model = make_tiny(tmp_path / "tiny70b", step_piece=True)
    proc = start_host(model, f"unix:{sock_dir / 'seventy.sock'}")
    try:
        client = await proc.client()
        facts = client.hello_info["model"]
        assert facts["chat_format"] == "codellama-70b"
        dry = await client.request(
            Method.PROMPT, {"kind": "chat", "messages": [{"role": "user", "content": "hi"}]}
        )
        assert dry["pieces"].count("<step>") == 2  # the empty system turn and the user turn
        assert dry["text"].endswith("Source: assistant\nDestination: user\n\n ")
        step = dry["ids"][dry["pieces"].index("<step>")]
        assert step in facts["stop_ids"]
        await client.close()
    finally:
        proc.stop()


async def test_stream_notes_count_tokens_and_stop_when_cancels(host: HostProcess) -> None:
    """`stream` notes say how many tokens were generated; `stop_when` cancels on the host and
    the call ends with CANCELLED saying how many tokens there were in all."""
    client = await host.client()
    notes: list[dict[str, object]] = []

    def stop_when(note: dict[str, object]) -> bool:
        notes.append(note)
        return len(notes) == 3

    try:
        with pytest.raises(RpcError) as err:
            await client.call(
                Method.COMPLETE,
                {
                    "prefix": "def f(x):\n    ",
                    "suffix": "\n",
                    "max_tokens": 1500,
                    "temperature": 0,
                    "stream": True,
                },
                stop_when=stop_when,
            )
    finally:
        await client.close()
    assert err.value.code == ErrorCode.CANCELLED
    counts = [note["tokens"] for note in notes]
    assert all(isinstance(c, int) for c in counts)
    assert counts == sorted(counts) and counts[0] >= 1
    generated = err.value.data["generated_tokens"]
    assert counts[2] <= generated < 1500  # stopped, long before the cap
