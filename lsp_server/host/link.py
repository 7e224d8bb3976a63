"""The LSP server's typed calls to the model host, over its connection (`connection.py`).

Each call checks the shape of the host's answer once, here, and returns the payload type
of `model_host/rpc/messages.py`: callers never read an answer by untyped key. Also here:
waiting for a host that is still starting (`loaded_client`) and the model's window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import cast

from model_host.rpc.client import HostClient, StopWhen, StreamCallback
from model_host.rpc.messages import (
    ChatRequest,
    CompleteRequest,
    CountTokensResult,
    GenerateResult,
    PromptRequest,
    PromptResult,
    StatusResult,
)
from model_host.rpc.protocol import DEFAULT_CONTEXT_WINDOW, ErrorCode, Method, RpcError

from .connection import HostConnection, HostState
from .reach import HostUnavailable

# The keys (and their types) each answer must carry; further keys pass through.
_GENERATE_KEYS: dict[str, type | tuple[type, ...]] = {
    "text": str,
    "finish_reason": str,
    "prompt_tokens": int,
    "generated_tokens": int,
    "timings": dict,
}
_PROMPT_KEYS: dict[str, type | tuple[type, ...]] = {
    "ids": list,
    "pieces": list,
    "text": str,
    "mode": str,
    "tokens": int,
}
_STATUS_KEYS: dict[str, type | tuple[type, ...]] = {
    "state": str,
    "model": (dict, type(None)),
}


def _checked(method: str, answer: object, keys: Mapping[str, type | tuple[type, ...]]) -> object:
    """`answer` when it is a map with `keys` of their types, else an RpcError saying what is off."""
    if not isinstance(answer, dict):
        raise RpcError(
            ErrorCode.INTERNAL_ERROR,
            f"the model host answered {method} with {type(answer).__name__}, not a map",
        )
    for key, kind in keys.items():
        if not isinstance(answer.get(key), kind) or isinstance(answer.get(key), bool):
            raise RpcError(
                ErrorCode.INTERNAL_ERROR,
                f"the model host's {method} answer has no valid {key!r}: {answer.get(key)!r}",
            )
    return answer


class HostLink(HostConnection):
    """The host's methods as typed calls: `complete`, `chat`, `prompt`, `count_tokens`, `status`.

    Errors come back as RpcError (the host's, or a malformed answer) or HostUnavailable
    (no host, a timeout, a lost connection, a host not ready).
    """

    @property
    def context_window(self) -> int:
        """The model's context window in tokens (DEFAULT_CONTEXT_WINDOW until the host says)."""
        window = self.model.get("context_window") if self.model else None
        return window if isinstance(window, int) and window > 0 else DEFAULT_CONTEXT_WINDOW

    @property
    def starting(self) -> bool:
        """A host is being reached or started, or is loading its model: worth waiting for."""
        if self._connecting is not None and not self._connecting.done():
            return True
        client = self._client
        return client is not None and not client.closed and self.state == HostState.LOADING

    async def loaded_client(self, timeout: float) -> HostClient:
        """Like `client()`, but a host still starting or loading its model is waited for, at
        most `timeout` seconds, instead of failing at once (a cold start's first suggestion).
        Fails as fast as `client()` when nothing is on its way: a failed start, no
        `host.model`, a back-off. Cancelling the caller stops only the wait."""

        async def attempt() -> HostClient:
            while True:
                try:
                    return await self.client()
                except HostUnavailable:
                    if not self.starting:
                        raise
                connecting = self._connecting
                if connecting is not None and not connecting.done():
                    await asyncio.wait({connecting})  # its outcome is the next try's to report
                else:
                    await asyncio.sleep(0.05)  # a connected host still loading: its notes

        try:
            return await asyncio.wait_for(attempt(), timeout)
        except asyncio.TimeoutError:
            raise HostUnavailable(
                f"the model was still loading after {timeout:g}s ({self.progress:.0%})"
            ) from None

    async def _call(
        self,
        method: str,
        params: Mapping[str, object],
        *,
        on_text: StreamCallback | None = None,
        stop_when: StopWhen | None = None,
    ) -> object:
        """One host request with the configured timeout; the answer unchecked."""
        client = await self.client()
        try:
            answer: object = await asyncio.wait_for(
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
        return answer

    async def complete(
        self, params: CompleteRequest, *, stop_when: StopWhen | None = None
    ) -> GenerateResult:
        """A suggestion; with `stream: True` in `params`, `stop_when(piece)` sees each
        streamed piece and stops the request when it answers True (then the answer, or
        RpcError CANCELLED with what was generated in its data)."""
        answer = await self._call(Method.COMPLETE, params, stop_when=stop_when)
        return cast(GenerateResult, _checked(Method.COMPLETE, answer, _GENERATE_KEYS))

    async def chat(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        top_p: float,
        on_text: StreamCallback | None = None,
    ) -> GenerateResult:
        """A chat answer; `on_text` gets its text as it is generated."""
        params: ChatRequest = {
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "top_p": top_p,
            "stream": on_text is not None,
        }
        answer = await self._call(Method.CHAT, params, on_text=on_text)
        return cast(GenerateResult, _checked(Method.CHAT, answer, _GENERATE_KEYS))

    async def prompt(self, params: PromptRequest) -> PromptResult:
        """The dry run: the exact prompt a complete or chat request would feed the model."""
        answer = await self._call(Method.PROMPT, params)
        return cast(PromptResult, _checked(Method.PROMPT, answer, _PROMPT_KEYS))

    async def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Each text's length in the model's tokens."""
        if not texts:
            return []
        answer = await self._call(Method.COUNT_TOKENS, {"texts": list(texts)})
        result = cast(CountTokensResult, _checked(Method.COUNT_TOKENS, answer, {"counts": list}))
        counts = result["counts"]
        if len(counts) != len(texts) or not all(type(n) is int for n in counts):
            raise RpcError(
                ErrorCode.INTERNAL_ERROR,
                f"the model host counted {len(counts)} texts of {len(texts)}: {counts!r}",
            )
        return list(counts)

    async def status(self) -> StatusResult:
        """The host's load state, model, queue and counters."""
        answer = await self._call(Method.STATUS, {})
        return cast(StatusResult, _checked(Method.STATUS, answer, _STATUS_KEYS))
