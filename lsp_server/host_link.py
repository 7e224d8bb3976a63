"""The LSP server's line to the model host: connect or start it, reconnect with back-off, fail fast."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from model_host.rpc.address import parse_address
from model_host.rpc.client import HostClient, StopWhen, StreamCallback
from model_host.rpc.protocol import ErrorCode, LoadState, Method, RpcError

from .config import HostSettings

log = logging.getLogger(__name__)

BACKOFF_S = (0.25, 0.5, 1.0, 2.0, 4.0)
START_TIMEOUT_S = 120.0


class HostUnavailable(Exception):
    """No usable host right now; the message says why, for the user."""


class HostLink:
    """Owns at most one HostClient; every call goes through `client()` which never blocks long.

    `on_message(level, text)` tells the user about losing/regaining the host;
    `on_state(note)` gets host load-state notifications (for `$/progress`).
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
        self._closing = False
        self._background: set[asyncio.Future[Any]] = set()

    def configure(self, settings: HostSettings) -> None:
        changed = (settings.address, settings.token) != (self.settings.address, self.settings.token)
        self.settings = settings
        if changed and self._client is not None:
            self._spawn(self._client.close())
            self._client = None
            self.state = "disconnected"

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
            if self.state != LoadState.READY:
                raise HostUnavailable(
                    f"the model is still loading ({self.info.get('progress', 0):.0%})"
                )
            return client
        if self._connecting is None or self._connecting.done():
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
        address = self.settings.address
        try:
            client = await self._try_connect(address)
            if client is None and self.settings.auto_start and self.settings.model:
                if self._spawned is None or self._spawned.poll() is not None:
                    self._start_host()
                client = await self._wait_for_host(address)
            if client is None:
                hint = (
                    ""
                    if self.settings.model
                    else " (set tandem.host.model to start one automatically)"
                )
                raise HostUnavailable(f"no model host listens at {address}{hint}")
            info = await client.hello(client_name="tandem-lsp", token=self.settings.token or None)
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
            self.on_message("info", f"Tandem: connected to the model host at {address}")
        self._failures = 0
        self._lost_reported = False
        self.on_state({"state": self.state, "progress": info.get("progress", 1.0), "message": ""})
        if self.state == LoadState.LOADING:
            # Loading: wait here so the caller's request can go ahead when it is done.
            await self._wait_ready(client)
        return client

    async def _try_connect(self, address: str) -> HostClient | None:
        try:
            return await HostClient.connect(address, timeout=2.0, name="model host")
        except (FileNotFoundError, ConnectionRefusedError):
            return None

    def _start_host(self) -> None:
        addr = parse_address(self.settings.address)
        python = self.settings.python or sys.executable
        cmd = [
            python,
            "-m",
            "model_host",
            "--model",
            self.settings.model,
            "--listen",
            str(addr),
            "--idle-exit",
            "600",
            *self.settings.args,
        ]
        log.info("starting a model host: %s", " ".join(cmd))
        self.on_message("info", f"Tandem: starting the model host for {self.settings.model}")
        # Progress starts now, not when the host first answers: imports alone take seconds.
        self.on_state(
            {"state": LoadState.LOADING, "progress": 0.0, "message": "starting the model host"}
        )
        # Its own session: the host outlives this editor window and serves the others too.
        self._spawned = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    async def _wait_for_host(self, address: str) -> HostClient | None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._spawned is not None and self._spawned.poll() is not None:
                raise HostUnavailable(
                    f"the model host exited with code {self._spawned.returncode} while starting "
                    f"(run `tandem-host --model {self.settings.model}` to see why)"
                )
            client = await self._try_connect(address)
            if client is not None:
                return client
            await asyncio.sleep(0.1)
        raise HostUnavailable(f"the model host did not start listening at {address} in time")

    async def _wait_ready(self, client: HostClient) -> None:
        while self.state == LoadState.LOADING and not client.closed:
            await asyncio.sleep(0.05)
        if self.state == LoadState.FAILED:
            raise HostUnavailable(
                f"the model host failed to load the model: {self.info.get('message', '')}"
            )

    def _on_host_state(self, note: dict[str, Any]) -> None:
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
        if self._client is client and not self._closing:
            self._client = None
            self.state = "disconnected"
            self.last_error = client.session.close_reason or "connection lost"
            self._retry_at = 0.0  # reconnect on the next request, then back off
            if not self._lost_reported:
                self._lost_reported = True
                self.on_message("warning", "Tandem: lost the model host; reconnecting")
            self._spawn(self._reconnect_soon())

    async def _reconnect_soon(self) -> None:
        await asyncio.sleep(BACKOFF_S[0])
        with contextlib.suppress(HostUnavailable):
            await self.client()

    def _failed(self, message: str) -> None:
        self.last_error = message
        self.state = "disconnected"
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
        params: dict[str, Any],
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
