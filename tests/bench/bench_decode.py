"""Decode speed and time to first token: Tandem's engine against plain `generate()`, same model, same run.

Both run the same random-weight Llama in this process: greedy, EOS ignored, after a
warm-up, at each prompt length, and at each batch size (`--batch`: that many requests
at once to the engine, one batched `generate()` call as the baseline; aggregate tok/s).
The engine runs through its `Backend` interface (`LocalBackend.generate`), so the
figures include its scheduler and streaming. Every row is the median of `--runs` runs
with its spread (min-max); baseline and engine alternate within each run, so both
see the same load.

    python -m tests.bench.bench_decode                                  # small (58M), CPU
    python -m tests.bench.bench_decode --random-weights 7b --device cuda --prompts 512,2048,8192

Shapes (`model_host/devtools/shapes.py`): tiny, mini, small (58M), 7b, 13b, 34b (Code Llama's real sizes).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import torch
from transformers import LlamaForCausalLM
from transformers.generation.streamers import BaseStreamer

from model_host.backends.base import GenerateRequest, Sampling
from model_host.backends.local import EngineConfig, LocalBackend
from model_host.devtools.shapes import SHAPES
from tests.bench.common import median, table


def build(shape: str, device: str, dtype: torch.dtype) -> LlamaForCausalLM:
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(SHAPES[shape].config()).to(dtype)
    model.generation_config.eos_token_id = None  # random weights: never stop early
    model.generation_config.pad_token_id = 0
    return model.eval()


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


class _Clock(BaseStreamer):
    """Times `generate()` from the inside: when the first and the last new token arrive."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.stamps: list[float] = []

    def put(self, value: torch.Tensor) -> None:
        sync(self.device)
        self.stamps.append(time.perf_counter())  # the first put is the prompt itself

    def end(self) -> None:
        pass


def run_generate(
    model: LlamaForCausalLM, prompts: list[list[int]], new: int, device: str
) -> tuple[float, float]:
    """(time to first token, aggregate decode tok/s) of one batched generate() call."""
    model.set_attn_implementation("sdpa")
    ids = torch.tensor(prompts, device=device)
    clock = _Clock(device)
    with torch.inference_mode():
        sync(device)
        start = time.perf_counter()
        model.generate(ids, max_new_tokens=new, min_new_tokens=new, do_sample=False, streamer=clock)
    first, last = clock.stamps[1], clock.stamps[-1]
    return first - start, len(prompts) * (new - 1) / (last - first)


async def run_engine(
    backend: LocalBackend, prompts: list[list[int]], new: int
) -> tuple[float, float]:
    """(time to the first token of the first request, aggregate decode tok/s once every
    request has its first token) of `prompts` sent at once."""
    start = time.perf_counter()

    async def one(prompt: list[int]) -> tuple[float, float]:
        request = GenerateRequest(tuple(prompt), new, Sampling(temperature=0), frozenset())
        first = None
        count = 0
        async for delta in backend.generate(request):
            if first is None and delta.ids:
                first = time.perf_counter()
            count += len(delta.ids)
        assert first is not None and count == new
        return first, time.perf_counter()

    times = await asyncio.gather(*(one(p) for p in prompts))
    first = max(t[0] for t in times)
    last = max(t[1] for t in times)
    return min(t[0] for t in times) - start, len(prompts) * (new - 1) / (last - first)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--random-weights", "--shape", dest="shape", default="small", choices=sorted(SHAPES)
    )
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="auto", choices=["auto", "bf16", "fp16", "fp32"])
    ap.add_argument("--prompts", default="512,2048,4096", help="prompt lengths, comma-separated")
    ap.add_argument(
        "--batch", default="1,8", help="batch sizes for decode tok/s (at the first prompt length)"
    )
    ap.add_argument("--new", type=int, default=64, help="generated tokens")
    ap.add_argument("--runs", type=int, default=5, help="runs per row (median and spread)")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    ap.add_argument(
        "--chunk", type=int, default=EngineConfig.max_batch_tokens, help="engine prefill chunk"
    )
    ap.add_argument("--decode", default="auto", help="the engine's decode steps (EngineConfig)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}.get(
        args.dtype, torch.bfloat16 if args.device.startswith("cuda") else torch.float32
    )
    lengths = [int(x) for x in args.prompts.split(",")]
    batches = [int(x) for x in args.batch.split(",")]
    model = build(args.shape, args.device, dtype)
    window = max(lengths) + args.new + 64
    vocab = model.config.vocab_size
    prompt = torch.randint(3, vocab, (max(lengths),)).tolist()
    batch_prompts = torch.randint(3, vocab, (max(batches), lengths[0])).tolist()
    # (kind, size) -> baseline / engine -> [(first token s, tok/s)]
    results: dict[tuple[str, int], dict[str, list[tuple[float, float]]]] = {}

    def record(key: tuple[str, int], name: str, value: tuple[float, float]) -> None:
        results.setdefault(key, {"baseline": [], "engine": []})[name].append(value)

    async def measure() -> str:
        # No prefix cache: every run is a cold prompt, like generate().
        config = EngineConfig(
            max_batch_tokens=args.chunk,
            prefix_cache=False,
            max_running=max(16, max(batches)),
            decode=args.decode,
        )
        backend = LocalBackend(model, window=window, config=config)
        mode = backend.core.runner.decode_mode
        try:
            run_generate(model, [prompt[:32]], 4, args.device)  # warm up both
            for b in batches:
                await run_engine(backend, batch_prompts[:b], 4)
            for _ in range(args.runs):
                for n in lengths:  # cold time to first token (and decode at batch 1)
                    record(
                        ("prompt", n),
                        "baseline",
                        run_generate(model, [prompt[:n]], args.new, args.device),
                    )
                    record(
                        ("prompt", n), "engine", await run_engine(backend, [prompt[:n]], args.new)
                    )
                for b in batches:
                    if b == 1:
                        continue
                    prompts = batch_prompts[:b]
                    record(
                        ("batch", b),
                        "baseline",
                        run_generate(model, prompts, args.new, args.device),
                    )
                    record(("batch", b), "engine", await run_engine(backend, prompts, args.new))
        finally:
            await backend.close()
        return mode

    mode = asyncio.run(measure())
    print(
        f"\n{args.shape} · {args.device} · {str(dtype).removeprefix('torch.')} · {args.new} new tokens · "
        f"{torch.get_num_threads()} CPU threads · engine chunk {args.chunk}, decode {mode} · "
        f"{args.runs} runs per row, median (min-max)"
    )
    rows = []
    for (kind, size), by in results.items():
        base_first = median([r[0] for r in by["baseline"]])
        base_tps = median([r[1] for r in by["baseline"]])
        for name in ("baseline", "engine"):
            firsts = [r[0] * 1000 for r in by[name]]
            tps = [r[1] for r in by[name]]
            label = "transformers generate() (baseline)" if name == "baseline" else "tandem engine"
            rows.append(
                [
                    size if kind == "prompt" else lengths[0],
                    1 if kind == "prompt" else size,
                    label,
                    f"{median(firsts):.1f} ({min(firsts):.0f}-{max(firsts):.0f})",
                    f"{median(firsts) / 1000 / base_first:.2f}x",
                    f"{median(tps):.1f} ({min(tps):.0f}-{max(tps):.0f})",
                    f"{median(tps) / base_tps:.2f}x",
                ]
            )
    print(
        table(
            ["prompt", "batch", "engine", "first token ms", "vs base", "decode tok/s", "vs base"],
            rows,
        )
    )


if __name__ == "__main__":
    main()
