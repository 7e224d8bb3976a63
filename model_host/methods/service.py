"""The host's methods: load state, dispatch, and thin handlers over prompts, generation and tokens.

Tokenizing (prompts, counts) runs on worker threads, never on the event loop, so one
window counting a huge text never stalls another window's requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .. import __version__
from ..backends.base import PRIORITY_CHAT, PRIORITY_COMPLETE, Backend, BackendError
from ..checkpoint.load import Checkpoint
from ..rpc.messages import CancelledData, GenerateResult, HelloResult, StateNote, StreamNote
from ..rpc.protocol import PROTOCOL_VERSION, ErrorCode, LoadState, Method, Notify, RpcError
from ..rpc.session import Call, Session
from ..stats import HostStats
from ..text.token_counts import TokenCounter
from . import tokens
from .generate import Generation, Prompt
from .params import GenerateParams, as_map, parse_chat, parse_complete
from .params import field as param
from .prompts import build_chat_prompt, build_complete_prompt, dry_run

log = logging.getLogger(__name__)
T = TypeVar("T")

# Tokenizing threads: SentencePiece releases the GIL, so counts run beside the loop.
TOKENIZE_THREADS = 2


@dataclass
class _Slot:
    """A generating request's place in the queue; its generation once it has one."""

    generation: Generation | None = None


@dataclass
class HostService:
    """Everything the host serves, independent of sockets (the server feeds it sessions)."""

    model_name: str = ""
    max_queue: int = 64
    state: str = LoadState.STARTING
    progress: float = 0.0
    message: str = ""
    checkpoint: Checkpoint | None = None
    backend: Backend | None = None
    stats: HostStats = field(default_factory=HostStats)
    sessions: set[Session] = field(default_factory=set)
    on_shutdown: Callable[[], None] | None = None
    generating: int = 0  # requests between their first moment and their answer
    _counter: TokenCounter | None = None
    _tokenizing: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(TOKENIZE_THREADS, "tandem-tokenize")
    )

    # ---- state ---------------------------------------------------------------
    def set_state(self, state: str, progress: float, message: str = "") -> None:
        self.state, self.progress, self.message = state, progress, message
        note: StateNote = {"state": state, "progress": round(progress, 3), "message": message}
        for session in list(self.sessions):
            session.notify(Notify.STATE, note)

    def ready(self, checkpoint: Checkpoint, backend: Backend) -> None:
        self.checkpoint, self.backend = checkpoint, backend
        self._counter = TokenCounter(checkpoint.tokenizer)
        self.set_state(LoadState.READY, 1.0, f"{self.model_name} ready")

    def _need_model(self) -> Checkpoint:
        if self.checkpoint is None or self.state != LoadState.READY:
            raise RpcError(
                ErrorCode.NOT_READY,
                f"the model is not ready ({self.state}{': ' + self.message if self.message else ''})",
                {"state": self.state, "progress": self.progress},
            )
        return self.checkpoint

    async def _off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        """Run CPU-heavy tokenizer work on a worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self._tokenizing, fn, *args)

    async def close(self) -> None:
        if self.backend is not None:
            await self.backend.close()
        self._tokenizing.shutdown(wait=False, cancel_futures=True)

    # ---- dispatch ------------------------------------------------------------
    async def handle(self, call: Call, params: Any) -> Any:
        handler = self._methods().get(call.method)
        if handler is None:
            raise RpcError(ErrorCode.METHOD_NOT_FOUND, f"unknown method {call.method!r}")
        return await handler(call, params)

    def _methods(self) -> dict[str, Callable[[Call, Any], Awaitable[Any]]]:
        return {
            Method.HELLO: self.hello,
            Method.COMPLETE: self.complete,
            Method.CHAT: self.chat,
            Method.CANCEL: self.cancel,
            Method.PROMPT: self.prompt,
            Method.TOKENIZE: self.tokenize,
            Method.COUNT_TOKENS: self.count_tokens,
            Method.DETOKENIZE: self.detokenize,
            Method.STATUS: self.status,
            Method.SHUTDOWN: self.shutdown,
        }

    def forget_session(self, session: Session) -> None:
        self.sessions.discard(session)

    # ---- methods -------------------------------------------------------------
    async def hello(self, call: Call, params: Any) -> HelloResult:
        # A token, if the host needs one, was checked by the session's gate (rpc/auth.py).
        as_map(params, "hello")
        ckpt = self.checkpoint
        return {
            "protocol_version": PROTOCOL_VERSION,
            "host_version": __version__,
            "pid": os.getpid(),
            "state": self.state,
            "progress": round(self.progress, 3),
            "engine": self.backend.name if self.backend else "",
            "model": ckpt.profile.to_wire() if ckpt else None,
            "max_message_bytes": call.session.max_frame_bytes,
        }

    async def complete(self, call: Call, params: Any) -> GenerateResult:
        p = parse_complete(params)
        ckpt = self._need_model()
        async with self._slot(call) as slot:
            prompt = await self._off_loop(build_complete_prompt, ckpt, p)
            gen = self._generation(call, prompt, p.gen, False, PRIORITY_COMPLETE, p.document)
            slot.generation = gen
            out = await self._run(call, gen)
        out["mode"] = prompt.mode
        return out

    async def chat(self, call: Call, params: Any) -> GenerateResult:
        p = parse_chat(params)
        ckpt = self._need_model()
        async with self._slot(call) as slot:
            prompt = await self._off_loop(build_chat_prompt, ckpt, p.messages)
            gen = self._generation(call, prompt, p.gen, True, PRIORITY_CHAT, None)
            slot.generation = gen
            return await self._run(call, gen)

    async def prompt(self, call: Call, params: Any) -> dict[str, Any]:
        """Dry run: the exact ids a complete/chat request would feed the model."""
        p = as_map(params, "prompt")
        kind = param(p, "kind", str)
        ckpt = self._need_model()
        return await self._off_loop(dry_run, ckpt, kind, p)

    async def tokenize(self, call: Call, params: Any) -> dict[str, Any]:
        text = tokens.tokenize_text(params)
        return await self._off_loop(tokens.tokenize, self._need_model(), text)

    async def count_tokens(self, call: Call, params: Any) -> dict[str, Any]:
        texts = tokens.count_texts(params)
        self._need_model()
        assert self._counter is not None
        return await self._off_loop(tokens.count_tokens, self._counter, texts)

    async def detokenize(self, call: Call, params: Any) -> dict[str, Any]:
        ids = tokens.detokenize_ids(params)
        ckpt = self._need_model()
        tokens.check_ids(ids, ckpt.profile.vocab_size)
        return await self._off_loop(tokens.detokenize, ckpt, ids)

    async def cancel(self, call: Call, params: Any) -> dict[str, Any]:
        target = param(as_map(params, "cancel"), "id", int)
        found = call.session.cancel(target)
        if found == "running":
            # From now on that request answers CANCELLED, whatever its engine does next.
            return {"cancelled": True}
        if found == "finished":
            return {"cancelled": False, "reason": "already finished"}
        raise RpcError(
            ErrorCode.UNKNOWN_REQUEST, f"no request with id {target} is running on this connection"
        )

    async def status(self, call: Call, params: Any) -> dict[str, Any]:
        engine = self.backend.status() if self.backend else {}
        ckpt = self.checkpoint
        return {
            "state": self.state,
            "progress": round(self.progress, 3),
            "message": self.message,
            "model": ckpt.profile.to_wire() if ckpt else None,
            "queue_depth": engine.get("queue_depth", 0),
            "active": engine.get("active", 0),
            "decode_steps": engine.get("decode_steps", 0),
            "requests_in_flight": self.generating,
            "clients": len(self.sessions),
            **self.stats.to_wire(),
            "engine": engine,
        }

    async def shutdown(self, call: Call, params: Any) -> dict[str, Any]:
        if self.on_shutdown is not None:
            # Answer first, then stop: the caller learns the host is going away.
            asyncio.get_running_loop().call_later(0.05, self.on_shutdown)
        return {"ok": True}

    # ---- generation ----------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _slot(self, call: Call) -> AsyncIterator[_Slot]:
        """Hold a place among the generating requests, and turn a `cancel` that answered
        true into CANCELLED, whatever came after it (the session cancels the call's task)."""
        if self.generating >= self.max_queue:
            self.stats.busy += 1
            raise RpcError(
                ErrorCode.BUSY,
                f"the host is busy ({self.max_queue} requests in flight); try again shortly",
                {"in_flight": self.generating},
            )
        self.generating += 1
        slot = _Slot()
        try:
            yield slot
        except asyncio.CancelledError:
            if not call.cancelled:
                self.stats.cancelled += 1  # counted all the same
                raise  # the client went away: nobody to answer
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            raise self._cancelled(slot.generation) from None
        finally:
            self.generating -= 1
        if call.cancelled:
            raise self._cancelled(slot.generation)

    def _generation(
        self,
        call: Call,
        prompt: Prompt,
        gen: GenerateParams,
        strip_leading_space: bool,
        priority: int,
        affinity: str | None,
    ) -> Generation:
        ckpt = self._need_model()
        assert self.backend is not None
        return Generation(
            self.backend,
            ckpt,
            prompt,
            gen,
            strip_leading_space=strip_leading_space,
            priority=priority,
            affinity=affinity,
            msgid=call.msgid,
        )

    async def _run(self, call: Call, gen: Generation) -> GenerateResult:
        async def stream(note: StreamNote) -> None:
            call.session.notify(Notify.STREAM, note)
            await call.session.drain()

        try:
            out = await gen.run(stream)
        except BackendError:
            self.stats.failed += 1
            raise
        finally:
            self.stats.tokens_generated += gen.generated
        if call.cancelled:
            return out  # _slot answers CANCELLED
        self.stats.served += 1
        self.stats.record(out["timings"])
        return out

    def _cancelled(self, gen: Generation | None) -> RpcError:
        self.stats.cancelled += 1
        data: CancelledData = (
            gen.partial() if gen is not None else {"generated_tokens": 0, "text": ""}
        )
        return RpcError(ErrorCode.CANCELLED, "the request was cancelled", data)
