"""Long work as LSP `$/progress` (model loading, workspace indexing): one begin/report/end at a time, new tokens."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from model_host.rpc.protocol import LoadState

log = logging.getLogger(__name__)

TITLE = "Tandem: loading model"
_ENDS = {
    LoadState.READY: "model ready",
    LoadState.FAILED: "the model could not be loaded",
    "disconnected": "the model host went away",
}


class _Sequence:
    """One begin ... end under one token; what is sent before the client accepted the token waits."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.created = False
        self.refused = False
        self.pending: list[Callable[[], None]] = []

    def send(self, fn: Callable[[], None]) -> None:
        if self.created:
            fn()
        elif not self.refused:
            self.pending.append(fn)

    def on_created(self, future: Future[Any]) -> None:
        if future.cancelled() or future.exception() is not None:
            log.info("the client refused a progress token: %s", future.exception())
            self.refused, self.pending = True, []
            return
        self.created = True
        pending, self.pending = self.pending, []
        for fn in pending:
            fn()


class LoadProgress:
    """Turns the host link's state notes into `window/workDoneProgress/create` + `$/progress`.

    Tokens are never reused (pygls refuses a token it has seen, and ids of Python objects
    are), and nothing is sent for a token before the client has answered its `create`:
    a report or end that comes earlier waits for it.
    """

    def __init__(self, server: LanguageServer, title: str = TITLE) -> None:
        self._server = server
        self._title = title
        self._current: _Sequence | None = None

    def _supported(self) -> bool:
        try:
            window = self._server.client_capabilities.window
        except (AttributeError, RuntimeError):  # before initialize
            return False
        return bool(window and window.work_done_progress)

    def update(self, note: dict[str, Any]) -> None:
        state = note.get("state")
        percent = max(0, min(100, int(float(note.get("progress") or 0.0) * 100)))
        message = str(note.get("message") or "")
        if state in (LoadState.LOADING, "starting"):
            seq = self._current
            if seq is None:
                self._begin(percent, message)
            else:
                report = types.WorkDoneProgressReport(message=message, percentage=percent)
                seq.send(lambda: self._server.work_done_progress.report(seq.token, report))
        elif self._current is not None:
            self.end(_ENDS.get(str(state), str(state)))

    def _begin(self, percent: int, message: str) -> None:
        if not self._supported():
            return
        seq = _Sequence(f"tandem-load-{uuid.uuid4().hex}")
        begin = types.WorkDoneProgressBegin(
            title=self._title, message=message or None, percentage=percent, cancellable=False
        )
        seq.send(lambda: self._server.work_done_progress.begin(seq.token, begin))
        try:
            future: Future[Any] = self._server.work_done_progress.create(seq.token)
        except Exception as exc:  # a closed transport, say: no progress this time
            log.info("no $/progress for model loading: %s", exc)
            return
        self._current = seq
        future.add_done_callback(seq.on_created)

    def end(self, message: str) -> None:
        """End the sequence in progress (if any)."""
        seq, self._current = self._current, None
        if seq is None:
            return
        done = types.WorkDoneProgressEnd(message=message)

        def send() -> None:
            self._server.work_done_progress.end(seq.token, done)
            # pygls keeps every token it has seen; this one is finished.
            self._server.work_done_progress.tokens.pop(seq.token, None)

        seq.send(send)
