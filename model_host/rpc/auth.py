"""The shared token: read from a flag, a file or the environment; admission by a good hello."""

from __future__ import annotations

import hmac
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .protocol import ErrorCode, Method, RpcError


class TokenGate:
    """A session `Gate`: admits the peer on a hello carrying the token, refuses anything else.

    The session answers the refused request and hangs up before reading another byte, so
    a peer gets exactly one guess per connection, however many it pipelines.
    """

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    def __call__(self, method: str, params: Any) -> bool:
        if method != Method.HELLO:
            raise RpcError(
                ErrorCode.UNAUTHORIZED, "this host needs a token: send it in hello first"
            )
        given = _token_of(params)
        if not hmac.compare_digest(given.encode(), self._token):
            raise RpcError(ErrorCode.UNAUTHORIZED, "wrong or missing token")
        return True


def _token_of(params: Any) -> str:
    # hello's params: a map, or (as Neovim's rpcrequest sends them) an array holding one.
    if isinstance(params, (list, tuple)) and len(params) == 1:
        params = params[0]
    token = params.get("token") if isinstance(params, dict) else None
    return token if isinstance(token, str) else ""


class TokenError(Exception):
    """The token given cannot be used; the message says which and why."""


def read_token(
    flag: str | None, path: str | None, env: str | None, *, warn: Callable[[str], None]
) -> str | None:
    """The shared secret from --token, --token-file or TANDEM_TOKEN (the first given), or None.

    An empty --token or token file is an error rather than "no token": it is how an
    unset shell variable or a truncated file looks, and a host started that way would
    quietly accept everyone on loopback. An empty TANDEM_TOKEN means no token. Both
    `tandem-host` and `tandem` read it so; `warn` says what is risky but not fatal.
    """
    if flag is not None:
        if not flag.strip():
            raise TokenError("--token is empty")
        return flag
    if path is not None:
        return _read_token_file(Path(path), warn)
    return env or None


def _read_token_file(path: Path, warn: Callable[[str], None]) -> str:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TokenError(f"--token-file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise TokenError(f"cannot read --token-file {path}: {why}") from None
    lines = text.splitlines()
    token = lines[0].strip() if lines else ""
    if not token:
        raise TokenError(f"--token-file {path} is empty (the token is its first line)")
    if mode & 0o077:
        # Not fatal: a file in a secrets mount may be shared on purpose; say what it means.
        warn(
            f"--token-file {path} can be read by other users "
            f"(mode {stat.S_IMODE(mode):04o}); chmod 600 {path}"
        )
    return token
