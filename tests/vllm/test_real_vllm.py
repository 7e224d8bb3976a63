"""The real thing: vLLM's CPU build serving a tiny checkpoint, the real `tandem-host --engine vllm`, the real `tandem-lsp`.

Every test runs on two checkpoints, one after the other: the head_dim-32 "mini"
shape with the small tokenizer trained by model_host.devtools.tiny, and the same shape with
Code Llama's real tokenizer.model (32,016 ids, from ../shared/tokenizers; skipped
with a reason when that folder is absent). The real one is what users serve: vLLM
reads it through transformers, which splits whitespace differently from
SentencePiece, so only the vocabulary can be checked to match.

One vLLM server is started per checkpoint and serves every test; a second one
starts only for the test that kills a replica. Each checkpoint has one change:
`<EOT>`'s output row is a scaled copy of an ordinary token's, so greedy decoding
reaches `<EOT>` on a known prompt (random weights essentially never do), which is
how the test of stop ids sees vLLM stop there. Everything is greedy: random weights
make sampled text noise, but greedy ids are a fact both engines must agree on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from lsp_server.demo import plain
from model_host.backends.vllm.replicas import preference
from model_host.devtools.shapes import CODE_LLAMA_VOCAB, SHAPES
from model_host.rpc.client import HostClient
from model_host.rpc.protocol import ErrorCode, Method, RpcError
from model_host.text.prompts import InfillIds, infill_prompt
from model_host.text.tokenizer import Tokenizer, load_tokenizer
from tests.hostproc import ROOT, HostProcess, start_host
from tests.lsp.conftest import SERVER, init_options
from tests.paths import SHARED_TOKENIZERS
from tests.vllm.real import VllmServer, find_vllm_python, start_servers

# The first test on each checkpoint also pays for building it and starting vLLM (up to
# START_TIMEOUT_S), which on two busy shared cores takes minutes.
pytestmark = pytest.mark.timeout(900)

GREEDY = {"temperature": 0}
EOT_PREFIX, EOT_SUFFIX = "def area(r):\n    return ", "\n"
CLEAR_GAP = 1e-3  # top-2 logit gap under which two float32 engines may honestly differ
# Long enough (several seconds at vLLM's ~800 tokens/s here) that vLLM is still
# decoding when a cancel or a kill lands, even on two busy shared cores.
CONTEXT = 4096
LONG_TOKENS = 3000
# Completions tried, in order, for one whose greedy answer runs the full LONG_TOKENS.
LONG_PROMPTS = [(f"x{n} = [", "]\n") for n in range(8)]
REAL_TOKENIZER = SHARED_TOKENIZERS / "code-llama" / "tokenizer.model"
LOGIT_SCALE = 16.0  # the real-tokenizer checkpoint's output layer (see build_tier_model)


@dataclass(frozen=True)
class TierModel:
    path: Path
    eot: int
    eot_path: list[int]  # greedy ids on the EOT prompt, ending with <EOT>


def _greedy(model: Any, prompt: list[int], n: int) -> tuple[list[int], float]:
    """Greedy ids after `prompt`, and the smallest top-2 logit gap on the way."""
    import torch

    ids, out, gap = list(prompt), [], float("inf")
    with torch.inference_mode():
        for _ in range(n):
            logits = model(torch.tensor([ids])).logits[0, -1]
            top = torch.topk(logits, 2)
            gap = min(gap, float(top.values[0] - top.values[1]))
            out.append(int(top.indices[0]))
            ids.append(out[-1])
    return out, gap


def _tokens_on_the_way(model: Any, prompts: list[list[int]], n: int = 128) -> set[int]:
    """Every id the greedy answers to `prompts` pass through in their first `n` tokens."""
    import torch

    seen: set[int] = set()
    with torch.inference_mode():
        for prompt in prompts:
            out = model.generate(
                torch.tensor([prompt]), max_new_tokens=n, do_sample=False, pad_token_id=0
            )
            seen.update(int(i) for i in out[0, len(prompt) :])
    return seen


def _load(path: Path) -> Any:
    import torch
    from transformers import LlamaForCausalLM

    return LlamaForCausalLM.from_pretrained(path, dtype=torch.float32).eval()


def build_tier_model(out: Path, tokenizer_model: Path | None = None) -> TierModel:
    """The mini checkpoint, with `<EOT>` made the greedy choice where a token X would be.

    With `tokenizer_model` (Code Llama's real one) its vocabulary is Code Llama's 32,016.
    """
    from safetensors.torch import load_file, save_file

    from model_host.devtools.tiny import make_tiny

    shape = SHAPES["mini"]
    if tokenizer_model is not None:
        shape = dataclasses.replace(shape, vocab=CODE_LLAMA_VOCAB)
    make_tiny(out, shape=shape, max_position_embeddings=CONTEXT, tokenizer_model=tokenizer_model)
    weights = out / "model.safetensors"
    original = load_file(weights)
    if tokenizer_model is not None:
        # 32,016 random logits crowd their top: two often lie within CLEAR_GAP, and the
        # comparison with the in-process engine would skip most prompts as near-ties. A
        # sharper output layer spreads them (a trained model's logits are sharp too).
        original["lm_head.weight"] = original["lm_head.weight"] * LOGIT_SCALE
        save_file(original, weights, metadata={"format": "pt"})
    # <EOT> wins wherever X would, and where X comes within (boost - 1) of the top: with
    # the sharp real-tokenizer logits a small margin is enough.
    boost = 1.2 if tokenizer_model is None else 1.002
    tok = load_tokenizer(out)
    infill = InfillIds.from_tokenizer(tok)
    assert infill is not None
    prompt = infill_prompt(tok, EOT_PREFIX, EOT_SUFFIX, order="psm", ids=infill)
    base = _load(out)
    path, _ = _greedy(base, prompt, 24)
    # Random models fall into a few tokens they then repeat; an X among those would end
    # every long answer at once, and the cancel tests need answers that run long.
    common = _tokens_on_the_way(
        base, [infill_prompt(tok, *p, order="psm", ids=infill) for p in LONG_PROMPTS]
    )
    for k in range(3, len(path)):
        x = path[k]
        if x in path[:k] or x in (tok.eos_id, infill.eot) or x in common:
            continue
        state = {name: t.clone() for name, t in original.items()}
        state["lm_head.weight"][infill.eot] = state["lm_head.weight"][x] * boost
        save_file(state, weights, metadata={"format": "pt"})
        changed, _ = _greedy(_load(out), prompt, 32)
        if infill.eot in changed:
            return TierModel(out, infill.eot, changed[: changed.index(infill.eot) + 1])
    raise AssertionError(f"no token of {path} makes <EOT> reachable")


# ---- fixtures: built and started once for the module ------------------------------


@pytest.fixture(scope="module")
def vllm_python() -> Path:
    python, why = find_vllm_python()
    if python is None:
        pytest.skip(f"real-vLLM tier skipped: {why}")
    return python


@pytest.fixture(scope="module", params=["trained-tokenizer", "code-llama-tokenizer"])
def tier_model(
    request: pytest.FixtureRequest, vllm_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> TierModel:
    if request.param == "trained-tokenizer":
        return build_tier_model(tmp_path_factory.mktemp("vllm-model") / "mini-eot")
    if not REAL_TOKENIZER.is_file():
        pytest.skip(f"Code Llama's real tokenizer is not at {REAL_TOKENIZER}")
    return build_tier_model(
        tmp_path_factory.mktemp("vllm-model-real") / "mini-eot-code-llama", REAL_TOKENIZER
    )


@pytest.fixture(scope="module")
def server(
    vllm_python: Path, tier_model: TierModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VllmServer]:
    """The vLLM server every test uses."""
    t0 = time.perf_counter()
    logs = tmp_path_factory.mktemp("vllm-logs")
    (started,) = start_servers(vllm_python, tier_model.path, logs, 1, max_model_len=CONTEXT)
    print(f"\n[vllm tier] vLLM ready in {time.perf_counter() - t0:.1f} s")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def spare(
    vllm_python: Path, tier_model: TierModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VllmServer]:
    """A second server on the same checkpoint, for the test that kills one."""
    logs = tmp_path_factory.mktemp("vllm-logs-spare")
    (started,) = start_servers(vllm_python, tier_model.path, logs, 1, max_model_len=CONTEXT)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def vsock() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tdv-") as d:
        yield Path(d)


@pytest.fixture(scope="module")
def vhost(server: VllmServer, tier_model: TierModel, vsock: Path) -> Iterator[HostProcess]:
    """`tandem-host --engine vllm` on the first server."""
    host = start_host(
        tier_model.path,
        f"unix:{vsock / 'vllm.sock'}",
        "--engine",
        "vllm",
        "--vllm-url",
        server.url,
        "--vllm-health-interval",
        "1",
    )
    yield host
    host.stop()


@pytest.fixture(scope="module")
def local_host(tier_model: TierModel, vsock: Path) -> Iterator[HostProcess]:
    """The in-process engine on the same checkpoint."""
    host = start_host(tier_model.path, f"unix:{vsock / 'local.sock'}")
    yield host
    host.stop()


@pytest.fixture(scope="module")
def tok(tier_model: TierModel) -> Tokenizer:
    return load_tokenizer(tier_model.path)


@pytest_lsp.fixture(config=SERVER)
async def lsp(lsp_client: LanguageClient, vhost: HostProcess) -> AsyncIterator[None]:
    chunks: list[str] = []
    lsp_client.feature("tandem/chatChunk")(lambda params: chunks.append(plain(params)["text"]))
    lsp_client.chunk_list = chunks  # type: ignore[attr-defined]
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options=init_options(vhost.address),
            root_uri=ROOT.as_uri(),
        )
    )
    yield
    await lsp_client.shutdown_session()


_long: dict[str, dict[str, Any]] = {}  # per checkpoint (the host's model name)


async def long_params(client: HostClient) -> dict[str, Any]:
    """Complete params whose greedy answer runs the full LONG_TOKENS (random models loop)."""
    model = str(client.hello_info["model"]["name"])
    if model not in _long:
        for prefix, suffix in LONG_PROMPTS:
            params = {"prefix": prefix, "suffix": suffix, "max_tokens": LONG_TOKENS, **GREEDY}
            result = await client.request(Method.COMPLETE, params)
            if result["generated_tokens"] == LONG_TOKENS:
                _long[model] = params
                break
        else:
            raise AssertionError("no prompt ran long enough on this checkpoint")
    return dict(_long[model])


# ---- through the real language server ------------------------------------------


def _open(client: LanguageClient, uri: str, text: str) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text
            )
        )
    )


async def _inline(client: LanguageClient, uri: str, text: str) -> list[str]:
    lines = text.split("\n")
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=len(lines) - 1, character=len(lines[-1])),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    assert isinstance(result, types.InlineCompletionList)
    return [str(item.insert_text) for item in result.items]


async def test_inline_completion_and_streamed_chat_through_the_lsp(
    lsp: LanguageClient, vhost: HostProcess, server: VllmServer
) -> None:
    client = lsp
    watcher = await vhost.client()
    first = (await watcher.request(Method.STATUS))["engine"]["replicas"][0]
    before = first["served"] + first["cancelled"]
    vllm_before = server.metrics()["vllm:request_success_total{finished_reason=length}"]
    texts = [
        "import os\n\n\ndef add(a, b):\n    ",
        "def f(x):\n    return x\n\nvalue = f(",
        "class Point:\n    def __init__(self, x, y):\n        self.x = ",
    ]
    suggestions: list[str] = []
    for n, text in enumerate(texts):
        uri = f"file:///vllm/inline{n}.py"
        _open(client, uri, text)
        suggestions += await _inline(client, uri, text)
    assert any(s.strip() for s in suggestions), suggestions
    assert not any(m in s for s in suggestions for m in ("<EOT>", "<PRE>", "<MID>", "</s>"))
    uri = "file:///vllm/chat.py"
    _open(client, uri, "def square(x):\n    return x * x\n")
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
                "chatId": "v1",
                "maxTokens": 24,
            },
        )
    )
    await asyncio.sleep(0.1)
    chunks = client.chunk_list  # type: ignore[attr-defined]
    assert len(chunks) >= 2 and "".join(chunks) == result["text"]
    assert result["generatedTokens"] <= 24 and result["promptTokens"] > 20
    # Every one of them went to vLLM, through the host (a completion is stopped the moment
    # its suggestion is decided, so some count as cancelled).
    status = await watcher.request(Method.STATUS)
    replica = status["engine"]["replicas"][0]
    assert replica["served"] + replica["cancelled"] >= before + len(texts) + 1
    assert replica["state"] == "ready" and replica["latency_ms"] is not None
    vllm_after = server.metrics()["vllm:request_success_total{finished_reason=length}"]
    assert vllm_after >= vllm_before + 1
    await watcher.close()


async def test_prefix_cache_hits_across_keystrokes(
    lsp: LanguageClient, vhost: HostProcess, server: VllmServer
) -> None:
    client = lsp
    body = "".join(f"def handler_{n}(request):\n    return request.get({n})\n\n" for n in range(30))
    text = body + "result = handler_3("
    uri = "file:///vllm/typing.py"
    _open(client, uri, text)
    await _inline(client, uri, text)  # the cold request fills the cache
    watcher = await vhost.client()
    host_before = await watcher.request(Method.STATUS)
    before = server.metrics()
    for version, ch in enumerate("req", start=2):
        text += ch
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        await _inline(client, uri, text)
    after = server.metrics()
    host_after = await watcher.request(Method.STATUS)
    await watcher.close()
    keystrokes = host_after["served"] - host_before["served"]
    assert keystrokes >= 2, "the keystrokes went to the model"
    hits = after["vllm:prefix_cache_hits_total"] - before["vllm:prefix_cache_hits_total"]
    queries = after["vllm:prefix_cache_queries_total"] - before["vllm:prefix_cache_queries_total"]
    # The document is ~700 tokens; typing at its end changes only the last block.
    assert queries > 0 and hits / queries > 0.8, (hits, queries)
    # What vLLM reported per request, summed by the host. vLLM reports it at the end of
    # a stream, so a keystroke whose suggestion was decided early (the stream closed,
    # counted as cancelled) hit the cache without the host hearing how much.
    cached = host_after["cached_tokens"] - host_before["cached_tokens"]
    assert 0 < cached <= hits
    if host_after["cancelled"] == host_before["cancelled"]:
        assert cached == hits
    assert host_after["engine"]["warnings"] == []  # vLLM runs with prompt-token details


# ---- the host's promises, against the real engine ---------------------------------


async def test_greedy_output_equals_the_in_process_engine(
    vhost: HostProcess, local_host: HostProcess, tier_model: TierModel
) -> None:
    remote, local = await vhost.client(), await local_host.client()
    model = _load(tier_model.path)
    requests: list[tuple[str, dict[str, Any]]] = [
        ("complete", {"prefix": f"def f{n}(a, b):\n    ", "suffix": "\n", "order": order})
        for n in range(3)
        for order in ("psm", "spm")
    ]
    requests += [
        ("complete", {"prefix": "import sys\nfor line in sys.stdin:\n    "}),  # no suffix: prefix
        ("chat", {"messages": [{"role": "user", "content": "Write a sort function."}]}),
        ("chat", {"messages": [{"role": "user", "content": "Explain recursion."}]}),
    ]
    compared = 0
    for kind, params in requests:
        params = {**params, "max_tokens": 40, **GREEDY}
        dry = await local.request(Method.PROMPT, {"kind": kind, **params})
        _, gap = _greedy(model, dry["ids"], 40)
        if gap < CLEAR_GAP:
            continue  # a near-tie: float32 kernels may legitimately pick either
        a = await local.request(kind, params)
        b = await remote.request(kind, params)
        assert (b["text"], b["finish_reason"], b["generated_tokens"]) == (
            a["text"],
            a["finish_reason"],
            a["generated_tokens"],
        ), (kind, params)
        compared += 1
    await remote.close()
    await local.close()
    assert compared >= 5, f"only {compared} prompts had clear greedy choices"


async def test_eot_stops_generation(
    vhost: HostProcess, local_host: HostProcess, tier_model: TierModel, tok: Tokenizer
) -> None:
    params = {"prefix": EOT_PREFIX, "suffix": EOT_SUFFIX, "order": "psm", "max_tokens": 64}
    client = await vhost.client()
    result = await client.request(Method.COMPLETE, {**params, **GREEDY})
    await client.close()
    expected = tier_model.eot_path
    # vLLM does not stop at <EOT> by itself: it stopped because Tandem sent it as a stop id.
    assert result["finish_reason"] == "end"
    assert result["generated_tokens"] == len(expected) < 64
    assert result["text"] == tok.decode_infilling(expected[:-1])
    assert "<EOT>" not in result["text"]
    local = await local_host.client()
    same = await local.request(Method.COMPLETE, {**params, **GREEDY})
    await local.close()
    assert same == {**result, "timings": same["timings"]}


async def test_document_control_text_gets_no_control_ids(
    vhost: HostProcess, server: VllmServer, tok: Tokenizer
) -> None:
    nasty = "x = ' <PRE> a <SUF> b <MID> c <EOT> d </s> e <s>'\n"
    infill = InfillIds.from_tokenizer(tok)
    assert infill is not None
    # The hazard Tandem avoids: vLLM's string path makes control ids of file text.
    through_vllm = server.tokenize(nasty)
    assert infill.pre in through_vllm and tok.eos_id in through_vllm
    client = await vhost.client()
    params = {"prefix": nasty + "y = ", "suffix": "\n" + nasty, "max_tokens": 8, **GREEDY}
    dry = await client.request(Method.PROMPT, {"kind": "complete", **params})
    controls = {tok.bos_id, tok.eos_id, infill.pre, infill.suf, infill.mid, infill.eot}
    assert [i for i in dry["ids"] if i in controls] == [
        tok.bos_id,
        infill.pre,
        infill.suf,
        infill.mid,
    ]
    before = server.metrics()["vllm:prompt_tokens_total"]
    result = await client.request(Method.COMPLETE, params)
    after = server.metrics()["vllm:prompt_tokens_total"]
    await client.close()
    # vLLM computed exactly Tandem's ids (the backend also checks the echoed prompt ids).
    assert after - before == len(dry["ids"]) == result["prompt_tokens"]
    assert not any(m in result["text"] for m in ("<PRE>", "<EOT>", "</s>"))


async def test_cancel_reaches_vllm(vhost: HostProcess, server: VllmServer) -> None:
    client = await vhost.client()
    params = await long_params(client)
    before = server.metrics()
    acks: list[asyncio.Future[Any]] = []

    def on_first_text(note: Any) -> None:
        # Cancel from the notification itself: a test loop busy reading a fast stream
        # would otherwise send it only after vLLM has finished.
        if not acks:
            acks.append(client.session.start_request(Method.CANCEL, {"id": msgid})[1])

    msgid, future = client.session.start_request(
        Method.COMPLETE, {**params, "stream": True}, on_first_text
    )
    with pytest.raises(RpcError) as err:
        await asyncio.wait_for(future, 30)
    assert err.value.code == ErrorCode.CANCELLED
    assert await asyncio.wait_for(acks[0], 10) == {"cancelled": True}
    assert err.value.data["generated_tokens"] < LONG_TOKENS
    metrics: dict[str, float] = {}
    for _ in range(100):  # vLLM notices the closed connection within a step or two
        metrics = server.metrics()
        if metrics["vllm:num_requests_running"] == 0:
            break
        await asyncio.sleep(0.1)
    assert metrics["vllm:num_requests_running"] == 0
    generated = metrics["vllm:generation_tokens_total"]
    await asyncio.sleep(0.5)
    assert server.metrics()["vllm:generation_tokens_total"] == generated  # decoding stopped
    # ... before the end: vLLM aborted it (aborts are not counted as finished requests).
    assert generated - before["vllm:generation_tokens_total"] < LONG_TOKENS
    finished = "vllm:request_success_total{finished_reason=length}"
    assert metrics[finished] == before[finished]
    await client.close()


async def test_a_killed_replica_fails_fast_and_the_next_request_goes_to_the_other(
    server: VllmServer,
    spare: VllmServer,
    tier_model: TierModel,
    vsock: Path,
    vhost: HostProcess,
) -> None:
    a, b = server, spare
    host = start_host(
        tier_model.path,
        f"unix:{vsock / 'two.sock'}",
        "--engine",
        "vllm",
        "--vllm-url",
        f"{a.url},{b.url}",
    )
    try:
        client = await host.client()
        probe = await vhost.client()
        params = await long_params(probe)
        await probe.close()
        # A document whose replica is b: its requests go there while b lives.
        doc = next(
            f"file:///vllm/kill{n}.py"
            for n in range(100)
            if preference(f"file:///vllm/kill{n}.py".encode(), [a.url, b.url])[0] == b.url
        )
        params = {**params, "document": doc, "stream": True}
        killed: list[float] = []

        def kill_b_while_it_decodes() -> None:
            # A thread, not the test's loop: a busy loop could notice too late, after
            # vLLM (faster than the pipe on two shared cores) had already finished.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if b.metrics().get("vllm:num_requests_running") == 1:
                    b.kill()
                    killed.append(time.monotonic())
                    return
                time.sleep(0.01)

        killer = threading.Thread(target=kill_b_while_it_decodes)
        killer.start()
        _, future = client.session.start_request(Method.COMPLETE, params, lambda note: None)
        with pytest.raises(RpcError) as err:
            await asyncio.wait_for(future, 30)
        killer.join()
        assert time.monotonic() - killed[0] < 10  # fast: the broken connection, not a timeout
        assert err.value.code == ErrorCode.ENGINE_UNAVAILABLE
        assert b.url in err.value.message and "mid-answer" in err.value.message
        served_a = (await client.request(Method.STATUS))["engine"]["replicas"][0]["served"]
        result = await client.request(Method.COMPLETE, {**params, "max_tokens": 8})
        assert result["generated_tokens"] == 8
        status = await client.request(Method.STATUS)
        by_url = {r["url"]: r for r in status["engine"]["replicas"]}
        assert by_url[a.url]["served"] == served_a + 1 and by_url[a.url]["state"] == "ready"
        assert by_url[b.url]["state"] == "down"
        await client.close()
    finally:
        host.stop()
