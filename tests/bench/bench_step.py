"""The engine's decode step time: the first engine's eager step against the buffered (and, with
--compiled, the compiled) step, same model, same process, runs interleaved.

Each mode gets its own KV pool and scheduler with the same N requests already
prefilled; a run times `--steps` engine steps (schedule -> execute -> update, the engine
thread's loop without the thread) of every mode in turn, and each row is the median
over `--runs` runs with its spread (min-max). With the tiny model this is the step's
overhead: the matrix math is next to nothing.

    python -m tests.bench.bench_step                        # tiny, CPU, 1/8/16 requests
    python -m tests.bench.bench_step --shape 7b --device cuda --dtype bf16 --compiled
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch
from transformers import LlamaForCausalLM

from model_host.backends.base import GenerateRequest, Sampling
from model_host.backends.local.kv_cache import KVCacheManager
from model_host.backends.local.request import EngineRequest
from model_host.backends.local.runner import ModelRunner
from model_host.backends.local.scheduler import Scheduler
from model_host.devtools.shapes import SHAPES
from tests.bench.common import median, table

BLOCK = 16


class Bench:
    """One mode's engine parts with `n` requests decoding."""

    def __init__(self, model: Any, mode: str, n: int, prompt: int, steps_total: int) -> None:
        per_request = prompt + steps_total + 2 * BLOCK
        blocks = n * (-(-per_request // BLOCK)) + 1
        self.kv = KVCacheManager(blocks, BLOCK, prefix_cache=False)
        self.scheduler = Scheduler(self.kv, max_running=max(n, 1), max_batch_tokens=n * prompt)
        self.runner = ModelRunner(
            model, num_blocks=blocks, block_size=BLOCK, max_running=max(16, n), decode=mode
        )
        for rid in range(n):
            tokens = tuple(3 + (rid * 31 + j * 7) % 1900 for j in range(prompt))
            request = GenerateRequest(tokens, steps_total + 8, Sampling(0), frozenset())
            self.scheduler.add(EngineRequest.from_generate(rid, request, 1 << 20))
        self.steps(2)  # prefill, then the first decode step (compiles if compiled)

    def steps(self, count: int) -> float:
        """Seconds for `count` engine steps."""
        sync(self.runner.device)
        start = time.perf_counter()
        for _ in range(count):
            out = self.scheduler.schedule()
            self.scheduler.update(out, self.runner.execute(out))
        sync(self.runner.device)
        return time.perf_counter() - start


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--shape", default="tiny", choices=sorted(SHAPES))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="fp32", choices=["bf16", "fp16", "fp32"])
    ap.add_argument("--requests", default="1,8,16", help="decoding requests, comma-separated")
    ap.add_argument("--prompt", type=int, default=64, help="each request's prompt tokens")
    ap.add_argument("--steps", type=int, default=50, help="steps per run")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--compiled", action="store_true", help="add the compiled step")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[args.dtype]
    torch.manual_seed(0)
    with torch.device(args.device):
        model = LlamaForCausalLM(SHAPES[args.shape].config()).to(dtype).eval()
    modes = ["eager", "buffers"] + (["compiled"] if args.compiled else [])
    rows = []
    for n in [int(x) for x in args.requests.split(",")]:
        benches = {m: Bench(model, m, n, args.prompt, args.steps * (args.runs + 1)) for m in modes}
        for bench in benches.values():
            bench.steps(args.steps)  # warm-up run
        times: dict[str, list[float]] = {m: [] for m in modes}
        for _ in range(args.runs):
            for mode, bench in benches.items():  # interleaved: the same load on each
                times[mode].append(bench.steps(args.steps) / args.steps * 1000)
        base = median(times["eager"])
        for mode in modes:
            ms = times[mode]
            name = "eager step (baseline)" if mode == "eager" else f"{mode} step"
            rows.append(
                [
                    n,
                    name,
                    f"{median(ms):.3f}",
                    f"{min(ms):.3f}-{max(ms):.3f}",
                    f"{base / median(ms):.2f}x",
                ]
            )
    print(
        f"\n{args.shape} · {args.device} · {args.dtype} · {torch.get_num_threads()} CPU threads · "
        f"{args.runs} runs of {args.steps} steps · prompt {args.prompt}"
    )
    print(table(["requests", "step", "ms/step median", "spread", "speed-up"], rows))


if __name__ == "__main__":
    main()
