"""Typing replay through the real processes: what each keystroke costs the engine and the user.

A real `tandem-lsp` and a real `tandem-host` (random weights of a Code Llama shape, the
real Code Llama tokenizer when ../shared/tokenizers is there). argparse.py, larger than
every budget, is opened; at a line in the middle of a function the replay presses Enter
and types a 60-character line, one keystroke at a time: didChange, then an invoked
inline completion. For every keystroke that reached the model it reads the host's
timings from `tandem/status` (`lastHostTimings`): prompt tokens, tokens recomputed (not
served from the prefix cache) and time to first token, plus the end-to-end latency the
editor saw. Both infill orders and three budgets run against a host with its prefix
cache on, and the same replay against one with it off (every keystroke computes its
whole prompt: the baseline) in the same run.

`--cross-file compare` runs each replay twice in a workspace folder that holds argparse.py
beside gettext.py and os.py (modules it imports), with `context.crossFile` on and off: the
header of their definitions must not change what a keystroke recomputes.

    python tests/bench/bench_typing.py                     # small (58M) model, CPU
    python tests/bench/bench_typing.py --keys 20 --baseline-keys 5
    python tests/bench/bench_typing.py --cross-file compare --orders spm --budgets 4096 --baseline-keys 0
    python tests/bench/bench_typing.py --random-weights 7b --device cuda --threads 0
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types

from lsp_server.demo import request as lsp_request
from tests.bench.common import host, host_args, lsp, lsp_status, median, pct, source_text, table

TYPED = "        value = self._get_value(action, arg_string)  # keep it"
ANCHOR = "    def _get_values(self, action, arg_strings):\n"


@dataclass
class Run:
    order: str
    budget: int
    cache: bool
    cross_file: str = "-"  # "on" / "off" in a workspace (--cross-file compare), "-" without one
    header_tokens: int = 0
    lsp_cpu_ms: float = 0.0  # the language server's CPU time per keystroke (user + system)
    prompt: list[int] = field(default_factory=list)
    recomputed: list[int] = field(default_factory=list)
    share: list[float] = field(default_factory=list)
    first_token: list[float] = field(default_factory=list)
    e2e: list[float] = field(default_factory=list)
    answered_from_lsp_cache: int = 0

    def row(self) -> list[object]:
        return [
            self.order,
            self.budget or "default",
            "on" if self.cache else "off (baseline)",
            self.cross_file,
            self.header_tokens,
            len(self.recomputed),
            int(median(self.prompt)),
            median(self.recomputed),
            pct(self.recomputed, 95),
            f"{max(self.share, default=0) * 100:.0f}%",
            median(self.first_token),
            pct(self.first_token, 95),
            median(self.e2e),
            pct(self.e2e, 95),
            self.lsp_cpu_ms,
        ]


HEADERS = [
    "order",
    "budget",
    "prefix cache",
    "cross-file",
    "header tok",
    "keys",
    "prompt tok",
    "recomputed p50",
    "p95",
    "max share",
    "TTFT ms p50",
    "p95",
    "e2e ms p50",
    "p95",
    "LSP CPU ms/key",
]


def cpu_ms(pid: int) -> float:
    """A process's CPU time so far (user + system), from /proc (0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def workspace(folder: Path) -> Path:
    """argparse.py beside the modules it imports from (gettext, os), as a workspace folder."""
    for module in ("argparse", "gettext", "os"):
        (folder / f"{module}.py").write_text(source_text(module))
    return folder


async def index_ready(client: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not (await lsp_status(client))["crossFile"].get("ready"):
        if time.monotonic() > deadline:
            raise RuntimeError("the workspace index did not get ready")
        await asyncio.sleep(0.2)


async def press(
    client: Any, uri: str, version: int, row: int, col: int, char: str
) -> tuple[tuple[int, int], dict[str, Any], dict[str, Any], float]:
    """One keystroke at (row, col): the edit, then an invoked inline completion. Returns the
    cursor after it, the server's status before and after, and the editor's wait in ms."""
    at = types.Position(line=row, character=col)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=at, end=at), text=char
                )
            ],
        )
    )
    row, col = (row + 1, 0) if char == "\n" else (row, col + 1)
    before = await lsp_status(client)
    started = time.perf_counter()
    await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=row, character=col),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    elapsed = (time.perf_counter() - started) * 1000
    return (row, col), before, await lsp_status(client), elapsed


async def replay(address: str, run: Run, keys: int, uri: str, root: Path | None = None) -> Run:
    text = source_text("argparse")
    at = text.index(ANCHOR)
    line_end = text.index("\n", text.index("\n", at + len(ANCHOR)) + 1)  # after the docstring line
    cross = {"context": {"crossFile": {"enable": run.cross_file == "on"}}}
    async with lsp(
        address,
        root=root,
        settings=cross if root is not None else None,
        order=run.order,
        contextTokens=run.budget,
        maxTokensLine=8,
        maxTokensBlock=8,
    ) as client:
        if run.cross_file == "on":
            await index_ready(client)
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            )
        )
        row = text.count("\n", 0, line_end)
        col = line_end - (text.rfind("\n", 0, line_end) + 1)
        version = 1
        typed = ["\n", *TYPED[:keys]]
        pid = client._server.pid if client._server is not None else 0
        cpu_start = 0.0
        for n, char in enumerate(typed):
            version += 1
            (row, col), before, after, elapsed = await press(client, uri, version, row, col, char)
            hits = after["suggestions"]["cacheHits"] - before["suggestions"]["cacheHits"]
            timings = after["suggestions"]["lastHostTimings"]
            if n == 0:
                cpu_start = cpu_ms(pid)
                continue  # the first request after opening: cold, not a keystroke
            if hits or timings is None or timings == before["suggestions"]["lastHostTimings"]:
                run.answered_from_lsp_cache += 1
                continue
            recomputed = timings["prompt_tokens"] - timings["cached_tokens"]
            run.prompt.append(timings["prompt_tokens"])
            run.recomputed.append(recomputed)
            run.share.append(recomputed / timings["prompt_tokens"])
            run.first_token.append(timings["first_token_ms"])
            run.e2e.append(elapsed)
        run.lsp_cpu_ms = (cpu_ms(pid) - cpu_start) / max(1, len(typed) - 1)
        where = {"textDocument": {"uri": uri}, "position": {"line": row, "character": col}}
        plan = await lsp_request(client, "tandem/prompt", where)
        run.header_tokens = int(plan.get("headerTokens", 0))
    return run


async def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    host_args(ap)
    ap.add_argument("--keys", type=int, default=len(TYPED), help="keystrokes per replay")
    ap.add_argument(
        "--baseline-keys", type=int, default=8, help="keystrokes per replay without prefix cache"
    )
    ap.add_argument("--budgets", default="512,4096,0", help="prompt budgets (0: the default)")
    ap.add_argument("--orders", default="spm,psm")
    ap.add_argument(
        "--cross-file",
        choices=["none", "compare"],
        default="none",
        help="compare: each replay in a workspace (argparse.py, gettext.py, os.py) with "
        "context.crossFile on and off",
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each replay this many times (cross-file on/off alternate which goes first)",
    )
    args = ap.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    orders = args.orders.split(",")
    modes = ["on", "off"] if args.cross_file == "compare" else ["-"]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="tdm-typing-") as tmp:
        root = workspace(Path(tmp)) if args.cross_file == "compare" else None
        for cache in (True, False) if args.baseline_keys else (True,):
            async with host(args, *([] if cache else ["--no-prefix-cache"])) as proc:
                for order in orders:
                    for budget, n in ((b, n) for b in budgets for n in range(args.repeat)):
                        for mode in modes if n % 2 == 0 else modes[::-1]:
                            keys = args.keys if cache else args.baseline_keys
                            if root is not None:
                                uri = (root / "argparse.py").as_uri()
                            else:
                                uri = f"file:///bench/{order}-{budget}-{cache}/argparse.py"
                            run = Run(order, budget, cache, mode)
                            await replay(proc.address, run, keys, uri, root)
                            runs.append(run)
                            print(table(HEADERS, [run.row()]).splitlines()[-1], flush=True)
    print(
        f"\ntyping replay · {args.shape} · {args.device} · argparse.py · "
        f"{args.keys} keys (baseline {args.baseline_keys})"
    )
    runs.sort(key=lambda r: (r.order, r.budget == 0, r.budget, not r.cache, r.cross_file))
    print(table(HEADERS, [r.row() for r in runs]))


if __name__ == "__main__":
    asyncio.run(main())
