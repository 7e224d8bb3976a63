"""A fake vLLM HTTP server in the test process, for the failures a real one rarely shows on demand.

It speaks just enough HTTP/1.1 (chunked server-sent events) and vLLM's API
(`/health`, `/v1/models`, `/tokenize`, `/detokenize`, `/metrics`, streamed
`/v1/completions`) for the backend to accept it, then misbehaves as told: malformed
chunks, HTTP 5xx, a stall, a connection reset mid-stream. It runs on its own thread
and event loop, so a test may block (waiting on a host subprocess) while it answers.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from model_host.text.tokenizer import Tokenizer

# What /v1/completions does: "ok" streams `ids` then a finish; the others fail as named.
MODES = (
    "ok",
    "malformed",
    "not-object",
    "no-token-ids",
    "error-chunk",
    "http500",
    "http400",
    "stall",
    "stall-after-finish",
    "reset",
    "truncated",
    "abort-finish",
)


def hf_decode(vocab: Tokenizer, ids: list[int]) -> str:
    """What vLLM's `/detokenize` answers (transformers' Llama decoder, special tokens kept).

    Pieces with "▁" as spaces, runs of byte pieces as UTF-8 (a bad byte: U+FFFD), control
    pieces as written, ids the vocabulary lacks skipped, one leading space dropped.
    """
    out = bytearray()
    for i in ids:
        if not 0 <= i < vocab.vocab_size:
            continue
        piece = vocab.piece(i)
        byte = re.fullmatch(r"<0x([0-9A-F]{2})>", piece)
        out += bytes([int(byte.group(1), 16)]) if byte else piece.replace("▁", " ").encode()
    text = out.decode("utf-8", errors="replace")
    return text[1:] if text.startswith(" ") else text


@dataclass
class FakeVllm:
    vocab: Tokenizer  # the vocabulary it serves: /detokenize reads ids with it
    # What /tokenize answers (default: the vocabulary's own encoding). Tandem never asks:
    # a server that splits text differently over the same vocabulary is compatible.
    split: Callable[[str], list[int]] | None = None
    model: str = "fake-model"
    max_model_len: int = 2048
    mode: str = "ok"
    ids: list[int] = field(default_factory=lambda: [5, 6, 7])
    finish: str = "length"
    cached_tokens: int | None = 3  # None: usage without prompt_tokens_details (vLLM's default)
    healthy: bool = True
    models_status: int = 200  # what /v1/models answers (a 503 while "starting")
    api_key: str | None = None  # as `vllm serve --api-key`: /v1/* needs "Bearer <key>"
    delay_s: float = 0.0  # between streamed ids ("ok" mode), to leave time to cancel
    requests: list[dict[str, Any]] = field(default_factory=list)  # completion bodies received
    closed_early: int = 0  # completion streams the client closed before the end
    detokenized: int = 0  # /detokenize requests answered
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _server: asyncio.AbstractServer | None = None
    _thread: threading.Thread | None = None
    _stop: asyncio.Event | None = None
    _conns: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- lifecycle -----------------------------------------------------------
    def start(self) -> FakeVllm:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop

            async def main() -> None:
                self._stop = asyncio.Event()
                self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
                self.port = self._server.sockets[0].getsockname()[1]
                ready.set()
                await self._stop.wait()
                self._server.close()
                for task in list(self._conns):
                    task.cancel()
                await asyncio.gather(*self._conns, return_exceptions=True)

            loop.run_until_complete(main())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-vllm", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake vLLM server did not start")
        return self

    def stop(self) -> None:
        """Stop listening and drop every connection (like a server that is killed)."""
        if self._thread is None or not self._thread.is_alive():
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    # ---- HTTP ----------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (x.partition(":") for x in lines[1:] if x)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if (
                    self.api_key is not None
                    and path.startswith("/v1/")
                    and headers.get("authorization") != f"Bearer {self.api_key}"
                ):
                    await _send_json(writer, 401, {"error": "Unauthorized"})
                    continue
                keep = await self._route(method, path, body, reader, writer)
                if not keep:
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            return
        finally:
            self._conns.discard(task)
            writer.close()

    async def _route(
        self,
        method: str,
        path: str,
        body: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        if path == "/health":
            await _send(writer, 200 if self.healthy else 503, b"")
        elif path == "/v1/models":
            models = {"data": [{"id": self.model, "max_model_len": self.max_model_len}]}
            if self.models_status != 200:
                models = {"error": {"message": "Service Unavailable"}}
            await _send_json(writer, self.models_status, models)
        elif path == "/tokenize":
            prompt = json.loads(body)["prompt"]
            tokens = (self.split or self.vocab.encode)(prompt)
            await _send_json(writer, 200, {"tokens": tokens, "count": len(tokens)})
        elif path == "/detokenize":
            request = json.loads(body)
            self.detokenized += 1
            if request.get("model") != self.model:
                message = f"The model `{request.get('model')}` does not exist."
                await _send_json(writer, 404, {"error": {"message": message, "code": 404}})
            else:
                text = hf_decode(self.vocab, request["tokens"])
                await _send_json(writer, 200, {"prompt": text})
        elif path == "/metrics":
            text = 'vllm:num_requests_running{engine="0"} 0.0\nvllm:num_requests_waiting{engine="0"} 2.0\n'
            await _send(writer, 200, text.encode(), "text/plain")
        elif path == "/v1/completions" and method == "POST":
            request = json.loads(body)
            self.requests.append(request)
            if request.get("model") != self.model:  # as vLLM answers for a model it does not serve
                message = f"The model `{request.get('model')}` does not exist."
                await _send_json(writer, 404, {"error": {"message": message, "code": 404}})
                return True
            return await self._complete(request, reader, writer)
        else:
            await _send_json(writer, 404, {"error": {"message": f"no route {path}"}})
        return True

    async def _complete(
        self, request: dict[str, Any], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        mode = self.mode
        if mode == "http500":
            await _send_json(writer, 500, {"error": {"message": "EngineCore died", "code": 500}})
            return True
        if mode == "http400":
            await _send_json(writer, 400, {"error": {"message": "bad sampling params"}})
            return True
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )

        async def event(data: str) -> None:
            payload = f"data: {data}\n\n".encode()
            writer.write(b"%x\r\n%s\r\n" % (len(payload), payload))
            await writer.drain()

        def choice(ids: list[int], finish: str | None, first: bool) -> str:
            c: dict[str, Any] = {"index": 0, "text": "IGNORED", "token_ids": ids}
            c["finish_reason"] = finish
            if first:
                c["prompt_token_ids"] = request["prompt"]
            return json.dumps({"id": "cmpl-1", "choices": [c]})

        ids = self.ids[: request.get("max_tokens", len(self.ids))]
        await event(choice(ids[:1], None, True))
        if mode == "malformed":
            await event('{"choices": [ {"token_ids": [1, 2')
        elif mode == "not-object":
            await event("[1, 2, 3]")
        elif mode == "no-token-ids":
            await event(json.dumps({"choices": [{"index": 0, "text": "x", "finish_reason": None}]}))
        elif mode == "error-chunk":
            await event(json.dumps({"error": {"message": "out of KV cache blocks", "code": 500}}))
        elif mode == "stall":
            return await self._hold(reader)
        elif mode == "reset":
            sock = writer.get_extra_info("socket")
            # SO_LINGER 0: close() sends RST, as a killed server's kernel does.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        elif mode == "truncated":
            writer.write(b"0\r\n\r\n")  # a clean end of the body, without finish or [DONE]
            await writer.drain()
            return True
        else:
            finish = "abort" if mode == "abort-finish" else self.finish
            try:
                for n, i in enumerate(ids[1:], 1):
                    await asyncio.sleep(self.delay_s)
                    await event(choice([i], finish if n == len(ids) - 1 else None, False))
            except ConnectionError:
                self.closed_early += 1
                return False
            if len(ids) <= 1:
                await event(choice([], finish, False))
            if mode == "stall-after-finish":
                return await self._hold(reader)
            usage: dict[str, Any] = {"prompt_tokens": len(request["prompt"])}
            if self.cached_tokens is not None:
                usage["prompt_tokens_details"] = {"cached_tokens": self.cached_tokens}
            await event(json.dumps({"id": "cmpl-1", "choices": [], "usage": usage}))
            await event("[DONE]")
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    async def _hold(self, reader: asyncio.StreamReader) -> bool:
        """Send nothing more until the client gives up (and count that it did)."""
        await reader.read()  # returns when the client closes its end
        self.closed_early += 1
        return False


async def _send(
    writer: asyncio.StreamWriter, status: int, body: bytes, ctype: str = "application/json"
) -> None:
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}.get(
        status, "Service Unavailable"
    )
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: {ctype}\r\n"
        f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()


async def _send_json(writer: asyncio.StreamWriter, status: int, obj: Any) -> None:
    await _send(writer, status, json.dumps(obj).encode())
