"""`tandem-host`: command line, logging set-up and exit codes of the model host process."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from .loader import LoadSpec
from .logsetup import configure_logging
from .rpc.address import AddressError, default_socket_path, parse_address
from .rpc.protocol import MAX_FRAME_BYTES
from .server import EXIT_USAGE, HostConfig, HostServer


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="tandem-host",
        description="Serve a Llama / Code Llama checkpoint to Tandem clients over msgpack-rpc.",
    )
    ap.add_argument(
        "--model", required=True, help="checkpoint folder or Hugging Face id (local cache only)"
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
    ap.add_argument(
        "--token",
        default=os.environ.get("TANDEM_TOKEN"),
        help="shared secret every client must send in hello (required off loopback)",
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=0,
        help="CPU threads for decoding (0: one for small models, torch's default otherwise)",
    )
    ap.add_argument("--max-active", type=int, default=4, help="generations decoded side by side")
    ap.add_argument(
        "--max-queue", type=int, default=32, help="requests queued before answering busy"
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
    ap.add_argument("--log-file", default=None, help="log here instead of stderr")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level, args.log_file)
    default_address = args.listen is None
    try:
        address = parse_address(args.listen or f"unix:{default_socket_path()}")
    except AddressError as exc:
        print(f"tandem-host: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.max_active < 1 or args.max_queue < args.max_active:
        print("tandem-host: error: need 1 <= --max-active <= --max-queue", file=sys.stderr)
        return EXIT_USAGE
    config = HostConfig(
        spec=LoadSpec(
            model=args.model,
            dtype=args.dtype,
            device=args.device,
            chat_format=args.chat_format,
            infill=None if args.infill is None else args.infill == "yes",
            threads=args.threads,
        ),
        address=address,
        default_address=default_address,
        token=args.token or None,
        max_active=args.max_active,
        max_queue=args.max_queue,
        max_frame_bytes=args.max_frame_bytes,
        idle_exit_s=args.idle_exit,
    )
    return asyncio.run(HostServer(config).run())


if __name__ == "__main__":
    sys.exit(main())
