"""The LSP server's line to the model host: connect or start it, reconnect with back-off, fail fast."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from model_host.rpc.address import AddressError, parse_address
from model_host.rpc.client import HostClient, StopWhen, StreamCallback
from model_host.rpc.protocol import ErrorCode, LoadState, Method, RpcError

from .config import HostSettings
from .host_start import (
    EXIT_LOAD_FAILED,
    EXIT_USAGE,
    FailedStart,
    host_command,
    host_log_path,
    last_error,
    spawn_host,
)

log = logging.getLogger(__name__)

BACKOFF_S = (0.25, 0.5, 1.0, 2.0, 4.0)
START_TIMEOUT_S = 120.0
RECHECK_S = 1.0  # how often a remembered failed start looks at the checkpoint again
HELLO_TIMEOUT_S = 10.0  # a listener that accepts but never answers is not a host


def hello_token(settings: HostSettings) -> str | None:
    """The token to say hello with: `host.token`, else TANDEM_TOKEN, the variable the host reads.

    An auto-started host inherits this process's environment, TANDEM_TOKEN included,
    and then requires it; reading it here too keeps the token out of editor settings.
    """
    return settings.token or os.environ.get("TANDEM_TOKEN") or None


class HostUnavailable(Exception):
    """No usable host right now; the message says why, for the user."""


class HostLink:
    """Owns at most one HostClient; every call goes through `client()` which never blocks long.

    `on_message(level, text)` tells the user about losing/regaining the host (level
    "info": for the log; "notice", "warning", "error": for the user);
    `on_state(note)` gets host load-state notifications (for `$/progress`).

    A host it started that could not load its model (or exited at once) is remembered
    as a FailedStart: no new host is started, and the user is not told again, until the
    host settings or the checkpoint folder change.
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
        self.state: str = "disconnected"
        self.info: dict[str, Any] = {}
        self.last_error: str = ""
        self._client: HostClient | None = None
        self._connecting: asyncio.Task[HostClient] | None = None
        self._failures = 0
        self._retry_at = 0.0
        self._lost_reported = False
        self._spawned: subprocess.Popen[bytes] | None = None
        self._spawned_key: tuple[object, ...] | None = None
        self._attempt: HostSettings | None = None  # the settings the current connect began with
        self._failed_start: FailedStart | None = None
        # The client whose model load `_connect` is waiting for (it reports that host's end).
        self._loading: HostClient | None = None
        self._checked_at = 0.0
        self._closing = False
        self._background: set[asyncio.Future[Any]] = set()

    @property
    def log_path(self) -> Path | None:
        """Where a host this link starts logs (next to its socket)."""
        try:
            return host_log_path(parse_address(self.settings.address))
        except AddressError:
            return None

    def configure(self, settings: HostSettings) -> bool:
        """Take new settings; True when they change how a host is reached or started."""
        old = self.settings
        changed = (settings.address, settings.token) != (old.address, old.token)
        self.settings = settings
        if changed and self._client is not None:
            self._spawn(self._client.close())
            self._client = None
            self.state = "disconnected"
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
        if self.state == LoadState.FAILED and self._client is not None:
            # The failed host's connection is on its way out: not a host we "lost".
            self._spawn(self._client.close())
            self._client = None
        self._failed_start = None
        self._retry_at = 0.0
        self._failures = 0
        self._lost_reported = False
        if self.state == LoadState.FAILED:
            self.state = "disconnected"

    def _failure_holds(self) -> FailedStart | None:
        """The remembered failed start, unless the settings or the checkpoint changed since."""
        failed = self._failed_start
        if failed is None:
            return None
        now = time.monotonic()
        if now - self._checked_at < RECHECK_S:
            return failed
        self._checked_at = now
        if failed.still_holds(self.settings):
            return failed
        log.info("host settings or checkpoint changed since the failed start; trying again")
        self._forget_failure()
        return None

    def _spawn(self, awaitable: Any) -> None:
        """Run in the background, holding a reference so the task is not collected mid-way."""
        task = asyncio.ensure_future(awaitable)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @property
    def model(self) -> dict[str, Any] | None:
        return self.info.get("model") if self.info else None

    # ---- connecting ----------------------------------------------------------
    async def client(self, *, wait: bool = True) -> HostClient:
        """A connected, ready client, or HostUnavailable at once (during back-off) or soon."""
        client = self._client
        if client is not None and not client.closed:
            if self.state == LoadState.FAILED:
                raise HostUnavailable(self.last_error or self._load_failure())
            if self.state != LoadState.READY:
                raise HostUnavailable(
                    f"the model is still loading ({self.info.get('progress', 0):.0%})"
                )
            return client
        if self._connecting is None or self._connecting.done():
            failed = self._failure_holds()
            if failed is not None:
                raise HostUnavailable(failed.reason)
            if time.monotonic() < self._retry_at:
                raise HostUnavailable(f"the model host is unreachable: {self.last_error}")
            self._connecting = asyncio.ensure_future(self._connect())
        if not wait:
            raise HostUnavailable("connecting to the model host")
        try:
            client = await asyncio.shield(self._connecting)
        except HostUnavailable:
            raise
        if self.state != LoadState.READY:
            raise HostUnavailable(
                f"the model is still loading ({self.info.get('progress', 0):.0%})"
            )
        return client

    async def _connect(self) -> HostClient:
        # What a failure of this attempt is remembered under: the settings it started with,
        # even when new ones arrive while it runs (those get their own try).
        self._attempt = self.settings
        address = self.settings.address
        try:
            client, info = await self._reach(address)
        except HostUnavailable as exc:
            self._failed(str(exc))
            raise
        except (OSError, RpcError, asyncio.TimeoutError, ValueError) as exc:
            self._failed(f"{address}: {exc}")
            raise HostUnavailable(self.last_error) from exc
        self.info = info
        self.state = info.get("state", LoadState.READY)
        self._client = client
        client.state_listeners.append(self._on_host_state)
        self._spawn(self._watch(client))
        if self._failures or self._lost_reported:
            self.on_message("notice", f"Tandem: connected to the model host at {address}")
        self._failures = 0
        self._lost_reported = False
        self.on_state({"state": self.state, "progress": info.get("progress", 1.0), "message": ""})
        if self.state in (LoadState.LOADING, LoadState.FAILED):
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

    async def _reach(self, address: str) -> tuple[HostClient, dict[str, Any]]:
        """A host at `address` that said hello: the one listening, else one we start."""
        client = await self._try_connect(address)
        if client is not None:
            info = await self._hello(client, address)
            if not self._going_away(info):
                return client, info
            # A host that could not serve (other settings, or someone else's) is stopping.
            await client.close()
            await self._until_free(address)
        if not (self.settings.auto_start and self.settings.model):
            hint = (
                "" if self.settings.model else " (set tandem.host.model to start one automatically)"
            )
            raise HostUnavailable(f"no model host listens at {address}{hint}")
        # The host we started last, if it serves another address, is no use here.
        elsewhere = self._spawned_key is not None and self._spawned_key[0] != address
        if self._spawned_key != FailedStart.settings_key(self.settings) and not elsewhere:
            # One we started here with other settings may still be on its way out.
            await self._spawned_exited(wait_s=10.0)
        if self._spawned is None or self._spawned.poll() is not None or elsewhere:
            self._start_host()
        client = await self._wait_for_host(address)
        if client is None:
            raise HostUnavailable(
                f"the model host did not start listening at {address} in time" + self._see_log()
            )
        return client, await self._hello(client, address)

    async def _hello(self, client: HostClient, address: str) -> dict[str, Any]:
        """Say hello; a client that cannot is closed, never left open."""
        try:
            return await asyncio.wait_for(
                client.hello(client_name="tandem-lsp", token=hello_token(self.settings)),
                HELLO_TIMEOUT_S,
            )
        except BaseException as exc:
            await client.close()
            if isinstance(exc, TimeoutError):
                raise HostUnavailable(
                    f"{address} accepted the connection but did not answer as a model host "
                    f"in {HELLO_TIMEOUT_S:.0f} s"
                ) from None
            raise

    def _going_away(self, info: dict[str, Any]) -> bool:
        """A failed (or stopping) host that is not the one our current settings started."""
        return (
            info.get("state") in (LoadState.FAILED, LoadState.STOPPING)
            and self.settings.auto_start
            and bool(self.settings.model)
            and self._spawned_key != FailedStart.settings_key(self.settings)
        )

    async def _until_free(self, address: str, wait_s: float = 15.0) -> None:
        """Wait until nothing listens at `address` (a stopping host has let it go)."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            client = await self._try_connect(address)
            if client is None:
                return
            await client.close()
            await asyncio.sleep(0.1)

    async def _try_connect(self, address: str) -> HostClient | None:
        try:
            return await HostClient.connect(address, timeout=2.0, name="model host")
        except (FileNotFoundError, ConnectionRefusedError):
            return None

    def _start_host(self) -> None:
        addr = parse_address(self.settings.address)
        cmd = host_command(self.settings, addr)
        log_path = host_log_path(addr)
        log.info("starting a model host (log: %s): %s", log_path, " ".join(cmd))
        self.on_message("info", f"Tandem: starting the model host for {self.settings.model}")
        # Progress starts now, not when the host first answers: imports alone take seconds.
        self.on_state(
            {"state": LoadState.LOADING, "progress": 0.0, "message": "starting the model host"}
        )
        try:
            self._spawned = spawn_host(cmd, log_path)
            self._spawned_key = FailedStart.settings_key(self.settings)
        except OSError as exc:
            self._remember_failure(f"cannot run {cmd[0]} for the model host: {exc}")
            raise HostUnavailable(self.last_error) from exc

    def _see_log(self) -> str:
        path = self.log_path
        return f" (log: {path})" if path is not None and path.exists() else ""

    def _remember_failure(self, reason: str) -> None:
        """A start with these settings failed in a way a retry would repeat: stop retrying."""
        self._failed_start = FailedStart.of(self._attempt or self.settings, reason)
        self._checked_at = time.monotonic()
        self.last_error = reason
        self.state = LoadState.FAILED
        log.warning("not starting another model host until the settings or checkpoint change")

    async def _wait_for_host(self, address: str) -> HostClient | None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            spawned = self._spawned
            if spawned is not None and spawned.poll() is not None:
                code = spawned.returncode
                why = self._logged_error() or f"it exited with code {code}"
                reason = f"the model host could not start: {why}{self._see_log()}"
                if code in (EXIT_USAGE, EXIT_LOAD_FAILED):
                    self._remember_failure(reason)
                # Any other exit (another host took the address, say): a later try may work.
                raise HostUnavailable(reason)
            client = await self._try_connect(address)
            if client is not None:
                return client
            await asyncio.sleep(0.1)
        return None

    async def _wait_ready(self, client: HostClient) -> None:
        while self.state == LoadState.LOADING and not client.closed:
            await asyncio.sleep(0.05)
        ours = self._spawned is not None
        if self.state == LoadState.FAILED:
            reason = self._load_failure()
            if ours:
                self._remember_failure(reason)
            raise HostUnavailable(reason)
        if client.closed:
            why = self._logged_error() if ours else None
            if why is not None and await self._spawned_exited(15.0) in (
                EXIT_USAGE,
                EXIT_LOAD_FAILED,
            ):
                self._remember_failure(f"the model host could not start: {why}{self._see_log()}")
                raise HostUnavailable(self.last_error)
            raise HostUnavailable("the model host went away while loading" + self._see_log())

    def _load_failure(self) -> str:
        """Why the host could not load its model: its state note's message, else its log."""
        why = self.info.get("message") or (self._logged_error() if self._spawned else None)
        model = (self._attempt or self.settings).model or "its model"
        return f"the model host could not load {model}: {why or 'no reason given'}{self._see_log()}"

    def _logged_error(self) -> str | None:
        path = self.log_path
        return last_error(path) if path is not None else None

    async def _spawned_exited(self, wait_s: float = 2.0) -> int | None:
        """The exit code of the host this link started, once it has exited (None if it runs on)."""
        spawned = self._spawned
        deadline = time.monotonic() + wait_s
        while spawned is not None and spawned.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return spawned.returncode if spawned is not None else None

    def _on_host_state(self, note: dict[str, Any]) -> None:
        if self.state == LoadState.FAILED and note.get("state") == LoadState.STOPPING:
            return  # a host that failed to load stops next: it stays "failed" for us
        self.state = str(note.get("state", self.state))
        self.info = {
            **self.info,
            "state": self.state,
            "progress": note.get("progress", 0.0),
            "message": note.get("message", ""),
        }
        if self.state == LoadState.READY and not self.info.get("model"):
            self._spawn(self._refresh_info())
        self.on_state(note)

    async def _refresh_info(self) -> None:
        if self._client is None:
            return
        with contextlib.suppress(Exception):
            status = await self._client.request(Method.STATUS)
            self.info = {**self.info, "model": status.get("model")}

    async def _watch(self, client: HostClient) -> None:
        await client.session.wait_closed()
        if self._loading is client:
            self._client = None  # `_connect` is waiting on this load and says what happened
            return
        if self._client is client and not self._closing:
            self._client = None
            if self._failed_start is not None or self.state == LoadState.FAILED:
                # A host that could not load its model exits: expected, and already told.
                self.state = LoadState.FAILED
                self.on_state({"state": LoadState.FAILED, "progress": 0.0})
                return
            self.state = "disconnected"
            self.last_error = client.session.close_reason or "connection lost"
            self._retry_at = 0.0  # reconnect on the next request, then back off
            self.on_state({"state": "disconnected", "progress": 0.0})
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
        if self._failed_start is None:
            self.state = "disconnected"
        self.on_state({"state": self.state, "progress": 0.0})  # ends a progress begun for a start
        delay = BACKOFF_S[min(self._failures, len(BACKOFF_S) - 1)]
        self._failures += 1
        self._retry_at = time.monotonic() + delay
        log.warning("model host unavailable (%s); next try in %.2fs", message, delay)
        if not self._lost_reported:
            self._lost_reported = True
            self.on_message("error", f"Tandem: {message}")

    # ---- calls ---------------------------------------------------------------
    async def call(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        on_text: StreamCallback | None = None,
        stop_when: StopWhen | None = None,
    ) -> Any:
        """One host request with the configured timeout; errors come back as RpcError or HostUnavailable."""
        client = await self.client()
        try:
            return await asyncio.wait_for(
                client.call(method, params, on_text=on_text, stop_when=stop_when),
                self.settings.request_timeout,
            )
        except asyncio.TimeoutError as exc:
            raise HostUnavailable(
                f"the model host did not answer in {self.settings.request_timeout:g}s"
            ) from exc
        except ConnectionError as exc:
            raise HostUnavailable(f"lost the model host mid-request: {exc}") from exc
        except RpcError as exc:
            if exc.code == ErrorCode.NOT_READY:
                raise HostUnavailable(exc.message) from exc
            raise

    async def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        result = await self.call(Method.COUNT_TOKENS, {"texts": list(texts)})
        return list(result["counts"])

    async def status(self) -> dict[str, Any]:
        return dict(await self.call(Method.STATUS, {}))

    async def close(self) -> None:
        self._closing = True
        if self._client is not None:
            await self._client.close()
            self._client = None
