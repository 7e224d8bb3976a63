"""A keystroke against a cold request: time to first token through the real host, same run.

For each prompt size a cold prompt (text the host has never seen) is sent, then the same
prompt with one more character typed at its end (suffix-first order, as the language
server sends it): the engine reuses the first prompt's KV cache and computes only what
changed. Reported: the host's time to first token (`timings.first_token_ms`), the
client's end-to-end time for one generated token, and tokens recomputed (the host's
`prompt_tokens - cached_tokens`, measured for both rows). Every cold prompt starts at its
own place in the text, so no cold prompt shares its head with an earlier one (the prefix
cache matches from a prompt's start).

    python tests/bench/bench_keystroke.py                      # small (58M), CPU
    python tests/bench/bench_keystroke.py --random-weights 7b --device cuda --sizes 1024,4096
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from model_host.rpc.client import HostClient
from model_host.rpc.protocol import Method
from tests.bench.common import host, host_args, median, source_text, table


async def prompt_of(client: HostClient, text: str, tokens: int) -> str:
    """A slice of `text` that is about `tokens` tokens long."""
    chars = tokens * 3
    for _ in range(6):
        (count,) = (await client.request(Method.COUNT_TOKENS, {"texts": [text[:chars]]}))["counts"]
        if abs(count - tokens) <= tokens // 100 + 2:
            break
        chars = int(chars * tokens / count)
    return text[:chars]


async def ask(client: HostClient, prefix: str) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    result = await client.request(
        Method.COMPLETE,
        {"prefix": prefix, "suffix": "\n", "order": "spm", "max_tokens": 1, "temperature": 0},
    )
    return result, (time.perf_counter() - started) * 1000


def recomputed_tokens(result: dict[str, Any]) -> int:
    """Prompt tokens the engine computed for a request (the rest came from its cache)."""
    timings = result["timings"]
    return int(timings["prompt_tokens"] - timings["cached_tokens"])


async def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    host_args(ap)
    ap.add_argument("--sizes", default="1024,4096", help="prompt sizes in tokens")
    ap.add_argument("--trials", type=int, default=5)
    args = ap.parse_args()
    text = source_text("argparse") + source_text("inspect") + source_text("typing")
    rows = []
    async with host(args) as proc:
        client = await proc.client()
        starts = iter(range(0, len(text) // 2, 7919))  # a fresh start for every cold prompt
        for size in (int(s) for s in args.sizes.split(",")):
            cold: list[float] = []
            key: list[float] = []
            cold_e2e: list[float] = []
            key_e2e: list[float] = []
            prompts: list[int] = []
            cold_recomputed: list[int] = []
            recomputed: list[int] = []
            for trial in range(args.trials + 1):
                prefix = await prompt_of(client, text[next(starts) :], size)
                first, first_ms = await ask(client, prefix)
                typed, typed_ms = await ask(client, prefix + "x")
                if trial == 0:
                    continue  # warm-up
                cold.append(first["timings"]["first_token_ms"])
                cold_e2e.append(first_ms)
                key.append(typed["timings"]["first_token_ms"])
                key_e2e.append(typed_ms)
                prompts.append(first["prompt_tokens"])
                cold_recomputed.append(recomputed_tokens(first))
                recomputed.append(recomputed_tokens(typed))
            prompt = round(median(prompts))
            rows.append(
                [
                    size,
                    prompt,
                    "cold (baseline)",
                    round(median(cold_recomputed)),
                    median(cold),
                    median(cold_e2e),
                    "1.00x",
                ]
            )
            share = median(key) / median(cold)
            rows.append(
                [
                    size,
                    prompt,
                    "keystroke",
                    round(median(recomputed)),
                    median(key),
                    median(key_e2e),
                    f"{share:.2f}x",
                ]
            )
        await client.close()
    print(f"\nkeystroke vs cold · {args.shape} · {args.device} · median of {args.trials}")
    print(
        table(
            ["size", "prompt tok", "request", "recomputed", "TTFT ms (host)", "e2e ms", "vs cold"],
            rows,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
