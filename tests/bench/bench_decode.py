"""Decode speed and time to first token: Tandem's engine against plain `generate()`, same model, same run.

Both run the same random-weight Llama in this process: greedy, EOS ignored, after a
warm-up, at each prompt length. The engine runs through its `Backend` interface
(`LocalBackend.generate`), so the figures include its scheduler and streaming.

    python tests/bench/bench_decode.py                                  # small (58M), CPU
    python tests/bench/bench_decode.py --random-weights 7b --device cuda --prompts 512,2048,8192

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
    model: LlamaForCausalLM, prompt: list[int], new: int, device: str
) -> tuple[float, float]:
    model.set_attn_implementation("sdpa")
    ids = torch.tensor([prompt], device=device)
    clock = _Clock(device)
    with torch.inference_mode():
        sync(device)
        start = time.perf_counter()
        model.generate(ids, max_new_tokens=new, min_new_tokens=new, do_sample=False, streamer=clock)
    first, last = clock.stamps[1], clock.stamps[-1]
    return first - start, (new - 1) / (last - first)


async def run_engine(backend: LocalBackend, prompt: list[int], new: int) -> tuple[float, float]:
    request = GenerateRequest(tuple(prompt), new, Sampling(temperature=0), frozenset())
    start = time.perf_counter()
    first = None
    count = 0
    async for delta in backend.generate(request):
        if first is None and delta.ids:
            first = time.perf_counter() - start
        count += len(delta.ids)
    total = time.perf_counter() - start
    assert first is not None and count == new
    return first, (new - 1) / (total - first)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--random-weights", "--shape", dest="shape", default="small", choices=sorted(SHAPES)
    )
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="auto", choices=["auto", "bf16", "fp16", "fp32"])
    ap.add_argument("--prompts", default="512,2048", help="prompt lengths, comma-separated")
    ap.add_argument("--new", type=int, default=64, help="generated tokens")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    ap.add_argument(
        "--chunk", type=int, default=EngineConfig.max_batch_tokens, help="engine prefill chunk"
    )
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}.get(
        args.dtype, torch.bfloat16 if args.device.startswith("cuda") else torch.float32
    )
    lengths = [int(x) for x in args.prompts.split(",")]
    model = build(args.shape, args.device, dtype)
    window = max(lengths) + args.new + 64
    prompt = torch.randint(3, model.config.vocab_size, (max(lengths),)).tolist()
    print(
        f"\n{args.shape} · {args.device} · {str(dtype).removeprefix('torch.')} · {args.new} new tokens · "
        f"{torch.get_num_threads()} CPU threads · engine chunk {args.chunk}"
    )
    print(
        f"| {'prompt':>6} | {'engine':<34} | {'first token ms':>14} | {'decode tok/s':>12} | {'vs baseline':>11} |"
    )
    print(f"|{'-' * 8}|{'-' * 36}|{'-' * 16}|{'-' * 14}|{'-' * 13}|")

    async def engine_rows() -> list[tuple[float, float]]:
        # No prefix cache: every run is a cold prompt, like generate().
        config = EngineConfig(max_batch_tokens=args.chunk, prefix_cache=False)
        backend = LocalBackend(model, window=window, config=config)
        try:
            await run_engine(backend, prompt[:32], 4)  # warm up
            return [await run_engine(backend, prompt[:n], args.new) for n in lengths]
        finally:
            await backend.close()

    run_generate(model, prompt[:32], 4, args.device)  # warm up
    baseline = [run_generate(model, prompt[:n], args.new, args.device) for n in lengths]
    engine = asyncio.run(engine_rows())
    for n, base, mine in zip(lengths, baseline, engine, strict=True):
        for name, (first, tps) in (
            ("transformers generate() (baseline)", base),
            ("tandem engine", mine),
        ):
            ratio = tps / base[1]
            print(
                f"| {n:>6} | {name:<34} | {first * 1000:>14.1f} | {tps:>12.1f} | {ratio:>10.2f}x |"
            )


if __name__ == "__main__":
    main()
