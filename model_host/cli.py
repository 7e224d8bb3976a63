"""`tandem-host`: command line, logging set-up and exit codes of the model host process."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from . import __version__
from .backends.local import EngineConfig
from .backends.vllm import VllmConfig
from .config import ConfigError, HostConfig, from_args
from .logsetup import announce, configure_logging
from .rpc.address import default_socket_path
from .rpc.protocol import MAX_FRAME_BYTES
from .server import EXIT_USAGE, HostServer


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
    # For tests of what clients see while a model loads: the host stays in its loading
    # state until this file exists, so a test need not race a tiny model's fast load.
    ap.add_argument("--test-hold-load", default=None, metavar="FILE", help=argparse.SUPPRESS)
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
    try:
        config = from_args(args)
    except ConfigError as exc:
        announce(f"tandem-host: error: {exc}", logging.ERROR)
        return EXIT_USAGE
    return asyncio.run(HostServer(config).run())


if __name__ == "__main__":
    sys.exit(main())
