"""Admission of a connection to a host that needs a token: the first request must be a good hello."""

from __future__ import annotations

import hmac
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
