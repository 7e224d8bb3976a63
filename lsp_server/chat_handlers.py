"""LSP handlers for chat: `tandem/chat` and the selection commands (explain, fix, ...)."""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from . import protocol as tp
from .chat import ChatInputError, command_message, parse_messages
from .server import TandemServer


def register(server: TandemServer) -> None:
    @server.feature(tp.CHAT)
    async def chat(ls: TandemServer, params: Any) -> tp.ChatResult:
        if not isinstance(params, dict):
            raise JsonRpcInvalidParams("tandem/chat takes {messages, context?, chatId?}")
        try:
            messages = parse_messages(params.get("messages"))
        except ChatInputError as exc:
            raise JsonRpcInvalidParams(str(exc)) from exc
        chat_id = params.get("chatId")
        max_tokens = params.get("maxTokens")
        if chat_id is not None and not isinstance(chat_id, str):
            raise JsonRpcInvalidParams("'chatId' must be a string")
        if max_tokens is not None and (
            not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1
        ):
            raise JsonRpcInvalidParams("'maxTokens' must be a positive integer")
        return await ls.chat(messages, ls.code_context(params.get("context")), chat_id, max_tokens)

    for command in tp.SELECTION_COMMANDS:
        _register_selection_command(server, command)


async def _selection_command(
    ls: TandemServer, command: str, args: tuple[Any, ...]
) -> tp.ChatResult:
    if len(args) != 1 or not isinstance(args[0], dict):
        raise JsonRpcInvalidParams(f"{command} takes one argument: {{uri, range?}}")
    ctx = ls.code_context(args[0])
    assert ctx is not None
    message = command_message(command, ctx.language)
    return await ls.chat([{"role": "user", "content": message}], ctx, args[0].get("chatId"))


def _register_selection_command(server: TandemServer, command: str) -> None:
    async def handler(ls: TandemServer, *args: Any) -> tp.ChatResult:
        return await _selection_command(ls, command, args)

    handler.__name__ = command.replace(".", "_")
    server.command(command)(handler)
