"""`VllmBackend`: generation on one or more vLLM servers over `/v1/completions`, as token ids.

Prompts go out as ids (vLLM adds no BOS to an id prompt and never parses file text
for control tokens), ids come back (`return_token_ids`), and Tandem's own output
processor makes the text. Leaving the stream closes the HTTP response, which
aborts the request inside vLLM; a retry happens only when the request never
reached a server (connect errors), on the next replica in the key's order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from ...rpc.protocol import ErrorCode, RpcError
from ...text.tokenizer import Tokenizer
from ..base import BackendError, BackendFinish, Delta, GenerateRequest
from .checks import Incompatible, Vocabulary
from .replicas import DOWN, READY, Replica, ReplicaSet, describe, normalize_url
from .stream import StreamError, error_message, events, parse_chunk

log = logging.getLogger(__name__)

# A request without an affinity key (chat) is routed by its first ids: a follow-up
# turn starts with the same dialog, so it meets its own prefix cache again.
PROMPT_KEY_IDS = 128
MAX_ERROR_BODY = 16 * 1024
CHECK_TIMEOUT_S = 5.0

_FINISH: dict[str, BackendFinish] = {"stop": "end", "length": "length"}


@dataclass(frozen=True)
class VllmConfig:
    urls: tuple[str, ...]
    api_key: str | None = None  # vLLM's --api-key, sent as a bearer token
    model: str | None = None  # the served model name; default: the only one listed
    timeout_s: float = 30.0  # longest silence inside a stream before it is abandoned
    connect_timeout_s: float = 3.0
    connect_retries: int = 2  # per replica, only for connections that never opened
    health_interval_s: float = 5.0
    start_timeout_s: float = 120.0  # how long the host waits at start for a first replica
    max_connections: int = 64  # streams open at once, all replicas together
    send_priority: bool = False  # pass request priorities (vLLM --scheduling-policy priority)


class VllmStartError(Exception):
    """No usable vLLM at start: none became ready, or one serves another vocabulary or model."""


def engine_unavailable(message: str, data: Any = None) -> BackendError:
    return BackendError(ErrorCode.ENGINE_UNAVAILABLE, message, data)


class VllmBackend:
    name = "vllm"

    def __init__(self, config: VllmConfig, replicas: ReplicaSet, client: httpx.AsyncClient) -> None:
        self.config = config
        self.replicas = replicas
        self.client = client
        assert replicas.window is not None
        self.window = replicas.window
        self._watch: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        config: VllmConfig,
        *,
        tokenizer: Tokenizer,
        report: Callable[[str], Awaitable[None]],
    ) -> VllmBackend:
        """Connect, verify each replica against Tandem's vocabulary, and start health checks."""
        try:
            vocabulary = Vocabulary.of(tokenizer)
        except ValueError as exc:
            raise VllmStartError(str(exc)) from None
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        checks = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(CHECK_TIMEOUT_S, connect=config.connect_timeout_s),
            limits=httpx.Limits(max_connections=2 * len(config.urls) + 2),
        )
        limits = httpx.Limits(
            max_connections=config.max_connections,
            max_keepalive_connections=min(config.max_connections, 16),
            # Under uvicorn's 5 s keep-alive: never reuse a connection the server is closing
            # (that request would fail and mark a healthy replica down).
            keepalive_expiry=2.0,
        )
        client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(
                config.timeout_s, connect=config.connect_timeout_s, pool=config.timeout_s
            ),
            transport=httpx.AsyncHTTPTransport(retries=config.connect_retries, limits=limits),
        )
        urls = list(dict.fromkeys(normalize_url(u) for u in config.urls))
        replicas = ReplicaSet(
            [Replica(u) for u in urls], checks, vocabulary=vocabulary, model=config.model
        )
        try:
            await replicas.wait_first(config.start_timeout_s, report)
        except (Incompatible, TimeoutError) as exc:
            await asyncio.gather(checks.aclose(), client.aclose())
            raise VllmStartError(str(exc)) from None
        except BaseException:  # cancelled: the host stops while waiting
            await asyncio.shield(asyncio.gather(checks.aclose(), client.aclose()))
            raise
        replicas.window = min(r.facts.max_model_len for r in replicas.replicas if r.facts)
        backend = cls(config, replicas, client)
        backend._watch = asyncio.create_task(replicas.watch(config.health_interval_s))
        return backend

    # ---- generation ----------------------------------------------------------
    def _body(self, request: GenerateRequest, model: str) -> dict[str, Any]:
        s = request.sampling
        body: dict[str, Any] = {
            "model": model,
            "prompt": list(request.prompt),
            "max_tokens": request.max_tokens,
            "temperature": max(0.0, s.temperature),
            "top_p": s.top_p,
            "stop_token_ids": sorted(request.stop_ids),
            "stream": True,
            "stream_options": {"include_usage": True},
            "return_token_ids": True,
            "n": 1,
        }
        if s.seed is not None:
            body["seed"] = s.seed
        if self.config.send_priority:
            body["priority"] = request.priority
        return body

    async def generate(self, request: GenerateRequest) -> AsyncGenerator[Delta, None]:
        n = len(request.prompt)
        if n >= self.window:  # vLLM's own answer to this is a misleading "max_tokens" error
            raise RpcError(
                ErrorCode.CONTEXT_OVERFLOW,
                f"the prompt is {n} tokens; vLLM's context window is {self.window}",
                {"prompt_tokens": n, "context_window": self.window},
            )
        if request.max_tokens < 1:
            raise BackendError(ErrorCode.INVALID_PARAMS, "max_tokens must be at least 1")
        key = (
            request.affinity.encode()
            if request.affinity
            else b"ids:" + ",".join(map(str, request.prompt[:PROMPT_KEY_IDS])).encode()
        )
        tried: list[str] = []
        for replica in self.replicas.route(key):
            facts = replica.facts
            if facts is None:  # forgotten (a 404) while an earlier replica was being tried
                continue
            body = self._body(request, facts.model)
            body["max_tokens"] = min(request.max_tokens, facts.max_model_len - n)
            try:
                response = await self._send(replica, body)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached this replica: the next one in the key's order may take it.
                self.replicas.mark_down(replica, describe(exc))
                tried.append(f"{replica.url}: {describe(exc)}")
                continue
            replica.in_flight += 1
            finished = False
            try:
                async with contextlib.aclosing(self._stream(replica, response, request)) as deltas:
                    async for delta in deltas:
                        finished = delta.finish is not None
                        yield delta
            except (GeneratorExit, asyncio.CancelledError):
                if not finished:
                    replica.cancelled += 1  # the consumer stopped it (cancel, stop string)
                raise
            finally:
                replica.in_flight -= 1
                await _close(response)
            return
        states = "; ".join(tried) or ", ".join(
            f"{r.url} {r.state}{': ' + r.reason if r.reason else ''}"
            for r in self.replicas.replicas
        )
        raise engine_unavailable(f"no vLLM replica can take the request ({states})")

    async def _send(self, replica: Replica, body: dict[str, Any]) -> httpx.Response:
        url = f"{replica.url}/v1/completions"
        try:
            response = await self.client.send(
                self.client.build_request("POST", url, json=body), stream=True
            )
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise
        except httpx.HTTPError as exc:
            replica.failed += 1
            if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
                self.replicas.mark_down(replica, describe(exc))
            raise engine_unavailable(
                f"vLLM at {replica.url}: {describe(exc)}", {"url": replica.url}
            ) from None
        if response.status_code == 200:
            return response
        replica.failed += 1
        try:
            raw = await _read_capped(response, MAX_ERROR_BODY)
        except httpx.HTTPError:
            raw = b""
        finally:
            await response.aclose()
        try:
            message = error_message(json.loads(raw))
        except ValueError:
            message = raw.decode("utf-8", "replace")[:200] or response.reason_phrase
        if response.status_code == 404:
            # Restarted with another model: verify it again before it gets more work.
            replica.facts = None
            self.replicas.mark_down(replica, f"HTTP 404: {message}")
        raise engine_unavailable(
            f"vLLM at {replica.url} answered HTTP {response.status_code}: {message}",
            {"url": replica.url, "status": response.status_code},
        )

    async def _stream(
        self, replica: Replica, response: httpx.Response, request: GenerateRequest
    ) -> AsyncGenerator[Delta, None]:
        """Deltas from one open response (the caller closes it, which aborts vLLM's request)."""
        url = replica.url
        finish: BackendFinish | None = None
        cached: int | None = None
        usage = False
        first = True
        failure: str | None = None
        try:
            async for payload in events(response.aiter_lines()):
                chunk = parse_chunk(payload)
                if chunk.usage:
                    usage, cached = True, chunk.cached_tokens
                    continue
                if finish is not None:
                    continue  # nothing after the finish changes the answer
                if first and chunk.prompt_ids not in (None, list(request.prompt)):
                    raise StreamError("a different prompt back than it was sent")
                first = False
                if chunk.ids:
                    yield Delta(chunk.ids)
                # A fast stream is always ready to read, so reading never suspends: let the
                # loop serve other work (a `cancel`, other clients) between chunks.
                await asyncio.sleep(0)
                if chunk.finish is not None:
                    mapped = _FINISH.get(chunk.finish)
                    if mapped is None:
                        raise StreamError(f"finish_reason {chunk.finish!r}: it ended the request")
                    finish = mapped
        except StreamError as exc:
            failure = f"vLLM at {url} sent {exc}"
        except httpx.TimeoutException:
            failure = (
                f"vLLM at {url} sent nothing for {self.config.timeout_s:g} s; "
                "the request was abandoned"
            )
        except httpx.TransportError as exc:
            failure = f"vLLM at {url} broke the connection mid-answer: {describe(exc)}"
            if finish is None:
                self.replicas.mark_down(replica, describe(exc))
        if finish is None:
            replica.failed += 1
            raise engine_unavailable(
                failure or f"vLLM at {url} ended the stream before the answer finished",
                {"url": url},
            )
        if failure:
            log.info("%s (after the answer was complete; kept)", failure)
        replica.served += 1
        if usage:
            replica.note_usage(cached)
        yield Delta([], finish=finish, cached_tokens=cached)

    # ---- status and shutdown -------------------------------------------------
    def status(self) -> dict[str, Any]:
        reps = self.replicas.replicas
        return {
            "engine": self.name,
            "active": sum(r.in_flight for r in reps),
            "queue_depth": int(sum(r.remote.get("waiting", 0.0) for r in reps)),
            "context_window": self.window,
            "replicas_ready": sum(r.state == READY for r in reps),
            "replicas_down": sum(r.state == DOWN for r in reps),
            "replicas": [r.to_wire() for r in reps],
            "warnings": [r.details_warning() for r in reps if r.prompt_tokens_details is False],
        }

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await asyncio.gather(self.client.aclose(), self.replicas.client.aclose())


async def _close(response: httpx.Response) -> None:
    # A cancelled consumer lands here too: the close must still happen, so it is
    # shielded from a second cancellation.
    with contextlib.suppress(Exception, asyncio.CancelledError):
        await asyncio.shield(response.aclose())


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    out = bytearray()
    async for part in response.aiter_bytes():
        out += part
        if len(out) >= limit:
            break
    return bytes(out[:limit])
