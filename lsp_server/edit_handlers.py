"""LSP handlers for edit by instruction: `tandem/edit`, its code actions and `tandem.edit`."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from model_host.rpc.protocol import RpcError

from . import protocol as tp
from .documents import UnknownDocument
from .edit import EditError
from .edit.actions import KINDS as EDIT_ACTION_KINDS
from .edit.actions import code_actions, has_edit_input, label
from .edit.params import EditParams, parse_command, parse_edit
from .host import HostUnavailable
from .server import TandemServer

CONNECT_WAIT_S = 1.0  # what a code action request waits for a host not yet connected


def register(server: TandemServer) -> None:
    @server.feature(tp.EDIT)
    async def edit(ls: TandemServer, params: Any) -> tp.EditResult:
        try:
            parsed = parse_edit(params)
        except EditError as exc:
            raise JsonRpcInvalidParams(exc.message) from exc
        return await ls.edit(parsed, stream=parsed.stream)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=list(EDIT_ACTION_KINDS), resolve_provider=False),
    )
    async def code_action(
        ls: TandemServer, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        """Edit…, Fix, Document, Add tests, offered only while the loaded model can chat."""
        if ls.link.model is None:
            # Not connected yet (an editor asks as soon as it opens a file): connecting fails
            # fast when there is no host, and a connected host has said what its model can do.
            with contextlib.suppress(HostUnavailable, RpcError, asyncio.TimeoutError):
                await asyncio.wait_for(ls.link.client(), CONNECT_WAIT_S)
        if ls.edits.cannot_chat() is not None:
            return []
        try:
            ls.docs.get(params.text_document.uri)
        except UnknownDocument:
            return []
        return code_actions(params, edit_input=has_edit_input(ls.client_capabilities))

    @server.command(tp.CMD_EDIT)
    async def edit_command(ls: TandemServer, *args: Any) -> dict[str, Any]:
        """Run the edit a code action names and apply it (workspace/applyEdit)."""
        try:
            parsed = parse_command(args)
        except EditError as exc:
            raise JsonRpcInvalidParams(exc.message) from exc
        result = await ls.edit(parsed)
        applied = await _apply(ls, parsed, result)
        return {**result, "applied": applied}


async def _apply(ls: TandemServer, parsed: EditParams, result: tp.EditResult) -> bool:
    """Ask the editor to apply an edit's text edits (workspace/applyEdit); whether it did."""
    applied = True
    if result["edits"]:
        edits = [
            types.TextEdit(
                range=types.Range(
                    start=types.Position(**e["range"]["start"]),
                    end=types.Position(**e["range"]["end"]),
                ),
                new_text=e["newText"],
            )
            for e in result["edits"]
        ]
        answer = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(
                edit=ls.workspace_edit(result["uri"], result["version"], edits),
                label=label(parsed.instruction, parsed.preset),
            )
        )
        applied = bool(answer.applied)
        if not applied:
            ls.tell(
                "warning",
                f"Tandem: the editor did not apply the edit ({answer.failure_reason or 'no reason given'})",
            )
    return applied
