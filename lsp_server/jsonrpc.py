"""Tandem's LSP protocol: pygls 2.1.1's, with the fixes below (the transport is transport.py).

Each fix, and why:
- a message is structured from its top-level object only (`receive`): pygls parses with a
  JSON object hook that runs on every nested object, so JSON-RPC-looking params got
  answers of their own;
- a request whose params do not deserialize is answered -32602 (pygls logs it, never answers),
  or -32601 when its method is not served at all;
- requests after `shutdown` are answered -32600 InvalidRequest, as LSP says (pygls drops them);
- the future pygls stores per notification handler is removed when it finishes (it never was:
  about 2 KB per `didChange`);
- documents are not mirrored in pygls' workspace: the server's DocumentStore holds the one
  copy (pygls' would be a second one, split into lines again on every keystroke);
- error responses never carry a traceback (it goes to the log);
- every error response has an `id`, null where the message's id could not be read (pygls'
  serializer left the member out, which JSON-RPC 2.0 does not allow).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable, Generator
from concurrent.futures import Future
from typing import Any

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcMethodNotFound
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from . import protocol as tp

log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600

_Steps = Generator[Any, Any, None]


# ---- message types for Tandem's own methods ----------------------------------------------
@attrs.define
class RawRequest:
    """Our own requests keep their params as plain JSON (pygls would make namedtuples)."""

    id: int | str
    method: str
    params: Any = None
    jsonrpc: str = "2.0"


@attrs.define
class RawNotification:
    method: str
    params: Any = None
    jsonrpc: str = "2.0"


RAW_METHODS: dict[str, type] = {
    tp.CHAT: RawRequest,
    tp.STATUS: RawRequest,
    tp.PROMPT: RawRequest,
    tp.EDIT: RawRequest,
    tp.SUGGESTION_EVENT: RawNotification,
}


class _Answered:
    """Stands in for a message already dealt with (answered with an error), so it is dropped."""

    jsonrpc = "2.0"


# ---- the protocol ---------------------------------------------------------------------------
class TandemProtocol(LanguageServerProtocol):
    """pygls' LSP protocol with the fixes listed at the top of this module."""

    def get_message_type(self, method: str) -> Any:  # type: ignore[override]
        return RAW_METHODS.get(method) or super().get_message_type(method)

    def receive(self, body: bytes) -> None:
        """One message body off the wire: parse, check, structure, dispatch; never raises."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            self.reply_error(None, PARSE_ERROR, f"the message is not JSON: {_first_line(exc)}")
            return
        if not isinstance(data, dict):
            self.reply_error(None, INVALID_REQUEST, "a message must be a JSON object")
            return
        problem = _shape_problem(data)
        if problem:
            msg_id = data.get("id") if _valid_id(data.get("id")) and "method" in data else None
            self.reply_error(msg_id, INVALID_REQUEST, problem)
            return
        if "method" in data:
            data.setdefault("params", None)  # JSON-RPC lets a message leave out its params
        try:
            message = self.structure_message(data)
            self.handle_message(message)
        except JsonRpcException as exc:
            log.warning("dropped %s: %s", data.get("method", "a message"), exc)
        except Exception:
            log.exception("could not handle %s", data.get("method", "a message"))

    def reply_error(self, msg_id: int | str | None, code: int, message: str) -> None:
        log.warning("answered %s with %s: %s", msg_id, code, message)
        self._send_response(msg_id, None, types.ResponseError(code=code, message=message))

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            cause = exc.__cause__ or exc
            detail = _first_line(cause)
            if "id" in data and "method" in data:
                # LSP requires an answer; stock pygls 2.1.1 logs such a request and never answers.
                method = data["method"]
                if not self._serves(method):
                    # Whatever its params, a method not served is "not found" (pygls reads
                    # the params of every method LSP defines before it looks for a handler).
                    missing = JsonRpcMethodNotFound.of(method)
                    self._send_response(data["id"], None, missing.to_response_error())
                    return _Answered()
                log.warning("invalid params for %s: %s", method, detail)
                invalid = JsonRpcInvalidParams(f"invalid params for {method}: {detail}")
                self._send_response(data["id"], None, invalid.to_response_error())
                return _Answered()
            if "id" in data:
                # A client's answer we cannot read still settles our request (nobody waits forever).
                error = types.ResponseError(code=-32602, message=f"unreadable response: {detail}")
                self._handle_response(data["id"], None, error)
                return _Answered()
            raise

    def _serves(self, method: str) -> bool:
        return method in self.fm.builtin_features or method in self.fm.features

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Answered):
            return
        method = getattr(message, "method", None)
        if self._shutdown and hasattr(message, "id") and method not in (None, types.EXIT):
            # LSP: "If a server receives requests after a shutdown request those requests
            # should error with InvalidRequest" (pygls 2.1.1 drops them unanswered).
            self.reply_error(message.id, INVALID_REQUEST, f"{method}: the server is shutting down")
            return
        super().handle_message(message)

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Callable[[Future[Any]], None],
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        # pygls 2.1.1 stores the future of every async, threaded or generator handler in
        # `_request_futures` under a fresh uuid for notifications (and for each step of its
        # built-in generator handlers) and never removes it: ~2 KB leaked per `didChange`.
        # Drop the entry when the handler is done, if it is still this handler's. Later, on
        # the loop: a callback may run inside pygls' own loop over the table (shutdown cancels
        # every entry) or on a worker thread.
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()

        def forget(future: Future[Any]) -> None:
            if self._request_futures.get(msg_id) is future:
                del self._request_futures[msg_id]

        def done(future: Future[Any]) -> None:
            try:
                callback(future)
            finally:
                # On the loop's own thread no wake-up write is needed (one per keystroke).
                on_loop = threading.get_ident() == loop_thread
                with contextlib.suppress(RuntimeError):  # the loop is already closed
                    (loop.call_soon if on_loop else loop.call_soon_threadsafe)(forget, future)

        super()._execute_handler(msg_id, handler, done, args, kwargs)

    def _send_response(
        self, msg_id: Any, result: Any = None, error: types.ResponseError | None = None
    ) -> None:
        if error is None:
            super()._send_response(msg_id, result, None)
            return
        if isinstance(error.data, dict) and "traceback" in error.data:
            # pygls puts the traceback of an unexpected exception in the error's data; it has
            # been logged already and is no business of the editor's.
            error = types.ResponseError(code=error.code, message=error.message)
        # Built here, not as pygls' ResponseErrorMessage: lsprotocol's converter leaves out
        # a field at its default, and `id`'s default is None, so an answer to a message
        # whose id could not be read went out with no `id` at all. JSON-RPC 2.0 (section 5)
        # requires the member: the request's id, or null when it could not be read.
        self._send_data(
            {"jsonrpc": "2.0", "id": msg_id, "error": self._converter.unstructure(error)}
        )

    # Documents live in the server's DocumentStore only (see the module docstring).
    # (Generator functions, as pygls' own are: pygls runs the yielded user handler.)
    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> _Steps:
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> _Steps:
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> _Steps:
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CLOSE, params)

    def _user_handler(self, method: str, params: Any) -> _Steps:
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None


def _valid_id(value: Any) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _shape_problem(data: dict[str, Any]) -> str | None:
    if data.get("jsonrpc") != "2.0":
        return "'jsonrpc' must be \"2.0\""
    if "method" in data and not isinstance(data["method"], str):
        return "'method' must be a string"
    if "id" in data and not _valid_id(data["id"]) and "method" in data:
        return "'id' must be an integer or a string"
    if "method" not in data and "id" not in data:
        return "neither a request, a notification nor a response"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
