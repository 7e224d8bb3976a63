"""The real `tandem-host --engine vllm` process against a fake vLLM: start-up checks, protocol, no torch.

The fake answers in milliseconds and fails on demand, so these run in every
tier; tests/vllm/test_real_vllm.py repeats the main paths against a real vLLM.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from model_host.devtools.tiny import train_tiny_tokenizer
from model_host.rpc.protocol import ErrorCode, Method, RpcError
from model_host.text.tokenizer import SentencePieceTokenizer, Tokenizer, load_tokenizer
from tests.hostproc import HostProcess, run_host_cli, start_host
from tests.vllm.conftest import write_tokenizer_only
from tests.vllm.fake_vllm import FakeVllm

pytestmark = pytest.mark.timeout(120)

HEAVY = ("torch", "transformers", "accelerate", "numpy")


@pytest.fixture(scope="module")
def tok(tokenizer_only_model: Path) -> Tokenizer:
    return load_tokenizer(tokenizer_only_model)


@pytest.fixture(scope="module")
def fake(tok: Tokenizer) -> Iterator[FakeVllm]:
    server = FakeVllm(tok, max_model_len=1024).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def vhost(tokenizer_only_model: Path, fake: FakeVllm) -> Iterator[HostProcess]:
    """A host on the fake, started with -X importtime: its stderr lists every module it imports."""
    host = start_host(
        tokenizer_only_model,
        "tcp:127.0.0.1:0",
        "--engine",
        "vllm",
        "--vllm-url",
        fake.url,
        "--vllm-timeout",
        "2",
        python_args=("-X", "importtime"),
    )
    yield host
    host.stop()


def imported(host: HostProcess) -> set[str]:
    """Top-level packages the host process imported (from its -X importtime lines)."""
    names = set()
    for line in host.lines:
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


async def test_serves_the_protocol_without_weights_or_torch(
    vhost: HostProcess, fake: FakeVllm, tok: Tokenizer
) -> None:
    client = await vhost.client()
    info = client.hello_info
    assert info["engine"] == "vllm"
    # The window is vLLM's max_model_len (1024), not the checkpoint's 2048.
    assert info["model"]["context_window"] == 1024
    fake.mode, fake.ids, fake.finish = "ok", tok.encode("return a + b"), "length"
    streamed: list[str] = []
    params = {
        "prefix": "def f(a, b):\n    ",
        "suffix": "\n",
        "max_tokens": 32,
        "temperature": 0,
        "document": "file:///f.py",
        "stream": True,
    }
    result = await client.call(Method.COMPLETE, params, on_text=streamed.append)
    dry = await client.request(Method.PROMPT, {"kind": "complete", **params})
    assert fake.requests[-1]["prompt"] == dry["ids"]  # exactly Tandem's ids went out
    # Text made by Tandem from the ids (the fake's own "text" fields say IGNORED).
    assert result["text"] == tok.decode_infilling(fake.ids) and "IGNORED" not in result["text"]
    assert "".join(streamed) == result["text"]
    assert result["timings"]["cached_tokens"] == 3
    counts = await client.request(Method.COUNT_TOKENS, {"texts": ["a b c", ""]})
    assert counts["counts"] == [len(tok.encode("a b c")), 0]
    status = await client.request(Method.STATUS)
    replica = status["engine"]["replicas"][0]
    assert replica["url"] == fake.url and replica["state"] == "ready"
    assert replica["latency_ms"] is not None and replica["served"] >= 1
    await client.close()
    loaded = imported(vhost)
    assert "httpx" in loaded and "model_host" in loaded  # the importtime lines are there
    assert not loaded & set(HEAVY), f"the host imported {sorted(loaded & set(HEAVY))}"


async def test_window_and_engine_errors_reach_the_client(
    vhost: HostProcess, fake: FakeVllm
) -> None:
    client = await vhost.client()
    with pytest.raises(RpcError) as overflow:
        await client.request(Method.COMPLETE, {"prefix": "x " * 1100, "max_tokens": 4})
    assert overflow.value.code == ErrorCode.CONTEXT_OVERFLOW
    fake.mode = "http500"
    try:
        with pytest.raises(RpcError) as failed:
            await client.request(Method.CHAT, {"messages": [{"role": "user", "content": "hi"}]})
    finally:
        fake.mode = "ok"
    assert failed.value.code == ErrorCode.ENGINE_UNAVAILABLE
    assert "HTTP 500: EngineCore died" in failed.value.message
    assert "Traceback" not in failed.value.message
    await client.close()


async def test_cancel_closes_the_stream_to_vllm(vhost: HostProcess, fake: FakeVllm) -> None:
    client = await vhost.client()
    fake.ids, fake.delay_s = list(range(100, 600)), 0.02
    closed = fake.closed_early
    got = asyncio.Event()
    try:
        msgid, future = client.session.start_request(
            Method.CHAT,
            {"messages": [{"role": "user", "content": "go"}], "max_tokens": 500, "stream": True},
            lambda note: got.set(),
        )
        await asyncio.wait_for(got.wait(), 10)
        assert await client.request(Method.CANCEL, {"id": msgid}) == {"cancelled": True}
        with pytest.raises(RpcError) as err:
            await asyncio.wait_for(future, 10)
        assert err.value.code == ErrorCode.CANCELLED
        deadline = asyncio.get_running_loop().time() + 10
        while fake.closed_early == closed:  # the fake saw the connection go
            assert asyncio.get_running_loop().time() < deadline, "the stream was never closed"
            await asyncio.sleep(0.05)
    finally:
        fake.ids, fake.delay_s = [5, 6, 7], 0.0
    await client.close()


async def test_a_vllm_without_prompt_token_details_is_named_once_in_log_and_status(
    vhost: HostProcess, fake: FakeVllm
) -> None:
    client = await vhost.client()
    fake.cached_tokens = None  # vLLM started without --enable-prompt-tokens-details
    try:
        for n in range(2):
            result = await client.request(Method.COMPLETE, {"prefix": f"x{n} = ", "max_tokens": 3})
            assert result["timings"]["cached_tokens"] == 0
        status = await client.request(Method.STATUS)
    finally:
        fake.cached_tokens = 3
    warnings = status["engine"]["warnings"]
    assert len(warnings) == 1 and "--enable-prompt-tokens-details" in warnings[0]
    assert status["engine"]["replicas"][0]["prompt_tokens_details"] is False
    logged = vhost.wait_line("sends no prompt-token details", timeout=5)
    assert fake.url in logged and "WARNING" in logged
    assert sum("sends no prompt-token details" in line for line in vhost.lines) == 1
    await client.request(Method.COMPLETE, {"prefix": "y = ", "max_tokens": 3})  # details again
    assert (await client.request(Method.STATUS))["engine"]["warnings"] == []
    await client.close()


def _run_host(model: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_host_cli(
        "--model", str(model), "--listen", "tcp:127.0.0.1:0", *args, timeout=timeout
    )


def test_a_vllm_with_another_vocabulary_stops_the_host(tmp_path: Path) -> None:
    ours = write_tokenizer_only(tmp_path / "ours")
    theirs = SentencePieceTokenizer(train_tiny_tokenizer(vocab_size=1200))
    server = FakeVllm(theirs).start()
    try:
        done = _run_host(ours, "--engine", "vllm", "--vllm-url", server.url)
    finally:
        server.stop()
    assert done.returncode == 3, done.stderr
    errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and "has another vocabulary" in errors[0], done.stderr
    assert server.url in errors[0] and "serve the same checkpoint as --model" in errors[0]
    assert errors[0].startswith("tandem-host: error:")


def test_no_reachable_vllm_stops_the_host_after_the_start_timeout(tmp_path: Path) -> None:
    model = write_tokenizer_only(tmp_path / "m")
    done = _run_host(
        model, "--engine", "vllm", "--vllm-url", "http://127.0.0.1:9", "--vllm-start-timeout", "1"
    )
    assert done.returncode == 3, done.stderr
    assert "no vLLM replica became ready" in done.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--engine", "vllm"], "--engine vllm needs --vllm-url"),
        (["--vllm-url", "http://x:1"], "--vllm-url needs --engine vllm"),
        (["--engine", "vllm", "--vllm-url", "http://x:1", "--vllm-timeout", "0"], "positive"),
    ],
)
def test_bad_vllm_arguments_are_usage_errors(tmp_path: Path, args: list[str], says: str) -> None:
    done = _run_host(tmp_path, *args)
    assert done.returncode == 2 and says in done.stderr
