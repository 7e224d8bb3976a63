"""The server's log sent to the editor as `window/logMessage` (an editor records stderr as errors)."""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any

from lsprotocol import types

from model_host.logsetup import FORMAT

_TYPES = (
    (logging.ERROR, types.MessageType.Error),
    (logging.WARNING, types.MessageType.Warning),
    (logging.INFO, types.MessageType.Info),
)
EARLY_RECORDS = 200


def message_type(levelno: int) -> types.MessageType:
    for floor, kind in _TYPES:
        if levelno >= floor:
            return kind
    return types.MessageType.Log


class ClientLogHandler(logging.Handler):
    """Sends records to the client once it is initialized (`server.client_ready`).

    Before that, warnings and errors go to stderr and the rest waits (a few hundred
    records) to be sent once the client is ready. Records raised while sending one (pygls
    logging its own send) and records from other threads go to stderr, so nothing loops.
    """

    def __init__(self, server: Any, fallback: logging.Handler) -> None:
        super().__init__()
        self.server = server
        self.fallback = fallback
        self._early: deque[logging.LogRecord] = deque(maxlen=EARLY_RECORDS)
        self._sending = False
        self._thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if self._sending or threading.get_ident() != self._thread:
            self.fallback.handle(record)
            return
        if record.name.startswith("pygls") and record.levelno < logging.WARNING:
            self.fallback.handle(record)  # pygls' own message tracing: one line per send
            return
        if not getattr(self.server, "client_ready", False):
            if record.levelno >= logging.WARNING:
                self.fallback.handle(record)
            else:
                self._early.append(record)
            return
        while self._early:
            self._send(self._early.popleft())
        self._send(record)

    def _send(self, record: logging.LogRecord) -> None:
        self._sending = True
        try:
            self.server.window_log_message(
                types.LogMessageParams(
                    type=message_type(record.levelno), message=self.format(record)
                )
            )
        except Exception:
            self.fallback.handle(record)
        finally:
            self._sending = False


def log_to_client(server: Any) -> ClientLogHandler:
    """Route the root logger through the client (stderr stays the fallback)."""
    root = logging.getLogger()
    fallback = root.handlers[0] if root.handlers else logging.StreamHandler()
    handler = ClientLogHandler(server, fallback)
    # The editor adds its own timestamp and level; keep where it came from.
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root.handlers[:] = [handler]
    fallback.setFormatter(logging.Formatter(FORMAT))
    return handler
