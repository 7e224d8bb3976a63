"""Fixtures shared by every test tier: the tiny model and one real host serving it."""

from __future__ import annotations

import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostproc import HostProcess, start_host

# A shell without job control starts `cmd &` with SIGINT ignored, and an ignored signal stays
# ignored across exec: every server the tests start would then be deaf to the Ctrl-C that the
# interrupt tests send (Python only turns SIGINT into KeyboardInterrupt when it starts with the
# default action). A handler of our own is reset to the default in every child.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Code Llama-shaped checkpoint (its output is noise), built once per run."""
    from model_host.devtools.tiny import make_tiny

    return make_tiny(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def sock_dir() -> Iterator[Path]:
    # AF_UNIX paths are limited to ~107 bytes: keep them short.
    with tempfile.TemporaryDirectory(prefix="tdm-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
def host(tiny_model: Path, sock_dir: Path) -> Iterator[HostProcess]:
    """One real host on a Unix socket, shared by tests that leave it as they found it
    (they compare its counters before and after, never against absolute values)."""
    proc = start_host(tiny_model, f"unix:{sock_dir / 'shared.sock'}")
    yield proc
    proc.stop()
