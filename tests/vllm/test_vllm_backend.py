"""The vLLM backend against a fake vLLM in this process: the request it sends, routing, and every failure.

Each failure must become one clear `ENGINE_UNAVAILABLE` error quickly: nothing
hangs, and the HTTP response is closed (which is what aborts a real vLLM's work).
The same backend against a real vLLM is tests/vllm/test_real_vllm.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from model_host.backends.base import BackendError, Delta, GenerateRequest, Sampling
from model_host.backends.vllm import VllmBackend, VllmConfig, VllmStartError
from model_host.backends.vllm.replicas import DOWN, READY, preference
from model_host.devtools.tiny import train_tiny_tokenizer
from model_host.rpc.protocol import ErrorCode, RpcError
from model_host.text.tokenizer import SentencePieceTokenizer, Tokenizer
from tests.vllm.fake_vllm import FakeVllm

pytestmark = pytest.mark.timeout(60)

DEADLINE_S = 10.0  # every call here must end well within this, or it "hangs"


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return SentencePieceTokenizer(train_tiny_tokenizer())


@pytest.fixture
def fake(tok: Tokenizer) -> Iterator[FakeVllm]:
    server = FakeVllm(tok).start()
    yield server
    server.stop()


@pytest.fixture
def fake2(tok: Tokenizer) -> Iterator[FakeVllm]:
    server = FakeVllm(tok).start()
    yield server
    server.stop()


async def _quiet(message: str) -> None:
    pass


async def open_backend(tok: Tokenizer, *urls: str, **config: Any) -> VllmBackend:
    cfg = VllmConfig(urls=tuple(urls), **{"start_timeout_s": 5.0, **config})
    return await asyncio.wait_for(VllmBackend.open(cfg, tokenizer=tok, report=_quiet), DEADLINE_S)


@pytest.fixture
async def backend(tok: Tokenizer, fake: FakeVllm) -> AsyncIterator[VllmBackend]:
    b = await open_backend(tok, fake.url, timeout_s=1.0)
    yield b
    await b.close()


def request(
    prompt: tuple[int, ...] = (1, 40, 41, 42), affinity: str | None = "file:///a.py", **kw: Any
) -> GenerateRequest:
    return GenerateRequest(
        prompt=prompt,
        max_tokens=kw.pop("max_tokens", 16),
        sampling=kw.pop("sampling", Sampling(0.0, 1.0, None)),
        stop_ids=frozenset({2, 1994}),
        affinity=affinity,
        **kw,
    )


async def collect(backend: VllmBackend, req: GenerateRequest) -> list[Delta]:
    async def run() -> list[Delta]:
        return [d async for d in backend.generate(req)]

    return await asyncio.wait_for(run(), DEADLINE_S)


async def failure(backend: VllmBackend, req: GenerateRequest | None = None) -> BackendError:
    with pytest.raises(BackendError) as caught:
        await collect(backend, req or request())
    assert caught.value.code == ErrorCode.ENGINE_UNAVAILABLE
    return caught.value


# ---- the request and the answer ---------------------------------------------


async def test_sends_ids_and_streams_ids_back(backend: VllmBackend, fake: FakeVllm) -> None:
    fake.ids = [7, 8, 9, 10]
    req = request(sampling=Sampling(0.7, 0.9, 42))
    deltas = await collect(backend, req)
    assert [i for d in deltas for i in d.ids] == [7, 8, 9, 10]
    assert deltas[-1].finish == "length" and deltas[-1].cached_tokens == 3
    assert all(d.finish is None for d in deltas[:-1])
    body = fake.requests[-1]
    assert body["prompt"] == [1, 40, 41, 42]  # ids, never a string: no BOS added, no parsing
    assert body["stream"] is True and body["return_token_ids"] is True
    assert body["stop_token_ids"] == [2, 1994]
    assert body["temperature"] == 0.7 and body["top_p"] == 0.9 and body["seed"] == 42
    assert body["model"] == "fake-model" and body["max_tokens"] == 16
    assert "priority" not in body  # only with --vllm-priority: plain vLLM may refuse it


async def test_stop_finish_is_end_and_priority_is_sent_when_asked(
    tok: Tokenizer, fake: FakeVllm
) -> None:
    fake.finish = "stop"
    b = await open_backend(tok, fake.url, send_priority=True)
    try:
        deltas = await collect(b, request(priority=1))
    finally:
        await b.close()
    assert deltas[-1].finish == "end"
    assert fake.requests[-1]["priority"] == 1


async def test_window_is_checked_before_vllm_sees_the_prompt(
    backend: VllmBackend, fake: FakeVllm
) -> None:
    with pytest.raises(RpcError) as caught:
        await collect(backend, request(prompt=tuple(range(3, 3 + 2048))))
    assert caught.value.code == ErrorCode.CONTEXT_OVERFLOW
    assert "2048" in caught.value.message
    assert fake.requests == []
    # A prompt that fits gets at most the room that is left.
    await collect(backend, request(prompt=tuple(range(3, 3 + 2040)), max_tokens=100))
    assert fake.requests[-1]["max_tokens"] == 8


# ---- failures: each one clear, quick, and the response closed -----------------


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("malformed", "not JSON"),
        ("not-object", "not a JSON object"),
        ("no-token-ids", "token_ids"),
        ("error-chunk", "out of KV cache blocks"),
        ("truncated", "ended the stream before the answer finished"),
        ("abort-finish", "'abort'"),
        ("http500", "HTTP 500: EngineCore died"),
        ("http400", "HTTP 400: bad sampling params"),
    ],
)
async def test_bad_streams_become_clear_errors(
    backend: VllmBackend, fake: FakeVllm, mode: str, says: str
) -> None:
    fake.mode = mode
    err = await failure(backend)
    assert says in err.message, err.message
    assert fake.url in err.message
    # The replica still serves the next, good request.
    fake.mode = "ok"
    assert (await collect(backend, request()))[-1].finish == "length"


async def test_a_stall_times_out_and_closes_the_stream(
    backend: VllmBackend, fake: FakeVllm
) -> None:
    fake.mode = "stall"
    err = await failure(backend)
    assert "sent nothing for 1 s" in err.message
    await _eventually(lambda: fake.closed_early == 1)


async def test_a_stall_after_the_finish_keeps_the_answer(
    backend: VllmBackend, fake: FakeVllm
) -> None:
    fake.mode = "stall-after-finish"
    deltas = await collect(backend, request())
    assert [i for d in deltas for i in d.ids] == [5, 6, 7]
    assert deltas[-1].finish == "length"


async def test_a_reset_mid_stream_fails_fast_and_marks_the_replica_down(
    backend: VllmBackend, fake: FakeVllm
) -> None:
    fake.mode = "reset"
    start = asyncio.get_running_loop().time()
    err = await failure(backend)
    assert asyncio.get_running_loop().time() - start < 5.0
    assert "broke the connection mid-answer" in err.message
    assert backend.replicas.replicas[0].state == DOWN
    # The next health check brings it back.
    fake.mode = "ok"
    await backend.replicas.check_all()
    assert backend.replicas.replicas[0].state == READY


async def test_cancelling_the_consumer_closes_the_response(
    backend: VllmBackend, fake: FakeVllm
) -> None:
    fake.ids = list(range(10, 400))
    fake.delay_s = 0.02
    seen: list[int] = []

    async def consume() -> None:
        async for delta in backend.generate(request(max_tokens=400)):
            seen.extend(delta.ids)

    task = asyncio.create_task(consume())
    await _eventually(lambda: len(seen) >= 3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, DEADLINE_S)
    await _eventually(lambda: fake.closed_early == 1)
    assert backend.status()["active"] == 0


async def test_closing_the_stream_early_closes_the_response(
    backend: VllmBackend, fake: FakeVllm
) -> None:
    fake.ids = list(range(10, 400))
    fake.delay_s = 0.02
    stream = backend.generate(request(max_tokens=400))
    first = await asyncio.wait_for(stream.__anext__(), DEADLINE_S)
    assert first.ids
    await asyncio.wait_for(stream.aclose(), DEADLINE_S)
    await _eventually(lambda: fake.closed_early == 1)


# ---- start-up checks -----------------------------------------------------------


async def test_another_vocabulary_is_refused_at_start(tok: Tokenizer) -> None:
    other = SentencePieceTokenizer(train_tiny_tokenizer(vocab_size=1200))
    server = FakeVllm(other).start()
    try:
        with pytest.raises(VllmStartError) as caught:
            await open_backend(tok, server.url)
    finally:
        server.stop()
    message = str(caught.value)
    assert "has another vocabulary than the checkpoint's tokenizer" in message
    assert server.url in message and "serve the same checkpoint as --model" in message


async def test_text_split_differently_over_the_same_vocabulary_is_accepted(
    tok: Tokenizer, fake: FakeVllm
) -> None:
    # transformers splits "    return" as ▁▁▁▁|return where SentencePiece says ▁▁▁|▁return:
    # the same vocabulary, so the same ids mean the same text, and that is all Tandem needs.
    fake.split = lambda text: list(reversed(tok.encode(text)))
    b = await open_backend(tok, fake.url)
    try:
        assert b.status()["replicas"][0]["state"] == "ready"
        assert fake.detokenized == 2  # all probes in one request, and the id past the last
    finally:
        await b.close()


def _swapped(tok: Tokenizer, a: str, b: str) -> SentencePieceTokenizer:
    """`tok`'s vocabulary with two pieces' ids swapped: a checkpoint that differs in two ids."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    proto = pb.ModelProto()  # type: ignore[attr-defined]
    proto.ParseFromString(train_tiny_tokenizer())
    i, j = tok.piece_id(a), tok.piece_id(b)
    assert i is not None and j is not None
    proto.pieces[i].piece, proto.pieces[j].piece = b, a
    return SentencePieceTokenizer(proto.SerializeToString())


@pytest.mark.parametrize(
    ("a", "b", "what"),
    [
        ("▁▁▁", "▁▁▁▁", "whitespace piece '▁▁▁'"),
        ("<0x0A>", "<0x0D>", "byte piece <0x0A>"),
        ("▁<PRE>", "▁<EOT>", "control piece '▁<PRE>'"),
    ],
)
async def test_an_id_that_reads_otherwise_is_found_and_named(
    tok: Tokenizer, a: str, b: str, what: str
) -> None:
    server = FakeVllm(_swapped(tok, a, b)).start()
    try:
        with pytest.raises(VllmStartError) as caught:
            await open_backend(tok, server.url)
    finally:
        server.stop()
    assert f"id {tok.piece_id(a)} ({what}) reads" in str(caught.value), caught.value


async def test_a_larger_vocabulary_is_refused(tok: Tokenizer) -> None:
    # The same pieces and one more after them: every id Tandem has reads the same.
    from sentencepiece import sentencepiece_model_pb2 as pb

    proto = pb.ModelProto()  # type: ignore[attr-defined]
    proto.ParseFromString(train_tiny_tokenizer())
    extra = proto.pieces.add()
    extra.piece, extra.score = "▁tandem_extra", 0.0
    server = FakeVllm(SentencePieceTokenizer(proto.SerializeToString())).start()
    try:
        with pytest.raises(VllmStartError) as caught:
            await open_backend(tok, server.url)
    finally:
        server.stop()
    assert f"a larger vocabulary than the checkpoint's tokenizer ({tok.vocab_size} ids)" in str(
        caught.value
    )
    assert "' tandem_extra'" in str(caught.value)


async def test_no_server_fails_start_after_the_deadline(tok: Tokenizer) -> None:
    with pytest.raises(VllmStartError) as caught:
        await open_backend(tok, "http://127.0.0.1:9", start_timeout_s=1.0)
    assert "no vLLM replica became ready" in str(caught.value)
    assert "cannot connect" in str(caught.value)


async def test_window_is_the_smallest_max_model_len(
    tok: Tokenizer, fake: FakeVllm, fake2: FakeVllm
) -> None:
    fake2.max_model_len = 1024
    b = await open_backend(tok, fake.url, fake2.url + "/v1/")
    try:
        assert b.window == 1024
        status = b.status()
        assert status["engine"] == "vllm" and status["replicas_ready"] == 2
        rep = status["replicas"][0]
        assert rep["state"] == "ready" and rep["latency_ms"] is not None
        assert rep["remote"]["waiting"] == 2.0 and status["queue_depth"] == 4
    finally:
        await b.close()


# ---- replicas --------------------------------------------------------------------


async def test_documents_stick_to_a_replica_and_spread(
    tok: Tokenizer, fake: FakeVllm, fake2: FakeVllm
) -> None:
    b = await open_backend(tok, fake.url, fake2.url)
    try:
        owner: dict[str, int] = {}
        for n in range(24):
            doc = f"file:///project/module{n}.py"
            for _ in range(2):
                before = (len(fake.requests), len(fake2.requests))
                await collect(b, request(affinity=doc))
                went = 0 if len(fake.requests) > before[0] else 1
                assert owner.setdefault(doc, went) == went  # the same replica every time
            want = preference(doc.encode(), [fake.url, fake2.url])[0]
            assert [fake.url, fake2.url][owner[doc]] == want
        assert set(owner.values()) == {0, 1}  # both replicas get documents
    finally:
        await b.close()


async def test_a_dead_replica_moves_its_documents_to_the_next(
    tok: Tokenizer, fake: FakeVllm, fake2: FakeVllm
) -> None:
    b = await open_backend(tok, fake.url, fake2.url)
    try:
        doc = next(
            f"file:///d{n}.py"
            for n in range(100)
            if preference(f"file:///d{n}.py".encode(), [fake.url, fake2.url])[0] == fake.url
        )
        await collect(b, request(affinity=doc))
        assert len(fake.requests) == 1
        fake.stop()  # gone: connections are refused
        deltas = await collect(b, request(affinity=doc))  # retried on the other: never sent
        assert deltas[-1].finish == "length" and len(fake2.requests) == 1
        assert b.replicas.replicas[0].state == DOWN
        assert "cannot connect" in b.status()["replicas"][0]["reason"]
        fake2.stop()
        err = await failure(b, request(affinity=doc))
        assert "no vLLM replica can take the request" in err.message
    finally:
        await b.close()


async def _eventually(check: Any, timeout: float = DEADLINE_S) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        if loop.time() > end:
            raise AssertionError("still not true")
        await asyncio.sleep(0.02)


async def test_a_replica_that_comes_back_with_another_vocabulary_is_not_used(
    backend: VllmBackend, fake: FakeVllm
) -> None:
    fake.mode = "reset"
    await failure(backend)
    assert backend.replicas.replicas[0].state == DOWN
    fake.mode = "ok"
    fake.vocab = SentencePieceTokenizer(train_tiny_tokenizer(vocab_size=1200))
    await backend.replicas.check_all()  # back up, but re-verified: it serves another vocabulary
    replica = backend.status()["replicas"][0]
    assert replica["state"] == "incompatible" and "another vocabulary" in replica["reason"]
    err = await failure(backend)
    assert "incompatible" in err.message


async def test_a_5xx_while_re_verifying_is_transient_not_incompatible(
    backend: VllmBackend, fake: FakeVllm
) -> None:
    fake.mode = "reset"
    await failure(backend)
    assert backend.replicas.replicas[0].state == DOWN
    fake.mode, fake.models_status = "ok", 503  # back, but still starting behind a proxy
    await backend.replicas.check_all()
    replica = backend.status()["replicas"][0]
    assert replica["state"] == "down" and "503" in replica["reason"]
    fake.models_status = 200
    await backend.replicas.check_all()  # the next check verifies it and uses it again
    assert backend.status()["replicas"][0]["state"] == "ready"
    deltas = await collect(backend, request())
    assert deltas[-1].finish == "length"


async def test_an_api_key_goes_with_every_request(tok: Tokenizer, fake: FakeVllm) -> None:
    fake.api_key = "sekret"
    with pytest.raises(VllmStartError) as refused:
        await open_backend(tok, fake.url, start_timeout_s=1.0)
    assert "401" in str(refused.value)
    b = await open_backend(tok, fake.url, api_key="sekret")
    try:
        deltas = await collect(b, request())
        assert deltas[-1].finish == "length" and len(fake.requests) == 1
    finally:
        await b.close()


async def test_a_replica_serving_another_model_is_verified_again_then_used(
    backend: VllmBackend, fake: FakeVllm
) -> None:
    await collect(backend, request())
    fake.model = "restarted-with-another-name"
    err = await failure(backend)  # vLLM answers 404 for the name it no longer serves
    assert "404" in err.message and "does not exist" in err.message
    replica = backend.replicas.replicas[0]
    assert replica.state == DOWN and replica.facts is None
    await backend.replicas.check_all()  # verified again: same vocabulary, the new name
    assert replica.state == READY and replica.facts is not None
    await collect(backend, request())
    assert fake.requests[-1]["model"] == "restarted-with-another-name"


async def test_the_health_watch_brings_a_replica_back_by_itself(
    tok: Tokenizer, fake: FakeVllm
) -> None:
    b = await open_backend(tok, fake.url, timeout_s=1.0, health_interval_s=0.1)
    try:
        fake.mode, fake.healthy = "reset", False  # down, and its /health says so too
        await failure(b)
        assert b.replicas.replicas[0].state == DOWN
        await asyncio.sleep(0.3)  # several checks: it stays down while unhealthy
        assert b.replicas.replicas[0].state == DOWN
        fake.mode, fake.healthy = "ok", True
        await _eventually(lambda: b.replicas.replicas[0].state == READY)  # no check_all
        deltas = await collect(b, request())
        assert deltas[-1].finish == "length"
    finally:
        await b.close()


async def test_missing_prompt_token_details_warn_once_and_show_in_status(
    backend: VllmBackend, fake: FakeVllm, caplog: pytest.LogCaptureFixture
) -> None:
    assert backend.status()["warnings"] == []
    assert backend.status()["replicas"][0]["prompt_tokens_details"] is None  # not known yet
    fake.cached_tokens = None  # vLLM without --enable-prompt-tokens-details
    with caplog.at_level("WARNING", logger="model_host.backends.vllm"):
        for _ in range(3):
            deltas = await collect(backend, request())
            assert deltas[-1].cached_tokens is None
    warned = [r.getMessage() for r in caplog.records if "prompt-token details" in r.getMessage()]
    assert len(warned) == 1, warned  # once, not per request
    assert "--enable-prompt-tokens-details" in warned[0] and fake.url in warned[0]
    status = backend.status()
    assert status["replicas"][0]["prompt_tokens_details"] is False
    assert status["warnings"] == warned
    fake.cached_tokens = 5  # restarted with the flag
    deltas = await collect(backend, request())
    assert deltas[-1].cached_tokens == 5
    assert backend.status()["warnings"] == []
    assert backend.status()["replicas"][0]["prompt_tokens_details"] is True
