"""Reaching whatever listens at an address: connect, say hello, wait for it to go."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from model_host.rpc.client import HostClient

HELLO_TIMEOUT_S = 10.0  # a listener that accepts but never answers is not a host


class HostUnavailable(Exception):
    """No usable host right now; the message says why, for the user."""


class StartFailed(HostUnavailable):
    """A host we started could not serve, in a way a retry with the same settings repeats."""


async def try_connect(address: str) -> HostClient | None:
    """A connection to whatever listens at `address`; None when nothing does."""
    try:
        return await HostClient.connect(address, timeout=2.0, name="model host")
    except (FileNotFoundError, ConnectionRefusedError):
        return None


def hello_token(setting: str) -> str | None:
    """The token to say hello with: `host.token`, else TANDEM_TOKEN, the variable the host reads.

    An auto-started host inherits this process's environment, TANDEM_TOKEN included,
    and then requires it; reading it here too keeps the token out of editor settings.
    """
    return setting or os.environ.get("TANDEM_TOKEN") or None


async def say_hello(client: HostClient, address: str, token: str) -> dict[str, Any]:
    """Say hello; a client that cannot is closed, never left open."""
    try:
        return await asyncio.wait_for(
            client.hello(client_name="tandem-lsp", token=hello_token(token)), HELLO_TIMEOUT_S
        )
    except BaseException as exc:
        await client.close()
        if isinstance(exc, TimeoutError):
            raise HostUnavailable(
                f"{address} accepted the connection but did not answer as a model host "
                f"in {HELLO_TIMEOUT_S:.0f} s"
            ) from None
        raise


async def until_free(address: str, wait_s: float = 15.0) -> None:
    """Wait until nothing listens at `address` (a stopping host has let it go)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        client = await try_connect(address)
        if client is None:
            return
        await client.close()
        await asyncio.sleep(0.1)
