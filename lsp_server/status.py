"""What `tandem/status` reports: the server, its host and model, suggestions and cross-file context."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from model_host.rpc.protocol import RpcError

from . import __version__
from .edit import cannot_chat_reason
from .host import HostUnavailable

if TYPE_CHECKING:
    from .server import TandemServer


async def server_status(ls: TandemServer) -> dict[str, Any]:
    host: dict[str, Any] = {"address": ls.settings.host.address, "state": ls.link.state}
    try:
        status = await asyncio.wait_for(ls.link.status(), 5)
        host.update(status)
    except (HostUnavailable, RpcError, asyncio.TimeoutError) as exc:
        host["error"] = str(exc) or ls.link.last_error
    # After the call: asking may have started the host, and with it its log.
    log_path = ls.link.log_path
    if log_path is not None and log_path.exists():
        host["logFile"] = str(log_path)  # an auto-started host's log, next to its socket
    return {
        "server": {
            "name": "tandem-lsp",
            "version": __version__,
            "positionEncoding": ls.encoding,
            "documents": len(ls.docs),
            "settingsProblems": ls.settings_problems,
            "inFlight": ls.in_flight,
        },
        "host": host,
        "model": _with_chat_ability(host.get("model") or ls.link.model, ls),
        "suggestions": ls.stats.to_wire(),
        "crossFile": {**ls.feed.stats(), **ls.crossfile.stats()},
    }


def _with_chat_ability(model: Any, ls: TandemServer) -> Any:
    """The model's facts plus `can_chat`: whether it can edit by instruction (the editors
    offer the edit command by it), judged from what the host said of it at hello."""
    if not isinstance(model, dict):
        return model
    return {**model, "can_chat": cannot_chat_reason(ls.link.model or model) is None}
