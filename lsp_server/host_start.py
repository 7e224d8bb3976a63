"""Auto-starting a model host: its command line, its log file next to the socket, and a failed start remembered."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from model_host.rpc.address import Address, default_socket_path

from .config import HostSettings

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
