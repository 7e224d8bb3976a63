"""The host's settings: `tandem-host`'s flags checked once and turned into a typed HostConfig."""

from __future__ import annotations

import argparse
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from .backends.local import EngineConfig
from .backends.vllm import VllmConfig
from .checkpoint.load import LoadSpec
from .logsetup import announce
from .rpc.address import Address, AddressError, default_socket_path, parse_address
from .rpc.auth import TokenError, read_token
from .rpc.protocol import MAX_FRAME_BYTES


@dataclass
class HostConfig:
    spec: LoadSpec
    address: Address
    default_address: bool = False
    token: str | None = None
    engine: EngineConfig = field(default_factory=EngineConfig)
    vllm: VllmConfig | None = None  # set: generate on these vLLM servers, load no weights
    max_queue: int = 64  # generations in flight before BUSY
    max_frame_bytes: int = MAX_FRAME_BYTES
    idle_exit_s: float = 0.0  # > 0: exit after this long with no client (auto-started hosts)
    hold_load: Path | None = None  # tests only: stay loading until this file exists


class ConfigError(Exception):
    """The flags cannot make a working host; the message says which and why."""


def from_args(args: argparse.Namespace) -> HostConfig:
    """The parsed flags as a HostConfig. Raises ConfigError on a combination that cannot work."""
    default_address = args.listen is None
    try:
        address = parse_address(args.listen or f"unix:{default_socket_path()}")
    except AddressError as exc:
        raise ConfigError(str(exc)) from None
    if args.max_active < 1 or args.max_queue < args.max_active:
        raise ConfigError("need 1 <= --max-active <= --max-queue")
    if args.prefill_chunk < 1 or args.block_size < 1 or args.kv_cache_tokens < 0:
        raise ConfigError(
            "--prefill-chunk and --block-size must be positive, --kv-cache-tokens not negative"
        )
    try:
        token = read_token(args.token, args.token_file, os.environ.get("TANDEM_TOKEN"), warn=_warn)
    except TokenError as exc:
        raise ConfigError(str(exc)) from None
    vllm = None
    if args.engine == "vllm":
        vllm = _vllm_config(args)
    elif args.vllm_url:
        raise ConfigError("--vllm-url needs --engine vllm")
    return HostConfig(
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
        hold_load=Path(args.test_hold_load) if args.test_hold_load else None,
    )


def _vllm_config(args: argparse.Namespace) -> VllmConfig:
    urls = tuple(u.strip() for u in (args.vllm_url or "").split(",") if u.strip())
    if not urls:
        raise ConfigError("--engine vllm needs --vllm-url URL[,URL...]")
    if min(args.vllm_timeout, args.vllm_start_timeout, args.vllm_health_interval) <= 0:
        raise ConfigError("--vllm-* times must be positive")
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


def _warn(message: str) -> None:
    announce(f"tandem-host: warning: {message}", logging.WARNING)
