"""Decode speed: Tandem's engine (prefill + one-step decode loop) against plain `generate()`.

Both run the same random-weight Llama in the same process, same prompt, greedy,
EOS ignored, after a warm-up; the table prints tokens/s and time to first token.

    python tests/bench/bench_decode.py                       # tiny shape, CPU
    python tests/bench/bench_decode.py --shape 7b --device cuda --dtype bf16 --prompt 2048

Shapes: tiny (64/2/4), small (512/8/8), 7b (4096/32/32), 13b (5120/40/40),
34b (8192/48/64, 8 KV heads); vocab 32016 except tiny.
"""

from __future__ import annotations

import argparse
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from model_host.detok import StopMatcher
from model_host.engine import Generation, Sampling

SHAPES = {
    "tiny": (64, 2, 4, 4, 128, 2016),
    "small": (512, 8, 8, 8, 1376, 32016),
    "7b": (4096, 32, 32, 32, 11008, 32016),
    "13b": (5120, 40, 40, 40, 13824, 32016),
    "34b": (8192, 48, 64, 8, 22016, 32016),
}


class _NullDecoder:
    """The benchmark measures the model loop, not detokenization."""

    def push(self, token: int) -> str:
        return ""

    def flush(self) -> str:
        return ""


def build(shape: str, device: str, dtype: torch.dtype) -> LlamaForCausalLM:
    hidden, layers, heads, kv, inter, vocab = SHAPES[shape]
    config = LlamaConfig(
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv,
        intermediate_size=inter,
        vocab_size=vocab,
        max_position_embeddings=16384,
        rope_theta=1e6,
    )
    with torch.device(device):
        model = LlamaForCausalLM(config).to(dtype)
    return model.eval()


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_tandem(
    model: LlamaForCausalLM, prompt: list[int], new: int, device: str
) -> tuple[float, float]:
    done: list[Generation] = []
    gen = Generation(
        prompt=prompt,
        max_tokens=new,
        sampling=Sampling(temperature=0),
        stop_ids=frozenset(),
        decoder=_NullDecoder(),  # type: ignore[arg-type]
        stops=StopMatcher(()),
        on_text=lambda t: None,
        on_done=done.append,
    )
    start = time.perf_counter()
    while not gen.done:
        gen.step(model, torch.device(device))
    sync(device)
    total = time.perf_counter() - start
    assert gen.timings.first_token is not None
    first = gen.timings.first_token - start
    return first, (gen.generated - 1) / (total - first)


def run_generate(
    model: LlamaForCausalLM, prompt: list[int], new: int, device: str
) -> tuple[float, float]:
    ids = torch.tensor([prompt], device=device)
    with torch.inference_mode():
        sync(device)
        t0 = time.perf_counter()
        model.generate(ids, max_new_tokens=1, min_new_tokens=1, do_sample=False)
        sync(device)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        model.generate(ids, max_new_tokens=new, min_new_tokens=new, do_sample=False)
        sync(device)
        total = time.perf_counter() - t0
    return first, (new - 1) / (total - first)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--shape", default="tiny", choices=sorted(SHAPES))
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="auto", choices=["auto", "bf16", "fp16", "fp32"])
    ap.add_argument("--prompt", type=int, default=512, help="prompt tokens")
    ap.add_argument("--new", type=int, default=128, help="generated tokens")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}.get(
        args.dtype, torch.bfloat16 if args.device.startswith("cuda") else torch.float32
    )
    torch.manual_seed(0)
    model = build(args.shape, args.device, dtype)
    model.generation_config.eos_token_id = None  # random weights: never stop early
    model.generation_config.pad_token_id = 0
    prompt = torch.randint(3, model.config.vocab_size, (args.prompt,)).tolist()
    run_tandem(model, prompt[:32], 8, args.device)  # warm up both paths
    run_generate(model, prompt[:32], 8, args.device)
    rows = [
        ("transformers generate() (baseline)", *run_generate(model, prompt, args.new, args.device)),
        ("tandem engine", *run_tandem(model, prompt, args.new, args.device)),
    ]
    base_tps = rows[0][2]
    print(
        f"\n{args.shape} · {args.device} · {str(dtype).removeprefix('torch.')} · prompt {args.prompt} · "
        f"{args.new} new tokens · {torch.get_num_threads()} CPU threads"
    )
    print(
        f"| {'engine':<36} | {'first token ms':>14} | {'decode tok/s':>12} | {'vs baseline':>11} |"
    )
    print(f"|{'-' * 38}|{'-' * 16}|{'-' * 14}|{'-' * 13}|")
    for name, first, tps in rows:
        print(f"| {name:<36} | {first * 1000:>14.1f} | {tps:>12.1f} | {tps / base_tps:>10.2f}x |")


if __name__ == "__main__":
    main()
