"""Where a host listens: `unix:PATH`, `tcp:HOST:PORT` or `stdio`, and the private default socket."""

from __future__ import annotations

import ipaddress
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


class AddressError(ValueError):
    """An address that cannot be used; the message says why."""


@dataclass(frozen=True)
class Address:
    kind: Literal["unix", "tcp", "stdio"]
    path: str = ""
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        if self.kind == "unix":
            return f"unix:{self.path}"
        if self.kind == "tcp":
            host = f"[{self.host}]" if ":" in self.host else self.host
            return f"tcp:{host}:{self.port}"
        return "stdio"

    @property
    def is_loopback(self) -> bool:
        if self.kind != "tcp":
            return True
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def default_socket_path() -> Path:
    """A socket inside a per-user directory nobody else can enter."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = (
        Path(runtime) / "tandem"
        if runtime
        else Path(tempfile.gettempdir()) / f"tandem-{os.getuid()}"
    )
    return base / "host.sock"


def parse_address(text: str) -> Address:
    text = text.strip()
    if text == "stdio":
        return Address("stdio")
    if text.startswith("unix:"):
        path = text[len("unix:") :]
        if not path:
            raise AddressError("unix: needs a path, e.g. unix:/tmp/tandem.sock")
        return Address("unix", path=os.path.expanduser(path))
    if text.startswith("tcp:"):
        rest = text[len("tcp:") :]
        host, sep, port_text = rest.rpartition(":")
        if not sep or not port_text.isdigit():
            raise AddressError(f"{text!r}: expected tcp:HOST:PORT, e.g. tcp:127.0.0.1:7480")
        host = host.strip("[]") or "127.0.0.1"
        port = int(port_text)
        if not 0 <= port <= 65535:
            raise AddressError(f"{text!r}: port must be 0..65535")
        return Address("tcp", host=host, port=port)
    raise AddressError(f"{text!r}: expected unix:PATH, tcp:HOST:PORT or stdio")


def prepare_socket_dir(path: Path, *, private: bool) -> None:
    """Create the socket's directory (0700 when new).

    `private` (the default socket's own directory) also refuses a directory that
    another user owns and tightens one that others can enter; a directory the
    user named explicitly (say /tmp) is left as it is.
    """
    directory = path.parent
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not private:
        return
    info = directory.stat()
    if info.st_uid != os.getuid():
        raise AddressError(f"{directory} belongs to another user; refusing to put a socket there")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(directory, 0o700)
