"""What the benchmarks share: the model they run, real host and LSP processes, percentiles, tables."""

from __future__ import annotations

import argparse
import asyncio
import inspect
import statistics
import sys
import tempfile
from collections.abc import Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from lsp_server.demo import request as lsp_request
from tests.hostproc import HostProcess, start_host
from tests.paths import ROOT, SHARED_TOKENIZERS

CACHE = ROOT / ".tandem-cache" / "bench"
REAL_TOKENIZER = SHARED_TOKENIZERS / "code-llama" / "tokenizer.model"


# Shapes too big to write to disk: the host builds their random weights in memory
# (`--random-weights`) around a small checkpoint that only lends its tokenizer.
IN_MEMORY = frozenset({"7b", "13b", "34b"})


def model_dir(shape: str, context: int = 16384) -> Path:
    """A random-weight checkpoint of `shape` with Code Llama's real tokenizer (when it is
    beside the repo), built once into .tandem-cache/bench/."""
    import dataclasses

    from model_host.devtools.shapes import SHAPES
    from model_host.devtools.tiny import make_tiny

    real = REAL_TOKENIZER if REAL_TOKENIZER.exists() else None
    out = CACHE / f"{shape}-{context}-{'real' if real else 'trained'}"
    if not (out / "model.safetensors").exists():
        print(f"building the {shape} random checkpoint in {out} ...", file=sys.stderr, flush=True)
        size = SHAPES[shape]
        if real is not None:
            size = dataclasses.replace(size, vocab=max(size.vocab, 32016))
        make_tiny(out, shape=size, max_position_embeddings=context, tokenizer_model=real)
    return out


def host_model(shape: str, context: int) -> tuple[Path, list[str]]:
    """The checkpoint to start a host with, and the extra flags that give it `shape`."""
    if shape in IN_MEMORY:
        return model_dir("tiny", context), ["--random-weights", shape]
    return model_dir(shape, context), []


def source_text(module: str = "argparse") -> str:
    """Real code for the benchmarks to type into: a standard-library module's source."""
    import importlib

    return inspect.getsource(importlib.import_module(module))


def pct(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return float(ordered[rank])


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table with right-aligned cells."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"]
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        out.append("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |")
    return "\n".join(out)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def host_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--random-weights",
        "--shape",
        dest="shape",
        default="small",
        help="random-weight model shape (model_host.devtools.shapes); 7b, 13b and 34b are built in the "
        "host's memory, never written to disk",
    )
    parser.add_argument("--context", type=int, default=16384, help="the model's context window")
    parser.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    parser.add_argument(
        "--threads", type=int, default=0, help="CPU threads for the host (0: default)"
    )


@asynccontextmanager
async def host(args: argparse.Namespace, *extra: str):  # type: ignore[no-untyped-def]
    """A real `tandem-host` serving the benchmark model on a private socket."""
    model, shape_flags = host_model(args.shape, args.context)
    with tempfile.TemporaryDirectory(prefix="tdm-bench-") as tmp:
        flags = [
            *shape_flags,
            "--device",
            args.device,
            *(["--threads", str(args.threads)] if args.threads else []),
        ]
        proc: HostProcess = await asyncio.to_thread(
            start_host, model, f"unix:{tmp}/host.sock", *flags, *extra
        )
        try:
            yield proc
        finally:
            proc.stop()


@asynccontextmanager
async def lsp(  # type: ignore[no-untyped-def]
    address: str,
    *,
    encoding: types.PositionEncodingKind = types.PositionEncodingKind.Utf16,
    env: dict[str, str] | None = None,
    root: Path | None = None,
    settings: dict[str, Any] | None = None,
    **completion: Any,
):
    """A real `tandem-lsp` connected to the host at `address`, as VS Code would start it
    (`root`: its workspace folder; `settings`: more initializationOptions sections)."""
    client = LanguageClient("tandem-bench", "0.1.0")
    await client.start_io(sys.executable, "-m", "lsp_server", cwd=str(ROOT), env=env)
    try:
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    general=types.GeneralClientCapabilities(position_encodings=[encoding]),
                    text_document=types.TextDocumentClientCapabilities(
                        inline_completion=types.InlineCompletionClientCapabilities()
                    ),
                ),
                initialization_options={
                    "host": {"address": address, "autoStart": False, "requestTimeout": 600},
                    "completion": {"debounceMs": 0, "temperature": 0, **completion},
                    **(settings or {}),
                },
                root_uri=root.as_uri() if root is not None else None,
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)]
                if root is not None
                else None,
            )
        )
        client.initialized(types.InitializedParams())
        yield client
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await asyncio.sleep(0.1)
        await client.stop()


async def lsp_status(client: LanguageClient) -> dict[str, Any]:
    return dict(await lsp_request(client, "tandem/status", {}))
