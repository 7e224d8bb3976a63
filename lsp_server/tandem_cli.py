"""`tandem`: the umbrella command (demo, make-tiny, status); every failure is one line and an exit code."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from model_host.rpc.auth import TokenError
from model_host.rpc.auth import read_token as read_host_token

from . import __version__

EXIT_FAILED, EXIT_USAGE = 1, 2


class CliError(Exception):
    """A failure for the person at the terminal: one line, and the exit code to end with."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="tandem", description="Tandem: Code Llama in any LSP editor.")
    ap.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="start host + LSP server, ask for a completion and a chat answer"
    )
    demo.add_argument(
        "--model",
        help="checkpoint folder or hub id already in the local cache (default: the tiny random model)",
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
    status = sub.add_parser(
        "status",
        help="print a running host's status",
        description="Print a running host's status as JSON. Exit 0: printed; 1: no host "
        "listens there, or it did not answer; 2: a bad option; 3: the host refused the token.",
    )
    status.add_argument(
        "--address", help="unix:PATH or tcp:HOST:PORT (default: the per-user socket)"
    )
    secret = status.add_mutually_exclusive_group()
    secret.add_argument(
        "--token",
        help="the host's shared secret (visible to other users in `ps`: prefer "
        "--token-file or TANDEM_TOKEN)",
    )
    secret.add_argument(
        "--token-file",
        metavar="PATH",
        help="read the shared secret from this file (its first line)",
    )
    return ap


EXIT_UNAUTHORIZED = 3
STATUS_TIMEOUT_S = 30.0


def read_token(flag: str | None, path: str | None, env: str | None) -> str | None:
    """The token from --token, --token-file or TANDEM_TOKEN, read as `tandem-host` reads its own."""
    try:
        return read_host_token(flag, path, env, warn=_warn)
    except TokenError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def _warn(message: str) -> None:
    print(f"tandem: warning: {message}", file=sys.stderr)


async def _host_status(address: str, token: str | None) -> dict[str, object]:
    from model_host.rpc.client import HostClient
    from model_host.rpc.protocol import Method

    client = await HostClient.connect(address)
    try:
        await client.hello(client_name="tandem-cli", token=token)
        return dict(await client.request(Method.STATUS))
    finally:
        await client.close()


def _status(args: argparse.Namespace) -> int:
    from model_host.rpc.address import AddressError, default_socket_path, parse_address
    from model_host.rpc.protocol import ErrorCode, RpcError

    token = read_token(args.token, args.token_file, os.environ.get("TANDEM_TOKEN"))
    try:
        address = parse_address(args.address or f"unix:{default_socket_path()}")
    except AddressError as exc:
        raise CliError(f"bad --address: {exc}", EXIT_USAGE) from exc
    if address.kind == "stdio":
        raise CliError(
            "bad --address: stdio is a host an editor runs as its own child; "
            "`tandem status` reaches a host at unix:PATH or tcp:HOST:PORT",
            EXIT_USAGE,
        )
    try:
        status = asyncio.run(asyncio.wait_for(_host_status(str(address), token), STATUS_TIMEOUT_S))
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        raise CliError(
            f"no model host listens at {address}: start one with `tandem-host --model …` "
            "or open a file in an editor with host.model set"
        ) from exc
    except asyncio.TimeoutError as exc:
        raise CliError(
            f"the model host at {address} did not answer in {STATUS_TIMEOUT_S:g} s"
        ) from exc
    except OSError as exc:
        why = exc.strerror or str(exc) or type(exc).__name__
        raise CliError(f"the model host at {address} did not answer: {why}") from exc
    except RpcError as exc:
        if exc.code == ErrorCode.UNAUTHORIZED:
            hint = (
                "the token given is not the host's"
                if token
                else "it needs a token: pass --token-file PATH or set TANDEM_TOKEN"
            )
            raise CliError(
                f"the model host at {address} refused: {hint}", EXIT_UNAUTHORIZED
            ) from None
        raise CliError(f"the model host at {address} answered with an error: {exc}") from exc
    print(json.dumps(status, indent=2))
    return 0


def _make_tiny(args: argparse.Namespace) -> int:
    out: Path = args.dir
    if out.exists() and not out.is_dir():
        raise CliError(f"{out} exists and is not a folder", EXIT_USAGE)
    from model_host.devtools.shapes import SHAPES
    from model_host.devtools.tiny import main as tiny_main

    if args.shape not in SHAPES:
        raise CliError(
            f"unknown --shape {args.shape!r}: use one of {', '.join(SHAPES)}", EXIT_USAGE
        )
    if args.tokenizer is not None and not args.tokenizer.is_file():
        raise CliError(f"no tokenizer file at {args.tokenizer}", EXIT_USAGE)
    extra = ["--tokenizer", str(args.tokenizer)] if args.tokenizer else []
    argv = [
        str(out),
        "--seed",
        str(args.seed),
        "--shape",
        args.shape,
        "--context",
        str(args.context),
    ]
    try:
        return tiny_main([*argv, *extra])
    except OSError as exc:
        raise CliError(f"cannot write the tiny model to {out}: {exc.strerror or exc}") from exc


def _missing_local_engine() -> str | None:
    """The first package of the `[local]` extra that is not installed, if any."""
    from importlib.util import find_spec

    return next((m for m in ("torch", "transformers", "accelerate") if find_spec(m) is None), None)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "make-tiny" or (args.command == "demo" and not args.address):
            missing = _missing_local_engine()
            if missing:
                what = (
                    "building a model"
                    if args.command == "make-tiny"
                    else "a demo with its own host"
                )
                raise CliError(
                    f"{what} needs the in-process engine ({missing} is not installed): "
                    "pip install 'tandem-assist[local]'",
                    EXIT_USAGE,
                )
        if args.command == "make-tiny":
            return _make_tiny(args)
        if args.command == "status":
            return _status(args)
        from .demo import DemoError, DemoOptions, run_demo

        try:
            return asyncio.run(
                run_demo(DemoOptions(args.model, args.file, args.address, args.max_tokens))
            )
        except DemoError as exc:
            raise CliError(str(exc), exc.code) from exc
    except CliError as exc:
        print(f"tandem: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("tandem: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
