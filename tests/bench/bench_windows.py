"""Many editor windows on one host: aggregate throughput and latency, batched against one at a time.

1, 2, 4, 8 and 16 clients, each on its own connection, each asking for `--rounds`
completions one after another (distinct ~`--prompt`-token prompts, `--new` tokens,
greedy). The engine decodes every running request in one forward per step; the
baseline in the same run is the same host with `--max-active 1` (one sequence per
forward, the way the previous engine ran).

Every prompt is its own slice of the text: no row's prompts share a head with another
row's or with the warm-up's (the prefix cache matches from a prompt's start), so no row
runs on what an earlier row left in the cache; `cached tok` shows what each row reused.
A row has the same prompts on both hosts (separate processes, separate caches), so the
two modes do the same work.

    python tests/bench/bench_windows.py                          # small (58M), CPU
    python tests/bench/bench_windows.py --random-weights 7b --device cuda --new 128
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from model_host.rpc.client import HostClient
from model_host.rpc.protocol import Method
from tests.bench.common import host, host_args, median, pct, source_text, table


async def window(client: HostClient, prompts: list[str], new: int) -> list[dict[str, Any]]:
    """One editor window: its completions one after another."""
    results = []
    for prefix in prompts:
        started = time.perf_counter()
        result = await client.request(
            Method.COMPLETE,
            {"prefix": prefix, "suffix": "\n", "max_tokens": new, "temperature": 0},
        )
        result["e2e_ms"] = (time.perf_counter() - started) * 1000
        results.append(result)
    return results


def slices(text: str, chunk: int, count: int) -> list[str]:
    """`count` distinct `chunk`-character slices of `text`, one after another."""
    if count * chunk > len(text):
        raise SystemExit(
            f"the benchmark text has room for {len(text) // chunk} distinct prompts of "
            f"{chunk} characters, not {count}: ask for fewer clients or rounds, or a smaller --prompt"
        )
    return [text[i * chunk : (i + 1) * chunk] for i in range(count)]


def row_prompts(fresh: list[str], counts: list[int], rounds: int) -> list[list[list[str]]]:
    """For each row (a number of clients), each client's `rounds` prompts: all distinct."""
    it = iter(fresh)
    return [[[next(it) for _ in range(rounds)] for _ in range(n)] for n in counts]


async def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    host_args(ap)
    ap.add_argument("--clients", default="1,2,4,8,16")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--prompt", type=int, default=256, help="prompt size in characters x 3")
    ap.add_argument("--new", type=int, default=48, help="tokens per completion")
    args = ap.parse_args()
    text = "".join(source_text(m) for m in ("argparse", "inspect", "typing", "pathlib"))
    counts = [int(c) for c in args.clients.split(",")]
    warmup, *fresh = slices(text, args.prompt * 3, 1 + sum(counts) * args.rounds)
    plan = row_prompts(fresh, counts, args.rounds)
    rows = []
    for label, extra in (("one at a time (baseline)", ["--max-active", "1"]), ("batched", [])):
        async with host(args, *extra) as proc:
            warm = await proc.client()
            await window(warm, [warmup], args.new)  # first forwards, allocator, threads
            await warm.close()
            baseline_rate = None
            for n, prompts in zip(counts, plan, strict=True):
                clients = [await proc.client() for _ in range(n)]
                started = time.perf_counter()
                per_client = await asyncio.gather(
                    *(window(c, p, args.new) for c, p in zip(clients, prompts, strict=True))
                )
                wall = time.perf_counter() - started
                results = [r for rs in per_client for r in rs]
                generated = sum(r["generated_tokens"] for r in results)
                rate = generated / wall
                baseline_rate = baseline_rate or rate
                e2e = [r["e2e_ms"] for r in results]
                ttft = [r["timings"]["first_token_ms"] for r in results]
                cached = sum(r["timings"]["cached_tokens"] for r in results)
                prompt_tokens = sum(r["timings"]["prompt_tokens"] for r in results)
                rows.append(
                    [
                        label,
                        n,
                        generated,
                        rate,
                        f"{rate / baseline_rate:.2f}x",
                        median(e2e),
                        pct(e2e, 95),
                        median(ttft),
                        pct(ttft, 95),
                        f"{cached}/{prompt_tokens}",
                    ]
                )
                print(
                    table(
                        [
                            "mode",
                            "clients",
                            "tokens",
                            "tok/s",
                            "vs 1",
                            "e2e p50",
                            "p95",
                            "TTFT p50",
                            "p95",
                            "cached tok",
                        ],
                        rows[-1:],
                    ).splitlines()[-1],
                    flush=True,
                )
                for c in clients:
                    await c.close()
    print(
        f"\nwindows · {args.shape} · {args.device} · {args.rounds} completions of {args.new} tokens per client"
    )
    print(
        table(
            [
                "mode",
                "clients",
                "tokens",
                "aggregate tok/s",
                "vs 1 client",
                "latency ms p50",
                "p95",
                "TTFT ms p50",
                "p95",
                "cached tok",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
