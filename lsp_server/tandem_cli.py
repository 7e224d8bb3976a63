"""`tandem`: the umbrella command (demo, make-tiny, status)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="tandem", description="Tandem: Code Llama in any LSP editor.")
    sub = ap.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="start host + LSP server, ask for a completion and a chat answer"
    )
    demo.add_argument(
        "--model", help="checkpoint folder or cached hub id (default: the tiny random model)"
    )
    demo.add_argument(
        "--file", type=Path, help="source file to complete at its end (default: a sample)"
    )
    demo.add_argument(
        "--address", help="use a host at this address instead of starting a private one"
    )
    demo.add_argument("--max-tokens", type=int, default=48)
    tiny = sub.add_parser(
        "make-tiny", help="build a tiny random Code Llama-shaped checkpoint (offline)"
    )
    tiny.add_argument("dir", type=Path)
    tiny.add_argument("--seed", type=int, default=0)
    tiny.add_argument("--shape", default="tiny", help="tiny, mini, small, 7b, 13b or 34b")
    tiny.add_argument("--tokenizer", type=Path, help="a SentencePiece tokenizer.model to use")
    tiny.add_argument("--context", type=int, default=2048, help="context window")
    status = sub.add_parser("status", help="print a running host's status")
    status.add_argument("--address", help="host address (default: the per-user socket)")
    return ap


async def _host_status(address: str | None) -> dict[str, object]:
    from model_host.rpc.address import default_socket_path
    from model_host.rpc.client import HostClient
    from model_host.rpc.protocol import Method

    client = await HostClient.connect(address or f"unix:{default_socket_path()}")
    try:
        await client.hello(client_name="tandem-cli")
        return dict(await client.request(Method.STATUS))
    finally:
        await client.close()


def _missing_local_engine() -> str | None:
    """The first package of the `[local]` extra that is not installed, if any."""
    from importlib.util import find_spec

    return next((m for m in ("torch", "transformers", "accelerate") if find_spec(m) is None), None)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "make-tiny" or (args.command == "demo" and not args.address):
        missing = _missing_local_engine()
        if missing:
            what = "building a model" if args.command == "make-tiny" else "a demo with its own host"
            print(
                f"tandem: {what} needs the in-process engine ({missing} is not installed): "
                "pip install 'tandem-assist[local]'",
                file=sys.stderr,
            )
            return 2
    if args.command == "make-tiny":
        from model_host.tiny import main as tiny_main

        extra = ["--tokenizer", str(args.tokenizer)] if args.tokenizer else []
        return tiny_main(
            [
                str(args.dir),
                "--seed",
                str(args.seed),
                "--shape",
                args.shape,
                "--context",
                str(args.context),
                *extra,
            ]
        )
    if args.command == "status":
        try:
            print(json.dumps(asyncio.run(_host_status(args.address)), indent=2))
        except OSError as exc:
            print(f"tandem: no host reachable: {exc}", file=sys.stderr)
            return 1
        return 0
    from .demo import DemoOptions, run_demo

    return asyncio.run(run_demo(DemoOptions(args.model, args.file, args.address, args.max_tokens)))


if __name__ == "__main__":
    sys.exit(main())
