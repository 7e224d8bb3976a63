"""LSP handlers that report: `tandem/prompt` (what a completion would send) and status."""

from __future__ import annotations

from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from model_host.rpc.protocol import RpcError

from . import protocol as tp
from .host import HostUnavailable
from .protocol import REQUEST_FAILED
from .server import TandemServer
from .status import server_status


def register(server: TandemServer) -> None:
    @server.feature(tp.PROMPT)
    async def prompt(ls: TandemServer, params: Any) -> dict[str, Any]:
        """`{textDocument: {uri}, position}` -> the context and mode a completion there would use."""
        try:
            uri = params["textDocument"]["uri"]
            position = types.Position(
                line=int(params["position"]["line"]), character=int(params["position"]["character"])
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise JsonRpcInvalidParams(
                "tandem/prompt takes {textDocument: {uri}, position}"
            ) from exc
        doc = ls.document(uri)
        try:
            plan = await ls.completer.plan(doc, ls.offset(doc, position), ls.settings.completion)
        except (HostUnavailable, RpcError) as exc:
            raise JsonRpcException(f"Tandem: {exc}", REQUEST_FAILED) from exc
        if plan is None:
            raise JsonRpcException("the model's window leaves no room for context", REQUEST_FAILED)
        return plan.to_wire()

    @server.feature(tp.STATUS)
    async def status(ls: TandemServer, params: Any) -> dict[str, Any]:
        return await server_status(ls)

    @server.command(tp.CMD_STATUS)
    async def status_command(ls: TandemServer, *args: Any) -> dict[str, Any]:
        return await server_status(ls)
