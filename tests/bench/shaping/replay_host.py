"""A model host that replays scripted answers: the shaping benchmark's stand-in for a model.

It speaks the host protocol (docs/protocol.md) over a Unix socket with the project's own
msgpack-rpc session: `hello`, `status`, `count_tokens`, `complete` (streamed piece by piece,
`max_tokens` and `stop` honoured, `cancel` stops it between pieces and answers CANCELLED with
the tokens generated), plus `bench.script {text}`, which sets the answer of the next `complete` (one slot: a
request that never reached the host cannot shift the answers of the ones after it).
A "token" is a word, a run of spaces or one other character, about what a code tokenizer
makes of code.

    python -m tests.bench.shaping.replay_host unix:/tmp/replay.sock
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
from typing import Any

from model_host.rpc.protocol import PROTOCOL_VERSION, ErrorCode, Notify, RpcError
from model_host.rpc.session import Call, Session

SCRIPT = "bench.script"
TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
WINDOW = 16384
# A generation's timings: none measured here.
TIMINGS = {
    "queue_ms": 0,
    "first_token_ms": 0,
    "total_ms": 0,
    "tokens_per_s": 0,
    "prompt_tokens": 0,
    "cached_tokens": 0,
}


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


class ReplayHost:
    def __init__(self) -> None:
        self.answer = ""
        self.cancelled: set[tuple[int, int]] = set()
        self.running: set[tuple[int, int]] = set()
        self.served = 0

    async def handle(self, call: Call, params: Any) -> Any:
        p = params[0] if isinstance(params, list) and params else params
        p = p if isinstance(p, dict) else {}
        if call.method == "hello":
            return {
                "protocol_version": PROTOCOL_VERSION,
                "host_version": "replay",
                "pid": os.getpid(),
                "state": "ready",
                "progress": 1.0,
                "model": {
                    "name": "replay",
                    "context_window": WINDOW,
                    "vocab_size": 32016,
                    "can_infill": True,
                    "chat_format": "llama2",
                    "stop_ids": [2],
                    "infill": None,
                },
            }
        if call.method == "status":
            return {"state": "ready", "served": self.served, "model": {"name": "replay"}}
        if call.method == "count_tokens":
            return {"counts": [len(tokens(str(t))) for t in p.get("texts", [])]}
        if call.method == SCRIPT:
            self.answer = str(p.get("text", ""))
            return {"ok": True}
        if call.method == "cancel":
            key = (id(call.session), int(p.get("id", -1)))
            if key in self.running:
                self.cancelled.add(key)
                return {"cancelled": True}
            return {"cancelled": False, "reason": "already finished"}
        if call.method == "complete":
            return await self._complete(call, p)
        raise RpcError(ErrorCode.METHOD_NOT_FOUND, f"unknown method {call.method!r}")

    async def stream(
        self, call: Call, p: dict[str, Any], pieces: list[str], delay: float = 0.0
    ) -> list[str]:
        """Send `pieces` one "decode step" (`delay` seconds) apart, as stream notifications
        when `p` asks for them; a `cancel` between steps ends it with CANCELLED, as the real
        host does. Returns the pieces sent."""
        key = (id(call.session), call.msgid)
        self.running.add(key)
        sent: list[str] = []
        try:
            for index, piece in enumerate(pieces):
                if key in self.cancelled:
                    raise RpcError(
                        ErrorCode.CANCELLED,
                        "the request was cancelled",
                        {"generated_tokens": index, "text": "".join(sent)},
                    )
                sent.append(piece)
                if p.get("stream"):
                    note = {"id": call.msgid, "text": piece, "index": index, "tokens": index + 1}
                    call.session.notify(Notify.STREAM, note)
                    await call.session.drain()
                await asyncio.sleep(delay)  # one "decode step": a cancel can come in between
        finally:
            self.running.discard(key)
            self.cancelled.discard(key)
        return sent

    async def _complete(self, call: Call, p: dict[str, Any]) -> dict[str, Any]:
        text, self.answer = self.answer, ""
        reason = "end"
        for stop in p.get("stop") or []:
            if stop and stop in text:
                text, reason = text[: text.index(stop)], "stop"
        pieces = tokens(text)
        limit = int(p.get("max_tokens", 128))
        if len(pieces) > limit:
            pieces, reason = pieces[:limit], "length"
        sent = await self.stream(call, p, pieces)
        self.served += 1
        return {
            "text": "".join(sent),
            "finish_reason": reason,
            "mode": "infill",
            "prompt_tokens": 0,
            "generated_tokens": len(sent),
            "timings": dict(TIMINGS),
        }


async def serve_unix(path: str, host: ReplayHost, name: str, *banner: str) -> None:
    """Serve `host` on the Unix socket `path` (replacing a stale one) until cancelled, each
    connection a session named `name`; `banner` lines go to stderr once it listens."""

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(reader, writer, on_request=host.handle, name=name)
        await session.run()

    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    server = await asyncio.start_unix_server(on_connect, path, limit=64 * 1024 * 1024)
    for line in banner:
        print(line, file=sys.stderr, flush=True)
    async with server:
        await server.serve_forever()


async def serve(path: str) -> None:
    await serve_unix(path, ReplayHost(), "replay client", f"replay-host: listening on unix:{path}")


def main() -> int:
    address = sys.argv[1] if len(sys.argv) > 1 else "unix:/tmp/tandem-replay.sock"
    asyncio.run(serve(address.removeprefix("unix:")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
