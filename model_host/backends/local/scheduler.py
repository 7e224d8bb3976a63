"""Which tokens the next forward pass computes: a batch built anew every step. No torch here.

Each step has a token budget (`max_batch_tokens`, small enough that a cancel lands
within one step). Every decoding request gets its one token, so all windows decode
together in one forward. The rest of the budget goes to prompt work in priority order
(completions before chats, then by arrival), whether the request is already running
or still waiting. A prompt alone in the engine (nothing decoding, nothing else
waiting) is prefilled in one step of up to `max_prefill_tokens`, as `generate()` does,
since chunking it would only add steps; a waiting one is admitted while `max_running` allows (a completion
may push a chat back to the queue for that) with its prompt matched against the
prefix cache. When the KV pool runs short, the lowest-priority running request is
preempted: its blocks go back to the cache (still reusable) and it is recomputed later.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .kv_cache import CopyOp, KVCacheManager
from .request import FINISH_ABORTED, FINISH_ERROR, FINISH_LENGTH, EngineRequest, Status


@dataclass
class ScheduledSeq:
    request: EngineRequest
    start: int  # position of tokens[0]
    tokens: list[int]
    block_table: list[int]
    sample: bool  # the chunk reaches the last known token: the step samples the next one

    @property
    def end(self) -> int:
        return self.start + len(self.tokens)


@dataclass
class SchedulerOutput:
    """A plain description of one forward pass, for the model runner."""

    seqs: list[ScheduledSeq] = field(default_factory=list)
    copies: list[CopyOp] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.seqs


class Scheduler:
    def __init__(
        self,
        kv: KVCacheManager,
        *,
        max_running: int,
        max_batch_tokens: int,
        max_prefill_tokens: int = 0,
    ) -> None:
        if max_running < 1 or max_batch_tokens < 1:
            raise ValueError("need max_running >= 1 and max_batch_tokens >= 1")
        self.kv = kv
        self.max_running = max_running
        self.max_batch_tokens = max_batch_tokens
        self.max_prefill_tokens = max(max_prefill_tokens, max_batch_tokens)
        self.waiting: list[EngineRequest] = []
        self.running: list[EngineRequest] = []
        self.preemptions = 0
        # Requests that ended while a step was being scheduled (not in any step's output):
        # the engine loop tells their consumers.
        self.ended: list[EngineRequest] = []

    @property
    def has_work(self) -> bool:
        return bool(self.waiting or self.running)

    def add(self, request: EngineRequest) -> None:
        request.status = Status.WAITING
        self.waiting.append(request)

    def abort(self, rid: int) -> EngineRequest | None:
        """Stop a request now; what it computed stays in the cache (the next keystroke's prefix)."""
        for queue in (self.running, self.waiting):
            for request in queue:
                if request.id == rid:
                    self._finish(request, FINISH_ABORTED)
                    return request
        return None

    # ---- one step --------------------------------------------------------------------
    def schedule(self) -> SchedulerOutput:
        out = SchedulerOutput()
        budget = self.max_batch_tokens
        self._make_slots()
        self.running.sort(key=EngineRequest.order)
        # Every decoding request gets its one token: all streams move every step.
        for request in list(self.running):
            decoding = request.remaining == 1 and request.status is Status.RUNNING
            if decoding and self._make_room(request, request.num_tokens, out):
                out.seqs.append(self._seq(request, 1))
                budget -= 1
        # Then prompt work, best first, whether its request already runs or still waits:
        # a completion that just arrived goes before the rest of a chat's long prompt.
        pending = [r for r in self.running if r.remaining > 1] + self.waiting
        if not out.seqs and len(pending) == 1:
            # Alone: the whole prompt in one step (one forward, like generate()).
            alone = pending[0]
            budget = min(self.max_prefill_tokens, max(budget, alone.remaining))
        admitting = True
        for request in sorted(pending, key=EngineRequest.order):
            if budget <= 0:
                break
            if request.status is Status.RUNNING:
                count = min(request.remaining, budget)
                if self._make_room(request, request.num_computed + count, out):
                    out.seqs.append(self._seq(request, count))
                    budget -= count
            elif admitting and request.status is Status.WAITING:
                admitting = self._admit(request, budget, out)
                if admitting:
                    budget -= len(out.seqs[-1].tokens)
        return out

    def _make_slots(self) -> None:
        """With every slot taken, a waiting request that comes first (a completion) takes
        the slot of the last running one (a chat), which goes back to the queue."""
        free = self.max_running - len(self.running)
        for request in sorted(self.waiting, key=EngineRequest.order):
            if free > 0:
                free -= 1  # this one gets a free slot
                continue
            if not self.running:
                break
            worst = max(self.running, key=EngineRequest.order)
            if worst.order() <= request.order():
                break
            self._preempt(worst)

    def _admit(self, request: EngineRequest, budget: int, out: SchedulerOutput) -> bool:
        """Start a waiting request with up to `budget` tokens; False if it cannot start now
        (later ones then wait too, so a big prompt is not starved by small ones)."""
        if len(self.running) >= self.max_running:
            return False
        admitted = self.kv.admit(request.id, request.tokens, budget)
        if admitted is None:
            return False  # the pool is full of running requests: wait for one to end
        self.waiting.remove(request)
        if request.num_cached is None:
            request.num_cached = min(admitted.num_cached, request.prompt_len)
        request.num_computed = admitted.num_cached
        request.status = Status.RUNNING
        self.running.append(request)
        out.copies.extend(admitted.copies)
        out.seqs.append(self._seq(request, min(request.remaining, budget)))
        return True

    def update(self, out: SchedulerOutput, sampled: dict[int, int]) -> list[EngineRequest]:
        """Take the step's results; returns the requests that got a token (some now finished)."""
        self.kv.release_pins()
        touched: list[EngineRequest] = []
        for seq in out.seqs:
            request = seq.request
            if request.status is not Status.RUNNING:
                continue
            request.num_computed = seq.end
            self.kv.commit(request.id, request.tokens, request.num_computed)
            if not seq.sample:
                continue
            reason = request.append(sampled[request.id])
            if reason is not None:
                self._finish(request, reason)
            touched.append(request)
        return touched

    def fail(self, out: SchedulerOutput, message: str) -> list[EngineRequest]:
        """The forward pass raised: every request in it ends with an error, the others go on."""
        self.kv.release_pins()
        failed = []
        for seq in out.seqs:
            request = seq.request
            if request.status is Status.RUNNING:
                request.error = message
                self._finish(request, FINISH_ERROR, keep=False)
                failed.append(request)
        return failed

    # ---- helpers ---------------------------------------------------------------------
    def _seq(self, request: EngineRequest, count: int) -> ScheduledSeq:
        start = request.num_computed
        return ScheduledSeq(
            request=request,
            start=start,
            tokens=request.tokens[start : start + count],
            block_table=list(self.kv.table(request.id)),
            sample=start + count == request.num_tokens,
        )

    def _make_room(self, request: EngineRequest, num_tokens: int, out: SchedulerOutput) -> bool:
        """Blocks for `num_tokens` positions of `request`, preempting later requests if need be."""
        scheduled = {s.request.id for s in out.seqs}
        while not self.kv.allocate(request.id, num_tokens):
            victims = [r for r in self.running if r.id not in scheduled and r is not request]
            victim = max(victims, key=EngineRequest.order) if victims else request
            if victim.order() < request.order():
                victim = request  # never push out a request that comes first
            if victim is request and len(self.running) == 1 and not scheduled:
                # Alone and still too big: the pool is smaller than this request can grow
                # (the host sizes it to one window, so only a hand-made pool gets here).
                self._finish(request, FINISH_LENGTH)
                self.ended.append(request)
                return False
            self._preempt(victim)
            if victim is request:
                return False
        return True

    def _preempt(self, request: EngineRequest) -> None:
        self.kv.free(request.id, request.tokens, request.num_computed)
        self.running.remove(request)
        request.status = Status.WAITING
        request.num_computed = 0
        request.preemptions += 1
        self.preemptions += 1
        self.waiting.append(request)

    def _finish(self, request: EngineRequest, reason: str, *, keep: bool = True) -> None:
        self.kv.free(request.id, request.tokens, request.num_computed, keep=keep)
        if request in self.running:
            self.running.remove(request)
        elif request in self.waiting:
            self.waiting.remove(request)
        request.status = Status.FINISHED
        request.finish_reason = reason
