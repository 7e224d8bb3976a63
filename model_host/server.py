"""The host process: listen (unix/tcp/stdio), accept sessions, load the model in the background."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .backends.base import Backend
from .checkpoint.load import Checkpoint, LoadError, Weights, load, load_profile
from .config import HostConfig
from .logsetup import announce
from .methods.service import HostService
from .rpc.address import Address, AddressError, prepare_socket_dir
from .rpc.auth import TokenGate
from .rpc.protocol import INFLIGHT_HEADROOM, LoadState
from .rpc.session import Session

if TYPE_CHECKING:
    from .backends.vllm import VllmConfig

log = logging.getLogger(__name__)
T = TypeVar("T")

READ_BUFFER_BYTES = 64 * 1024
SESSION_END_S = 2.0  # how long a stopping host waits for its connections to wind down

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_LOAD_FAILED = 3
EXIT_ADDRESS = 4


class HostServer:
    def __init__(self, config: HostConfig) -> None:
        self.config = config
        self.service = HostService(model_name=config.spec.model, max_queue=config.max_queue)
        self.service.on_shutdown = self.request_stop
        self._stop = asyncio.Event()
        self._exit_code = EXIT_OK
        self._server: asyncio.AbstractServer | None = None
        # The tasks serving connections: a stopping host lets them end rather than leaving
        # them to asyncio.run to cancel (Python 3.11's stream callback then logs a traceback
        # for each cancelled one, into the host.log an editor points to).
        self._serving: set[asyncio.Task[Any]] = set()

    def request_stop(self, code: int = EXIT_OK) -> None:
        self._exit_code = code
        self._stop.set()

    # ---- connections ---------------------------------------------------------
    async def _serve_session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer = writer.get_extra_info("peername") or "local"
        session = Session(
            reader,
            writer,
            on_request=self.service.handle,
            max_frame_bytes=self.config.max_frame_bytes,
            name=f"client {peer}",
            # Room for every generation the scheduler may hold plus quick requests, so a
            # client with --max-queue generations running can still be read (its cancels).
            max_inflight=self.config.max_queue + INFLIGHT_HEADROOM,
            gate=TokenGate(self.config.token) if self.config.token else None,
        )
        self.service.sessions.add(session)
        task = asyncio.current_task()
        if task is not None:
            self._serving.add(task)
        log.info("client connected (%d now)", len(self.service.sessions))
        try:
            await session.run()
        finally:
            self.service.forget_session(session)
            if task is not None:
                self._serving.discard(task)
            why = "the host is stopping" if self._stop.is_set() else session.close_reason
            log.info("client gone: %s (%d left)", why, len(self.service.sessions))

    async def _listen(self) -> None:
        addr = self.config.address
        # The stream's own buffer stays small: the session frames messages itself, and a
        # reader that buffers little lets backpressure reach the peer's socket.
        limit = READ_BUFFER_BYTES
        if addr.kind == "unix":
            path = Path(addr.path)
            prepare_socket_dir(path, private=self.config.default_address)
            if path.exists() or path.is_symlink():
                if await _someone_listens(path):
                    raise AddressError(f"another host already listens at unix:{path}")
                path.unlink()  # a stale socket from a host that died
            old_umask = os.umask(0o177)  # the socket is born 0600: no window for others
            try:
                self._server = await asyncio.start_unix_server(
                    self._serve_session, str(path), limit=limit
                )
            finally:
                os.umask(old_umask)
        elif addr.kind == "tcp":
            if not addr.is_loopback and not self.config.token:
                raise AddressError(
                    f"refusing to listen on non-loopback {addr.host} without a token "
                    "(pass --token-file, set TANDEM_TOKEN or pass --token)"
                )
            self._server = await asyncio.start_server(
                self._serve_session, addr.host, addr.port, limit=limit, family=socket.AF_UNSPEC
            )
        else:
            asyncio.get_running_loop().create_task(self._serve_stdio())
            return
        where = addr
        if addr.kind == "tcp" and self._server.sockets:
            host, port = self._server.sockets[0].getsockname()[:2]
            where = Address("tcp", host=host, port=port)
        # One line tools can wait for: the address is live (the model may still be loading).
        announce(f"tandem-host: listening on {where}")

    async def _serve_stdio(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=READ_BUFFER_BYTES)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
        transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, sys.stdout.buffer
        )
        writer = asyncio.StreamWriter(transport, protocol, reader, loop)
        await self._serve_session(reader, writer)
        self.request_stop()  # stdio serves one client: when it leaves, the host ends

    # ---- model -------------------------------------------------------------
    async def _load(self) -> None:
        loop = asyncio.get_running_loop()
        service = self.service

        def progress(stage: str, fraction: float) -> None:
            announce(f"tandem-host: loading {stage} ({fraction:.0%})")
            loop.call_soon_threadsafe(service.set_state, LoadState.LOADING, fraction, stage)

        service.set_state(LoadState.LOADING, 0.0, "starting")
        while self.config.hold_load is not None and not self.config.hold_load.exists():
            await asyncio.sleep(0.05)
        try:
            if self.config.vllm is not None:
                ckpt, backend = await self._open_vllm(self.config.vllm, progress)
                where = "engine vllm"
            else:
                ckpt, weights = await _in_daemon_thread(load, self.config.spec, progress)
                backend = await _in_daemon_thread(self._open_backend, ckpt, weights)
                where = f"device {weights.device}"
        except LoadError as exc:
            announce(
                f"tandem-host: error: cannot load {self.config.spec.model!r}: {exc}", logging.ERROR
            )
            service.set_state(LoadState.FAILED, 0.0, str(exc))
            await asyncio.sleep(0.1)  # let the state notification reach connected clients
            self.request_stop(EXIT_LOAD_FAILED)
            return
        service.ready(ckpt, backend)
        facts = ckpt.profile
        announce(
            f"tandem-host: ready: {facts.name} (context {facts.context_window}, "
            f"infill {'yes' if facts.can_infill else 'no'}, chat {facts.chat_format}, "
            f"{where})"
        )

    async def _open_vllm(
        self, config: VllmConfig, progress: Callable[[str, float], None]
    ) -> tuple[Checkpoint, Backend]:
        """Tokenizer and profile here, generation on vLLM: verified against it before serving."""
        from .backends.vllm import VllmBackend, VllmStartError

        ckpt = await _in_daemon_thread(load_profile, self.config.spec, progress)
        said: set[str] = set()

        async def report(message: str) -> None:
            if message not in said:
                said.add(message)
                announce(f"tandem-host: {message}")
            self.service.set_state(LoadState.LOADING, 0.6, message)

        try:
            backend = await VllmBackend.open(config, tokenizer=ckpt.tokenizer, report=report)
        except VllmStartError as exc:
            raise LoadError(str(exc)) from None
        profile = ckpt.profile
        if backend.window != profile.context_window:
            log.info(
                "context window %d (vLLM's max_model_len) instead of the checkpoint's %d",
                backend.window,
                profile.context_window,
            )
            profile = dataclasses.replace(profile, context_window=backend.window)
            ckpt = dataclasses.replace(ckpt, profile=profile)
        return ckpt, backend

    def _open_backend(self, ckpt: Checkpoint, weights: Weights) -> Backend:
        from .backends.local import LocalBackend

        try:
            return LocalBackend(
                weights.model, window=ckpt.profile.context_window, config=self.config.engine
            )
        except (RuntimeError, ValueError) as exc:  # e.g. no memory for the KV cache
            raise LoadError(f"cannot start the engine: {exc}") from exc

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop)
        try:
            await self._listen()
        except (AddressError, OSError) as exc:
            announce(f"tandem-host: error: {exc}", logging.ERROR)
            return EXIT_ADDRESS
        loader = asyncio.create_task(self._load())
        idle = None
        if self.config.idle_exit_s > 0:
            idle = asyncio.create_task(self._exit_when_idle(self.config.idle_exit_s))
        await self._stop.wait()
        if idle is not None:
            idle.cancel()
        await self._shutdown(loader)
        return self._exit_code

    async def _exit_when_idle(self, idle_s: float) -> None:
        loop_time = asyncio.get_running_loop().time
        last_seen = loop_time()
        while not self._stop.is_set():
            await asyncio.sleep(min(5.0, idle_s / 4))
            if self.service.sessions:
                last_seen = loop_time()
            elif loop_time() - last_seen >= idle_s:
                announce(f"tandem-host: no clients for {idle_s:g}s; exiting")
                self.request_stop()

    async def _shutdown(self, loader: asyncio.Task[None]) -> None:
        self.service.set_state(LoadState.STOPPING, self.service.progress, "shutting down")
        if self._server is not None:
            self._server.close()
        for session in list(self.service.sessions):
            session.close()
        if self._serving:
            await asyncio.wait(set(self._serving), timeout=SESSION_END_S)
        await self.service.close()
        if not loader.done():
            loader.cancel()
        if self.config.address.kind == "unix":
            with contextlib.suppress(OSError):
                os.unlink(self.config.address.path)


async def _in_daemon_thread(fn: Callable[..., T], *args: Any) -> T:
    """Like asyncio.to_thread, but the thread never keeps a stopping host alive."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def run() -> None:
        try:
            result = fn(*args)
        except BaseException as exc:
            loop.call_soon_threadsafe(_settle, future, None, exc)
        else:
            loop.call_soon_threadsafe(_settle, future, result, None)

    threading.Thread(target=run, name="tandem-load", daemon=True).start()
    return await future


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


async def _someone_listens(path: Path) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), 1.0)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    return True
