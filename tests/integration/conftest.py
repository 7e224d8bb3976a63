"""Fixtures for tests that talk to the real host process over real sockets."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostproc import HostProcess, start_host


@pytest.fixture(scope="session")
def sock_dir() -> Iterator[Path]:
    # AF_UNIX paths are limited to ~107 bytes: keep them short.
    with tempfile.TemporaryDirectory(prefix="tdm-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
def host(tiny_model: Path, sock_dir: Path) -> Iterator[HostProcess]:
    """One shared host on a Unix socket, for tests that leave it as they found it."""
    proc = start_host(tiny_model, f"unix:{sock_dir / 'shared.sock'}")
    yield proc
    proc.stop()
