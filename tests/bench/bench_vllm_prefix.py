"""Time to first token through `tandem-host --engine vllm`: a keystroke (prefix-cache hit) vs a cold prompt.

Starts a real vLLM (the CPU build from tests/vllm/install-vllm.sh, or `--vllm-url`
for one you run, e.g. on a GPU) and the real host, then per prompt size sends:
- miss: a prompt vLLM has never seen (the baseline, in the same run);
- hit: the previous prompt with one more character typed at the cursor, as the
  language server sends it while you type (the whole prefix is cached but the tail).
Prints one table: p50/p95 of the host's `first_token_ms` and vLLM's `cached_tokens`.

    .venv/bin/python tests/bench/bench_vllm_prefix.py                # small random model, CPU
    .venv/bin/python tests/bench/bench_vllm_prefix.py --vllm-url http://gpu:8000 --model DIR
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from model_host.rpc.client import HostClient  # noqa: E402
from model_host.rpc.protocol import Method  # noqa: E402
from tests.hostproc import start_host  # noqa: E402
from tests.vllm.real import find_vllm_python, start_servers  # noqa: E402

WORDS = [
    "value",
    "index",
    "count",
    "total",
    "result",
    "items",
    "record",
    "buffer",
    "token",
    "cursor",
    "window",
]


def code(rng: random.Random, lines: int) -> str:
    out = []
    for n in range(lines):
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        out.append(f"def {a}_{n}({b}):\n    return {b}.{rng.choice(WORDS)}({n})\n")
    return "\n".join(out)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


async def measure(address: str, sizes: list[int], rounds: int) -> list[dict[str, Any]]:
    client = await HostClient.connect(address)
    await client.hello(client_name="bench")
    rng = random.Random(0)
    rows = []
    for size in sizes:
        # Enough functions for a prompt of about `size` tokens, by the host's tokenizer.
        sample = code(random.Random(1), 20)
        per = (await client.request(Method.COUNT_TOKENS, {"texts": [sample]}))["counts"][0] / 20
        lines = max(4, int(size / per))
        for case in ("miss", "hit"):
            ttft: list[float] = []
            cached: list[int] = []
            prompt_tokens = 0
            text = code(rng, lines)
            if case == "hit":
                warm = {"prefix": text, "suffix": "\n", "max_tokens": 1, "temperature": 0}
                await client.request(Method.COMPLETE, {**warm, "document": "file:///bench.py"})
            for n in range(rounds):
                if case == "miss":
                    text = code(rng, lines)  # never seen: nothing to reuse
                else:
                    text += "abcdefghij"[n % 10]  # one keystroke at the cursor
                params = {
                    "prefix": text,
                    "suffix": "\n",
                    "max_tokens": 8,
                    "temperature": 0,
                    "document": "file:///bench.py",
                }
                result = await client.request(Method.COMPLETE, params)
                ttft.append(result["timings"]["first_token_ms"])
                cached.append(result["timings"]["cached_tokens"])
                prompt_tokens = result["prompt_tokens"]
            rows.append(
                {
                    "size": size,
                    "tokens": prompt_tokens,
                    "case": case,
                    "p50": statistics.median(ttft),
                    "p95": pct(ttft, 0.95),
                    "cached": statistics.mean(cached),
                }
            )
    await client.close()
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--vllm-url", help="use this vLLM instead of starting one")
    ap.add_argument("--model", type=Path, help="checkpoint (default: a random one of --shape)")
    ap.add_argument("--shape", default="small", help="random checkpoint shape (default: small)")
    ap.add_argument("--sizes", default="512,1536", help="prompt sizes in tokens")
    ap.add_argument("--rounds", type=int, default=12)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="tdb-") as tmp:
        work = Path(tmp)
        model = args.model
        if model is None:
            from model_host.devtools.tiny import make_tiny

            model = make_tiny(work / "model", shape=args.shape)
        servers = []
        url = args.vllm_url
        if url is None:
            python, why = find_vllm_python()
            if python is None:
                print(f"no vLLM to run: {why}", file=sys.stderr)
                return 2
            t0 = time.perf_counter()
            servers = start_servers(python, model, work / "logs", 1)
            print(f"vLLM ready in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
            url = servers[0].url
        host = start_host(model, f"unix:{work / 'h.sock'}", "--engine", "vllm", "--vllm-url", url)
        try:
            rows = asyncio.run(measure(host.address, sizes, args.rounds))
        finally:
            host.stop()
            for s in servers:
                s.stop()
    label = args.model or f"{args.shape} (random weights)"
    print(f"\n{label} · vLLM {url if args.vllm_url else 'CPU build, started here'} · greedy")
    print(
        "| prompt tokens | request                  | TTFT p50 ms | TTFT p95 ms | cached tokens | vs miss |"
    )
    print("|---:|---|---:|---:|---:|---:|")
    base: dict[int, float] = {}
    for r in rows:
        if r["case"] == "miss":
            base[r["size"]] = r["p50"]
        what = "cold prompt (baseline)" if r["case"] == "miss" else "keystroke (cache hit)"
        ref = base[r["size"]]
        print(
            f"| {r['tokens']} | {what:24} | {r['p50']:.1f} | {r['p95']:.1f} | "
            f"{r['cached']:.0f} | {ref / r['p50']:.2f}x |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
