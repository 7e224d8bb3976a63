"""The host's methods: thin handlers that parse params, build prompts and stream a backend's generations.

Tokenizing (prompts, counts) runs on worker threads, never on the event loop, so one
window counting a huge text never stalls another window's requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .. import __version__
from ..backends.base import (
    PRIORITY_CHAT,
    PRIORITY_COMPLETE,
    Backend,
    BackendError,
    GenerateRequest,
    Sampling,
)
from ..checkpoint.load import LoadedModel
from ..rpc.messages import CancelledData, GenerateResult, HelloResult, StateNote, StreamNote
from ..rpc.protocol import PROTOCOL_VERSION, ErrorCode, LoadState, Method, Notify, RpcError
from ..rpc.session import Call, Session
from ..stats import HostStats
from ..text.header import render_header
from ..text.output import Clock, OutputProcessor, result
from ..text.prompts import PromptError, chat_prompt, infill_prompt, prefix_prompt
from ..text.token_counts import TokenCounter
from .params import (
    CompleteParams,
    GenerateParams,
    as_map,
    invalid,
    parse_chat,
    parse_complete,
)
from .params import (
    field as param,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# Tokenizing threads: SentencePiece releases the GIL, so counts run beside the loop.
TOKENIZE_THREADS = 2


@dataclass
class Prompt:
    ids: list[int]
    mode: str  # "infill" | "prefix" | "chat"


def build_complete_prompt(lm: LoadedModel, p: CompleteParams) -> Prompt:
    """Infill when the model can and a suffix was given; otherwise continue the prefix.

    The cross-file header goes in front of the prefix text, in every order and mode, so it is
    encoded as the prefix is (never into control ids) and sits right before the file's code.
    """
    profile = lm.profile
    prefix = render_header(p.context, p.language) + p.prefix
    if p.suffix is not None and profile.can_infill:
        ids = infill_prompt(lm.tokenizer, prefix, p.suffix, order=p.order, ids=profile.infill)
        return Prompt(ids, "infill")
    return Prompt(prefix_prompt(lm.tokenizer, prefix), "prefix")


def build_chat_prompt(lm: LoadedModel, messages: Any) -> Prompt:
    try:
        ids = chat_prompt(
            lm.tokenizer, messages, lm.profile.chat_format, hf_tokenizer=lm.hf_tokenizer
        )
    except PromptError as exc:  # a dialog the format cannot express: the caller's mistake
        raise invalid(str(exc)) from exc
    return Prompt(ids, "chat")


def render_ids(lm: LoadedModel, ids: list[int]) -> str:
    """Prompt ids as text, control tokens shown by their piece names (for the dry run)."""
    out: list[str] = []
    pending = b""
    for i in ids:
        if lm.tokenizer.is_special(i):
            out.append(pending.decode("utf-8", "replace"))
            pending = b""
            out.append(lm.tokenizer.piece(i))
        else:
            pending += lm.tokenizer.token_bytes(i)
    out.append(pending.decode("utf-8", "replace"))
    return "".join(out)


@dataclass
class _Running:
    """A generation being served: the handler's task, and whether `cancel` claimed it."""

    task: asyncio.Task[Any] | None
    cancelled: bool = False
    out: OutputProcessor | None = None
    clock: Clock | None = None
    prompt_tokens: int = 0
    cached_tokens: int = 0


@dataclass
class HostService:
    """Everything the host serves, independent of sockets (the server feeds it sessions)."""

    model_name: str = ""
    max_queue: int = 64
    state: str = LoadState.STARTING
    progress: float = 0.0
    message: str = ""
    lm: LoadedModel | None = None
    backend: Backend | None = None
    stats: HostStats = field(default_factory=HostStats)
    sessions: set[Session] = field(default_factory=set)
    on_shutdown: Callable[[], None] | None = None
    _running: dict[tuple[int, int], _Running] = field(default_factory=dict)
    _finished: OrderedDict[tuple[int, int], None] = field(default_factory=OrderedDict)
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

    def ready(self, lm: LoadedModel, backend: Backend) -> None:
        self.lm, self.backend = lm, backend
        self._counter = TokenCounter(lm.tokenizer)
        self.set_state(LoadState.READY, 1.0, f"{self.model_name} ready")

    def _need_model(self) -> LoadedModel:
        if self.lm is None or self.state != LoadState.READY:
            raise RpcError(
                ErrorCode.NOT_READY,
                f"the model is not ready ({self.state}{': ' + self.message if self.message else ''})",
                {"state": self.state, "progress": self.progress},
            )
        return self.lm

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
        return {
            "protocol_version": PROTOCOL_VERSION,
            "host_version": __version__,
            "pid": os.getpid(),
            "state": self.state,
            "progress": round(self.progress, 3),
            "engine": self.backend.name if self.backend else "",
            "model": self.lm.profile.to_wire() if self.lm else None,
            "max_message_bytes": call.session.max_frame_bytes,
        }

    async def complete(self, call: Call, params: Any) -> GenerateResult:
        p = parse_complete(params)
        lm = self._need_model()
        async with self._tracked(call) as running:
            prompt = await self._off_loop(build_complete_prompt, lm, p)
            out = await self._generate(
                call,
                running,
                prompt,
                p.gen,
                strip_leading_space=False,
                priority=PRIORITY_COMPLETE,
                affinity=p.document,
            )
        out["mode"] = prompt.mode
        return out

    async def chat(self, call: Call, params: Any) -> GenerateResult:
        p = parse_chat(params)
        lm = self._need_model()
        async with self._tracked(call) as running:
            prompt = await self._off_loop(build_chat_prompt, lm, p.messages)
            return await self._generate(
                call, running, prompt, p.gen, strip_leading_space=True, priority=PRIORITY_CHAT
            )

    async def prompt(self, call: Call, params: Any) -> dict[str, Any]:
        """Dry run: the exact ids a complete/chat request would feed the model."""
        p = as_map(params, "prompt")
        kind = param(p, "kind", str)
        lm = self._need_model()
        header = ""
        if kind == "complete":
            complete = parse_complete(p)
            header = render_header(complete.context, complete.language)
            prompt = await self._off_loop(build_complete_prompt, lm, complete)
        elif kind == "chat":
            prompt = await self._off_loop(build_chat_prompt, lm, parse_chat(p).messages)
        else:
            raise invalid("'kind' must be 'complete' or 'chat'")
        return {
            "ids": prompt.ids,
            "pieces": [lm.tokenizer.piece(i) for i in prompt.ids],
            "text": render_ids(lm, prompt.ids),
            "mode": prompt.mode,
            "tokens": len(prompt.ids),
            "header": header,
        }

    async def tokenize(self, call: Call, params: Any) -> dict[str, Any]:
        p = as_map(params, "tokenize")
        text = param(p, "text", str)
        lm = self._need_model()
        ids = await self._off_loop(lm.tokenizer.encode, text)
        return {"ids": ids, "pieces": [lm.tokenizer.piece(i) for i in ids]}

    async def count_tokens(self, call: Call, params: Any) -> dict[str, Any]:
        p = as_map(params, "count_tokens")
        texts = param(p, "texts", list)
        if not all(isinstance(t, str) for t in texts):
            raise invalid("'texts' must be an array of strings")
        self._need_model()
        assert self._counter is not None
        count = self._counter.count
        return {"counts": await self._off_loop(lambda: [count(t) for t in texts])}

    async def detokenize(self, call: Call, params: Any) -> dict[str, Any]:
        p = as_map(params, "detokenize")
        ids = param(p, "ids", list)
        lm = self._need_model()
        vocab = lm.profile.vocab_size
        if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < vocab for i in ids):
            raise invalid(f"'ids' must be integers in [0, {vocab})")
        return {"text": await self._off_loop(lm.tokenizer.decode, ids)}

    async def cancel(self, call: Call, params: Any) -> dict[str, Any]:
        target = param(as_map(params, "cancel"), "id", int)
        key = (id(call.session), target)
        running = self._running.get(key)
        if running is not None:
            # From now on that request answers CANCELLED, whatever its engine does next.
            if not running.cancelled and running.task is not None:
                running.cancelled = True
                running.task.cancel()
            return {"cancelled": True}
        if key in self._finished:
            return {"cancelled": False, "reason": "already finished"}
        raise RpcError(
            ErrorCode.UNKNOWN_REQUEST, f"no request with id {target} is running on this connection"
        )

    async def status(self, call: Call, params: Any) -> dict[str, Any]:
        engine = self.backend.status() if self.backend else {}
        return {
            "state": self.state,
            "progress": round(self.progress, 3),
            "message": self.message,
            "model": self.lm.profile.to_wire() if self.lm else None,
            "queue_depth": engine.get("queue_depth", 0),
            "active": engine.get("active", 0),
            "decode_steps": engine.get("decode_steps", 0),
            "requests_in_flight": len(self._running),
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
    async def _tracked(self, call: Call) -> AsyncIterator[_Running]:
        """Register a generating request from its first moment, so `cancel` always finds it,
        and turn a cancel that answered true into CANCELLED, whatever came after it."""
        if len(self._running) >= self.max_queue:
            self.stats.busy += 1
            raise RpcError(
                ErrorCode.BUSY,
                f"the host is busy ({self.max_queue} requests in flight); try again shortly",
                {"in_flight": len(self._running)},
            )
        key = (id(call.session), call.msgid)
        running = self._running[key] = _Running(asyncio.current_task())
        try:
            yield running
        except asyncio.CancelledError:
            if not running.cancelled:
                self.stats.cancelled += 1  # counted all the same
                raise  # the client went away: nobody to answer
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            raise self._cancelled(running) from None
        finally:
            self._running.pop(key, None)
            self._finished[key] = None
            while len(self._finished) > 4096:
                self._finished.popitem(last=False)

    async def _generate(
        self,
        call: Call,
        running: _Running,
        prompt: Prompt,
        gen: GenerateParams,
        *,
        strip_leading_space: bool,
        priority: int,
        affinity: str | None = None,
    ) -> GenerateResult:
        lm = self._need_model()
        backend = self.backend
        assert backend is not None
        window = lm.profile.context_window
        if len(prompt.ids) >= window:
            raise RpcError(
                ErrorCode.CONTEXT_OVERFLOW,
                f"the prompt is {len(prompt.ids)} tokens; the model's context window is {window}",
                {"prompt_tokens": len(prompt.ids), "context_window": window},
            )
        request = GenerateRequest(
            prompt=tuple(prompt.ids),
            max_tokens=min(gen.max_tokens, window - len(prompt.ids)),
            sampling=Sampling(gen.temperature, gen.top_p, gen.seed),
            stop_ids=frozenset(lm.profile.stop_ids),
            priority=priority,
            affinity=affinity,
        )
        out = running.out = OutputProcessor(
            lm.tokenizer,
            stops=gen.stop,
            stop_ids=request.stop_ids,
            strip_leading_space=strip_leading_space,
        )
        clock = running.clock = Clock()
        running.prompt_tokens = len(prompt.ids)
        finish = "length"
        try:
            async with contextlib.aclosing(backend.generate(request)) as deltas:
                index = 0
                async for delta in deltas:
                    if clock.first_token is None and delta.ids:
                        clock.first_token = time.perf_counter()
                    if delta.cached_tokens is not None:
                        running.cached_tokens = delta.cached_tokens
                    text = out.feed(delta.ids)
                    if delta.finish is not None:
                        text += out.flush()
                        finish = delta.finish
                    if out.stopped:
                        finish = "stop"
                    if text and gen.stream:
                        note: StreamNote = {
                            "id": call.msgid,
                            "text": text,
                            "index": index,
                            "tokens": out.generated,
                        }
                        call.session.notify(Notify.STREAM, note)
                        index += 1
                        await call.session.drain()
                    if delta.finish is not None or out.stopped:
                        break  # leaving the stream stops the backend (a stop string)
            clock.finished = time.perf_counter()
        except BackendError:
            self.stats.failed += 1
            raise
        finally:
            self.stats.tokens_generated += out.generated
        if running.cancelled:
            raise self._cancelled(running)
        self.stats.served += 1
        timings = clock.timings(out.generated, len(prompt.ids), running.cached_tokens)
        self.stats.record(timings)
        return result(out, finish_reason=finish, prompt_tokens=len(prompt.ids), timings=timings)

    def _cancelled(self, running: _Running) -> RpcError:
        self.stats.cancelled += 1
        out = running.out
        data: CancelledData = {
            "generated_tokens": out.generated if out else 0,
            "text": out.text if out else "",
        }
        if out is not None and running.clock is not None:
            data["timings"] = running.clock.timings(
                out.generated, running.prompt_tokens, running.cached_tokens
            )
        return RpcError(ErrorCode.CANCELLED, "the request was cancelled", data)
