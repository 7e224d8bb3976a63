"""`tandem-lsp`: start the language server on stdio (editors) or TCP (debugging)."""

from __future__ import annotations

import argparse
import os
import sys

from model_host.logsetup import configure_logging

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="tandem-lsp", description="Tandem language server (LSP 3.18)."
    )
    ap.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    ap.add_argument("--stdio", action="store_true", help="speak LSP on stdin/stdout (the default)")
    ap.add_argument("--tcp", metavar="HOST:PORT", help="listen for one LSP client on TCP instead")
    ap.add_argument(
        "--log-file",
        default=os.environ.get("TANDEM_LSP_LOG"),
        help="log here; without it the log goes to the editor as window/logMessage "
        "(stderr until the editor is ready; stdout is the protocol)",
    )
    ap.add_argument("--log-level", default=os.environ.get("TANDEM_LOG", "info"))
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level, args.log_file)
    from .server import server

    if not args.log_file:
        from .client_log import log_to_client

        log_to_client(server)
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not port.isdigit():
            print("tandem-lsp: error: --tcp wants HOST:PORT", file=sys.stderr)
            return 2
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
    return 0


if __name__ == "__main__":
    sys.exit(main())
