"""JSON-RPC for the language server: bounded message reading and Tandem's fixes to pygls' protocol.

pygls 2.1.1's own read loop and protocol are replaced or patched here, one reason each:
- the body is read only if its Content-Length is within MAX_MESSAGE_BYTES (pygls allocates
  whatever a header declares: `Content-Length: 99999999999` was a MemoryError);
- JSON is parsed first and only the top-level object is turned into a message (pygls runs
  its message hook on every nested object, so JSON-RPC-looking params got answers of their own);
- a request whose params do not deserialize is answered -32602 (pygls logs it, never answers);
- requests after `shutdown` are answered -32600 InvalidRequest, as LSP says (pygls drops them);
- the future pygls stores per notification handler is removed when it finishes (it never was:
  about 2 KB per `didChange`);
- documents are not mirrored in pygls' workspace: the server's DocumentStore holds the one
  copy (pygls' would be a second one, split into lines again on every keystroke);
- stdin is read through the event loop, not on a thread (see `_stdin_reader`);
- error responses never carry a traceback (it goes to the log).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import stat
import sys
import threading
from collections.abc import Awaitable, Callable, Generator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, BinaryIO

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from . import protocol as tp

log = logging.getLogger(__name__)

# The largest message body read. VS Code does not sync files over 50 MB to extensions; a
# document's JSON is its text plus a little, so this leaves room while bounding memory.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_HEADER_BYTES = 8 * 1024
# An over-limit message declaring up to this many bytes is skipped exactly (the stream stays
# in step); a larger declaration is taken as garbage and the reader looks for the next header.
MAX_SKIP_BYTES = 1024 * 1024 * 1024
READ_CHUNK = 64 * 1024

PARSE_ERROR = -32700
INVALID_REQUEST = -32600

ReadChunk = Callable[[], Awaitable[bytes]]
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
    tp.SUGGESTION_EVENT: RawNotification,
}


class _Answered:
    """Stands in for a message already dealt with (answered with an error), so it is dropped."""

    jsonrpc = "2.0"


# ---- framing --------------------------------------------------------------------------------
@dataclass(frozen=True)
class FramingProblem:
    """Bytes that did not make a usable message; the reader has already moved past them."""

    code: int
    message: str


class MessageReader:
    """LSP base-protocol framing (`Content-Length: N` headers, then N bytes), with bounds.

    Memory is bounded by one message: headers by MAX_HEADER_BYTES, bodies by
    `max_body`. A body over the limit is refused (a FramingProblem) and skipped without
    being held, so the next message is read as usual.
    """

    MARKER = b"content-length:"

    def __init__(self, read: ReadChunk, max_body: int = MAX_MESSAGE_BYTES) -> None:
        self._read = read
        self.max_body = max_body
        self._buf = bytearray()
        self._eof = False
        self._skip = 0  # bytes of a refused body still to drop
        self._resync = False  # drop bytes up to the next Content-Length header

    async def _fill(self) -> bool:
        if self._eof:
            return False
        data = await self._read()
        if not data:
            self._eof = True
            return False
        self._buf += data
        return True

    async def next(self) -> bytes | FramingProblem | None:
        """The next body, a problem to report, or None at the end of the stream."""
        if not await self._catch_up():
            return None
        while (end := self._buf.find(b"\r\n\r\n")) < 0:
            if len(self._buf) > MAX_HEADER_BYTES:
                self._resync = True
                del self._buf[:1]  # never find the same header start again
                return FramingProblem(
                    PARSE_ERROR, f"a header block longer than {MAX_HEADER_BYTES} bytes"
                )
            if not await self._fill():
                return None
        length = _content_length(bytes(self._buf[:end]))
        del self._buf[: end + 4]
        if length is None:
            self._resync = True
            return FramingProblem(PARSE_ERROR, "a message without a valid Content-Length header")
        if length > self.max_body:
            if length <= MAX_SKIP_BYTES:
                self._skip = length
            else:
                self._resync = True
            return FramingProblem(
                INVALID_REQUEST,
                f"a message of {length} bytes is over the limit of {self.max_body}",
            )
        while len(self._buf) < length:
            if not await self._fill():
                return None
        body = bytes(self._buf[:length])
        del self._buf[:length]
        return body

    async def _catch_up(self) -> bool:
        """Drop what a refused message left behind; False at the end of the stream."""
        while self._skip:
            if not self._buf and not await self._fill():
                return False
            n = min(self._skip, len(self._buf))
            del self._buf[:n]
            self._skip -= n
        while self._resync:
            at = self._buf.lower().find(self.MARKER)
            if at >= 0:
                del self._buf[:at]
                self._resync = False
                break
            del self._buf[: max(0, len(self._buf) - len(self.MARKER))]
            if not await self._fill():
                return False
        return True


def _content_length(header: bytes) -> int | None:
    for line in header.split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == b"content-length":
            value = value.strip()
            return int(value) if value.isdigit() and len(value) <= 18 else None
    return None


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
            detail = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
            if "id" in data and "method" in data:
                # LSP requires an answer; stock pygls 2.1.1 logs such a request and never answers.
                log.warning("invalid params for %s: %s", data["method"], detail)
                invalid = JsonRpcInvalidParams(f"invalid params for {data['method']}: {detail}")
                self._send_response(data["id"], None, invalid.to_response_error())
                return _Answered()
            if "id" in data:
                # A client's answer we cannot read still settles our request (nobody waits forever).
                error = types.ResponseError(code=-32602, message=f"unreadable response: {detail}")
                self._handle_response(data["id"], None, error)
                return _Answered()
            raise

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

        def forget(future: Future[Any]) -> None:
            if self._request_futures.get(msg_id) is future:
                del self._request_futures[msg_id]

        def done(future: Future[Any]) -> None:
            try:
                callback(future)
            finally:
                with contextlib.suppress(RuntimeError):  # the loop is already closed
                    loop.call_soon_threadsafe(forget, future)

        super()._execute_handler(msg_id, handler, done, args, kwargs)

    def _send_response(
        self, msg_id: Any, result: Any = None, error: types.ResponseError | None = None
    ) -> None:
        if error is not None and isinstance(error.data, dict) and "traceback" in error.data:
            # pygls puts the traceback of an unexpected exception in the error's data; it has
            # been logged already and is no business of the editor's.
            error = types.ResponseError(code=error.code, message=error.message)
        super()._send_response(msg_id, result, error)

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


# ---- running --------------------------------------------------------------------------------
async def serve(read: ReadChunk, protocol: TandemProtocol, stop: threading.Event) -> None:
    """Read messages until the stream ends (or the server stops), handing each to `protocol`."""
    reader = MessageReader(read)
    while not stop.is_set():
        item = await reader.next()
        if item is None:
            break
        if isinstance(item, FramingProblem):
            protocol.reply_error(None, item.code, item.message)
        else:
            protocol.receive(item)


async def _stdin_reader(stream: BinaryIO, out: BinaryIO) -> ReadChunk:
    """Chunks of stdin: through the event loop when it is a pipe or socket (an editor),
    else (a file, a terminal) on a thread.

    Not on a thread when it can be helped: reading there (as pygls does, on its pool)
    made the server's RSS creep by ~30 bytes per message, read buffers being allocated
    on one thread and freed on another (measured: +0.3 MiB per 10,000 `didChange`,
    flat through the loop)."""
    try:
        fd = stream.fileno()
        info = os.fstat(fd)
        # The loop makes the fd non-blocking: never when stdout is the same pipe or socket,
        # whose blocking writes the server relies on.
        shared = os.path.sameopenfile(fd, out.fileno())
        if (stat.S_ISFIFO(info.st_mode) or stat.S_ISSOCK(info.st_mode)) and not shared:
            loop = asyncio.get_running_loop()
            reader = asyncio.StreamReader(limit=READ_CHUNK)
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stream)
            return lambda: reader.read(READ_CHUNK)
    except (AttributeError, OSError, ValueError):
        pass
    return _StdinChunks(stream).read


class _StdinChunks:
    """Reads stdin on a daemon thread, one chunk per request, so a blocked read never
    keeps the process from exiting (pygls' pool threads are joined at exit)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._loop = asyncio.get_running_loop()
        self._wanted = threading.Semaphore(0)
        self._pending: asyncio.Future[bytes] | None = None
        threading.Thread(target=self._run, name="tandem-stdin", daemon=True).start()

    async def read(self) -> bytes:
        self._pending = self._loop.create_future()
        self._wanted.release()
        return await self._pending

    def _run(self) -> None:
        read1 = getattr(self._stream, "read1", self._stream.read)
        while True:
            self._wanted.acquire()
            try:
                data = read1(READ_CHUNK)
            except (OSError, ValueError):
                data = b""
            self._loop.call_soon_threadsafe(self._deliver, data)
            if not data:
                return

    def _deliver(self, data: bytes) -> None:
        if self._pending is not None and not self._pending.done():
            self._pending.set_result(data)


class BoundedLanguageServer(LanguageServer):
    """pygls' LanguageServer, reading its messages with `serve` above instead of pygls' loop."""

    @property
    def in_flight(self) -> int:
        """Requests and handlers not finished (with the leak fixed, the ones really running)."""
        return len(self.protocol._request_futures)

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        self._stop_event = stop = threading.Event()
        out = stdout or sys.stdout.buffer
        self.protocol.set_writer(StdoutWriter(out))
        protocol = self.protocol
        assert isinstance(protocol, TandemProtocol)

        async def main() -> None:
            await serve(await _stdin_reader(stdin or sys.stdin.buffer, out), protocol, stop)

        code: Any = 0
        try:
            asyncio.run(main())
        except BrokenPipeError:
            log.error("lost the connection to the editor; stopping")
        except KeyboardInterrupt:
            pass
        except SystemExit as exc:  # `exit`: 0 after `shutdown`, 1 without (LSP)
            code = exc.code
        finally:
            self.shutdown()
        if code:
            raise SystemExit(code)

    def start_tcp(self, host: str, port: int) -> None:
        self._stop_event = stop = threading.Event()
        protocol = self.protocol
        assert isinstance(protocol, TandemProtocol)

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            protocol.set_writer(writer)
            await serve(lambda: reader.read(READ_CHUNK), protocol, stop)
            self.shutdown()

        async def main() -> None:
            server = await asyncio.start_server(connection, host, port)
            self._server = server
            async with server:
                await server.serve_forever()

        try:
            asyncio.run(main())
        except (KeyboardInterrupt, SystemExit, asyncio.CancelledError):
            pass
        finally:
            self.shutdown()
