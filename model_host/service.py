"""The host's methods: thin handlers that parse params, build prompts and run generations."""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from . import __version__
from .detok import StopMatcher, StreamDecoder
from .engine import Generation, Sampling
from .loader import LoadedModel
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
from .prompts import PromptError, chat_prompt, infill_prompt, prefix_prompt
from .rpc.protocol import PROTOCOL_VERSION, ErrorCode, LoadState, Method, Notify, RpcError
from .rpc.session import Call, Session
from .scheduler import Scheduler
from .stats import HostStats

log = logging.getLogger(__name__)

PRIORITY_COMPLETE = 0
PRIORITY_CHAT = 1


@dataclass
class Prompt:
    ids: list[int]
    mode: str  # "infill" | "prefix" | "chat"


def build_complete_prompt(lm: LoadedModel, p: CompleteParams) -> Prompt:
    """Infill when the model can and a suffix was given; otherwise continue the prefix."""
    profile = lm.profile
    if p.suffix is not None and profile.can_infill:
        ids = infill_prompt(lm.tokenizer, p.prefix, p.suffix, order=p.order, ids=profile.infill)
        return Prompt(ids, "infill")
    return Prompt(prefix_prompt(lm.tokenizer, p.prefix), "prefix")


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
class HostService:
    """Everything the host serves, independent of sockets (the server feeds it sessions)."""

    model_name: str = ""
    state: str = LoadState.STARTING
    progress: float = 0.0
    message: str = ""
    lm: LoadedModel | None = None
    scheduler: Scheduler | None = None
    stats: HostStats = field(default_factory=HostStats)
    sessions: set[Session] = field(default_factory=set)
    on_shutdown: Callable[[], None] | None = None
    _running: dict[tuple[int, int], Generation] = field(default_factory=dict)
    _finished: OrderedDict[tuple[int, int], None] = field(default_factory=OrderedDict)

    # ---- state ---------------------------------------------------------------
    def set_state(self, state: str, progress: float, message: str = "") -> None:
        self.state, self.progress, self.message = state, progress, message
        note = {"state": state, "progress": round(progress, 3), "message": message}
        for session in list(self.sessions):
            session.notify(Notify.STATE, note)

    def ready(self, lm: LoadedModel, scheduler: Scheduler) -> None:
        self.lm, self.scheduler = lm, scheduler
        self.set_state(LoadState.READY, 1.0, f"{self.model_name} ready")

    def _need_model(self) -> LoadedModel:
        if self.lm is None or self.state != LoadState.READY:
            raise RpcError(
                ErrorCode.NOT_READY,
                f"the model is not ready ({self.state}{': ' + self.message if self.message else ''})",
                {"state": self.state, "progress": self.progress},
            )
        return self.lm

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
    async def hello(self, call: Call, params: Any) -> dict[str, Any]:
        # A token, if the host needs one, was checked by the session's gate (rpc/auth.py).
        as_map(params, "hello")
        return {
            "protocol_version": PROTOCOL_VERSION,
            "host_version": __version__,
            "pid": os.getpid(),
            "state": self.state,
            "progress": round(self.progress, 3),
            "model": self.lm.profile.to_wire() if self.lm else None,
            "max_message_bytes": call.session.max_frame_bytes,
        }

    async def complete(self, call: Call, params: Any) -> dict[str, Any]:
        p = parse_complete(params)
        lm = self._need_model()
        prompt = build_complete_prompt(lm, p)
        result = await self._generate(
            call, prompt, p.gen, strip_leading_space=False, priority=PRIORITY_COMPLETE
        )
        result["mode"] = prompt.mode
        return result

    async def chat(self, call: Call, params: Any) -> dict[str, Any]:
        p = parse_chat(params)
        lm = self._need_model()
        prompt = build_chat_prompt(lm, p.messages)
        return await self._generate(
            call, prompt, p.gen, strip_leading_space=True, priority=PRIORITY_CHAT
        )

    async def prompt(self, call: Call, params: Any) -> dict[str, Any]:
        """Dry run: the exact ids a complete/chat request would feed the model."""
        p = as_map(params, "prompt")
        kind = param(p, "kind", str)
        lm = self._need_model()
        if kind == "complete":
            prompt = build_complete_prompt(lm, parse_complete(p))
        elif kind == "chat":
            prompt = build_chat_prompt(lm, parse_chat(p).messages)
        else:
            raise invalid("'kind' must be 'complete' or 'chat'")
        return {
            "ids": prompt.ids,
            "pieces": [lm.tokenizer.piece(i) for i in prompt.ids],
            "text": render_ids(lm, prompt.ids),
            "mode": prompt.mode,
            "tokens": len(prompt.ids),
        }

    async def tokenize(self, call: Call, params: Any) -> dict[str, Any]:
        p = as_map(params, "tokenize")
        lm = self._need_model()
        ids = lm.tokenizer.encode(param(p, "text", str))
        return {"ids": ids, "pieces": [lm.tokenizer.piece(i) for i in ids]}

    async def count_tokens(self, call: Call, params: Any) -> dict[str, Any]:
        p = as_map(params, "count_tokens")
        texts = param(p, "texts", list)
        if not all(isinstance(t, str) for t in texts):
            raise invalid("'texts' must be an array of strings")
        lm = self._need_model()
        return {"counts": [len(lm.tokenizer.encode(t)) for t in texts]}

    async def detokenize(self, call: Call, params: Any) -> dict[str, Any]:
        p = as_map(params, "detokenize")
        ids = param(p, "ids", list)
        lm = self._need_model()
        vocab = lm.profile.vocab_size
        if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < vocab for i in ids):
            raise invalid(f"'ids' must be integers in [0, {vocab})")
        return {"text": lm.tokenizer.decode(ids)}

    async def cancel(self, call: Call, params: Any) -> dict[str, Any]:
        target = param(as_map(params, "cancel"), "id", int)
        key = (id(call.session), target)
        gen = self._running.get(key)
        if gen is not None:
            assert self.scheduler is not None
            self.scheduler.cancel(gen)
            return {"cancelled": True}
        if key in self._finished:
            return {"cancelled": False, "reason": "already finished"}
        raise RpcError(
            ErrorCode.UNKNOWN_REQUEST, f"no request with id {target} is running on this connection"
        )

    async def status(self, call: Call, params: Any) -> dict[str, Any]:
        sched = self.scheduler
        return {
            "state": self.state,
            "progress": round(self.progress, 3),
            "message": self.message,
            "model": self.lm.profile.to_wire() if self.lm else None,
            "queue_depth": sched.queue_depth if sched else 0,
            "active": sched.active if sched else 0,
            "decode_steps": sched.decode_steps if sched else 0,
            "clients": len(self.sessions),
            **self.stats.to_wire(),
        }

    async def shutdown(self, call: Call, params: Any) -> dict[str, Any]:
        if self.on_shutdown is not None:
            # Answer first, then stop: the caller learns the host is going away.
            asyncio.get_running_loop().call_later(0.05, self.on_shutdown)
        return {"ok": True}

    # ---- generation ----------------------------------------------------------
    async def _generate(
        self,
        call: Call,
        prompt: Prompt,
        gen_params: GenerateParams,
        *,
        strip_leading_space: bool,
        priority: int,
    ) -> dict[str, Any]:
        lm = self._need_model()
        assert self.scheduler is not None
        window = lm.profile.context_window
        if len(prompt.ids) >= window:
            raise RpcError(
                ErrorCode.CONTEXT_OVERFLOW,
                f"the prompt is {len(prompt.ids)} tokens; the model's context window is {window}",
                {"prompt_tokens": len(prompt.ids), "context_window": window},
            )
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        index = 0

        def on_text(text: str) -> None:
            loop.call_soon_threadsafe(events.put_nowait, ("text", text))

        def on_done(g: Generation) -> None:
            loop.call_soon_threadsafe(events.put_nowait, ("done", g))

        gen = Generation(
            prompt=prompt.ids,
            max_tokens=min(gen_params.max_tokens, window - len(prompt.ids)),
            sampling=Sampling(gen_params.temperature, gen_params.top_p, gen_params.seed),
            stop_ids=frozenset(lm.profile.stop_ids),
            decoder=StreamDecoder(lm.tokenizer, strip_leading_space=strip_leading_space),
            stops=StopMatcher(gen_params.stop),
            on_text=on_text,
            on_done=on_done,
            priority=priority,
        )
        key = (id(call.session), call.msgid)
        try:
            self.scheduler.submit(gen)
        except RpcError as exc:
            if exc.code == ErrorCode.BUSY:
                self.stats.busy += 1
            raise
        self._running[key] = gen
        try:
            while True:
                kind, value = await events.get()
                if kind == "text":
                    if gen_params.stream:
                        call.session.notify(
                            Notify.STREAM, {"id": call.msgid, "text": value, "index": index}
                        )
                        index += 1
                        await call.session.drain()
                    continue
                return self._finish(gen)
        except asyncio.CancelledError:
            # The client went away: stop decoding for nobody.
            self.scheduler.cancel(gen)
            raise
        finally:
            self._running.pop(key, None)
            self._finished[key] = None
            while len(self._finished) > 4096:
                self._finished.popitem(last=False)

    def _finish(self, gen: Generation) -> dict[str, Any]:
        self.stats.tokens_generated += gen.generated
        if gen.finish_reason == "error":
            self.stats.failed += 1
            raise RpcError(ErrorCode.INTERNAL_ERROR, f"generation failed: {gen.error}")
        if gen.finish_reason == "cancelled":
            self.stats.cancelled += 1
            raise RpcError(
                ErrorCode.CANCELLED,
                "the request was cancelled",
                {"generated_tokens": gen.generated, "text": gen.text},
            )
        self.stats.served += 1
        result = gen.result()
        self.stats.latency.add(result["timings"]["total_ms"])
        self.stats.first_token.add(result["timings"]["first_token_ms"])
        return result
