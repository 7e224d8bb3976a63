"""Starting a model host for the link: its command line, its log next to the socket, waiting
for it to listen, watching the one started, and a failed start remembered."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model_host.rpc.address import Address, AddressError, default_socket_path, parse_address
from model_host.rpc.client import HostClient
from model_host.rpc.protocol import LoadState

from ..config import HostSettings
from .reach import HostUnavailable, StartFailed, say_hello, try_connect, until_free

log = logging.getLogger(__name__)

START_TIMEOUT_S = 120.0
RECHECK_S = 1.0  # how often a remembered failed start looks at the checkpoint again
IDLE_EXIT_S = 600
LOG_ROTATE_BYTES = 4 * 1024 * 1024
LOG_TAIL_BYTES = 64 * 1024
# Exit codes of tandem-host (model_host/server.py) that a retry with the same settings repeats.
EXIT_USAGE, EXIT_LOAD_FAILED = 2, 3

Fingerprint = tuple[object, ...]


def host_log_path(address: Address) -> Path:
    """Where an auto-started host writes its log: next to its socket (`host.sock` -> `host.log`)."""
    if address.kind == "unix":
        sock = Path(address.path)
        return (
            sock.with_suffix(".log")
            if sock.suffix != ".log"
            else sock.with_name(sock.name + ".txt")
        )
    host = address.host.replace(":", "_") or "localhost"
    return default_socket_path().parent / f"host-{host}-{address.port}.log"


def host_command(settings: HostSettings, address: Address) -> list[str]:
    python = settings.python or sys.executable
    return [
        python,
        "-m",
        "model_host",
        "--model",
        settings.model,
        "--listen",
        str(address),
        "--idle-exit",
        str(IDLE_EXIT_S),
        *settings.args,
    ]


def spawn_host(cmd: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start the host in its own session (it outlives this editor window and serves the
    others too), everything it prints appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        if log_path.stat().st_size > LOG_ROTATE_BYTES:
            log_path.replace(log_path.with_name(log_path.name + ".1"))
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "ab") as log:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        log.write(
            f"\n=== {stamp} tandem-lsp (pid {os.getpid()}) starts: {' '.join(cmd)}\n".encode()
        )
        log.flush()
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def last_error(log_path: Path) -> str | None:
    """The reason in the last `tandem-host: error: ...` line of a host's log."""
    try:
        with open(log_path, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - LOG_TAIL_BYTES))
            tail = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    for line in reversed(tail.splitlines()):
        if line.startswith("tandem-host: error: "):
            return line[len("tandem-host: error: ") :].strip()
        if line.startswith("=== "):  # the start of this run: no error line in it
            return None
    return None


def _hub_cache_dir(model: str) -> Path:
    hub = os.environ.get("HF_HUB_CACHE")
    if hub:
        return Path(hub) / f"models--{model.replace('/', '--')}"
    home = os.environ.get("HF_HOME") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "huggingface"
    )
    return Path(home) / "hub" / f"models--{model.replace('/', '--')}"


def _stat(path: Path) -> tuple[object, ...]:
    try:
        st = path.stat()
    except OSError:
        return (path.name, None)
    return (path.name, st.st_mtime_ns, st.st_size)


def checkpoint_fingerprint(model: str) -> Fingerprint:
    """What changes when someone fixes a checkpoint: the folder's entries (or the hub cache's)."""
    path = Path(model).expanduser()
    folder = path if path.exists() else _hub_cache_dir(model)
    if not folder.is_dir():
        return (_stat(folder),)
    try:
        entries = sorted(folder.iterdir())[:500]
    except OSError:
        return (_stat(folder),)
    return (_stat(folder), *(_stat(e) for e in entries))


@dataclass(frozen=True)
class FailedStart:
    """A host started with these settings could not serve: not again until they (or the checkpoint) change."""

    settings: tuple[object, ...]
    fingerprint: Fingerprint
    reason: str

    @staticmethod
    def settings_key(settings: HostSettings) -> tuple[object, ...]:
        return (settings.address, settings.model, settings.python, tuple(settings.args))

    @classmethod
    def of(cls, settings: HostSettings, reason: str) -> FailedStart:
        return cls(cls.settings_key(settings), checkpoint_fingerprint(settings.model), reason)

    def still_holds(self, settings: HostSettings) -> bool:
        return self.settings == self.settings_key(settings) and self.fingerprint == (
            checkpoint_fingerprint(settings.model)
        )


def log_path_for(settings: HostSettings) -> Path | None:
    """Where a host started with `settings` logs (next to its socket)."""
    try:
        return host_log_path(parse_address(settings.address))
    except AddressError:
        return None


class Supervisor:
    """The hosts one link starts: reaching one (starting it when none listens), the one
    started (its process, its settings), and the remembered failed start.

    `settings()` gives the link's current settings; `attempt` is the settings the current
    connect began with, what a failure of that attempt is remembered under.
    """

    def __init__(
        self,
        settings: Callable[[], HostSettings],
        *,
        on_message: Callable[[str, str], None],
        on_state: Callable[[dict[str, Any]], None],
    ) -> None:
        self.settings = settings
        self.on_message = on_message
        self.on_state = on_state
        self.attempt: HostSettings | None = None
        self.failed: FailedStart | None = None
        self._spawned: subprocess.Popen[bytes] | None = None
        self._spawned_key: tuple[object, ...] | None = None
        self._checked_at = 0.0

    @property
    def started_one(self) -> bool:
        return self._spawned is not None

    # ---- the remembered failed start ------------------------------------------
    def remember(self, reason: str) -> None:
        """A start with these settings failed in a way a retry would repeat: stop retrying."""
        self.failed = FailedStart.of(self.attempt or self.settings(), reason)
        self._checked_at = time.monotonic()
        log.warning("not starting another model host until the settings or checkpoint change")

    def failure_changed(self) -> bool:
        """Whether the settings or the checkpoint changed since the remembered failed start
        (looked at no more than every RECHECK_S)."""
        now = time.monotonic()
        if self.failed is None or now - self._checked_at < RECHECK_S:
            return False
        self._checked_at = now
        return not self.failed.still_holds(self.settings())

    # ---- the host's log ---------------------------------------------------------
    def see_log(self) -> str:
        path = log_path_for(self.settings())
        return f" (log: {path})" if path is not None and path.exists() else ""

    def logged_error(self) -> str | None:
        path = log_path_for(self.settings())
        return last_error(path) if path is not None else None

    # ---- reaching a host ----------------------------------------------------------
    async def reach(self, address: str) -> tuple[HostClient, dict[str, Any]]:
        """A host at `address` that said hello: the one listening, else one we start."""
        client = await try_connect(address)
        if client is not None:
            info = await say_hello(client, address, self.settings().token)
            if not self._going_away(info):
                return client, info
            # A host that could not serve (other settings, or someone else's) is stopping.
            await client.close()
            await until_free(address)
        settings = self.settings()
        if not (settings.auto_start and settings.model):
            hint = "" if settings.model else " (set tandem.host.model to start one automatically)"
            raise HostUnavailable(f"no model host listens at {address}{hint}")
        # The host we started last, if it serves another address, is no use here.
        elsewhere = self._spawned_key is not None and self._spawned_key[0] != address
        if self._spawned_key != FailedStart.settings_key(settings) and not elsewhere:
            # One we started here with other settings may still be on its way out.
            await self.exited(wait_s=10.0)
        if self._spawned is None or self._spawned.poll() is not None or elsewhere:
            self._start()
        client = await self._wait_for_host(address)
        if client is None:
            raise HostUnavailable(
                f"the model host did not start listening at {address} in time" + self.see_log()
            )
        return client, await say_hello(client, address, self.settings().token)

    def _going_away(self, info: dict[str, Any]) -> bool:
        """A failed (or stopping) host that is not the one our current settings started."""
        settings = self.settings()
        return (
            info.get("state") in (LoadState.FAILED, LoadState.STOPPING)
            and settings.auto_start
            and bool(settings.model)
            and self._spawned_key != FailedStart.settings_key(settings)
        )

    def _start(self) -> None:
        settings = self.settings()
        addr = parse_address(settings.address)
        cmd = host_command(settings, addr)
        log_path = host_log_path(addr)
        log.info("starting a model host (log: %s): %s", log_path, " ".join(cmd))
        self.on_message("info", f"Tandem: starting the model host for {settings.model}")
        # Progress starts now, not when the host first answers: imports alone take seconds.
        self.on_state(
            {"state": LoadState.LOADING, "progress": 0.0, "message": "starting the model host"}
        )
        try:
            self._spawned = spawn_host(cmd, log_path)
            self._spawned_key = FailedStart.settings_key(settings)
        except OSError as exc:
            reason = f"cannot run {cmd[0]} for the model host: {exc}"
            self.remember(reason)
            raise StartFailed(reason) from exc

    async def _wait_for_host(self, address: str) -> HostClient | None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            spawned = self._spawned
            if spawned is not None and spawned.poll() is not None:
                code = spawned.returncode
                why = self.logged_error() or f"it exited with code {code}"
                reason = f"the model host could not start: {why}{self.see_log()}"
                if code in (EXIT_USAGE, EXIT_LOAD_FAILED):
                    self.remember(reason)
                    raise StartFailed(reason)
                # Any other exit (another host took the address, say): a later try may work.
                raise HostUnavailable(reason)
            client = await try_connect(address)
            if client is not None:
                return client
            await asyncio.sleep(0.1)
        return None

    async def exited(self, wait_s: float = 2.0) -> int | None:
        """The exit code of the host this link started, once it has exited (None if it runs on)."""
        spawned = self._spawned
        deadline = time.monotonic() + wait_s
        while spawned is not None and spawned.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return spawned.returncode if spawned is not None else None

    async def failed_to_start(self) -> str | None:
        """Why the host we started exited in a way a retry repeats (None: not that)."""
        why = self.logged_error() if self.started_one else None
        if why is not None and await self.exited(15.0) in (EXIT_USAGE, EXIT_LOAD_FAILED):
            return f"the model host could not start: {why}{self.see_log()}"
        return None
