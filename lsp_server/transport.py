"""How the language server reads its messages: bounded LSP framing, stdin, and the serve loop.

pygls 2.1.1's read loop is replaced: it allocates whatever a `Content-Length` header
declares (`Content-Length: 99999999999` was a MemoryError) and reads stdin on a thread.
Here a body is read only within MAX_MESSAGE_BYTES, and stdin is read through the event
loop (see `_stdin_reader`); each body goes to `TandemProtocol.receive`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from .jsonrpc import INVALID_REQUEST, PARSE_ERROR, TandemProtocol

log = logging.getLogger(__name__)

# The largest message body read. VS Code does not sync files over 50 MB to extensions; a
# document's JSON is its text plus a little, so this leaves room while bounding memory.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_HEADER_BYTES = 8 * 1024
# An over-limit message declaring up to this many bytes is skipped exactly (the stream stays
# in step); a larger declaration is taken as garbage and the reader looks for the next header.
MAX_SKIP_BYTES = 1024 * 1024 * 1024
READ_CHUNK = 64 * 1024

ReadChunk = Callable[[], Awaitable[bytes]]


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
        while (end := self._buf.find(b"\r\n\r\n", 0, MAX_HEADER_BYTES + 4)) < 0:
            # (Found only within the bound: whether the next message's header has already
            # arrived behind a long junk line must not change what is read.)
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
        # From the file descriptor when there is one: a read blocked in the buffered
        # reader holds its lock, and at interpreter exit (Ctrl-C in a terminal) the
        # runtime's own flush of sys.stdin then cannot take it: "Fatal Python error:
        # _enter_buffered_busy", exit 134.
        try:
            fd = self._stream.fileno()
            read1: Callable[[int], bytes] = lambda n: os.read(fd, n)  # noqa: E731
        except (AttributeError, OSError, ValueError):
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

    async def stopping(self) -> None:
        """The serve loop is ending (end of input, `exit`, Ctrl-C): close what it holds."""

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        self._stop_event = stop = threading.Event()
        out = stdout or sys.stdout.buffer
        self.protocol.set_writer(StdoutWriter(out))
        protocol = self.protocol
        assert isinstance(protocol, TandemProtocol)

        async def main() -> None:
            try:
                await serve(await _stdin_reader(stdin or sys.stdin.buffer, out), protocol, stop)
            finally:
                await self.stopping()

        code: Any = 0
        try:
            asyncio.run(main())
        except BrokenPipeError:
            log.error("lost the connection to the editor; stopping")
        except KeyboardInterrupt:  # Ctrl-C in a terminal: quietly, with the shell's code
            code = 130
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
