"""The link's connection to a model host: its states, back-off between tries, reconnecting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

from model_host.rpc.client import HostClient
from model_host.rpc.messages import ModelInfo
from model_host.rpc.protocol import LoadState, Method, RpcError

from ..config import HostSettings
from .reach import HostUnavailable, StartFailed
from .supervisor import FailedStart, Supervisor, log_path_for

log = logging.getLogger(__name__)

BACKOFF_S = (0.25, 0.5, 1.0, 2.0, 4.0)


class HostState(StrEnum):
    """Where the link stands: no connection, or the connected host's load state."""

    DISCONNECTED = "disconnected"
    STARTING = LoadState.STARTING
    LOADING = LoadState.LOADING
    READY = LoadState.READY
    FAILED = LoadState.FAILED
    STOPPING = LoadState.STOPPING

    @classmethod
    def of(cls, value: object, default: HostState) -> HostState:
        """The state a host reports; a state this client does not know counts as starting."""
        if value is None:
            return default
        try:
            return cls(str(value))
        except ValueError:
            log.warning("the model host reported an unknown state %r", value)
            return cls.STARTING


class Backoff:
    """Failed tries in a row, and when the next one may start."""

    def __init__(self, delays: tuple[float, ...] = BACKOFF_S) -> None:
        self.delays = delays
        self.failures = 0
        self.retry_at = 0.0

    def failed(self) -> float:
        """Count a failed try; the delay before the next one."""
        delay = self.delays[min(self.failures, len(self.delays) - 1)]
        self.failures += 1
        self.retry_at = time.monotonic() + delay
        return delay

    def waiting(self) -> bool:
        return time.monotonic() < self.retry_at

    def retry_now(self) -> None:
        self.retry_at = 0.0

    def reset(self) -> None:
        self.failures = 0
        self.retry_at = 0.0


def _fraction(value: object, default: float) -> float:
    """A progress figure from the host (a number; anything else counts as `default`)."""
    return float(value) if isinstance(value, int | float) else default


def _model_of(value: object) -> ModelInfo | None:
    """The `model` of a hello or status answer (a map, or None before the model loads)."""
    if isinstance(value, dict) and value:
        return value  # type: ignore[return-value]  # the host builds it as a ModelInfo
    return None


class HostConnection:
    """Owns at most one HostClient; every call goes through `client()` which never blocks long.

    `on_message(level, text)` tells the user about losing/regaining the host (level
    "info": for the log; "notice", "warning", "error": for the user);
    `on_state(note)` gets host load-state notifications (for `$/progress`).

    A host it started that could not load its model (or exited at once) is remembered
    by its Supervisor as a FailedStart: no new host is started, and the user is not told
    again, until the host settings or the checkpoint folder change.
    """

    def __init__(
        self,
        settings: HostSettings,
        *,
        on_message: Callable[[str, str], None],
        on_state: Callable[[dict[str, Any]], None],
    ) -> None:
        self.settings = settings
        self.on_message = on_message
        self.on_state = on_state
        self.state = HostState.DISCONNECTED
        self.progress = 0.0  # of the model load, from the host's state notes
        self.message = ""  # the host's last state note's message
        self.model: ModelInfo | None = None
        self.last_error = ""
        self._client: HostClient | None = None
        self._connecting: asyncio.Task[HostClient] | None = None
        self._backoff = Backoff()
        self._lost_reported = False
        self._hosts = Supervisor(lambda: self.settings, on_message=on_message, on_state=on_state)
        # The client whose model load `_connect` is waiting for (it reports that host's end).
        self._loading: HostClient | None = None
        self._closing = False
        self._background: set[asyncio.Future[object]] = set()

    @property
    def log_path(self) -> Path | None:
        """Where a host this link starts logs (next to its socket)."""
        return log_path_for(self.settings)

    def configure(self, settings: HostSettings) -> bool:
        """Take new settings; True when they change how a host is reached or started."""
        old = self.settings
        changed = (settings.address, settings.token) != (old.address, old.token)
        self.settings = settings
        if changed and self._client is not None:
            self._spawn(self._client.close())
            self._client = None
            self.state = HostState.DISCONNECTED
        start_changed = FailedStart.settings_key(settings) != FailedStart.settings_key(old) or (
            settings.auto_start != old.auto_start
        )
        if start_changed:
            # New settings deserve a fresh try, and a fresh message if that fails too.
            self._forget_failure()
        return changed or start_changed

    def connect_soon(self) -> None:
        """Connect (or start a host) in the background, unless connected already."""
        if self._client is None and not self._closing:
            self._spawn(self._reconnect_soon(0.0))

    def _forget_failure(self) -> None:
        if self.state == HostState.FAILED and self._client is not None:
            # The failed host's connection is on its way out: not a host we "lost".
            self._spawn(self._client.close())
            self._client = None
        self._hosts.failed = None
        self._backoff.reset()
        self._lost_reported = False
        if self.state == HostState.FAILED:
            self.state = HostState.DISCONNECTED

    def _failure_holds(self) -> FailedStart | None:
        """The remembered failed start, unless the settings or the checkpoint changed since."""
        if self._hosts.failure_changed():
            log.info("host settings or checkpoint changed since the failed start; trying again")
            self._forget_failure()
        return self._hosts.failed

    def _spawn(self, awaitable: Awaitable[object]) -> None:
        """Run in the background, holding a reference so the task is not collected mid-way."""
        task = asyncio.ensure_future(awaitable)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---- connecting ----------------------------------------------------------
    def _loading_now(self) -> HostUnavailable:
        return HostUnavailable(f"the model is still loading ({self.progress:.0%})")

    async def client(self, *, wait: bool = True) -> HostClient:
        """A connected, ready client, or HostUnavailable at once (during back-off) or soon."""
        client = self._client
        if client is not None and not client.closed:
            if self.state == HostState.FAILED:
                raise HostUnavailable(self.last_error or self._load_failure())
            if self.state != HostState.READY:
                raise self._loading_now()
            return client
        if self._connecting is None or self._connecting.done():
            failed = self._failure_holds()
            if failed is not None:
                raise HostUnavailable(failed.reason)
            if self._backoff.waiting():
                raise HostUnavailable(f"the model host is unreachable: {self.last_error}")
            self._connecting = asyncio.ensure_future(self._connect())
        if not wait:
            raise HostUnavailable("connecting to the model host")
        client = await asyncio.shield(self._connecting)
        if self.state != HostState.READY:
            raise self._loading_now()
        return client

    async def _connect(self) -> HostClient:
        # What a failure of this attempt is remembered under: the settings it started with,
        # even when new ones arrive while it runs (those get their own try).
        self._hosts.attempt = self.settings
        address = self.settings.address
        try:
            client, info = await self._hosts.reach(address)
        except HostUnavailable as exc:
            self._failed(str(exc))
            raise
        except (OSError, RpcError, asyncio.TimeoutError, ValueError) as exc:
            self._failed(f"{address}: {exc}")
            raise HostUnavailable(self.last_error) from exc
        self.state = HostState.of(info.get("state"), HostState.READY)
        self.progress = _fraction(info.get("progress"), 0.0)
        self.message = str(info.get("message", ""))
        self.model = _model_of(info.get("model"))
        self._client = client
        client.state_listeners.append(self._on_host_state)
        self._spawn(self._watch(client))
        if self._backoff.failures or self._lost_reported:
            self.on_message("notice", f"Tandem: connected to the model host at {address}")
        self._backoff.reset()
        self._lost_reported = False
        self.on_state({"state": self.state, "progress": info.get("progress", 1.0), "message": ""})
        if self.state in (HostState.LOADING, HostState.FAILED):
            # Loading: wait here so the caller's request can go ahead when it is done.
            self._loading = client
            try:
                await self._wait_ready(client)
            except HostUnavailable as exc:
                self._failed(str(exc))  # the reason, told once
                raise
            finally:
                self._loading = None
        return client

    def _remember_failure(self, reason: str) -> None:
        """A start with these settings failed in a way a retry would repeat: stop retrying."""
        self._hosts.remember(reason)
        self.last_error = reason
        self.state = HostState.FAILED

    async def _wait_ready(self, client: HostClient) -> None:
        while self.state == HostState.LOADING and not client.closed:
            await asyncio.sleep(0.05)
        if self.state == HostState.FAILED:
            reason = self._load_failure()
            if self._hosts.started_one:
                self._remember_failure(reason)
            raise HostUnavailable(reason)
        if client.closed:
            why = await self._hosts.failed_to_start()
            if why is not None:
                self._remember_failure(why)
                raise StartFailed(why)
            raise HostUnavailable("the model host went away while loading" + self._hosts.see_log())

    def _load_failure(self) -> str:
        """Why the host could not load its model: its state note's message, else its log."""
        why = self.message or (self._hosts.logged_error() if self._hosts.started_one else None)
        model = (self._hosts.attempt or self.settings).model or "its model"
        return (
            f"the model host could not load {model}: {why or 'no reason given'}"
            + self._hosts.see_log()
        )

    def _on_host_state(self, note: dict[str, Any]) -> None:
        if self.state == HostState.FAILED and note.get("state") == LoadState.STOPPING:
            return  # a host that failed to load stops next: it stays "failed" for us
        self.state = HostState.of(note.get("state"), self.state)
        self.progress = _fraction(note.get("progress"), 0.0)
        self.message = str(note.get("message", ""))
        if self.state == HostState.READY and self.model is None:
            self._spawn(self._refresh_model())
        self.on_state(note)

    async def _refresh_model(self) -> None:
        if self._client is None:
            return
        with contextlib.suppress(Exception):
            status = await self._client.request(Method.STATUS)
            self.model = _model_of(status.get("model"))

    async def _watch(self, client: HostClient) -> None:
        await client.session.wait_closed()
        if self._loading is client:
            self._client = None  # `_connect` is waiting on this load and says what happened
            return
        if self._client is client and not self._closing:
            self._client = None
            if self._hosts.failed is not None or self.state == HostState.FAILED:
                # A host that could not load its model exits: expected, and already told.
                self.state = HostState.FAILED
                self.on_state({"state": HostState.FAILED, "progress": 0.0})
                return
            self.state = HostState.DISCONNECTED
            self.last_error = client.session.close_reason or "connection lost"
            self._backoff.retry_now()  # reconnect on the next request, then back off
            self.on_state({"state": HostState.DISCONNECTED, "progress": 0.0})
            if not self._lost_reported:
                self._lost_reported = True
                self.on_message("warning", "Tandem: lost the model host; reconnecting")
            self._spawn(self._reconnect_soon())

    async def _reconnect_soon(self, delay: float = BACKOFF_S[0]) -> None:
        await asyncio.sleep(delay)
        if self._closing:
            return
        with contextlib.suppress(HostUnavailable):
            await self.client()

    def _failed(self, message: str) -> None:
        self.last_error = message
        if self._hosts.failed is None:
            self.state = HostState.DISCONNECTED
        else:
            self.state = HostState.FAILED  # remembered as a failed start just now
        self.on_state({"state": self.state, "progress": 0.0})  # ends a progress begun for a start
        delay = self._backoff.failed()
        log.warning("model host unavailable (%s); next try in %.2fs", message, delay)
        if not self._lost_reported:
            self._lost_reported = True
            self.on_message("error", f"Tandem: {message}")

    async def close(self) -> None:
        self._closing = True
        if self._client is not None:
            await self._client.close()
            self._client = None
