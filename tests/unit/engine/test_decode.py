"""The decode step on the tiny model: persistent buffers, buckets, scattered block tables and
padding give what the first engine's eager step gives, greedy and sampled.

TANDEM_TEST_DEVICE (cpu, cuda) and TANDEM_TEST_DTYPE (fp32, bf16, fp16) pick where the
tests run (tests/bench/gpu.sh runs them on CUDA in bf16 and fp16). The compiled step
(FlexAttention over the pool, torch.compile) runs too with TANDEM_TEST_COMPILE=1: on a
GPU in seconds, on this project's shared 2-core CPU in minutes, so not by default there.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from model_host.backends.base import GenerateRequest, Sampling
from model_host.backends.local.decode import buckets
from model_host.backends.local.kv_cache import KVCacheManager
from model_host.backends.local.request import EngineRequest
from model_host.backends.local.scheduler import Scheduler

torch = pytest.importorskip("torch")

DEVICE = os.environ.get("TANDEM_TEST_DEVICE", "cpu")
DTYPE = os.environ.get("TANDEM_TEST_DTYPE", "fp32")
COMPILE = os.environ.get("TANDEM_TEST_COMPILE") == "1"
BLOCK = 16


def test_buckets_are_powers_of_two_then_the_maximum() -> None:
    assert buckets(1) == [1]
    assert buckets(16) == [1, 2, 4, 8, 16]
    assert buckets(12) == [1, 2, 4, 8, 12]


@pytest.fixture(scope="module")
def model() -> Any:
    from transformers import LlamaForCausalLM

    from model_host.devtools.shapes import SHAPES

    torch.manual_seed(0)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[DTYPE]
    with torch.device(DEVICE):
        model = LlamaForCausalLM(SHAPES["tiny"].config()).to(dtype)
    return model.eval()


def drive(
    model: Any, mode: str, requests: list[GenerateRequest]
) -> tuple[dict[int, list[int]], Any]:
    """Run `requests` to the end; returns each one's tokens and the runner."""
    from model_host.backends.local.runner import ModelRunner

    # A pool with blocks handed out interleaved, so tables are scattered, not runs.
    kv = KVCacheManager(120, BLOCK, prefix_cache=False)
    scheduler = Scheduler(kv, max_running=6, max_batch_tokens=48)
    runner = ModelRunner(model, num_blocks=120, block_size=BLOCK, max_running=6, decode=mode)
    runner.keep_logits = True
    got: dict[int, list[int]] = {}
    logits: dict[int, list[Any]] = {}
    for rid, request in enumerate(requests):
        scheduler.add(EngineRequest.from_generate(rid, request, 4096))
        got[rid], logits[rid] = [], []
    decode_steps = 0
    while scheduler.has_work:
        out = scheduler.schedule()
        decode_steps += all(len(s.tokens) == 1 for s in out.seqs)
        sampled = runner.execute(out)
        for rid, token in sampled.items():
            got[rid].append(token)
            logits[rid].append(runner.last_logits[rid])
        scheduler.update(out, sampled)
    assert decode_steps > 0
    return got, logits


def workload() -> list[GenerateRequest]:
    """Five requests of different lengths (three buckets of batch as they finish), greedy
    and seeded sampling side by side."""
    out = []
    for i, length in enumerate([5, 40, 17, 63, 33]):
        prompt = tuple(3 + (7 * i + 11 * j) % 1900 for j in range(length))
        sampling = Sampling(0) if i % 2 == 0 else Sampling(0.8, top_p=0.9, seed=100 + i)
        out.append(GenerateRequest(prompt, 6 + 3 * i, sampling, frozenset()))
    return out


def check_same(model: Any, mode: str) -> None:
    want, want_logits = drive(model, "eager", workload())
    got, got_logits = drive(model, mode, workload())
    tol = 1e-4 if DTYPE == "fp32" else 0.1
    for rid in want:
        for a, b in zip(got_logits[rid], want_logits[rid], strict=False):
            assert float((a - b).abs().max()) <= tol
    assert got == want


def test_the_buffered_step_gives_what_the_eager_step_gives(model: Any) -> None:
    check_same(model, "buffers")


@pytest.mark.skipif(not COMPILE, reason="compiling takes minutes here: TANDEM_TEST_COMPILE=1")
@pytest.mark.timeout(1800)
def test_the_compiled_flex_step_gives_what_the_eager_step_gives(model: Any) -> None:
    check_same(model, "compiled")


def test_padding_rows_write_only_the_scratch_block(model: Any) -> None:
    from model_host.backends.local.runner import ModelRunner

    runner = ModelRunner(model, num_blocks=8, block_size=BLOCK, max_running=4, decode="buffers")
    kv = KVCacheManager(8, BLOCK, prefix_cache=False)
    scheduler = Scheduler(kv, max_running=4, max_batch_tokens=64)
    for rid in range(3):  # three decoding requests: a bucket of four, one padding row
        request = GenerateRequest(tuple(range(3 + rid, 23 + rid)), 3, Sampling(0), frozenset())
        scheduler.add(EngineRequest.from_generate(rid, request, 4096))
    held: set[int] = set()
    while scheduler.has_work:
        out = scheduler.schedule()
        held.update(b for seq in out.seqs for b in seq.block_table)
        scheduler.update(out, runner.execute(out))
    assert runner.decode_step is not None and runner.decode_step.bucket(3) == 4
    k_pool = runner.kv[0][0].view(9, BLOCK, -1)  # 8 blocks, then the scratch block
    written = {b for b in range(9) if bool(k_pool[b].abs().sum() > 0)}
    assert written == held | {8}
