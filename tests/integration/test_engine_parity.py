"""The engine's greedy token ids against transformers' `generate()`: the `small` random Code Llama
shape, the real Code Llama tokenizer, real code as prompts of 0.5k-4k tokens.

Every scenario is run through the engine's own scheduler, KV cache and model runner (the
same objects the engine thread drives), step by step on this thread so each sampled
token's logits can be kept and compared with what `generate()` saw at that step:
- one request alone;
- 8 requests batched (prefill chunks and decode steps shared);
- a request after a prefix-cache hit, sharing whole blocks and copying a partial one;
- a chat preempted by a completion mid-answer, then resumed from the cache.

Where rounding may differ: the engine prefills in chunks and batches requests, so the
same dot products are summed in other orders than `generate()`'s one-shot prefill (and
a compiled step may fuse differently). Each step's top-1 id must equal `generate()`'s
unless `generate()`'s own top two logits are closer than the tolerance (a tie that
rounding may break either way; comparison stops there), and the largest logit
difference over all compared steps is bounded.

The default run keeps a representative subset (4 prompts, 512-1,024 tokens). The full
set (24 prompts, 512-4,096 tokens, 16 new tokens each) runs with TANDEM_PARITY_FULL=1.
TANDEM_TEST_DEVICE (cpu, cuda) and TANDEM_TEST_DTYPE (fp32, bf16, fp16) pick where it runs
(tests/bench/gpu.sh: CUDA, bf16 and fp16; half precision gets a wider logit tolerance).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.paths import SHARED_TOKENIZERS

torch = pytest.importorskip("torch")

REAL_TOKENIZER = SHARED_TOKENIZERS / "code-llama" / "tokenizer.model"
FULL = os.environ.get("TANDEM_PARITY_FULL") == "1"
LENGTHS = [512 + (4096 - 512) * i // 23 for i in range(24)] if FULL else [512, 640, 768, 1024]
NEW = 16 if FULL else 8
BATCH = 8 if FULL else 4
DEVICE = os.environ.get("TANDEM_TEST_DEVICE", "cpu")
DTYPE = os.environ.get("TANDEM_TEST_DTYPE", "fp32")
# fp32 through reordered sums differs by ~1e-5; bf16 keeps 8 bits of mantissa.
LOGIT_TOL = 2e-3 if DTYPE == "fp32" else 0.25
BLOCK = 16

pytestmark = [
    pytest.mark.timeout(3600 if FULL else 600),
    pytest.mark.skipif(not REAL_TOKENIZER.exists(), reason="needs ../shared/tokenizers"),
]


@dataclass
class Reference:
    ids: list[int]  # generate()'s new tokens
    logits: list[Any]  # [V] per step


@dataclass
class Run:
    ids: list[int] = field(default_factory=list)
    logits: list[Any] = field(default_factory=list)


@pytest.fixture(scope="module")
def model() -> Any:
    from transformers import LlamaForCausalLM

    from model_host.devtools.shapes import SHAPES

    torch.manual_seed(0)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[DTYPE]
    with torch.device(DEVICE):
        model = LlamaForCausalLM(SHAPES["small"].config()).to(dtype).eval()
    model.generation_config.eos_token_id = None  # random weights: never stop early
    model.generation_config.pad_token_id = 0
    return model


@pytest.fixture(scope="module")
def prompts() -> list[list[int]]:
    """Real code, cut to each length in tokens of the real tokenizer (BOS first)."""
    import inspect
    import json.decoder
    import textwrap

    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(REAL_TOKENIZER))
    sources = [inspect.getsource(m) for m in (textwrap, json.decoder, argparse_module())]
    text = "\n".join(sources)
    ids = sp.encode(text)
    out = []
    for i, n in enumerate(LENGTHS):
        start = (i * 997) % max(1, len(ids) - n)  # a different stretch of code for each
        out.append([1, *ids[start : start + n - 1]])
    return out


def argparse_module() -> Any:
    import argparse

    return argparse


def reference(model: Any, prompt: list[int]) -> Reference:
    """generate()'s ids and logits; the model's attention is put back as it was (an engine
    built on the same model keeps using its paged attention)."""
    before = model.config._attn_implementation
    model.set_attn_implementation("sdpa")
    try:
        return _generate(model, prompt)
    finally:
        model.set_attn_implementation(before)


def _generate(model: Any, prompt: list[int]) -> Reference:
    with torch.inference_mode():
        out = model.generate(
            torch.tensor([prompt], device=DEVICE),
            max_new_tokens=NEW,
            min_new_tokens=NEW,
            do_sample=False,
            output_logits=True,
            return_dict_in_generate=True,
        )
    logits = [s[0].float().cpu() for s in out.logits]
    return Reference(out.sequences[0, len(prompt) :].tolist(), logits)


@pytest.fixture(scope="module")
def references(model: Any, prompts: list[list[int]]) -> list[Reference]:
    return [reference(model, p) for p in prompts]


class Engine:
    """The engine's scheduler, cache and runner, stepped on this thread with each sample's logits kept."""

    def __init__(self, model: Any, *, tokens: int, max_running: int, chunk: int = 256) -> None:
        from model_host.backends.local.kv_cache import KVCacheManager
        from model_host.backends.local.runner import ModelRunner
        from model_host.backends.local.scheduler import Scheduler

        blocks = -(-tokens // BLOCK)
        self.kv = KVCacheManager(blocks, BLOCK)
        self.scheduler = Scheduler(self.kv, max_running=max_running, max_batch_tokens=chunk)
        self.runner = ModelRunner(model, num_blocks=blocks, block_size=BLOCK)
        self.runner.keep_logits = True
        self.runs: dict[int, Run] = {}
        self._ids = iter(range(1, 1_000_000))

    def add(self, prompt: list[int], priority: int = 0) -> int:
        from model_host.backends.base import GenerateRequest, Sampling
        from model_host.backends.local.request import EngineRequest

        rid = next(self._ids)
        req = GenerateRequest(tuple(prompt), NEW, Sampling(0), frozenset(), priority=priority)
        self.scheduler.add(EngineRequest.from_generate(rid, req, max_len=1 << 20))
        self.runs[rid] = Run()
        return rid

    def step(self) -> None:
        out = self.scheduler.schedule()
        assert not out.empty
        sampled = self.runner.execute(out)
        for rid, token in sampled.items():
            self.runs[rid].ids.append(token)
            self.runs[rid].logits.append(self.runner.last_logits[rid].cpu())
        self.scheduler.update(out, sampled)

    def steps(self) -> Iterator[None]:
        while self.scheduler.has_work:
            self.step()
            yield None

    def run(self) -> None:
        for _ in self.steps():
            pass


def check(run: Run, ref: Reference, what: str) -> float:
    """The same ids, or the same up to a rounding tie in `generate()`'s own logits; returns
    the largest logit difference over the steps compared."""
    assert len(run.ids) == len(ref.ids) == NEW, what
    worst = 0.0
    for step, (got, want, logits, ref_logits) in enumerate(
        zip(run.ids, ref.ids, run.logits, ref.logits, strict=True)
    ):
        diff = float((logits.float() - ref_logits.float()).abs().max())
        worst = max(worst, diff)
        assert diff <= LOGIT_TOL, f"{what}: step {step} logits differ by {diff}"
        if got != want:
            top2 = torch.topk(ref_logits.float(), 2).values
            margin = float(top2[0] - top2[1])
            assert margin <= 2 * LOGIT_TOL, (
                f"{what}: step {step} picked {got}, generate() {want} (margin {margin})"
            )
            return worst  # a genuine tie: the rest follows a different history
    return worst


def test_one_request_alone(model: Any, prompts: list[list[int]], references: list[Any]) -> None:
    worst = 0.0
    for prompt, ref in zip(prompts, references, strict=True):
        engine = Engine(model, tokens=len(prompt) + NEW + BLOCK, max_running=1)
        rid = engine.add(prompt)
        engine.run()
        worst = max(worst, check(engine.runs[rid], ref, f"{len(prompt)} tokens alone"))
    print(f"alone: max logit difference {worst:.2e}")


def test_requests_batched(model: Any, prompts: list[list[int]], references: list[Any]) -> None:
    worst = 0.0
    for first in range(0, len(prompts), BATCH):
        group = list(range(first, min(first + BATCH, len(prompts))))
        engine = Engine(
            model, tokens=sum(len(prompts[i]) + NEW + BLOCK for i in group), max_running=BATCH
        )
        rids = {engine.add(prompts[i]): i for i in group}
        batched_decode = 0
        for _ in engine.steps():
            decoding = sum(1 for r in engine.scheduler.running if r.num_generated > 0)
            batched_decode = max(batched_decode, decoding)
        # They decoded side by side (the shortest may finish before the longest is prefilled).
        assert batched_decode >= max(2, len(group) - 2), batched_decode
        for rid, i in rids.items():
            worst = max(worst, check(engine.runs[rid], references[i], f"batched #{i}"))
    print(f"batched: max logit difference {worst:.2e}")


@pytest.mark.parametrize("cut", ["whole", "partial"])
def test_after_a_prefix_cache_hit(
    model: Any, prompts: list[list[int]], references: list[Any], cut: str
) -> None:
    worst = 0.0
    for prompt, ref in list(zip(prompts, references, strict=True))[:4]:
        engine = Engine(model, tokens=3 * (len(prompt) + NEW + BLOCK), max_running=2)
        engine.add(prompt)
        engine.run()
        # The same file with its end edited: shares whole blocks, then the head of one.
        keep = (len(prompt) // 2) // BLOCK * BLOCK + (0 if cut == "whole" else 7)
        edited = prompt[:keep] + prompts[-1][5 : 5 + len(prompt) - keep]
        rid = engine.add(edited)
        engine.run()
        assert engine.kv.hit_tokens >= keep  # the second request reused the first one's work
        want = reference(model, edited)
        worst = max(worst, check(engine.runs[rid], want, f"{len(prompt)} tokens, {cut} hit"))
        # And the very same prompt again: everything but its last token from the cache.
        again = engine.add(prompt)
        engine.run()
        worst = max(worst, check(engine.runs[again], ref, f"{len(prompt)} tokens, repeated"))
    print(f"prefix hit ({cut}): max logit difference {worst:.2e}")


def test_a_preempted_chat_resumes_with_the_same_ids(
    model: Any, prompts: list[list[int]], references: list[Any]
) -> None:
    chat, chat_ref = prompts[1], references[1]
    completion, completion_ref = prompts[0], references[0]
    engine = Engine(model, tokens=2 * (len(chat) + NEW + BLOCK), max_running=1)
    rid = engine.add(chat, priority=1)
    steps = engine.steps()
    while len(engine.runs[rid].ids) < NEW // 2:
        next(steps)
    # A completion arrives mid-answer: with one slot the chat goes back to the queue.
    other = engine.add(completion, priority=0)
    for _ in steps:
        pass
    assert engine.scheduler.preemptions >= 1
    worst = max(
        check(engine.runs[rid], chat_ref, "preempted chat"),
        check(engine.runs[other], completion_ref, "completion"),
    )
    print(f"preempted: max logit difference {worst:.2e}")
