"""`tandem-host`: command line, logging set-up and exit codes of the model host process."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import stat
import sys
from pathlib import Path

from . import __version__
from .backends.local import EngineConfig
from .backends.vllm import VllmConfig
from .checkpoint.load import LoadSpec
from .logsetup import announce, configure_logging
from .rpc.address import AddressError, default_socket_path, parse_address
from .rpc.protocol import MAX_FRAME_BYTES
from .server import EXIT_USAGE, HostConfig, HostServer


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="tandem-host",
        description="Serve a Llama / Code Llama checkpoint to Tandem clients over msgpack-rpc.",
    )
    ap.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    ap.add_argument(
        "--model",
        required=True,
        help="checkpoint folder, or a Hugging Face hub id already in the local cache "
        "(nothing is downloaded unless --download is given); with --engine vllm only its "
        "config and tokenizer are read",
    )
    ap.add_argument(
        "--download",
        action="store_true",
        help="fetch a hub id that is not in the local cache from the Hugging Face Hub "
        "(progress goes to the log)",
    )
    ap.add_argument(
        "--engine",
        default="local",
        choices=["local", "vllm"],
        help="local: run the model in this process (needs tandem-assist[local]); "
        "vllm: generate on the vLLM servers given by --vllm-url",
    )
    vllm = ap.add_argument_group("vLLM engine (--engine vllm)")
    vllm.add_argument(
        "--vllm-url",
        default=None,
        metavar="URL[,URL...]",
        help="base URLs of vLLM OpenAI-compatible servers serving the same checkpoint "
        "(several: replicas; each document sticks to one)",
    )
    vllm.add_argument(
        "--vllm-model", default=None, help="served model name (default: the one the server lists)"
    )
    vllm.add_argument(
        "--vllm-api-key",
        default=os.environ.get("TANDEM_VLLM_API_KEY"),
        help="vLLM's --api-key (or set TANDEM_VLLM_API_KEY)",
    )
    vllm.add_argument(
        "--vllm-timeout",
        type=float,
        default=VllmConfig.timeout_s,
        metavar="SECONDS",
        help="longest silence on a stream before the request fails",
    )
    vllm.add_argument(
        "--vllm-start-timeout",
        type=float,
        default=VllmConfig.start_timeout_s,
        metavar="SECONDS",
        help="how long to wait at start for a first vLLM replica to be ready",
    )
    vllm.add_argument(
        "--vllm-health-interval",
        type=float,
        default=VllmConfig.health_interval_s,
        metavar="SECONDS",
        help="how often each replica's health is checked",
    )
    vllm.add_argument(
        "--vllm-priority",
        action="store_true",
        help="send request priorities (completions before chat); vLLM must run with "
        "--scheduling-policy priority",
    )
    ap.add_argument(
        "--listen",
        default=None,
        help=f"unix:PATH | tcp:HOST:PORT | stdio (default unix:{default_socket_path()})",
    )
    ap.add_argument("--dtype", default="auto", choices=["auto", "bf16", "fp16", "fp32"])
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    ap.add_argument(
        "--chat-format",
        default=None,
        choices=["llama2", "codellama-70b", "template"],
        help="override the chat format detected from the checkpoint",
    )
    ap.add_argument(
        "--infill",
        default=None,
        choices=["yes", "no"],
        help="override whether the model can fill in the middle",
    )
    secret = ap.add_mutually_exclusive_group()
    secret.add_argument(
        "--token",
        default=None,
        help="shared secret every client must send in hello (required off loopback); "
        "visible to every user of this machine in `ps`: prefer --token-file or TANDEM_TOKEN",
    )
    secret.add_argument(
        "--token-file",
        default=None,
        metavar="PATH",
        help="read the shared secret from this file (its first line; keep it chmod 600)",
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=0,
        help="CPU threads for decoding (0: one for small models, torch's default otherwise)",
    )
    ap.add_argument(
        "--max-active",
        type=int,
        default=EngineConfig.max_running,
        help="requests decoded side by side in one forward pass",
    )
    ap.add_argument(
        "--max-queue",
        type=int,
        default=HostConfig.max_queue,
        help="requests in flight before answering busy",
    )
    ap.add_argument(
        "--prefill-chunk",
        type=int,
        default=EngineConfig.max_batch_tokens,
        metavar="TOKENS",
        help="tokens computed per engine step; a cancel lands within one step",
    )
    ap.add_argument(
        "--kv-cache-tokens",
        type=int,
        default=EngineConfig.kv_cache_tokens,
        metavar="TOKENS",
        help="size of the KV cache pool (0: from memory; at least one context window)",
    )
    ap.add_argument(
        "--block-size",
        type=int,
        default=EngineConfig.block_size,
        metavar="TOKENS",
        help="tokens per KV cache block",
    )
    ap.add_argument(
        "--random-weights",
        default=None,
        metavar="SHAPE",
        help="random weights of a named shape (tiny, mini, small, 7b, 13b, 34b) with the "
        "tokenizer of --model: for benchmarks of real sizes without a checkpoint",
    )
    ap.add_argument(
        "--no-prefix-cache",
        action="store_true",
        help="recompute every prompt from scratch (for benchmarks and debugging)",
    )
    ap.add_argument(
        "--max-frame-bytes",
        type=int,
        default=MAX_FRAME_BYTES,
        help="largest msgpack message accepted, in bytes read or declared; past it the connection closes",
    )
    ap.add_argument(
        "--idle-exit",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="exit after this many seconds without clients (0: never)",
    )
    ap.add_argument("--log-level", default=os.environ.get("TANDEM_LOG", "info"))
    ap.add_argument(
        "--log-file",
        default=None,
        help="log here instead of stderr (every line, the listening/loading/ready/error ones too)",
    )
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level, args.log_file)
    default_address = args.listen is None
    try:
        address = parse_address(args.listen or f"unix:{default_socket_path()}")
    except AddressError as exc:
        announce(f"tandem-host: error: {exc}", logging.ERROR)
        return EXIT_USAGE
    if args.max_active < 1 or args.max_queue < args.max_active:
        announce("tandem-host: error: need 1 <= --max-active <= --max-queue", logging.ERROR)
        return EXIT_USAGE
    if args.prefill_chunk < 1 or args.block_size < 1 or args.kv_cache_tokens < 0:
        announce(
            "tandem-host: error: --prefill-chunk and --block-size must be positive, "
            "--kv-cache-tokens not negative",
            logging.ERROR,
        )
        return EXIT_USAGE
    try:
        token = read_token(args.token, args.token_file, os.environ.get("TANDEM_TOKEN"))
    except TokenError as exc:
        announce(f"tandem-host: error: {exc}", logging.ERROR)
        return EXIT_USAGE
    vllm = None
    if args.engine == "vllm":
        vllm = _vllm_config(args)
        if vllm is None:
            return EXIT_USAGE
    elif args.vllm_url:
        announce("tandem-host: error: --vllm-url needs --engine vllm", logging.ERROR)
        return EXIT_USAGE
    config = HostConfig(
        spec=LoadSpec(
            model=args.model,
            dtype=args.dtype,
            device=args.device,
            chat_format=args.chat_format,
            infill=None if args.infill is None else args.infill == "yes",
            threads=args.threads,
            random_weights=args.random_weights,
            download=args.download,
        ),
        address=address,
        default_address=default_address,
        token=token,
        engine=EngineConfig(
            max_running=args.max_active,
            max_batch_tokens=args.prefill_chunk,
            block_size=args.block_size,
            kv_cache_tokens=args.kv_cache_tokens,
            prefix_cache=not args.no_prefix_cache,
        ),
        vllm=vllm,
        max_queue=args.max_queue,
        max_frame_bytes=args.max_frame_bytes,
        idle_exit_s=args.idle_exit,
    )
    return asyncio.run(HostServer(config).run())


class TokenError(Exception):
    """The token given cannot be used; the message says which and why."""


def read_token(flag: str | None, path: str | None, env: str | None) -> str | None:
    """The shared secret from --token, --token-file or TANDEM_TOKEN (the first given), or None.

    An empty --token or token file is an error rather than "no token": it is how an
    unset shell variable or a truncated file looks, and a host started that way would
    quietly accept everyone on loopback. An empty TANDEM_TOKEN means no token.
    """
    if flag is not None:
        if not flag.strip():
            raise TokenError("--token is empty")
        return flag
    if path is not None:
        return _read_token_file(Path(path))
    return env or None


def _read_token_file(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TokenError(f"--token-file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TokenError(f"cannot read --token-file {path}: {exc}") from None
    lines = text.splitlines()
    token = lines[0].strip() if lines else ""
    if not token:
        raise TokenError(f"--token-file {path} is empty (the token is its first line)")
    if mode & 0o077:
        # Not fatal: a file in a secrets mount may be shared on purpose; say what it means.
        announce(
            f"tandem-host: warning: --token-file {path} can be read by other users "
            f"(mode {stat.S_IMODE(mode):04o}); chmod 600 {path}",
            logging.WARNING,
        )
    return token


def _vllm_config(args: argparse.Namespace) -> VllmConfig | None:
    urls = tuple(u.strip() for u in (args.vllm_url or "").split(",") if u.strip())
    if not urls:
        announce("tandem-host: error: --engine vllm needs --vllm-url URL[,URL...]", logging.ERROR)
        return None
    if min(args.vllm_timeout, args.vllm_start_timeout, args.vllm_health_interval) <= 0:
        announce("tandem-host: error: --vllm-* times must be positive", logging.ERROR)
        return None
    return VllmConfig(
        urls=urls,
        api_key=args.vllm_api_key or None,
        model=args.vllm_model,
        timeout_s=args.vllm_timeout,
        start_timeout_s=args.vllm_start_timeout,
        health_interval_s=args.vllm_health_interval,
        max_connections=args.max_queue + 2 * len(urls),
        send_priority=args.vllm_priority,
    )


if __name__ == "__main__":
    sys.exit(main())
