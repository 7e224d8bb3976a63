"""Logging for Tandem's processes: stderr or a file, never stdout (stdout may be a protocol)."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_ANNOUNCE = logging.getLogger("tandem.announce")
_ANNOUNCE.addHandler(logging.NullHandler())  # without a log file: printed only, never twice


def configure_logging(level: str, log_file: str | None) -> None:
    handler: logging.Handler = (
        logging.FileHandler(log_file) if log_file else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = level.upper() if level.upper() in logging.getLevelNamesMapping() else "INFO"
    root.setLevel(level)
    # pygls logs every JSON-RPC message (user code included) at INFO: only when debugging.
    logging.getLogger("pygls").setLevel(level if level == "DEBUG" else "WARNING")
    # httpx logs every request to vLLM (each health check too) at INFO.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(level if level == "DEBUG" else "WARNING")
    # Announced lines are printed to stderr already; a log file gets them as records too.
    _ANNOUNCE.setLevel(logging.INFO)
    _ANNOUNCE.propagate = bool(log_file)


def announce(line: str, level: int = logging.INFO) -> None:
    """One line for the person (or tool) watching stderr, e.g. `tandem-host: ready: ...`;
    with a log file it goes there too, so the file holds every line."""
    print(line, file=sys.stderr, flush=True)
    _ANNOUNCE.log(level, "%s", line)
