"""The in-process engine through the real host: exact greedy output, prefix reuse, batching, cancel."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from model_host.rpc.protocol import ErrorCode, Method, RpcError
from model_host.text.output import OutputProcessor
from model_host.text.tokenizer import load_tokenizer
from tests.hostproc import HostProcess

pytestmark = pytest.mark.timeout(120)

SNIPPETS = [
    ("def add(a, b):\n    ", "\n    return c\n"),
    ("import os\n\nclass Config:\n    def __init__(self", "):\n        pass\n"),
    ("for (let i = 0; i < n; i++) {\n  ", "\n}\n"),
    ("#include <stdio.h>\nint main(void) {\n    ", "\n    return 0;\n}\n"),
]


def expected_text(model_dir: Path, ids: list[int], stop_ids: list[int], max_tokens: int) -> str:
    """What transformers' own `generate()` produces for these prompt ids, as Tandem's text."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    with torch.inference_mode():
        out = model.generate(
            torch.tensor([ids]),
            max_new_tokens=max_tokens,
            do_sample=False,
            eos_token_id=stop_ids,
            pad_token_id=0,
        )[0, len(ids) :].tolist()
    processor = OutputProcessor(
        load_tokenizer(model_dir),
        stops=(),
        stop_ids=frozenset(stop_ids),
        strip_leading_space=False,
    )
    return processor.feed(out) + processor.flush()


async def test_greedy_output_equals_transformers_generate(
    host: HostProcess, tiny_model: Path
) -> None:
    client = await host.client()
    stop_ids = client.hello_info["model"]["stop_ids"]
    for prefix, suffix in SNIPPETS:
        params: dict[str, Any] = {
            "prefix": prefix,
            "suffix": suffix,
            "max_tokens": 24,
            "temperature": 0,
        }
        dry = await client.request(Method.PROMPT, {"kind": "complete", **params})
        got = await client.request(Method.COMPLETE, params)
        want = expected_text(tiny_model, dry["ids"], stop_ids, 24)
        assert got["text"] == want, (prefix, got["text"], want)
    await client.close()


async def test_a_repeated_prompt_is_served_from_the_prefix_cache(host: HostProcess) -> None:
    client = await host.client()
    params = {"prefix": "x = 1\n" * 40 + "def f(", "suffix": "):\n", "max_tokens": 4}
    params["temperature"] = 0
    before = await client.request(Method.STATUS)
    first = await client.request(Method.COMPLETE, params)
    typed = await client.request(Method.COMPLETE, {**params, "prefix": params["prefix"] + "a"})
    again = await client.request(Method.COMPLETE, {**params, "prefix": params["prefix"] + "a"})
    after = await client.request(Method.STATUS)
    await client.close()
    prompt = first["prompt_tokens"]
    assert first["timings"]["prompt_tokens"] == prompt
    # Suffix first: the prompt grows at its end; one keystroke recomputes a few tokens.
    assert typed["timings"]["cached_tokens"] >= prompt - 4
    assert again["timings"]["cached_tokens"] == again["prompt_tokens"] - 1
    assert again["text"] == typed["text"]  # reuse changes nothing in the output
    assert after["cached_tokens"] - before["cached_tokens"] >= 2 * (prompt - 4)
    engine = after["engine"]
    assert engine["engine"] == "local" and engine["prefix_cache"] is True


async def test_concurrent_requests_are_batched_and_give_the_same_text(host: HostProcess) -> None:
    client = await host.client()
    requests = [
        {"prefix": prefix, "suffix": suffix, "max_tokens": 20, "temperature": 0}
        for prefix, suffix in SNIPPETS * 2
    ]
    alone = [await client.request(Method.COMPLETE, r) for r in requests]
    steps_before = (await client.request(Method.STATUS))["decode_steps"]
    together = await asyncio.gather(*(client.request(Method.COMPLETE, r) for r in requests))
    steps = (await client.request(Method.STATUS))["decode_steps"] - steps_before
    await client.close()
    assert [r["text"] for r in together] == [r["text"] for r in alone]
    generated = sum(r["generated_tokens"] for r in together)
    # One forward per step for all of them: far fewer steps than tokens generated.
    assert steps < generated / 2, (steps, generated)


async def test_cancel_during_a_long_prefill_lands_within_a_step(host: HostProcess) -> None:
    client = await host.client()
    prompt = "value = compute(1, 2, 3)\n" * 120  # ~1,700 tokens: several prefill steps
    msgid, future = client.session.start_request(
        Method.COMPLETE, {"prefix": prompt, "suffix": "", "max_tokens": 100}
    )
    await asyncio.sleep(0.05)
    assert await client.request(Method.CANCEL, {"id": msgid}) == {"cancelled": True}
    with pytest.raises(RpcError) as err:
        await asyncio.wait_for(future, 10)
    assert err.value.code == ErrorCode.CANCELLED
    before = (await client.request(Method.STATUS))["decode_steps"]
    await asyncio.sleep(0.3)
    status = await client.request(Method.STATUS)
    assert status["decode_steps"] == before and status["active"] == 0
    # What the cancelled request had computed is the next request's prefix.
    again = await client.request(
        Method.COMPLETE, {"prefix": prompt + "x", "suffix": "", "max_tokens": 1}
    )
    assert again["timings"]["cached_tokens"] > 0
    await client.close()


async def test_the_engine_warms_up_its_own_path_and_leaves_no_trace(tiny_model: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    from model_host.backends.base import GenerateRequest, Sampling
    from model_host.backends.local import EngineConfig, LocalBackend

    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32).eval()
    backend = LocalBackend(model, window=256, config=EngineConfig(kv_cache_tokens=512))
    try:
        # The warm-up ran one step through the paged attention; its counts are cleared.
        status = backend.status()
        assert status["decode_steps"] == 0 and status["prompt_tokens_seen"] == 0
        assert status["cached_tokens"] == 0 and status["active"] == 0
        assert model.config._attn_implementation == "tandem_paged"
        # ...and it did run: its K/V are in the pool (allocated as zeros).
        assert any(bool(k.abs().sum() > 0) for k, _ in backend.core.runner.kv)
        # A real prompt (BOS first) finds nothing of it in the prefix cache.
        request = GenerateRequest((1, 100, 200, 300), 3, Sampling(0), frozenset())
        deltas = [d async for d in backend.generate(request)]
        assert deltas[0].cached_tokens == 0 and deltas[-1].finish == "length"
    finally:
        await backend.close()
