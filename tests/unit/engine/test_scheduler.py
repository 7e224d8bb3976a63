"""The scheduler without a model: `schedule()` and `update()` driven with hand-made sampled tokens,
the way vLLM tests its scheduler."""

from __future__ import annotations

from model_host.backends.base import PRIORITY_CHAT, PRIORITY_COMPLETE, GenerateRequest, Sampling
from model_host.backends.local.kv_cache import KVCacheManager
from model_host.backends.local.request import (
    FINISH_ABORTED,
    FINISH_END,
    FINISH_LENGTH,
    EngineRequest,
    Status,
)
from model_host.backends.local.scheduler import Scheduler, SchedulerOutput

B = 4
STOP = 2


def make(
    rid: int,
    prompt_len: int,
    *,
    max_tokens: int = 8,
    priority: int = PRIORITY_COMPLETE,
    first: int = 100,
    window: int = 1000,
) -> EngineRequest:
    prompt = tuple(range(first, first + prompt_len))
    generate = GenerateRequest(prompt, max_tokens, Sampling(0), frozenset({STOP}), priority)
    request = EngineRequest.from_generate(rid, generate, window)
    request.arrival = float(rid)
    return request


def scheduler(blocks: int = 64, *, running: int = 8, budget: int = 16) -> Scheduler:
    return Scheduler(KVCacheManager(blocks, B), max_running=running, max_batch_tokens=budget)


def step(s: Scheduler, token: int = 7) -> SchedulerOutput:
    """One engine step in which every request that needs a token samples `token`."""
    out = s.schedule()
    s.update(out, {seq.request.id: token for seq in out.seqs if seq.sample})
    return out


def shape(out: SchedulerOutput) -> list[tuple[int, int, int, bool]]:
    return [(s.request.id, s.start, len(s.tokens), s.sample) for s in out.seqs]


def test_prompts_are_prefilled_in_chunks_then_decode_one_token_a_step() -> None:
    s = scheduler(budget=16)
    s.add(make(1, 40))
    assert shape(step(s)) == [(1, 0, 16, False)]
    assert shape(step(s)) == [(1, 16, 16, False)]
    assert shape(step(s)) == [(1, 32, 8, True)]  # the chunk that reaches the end samples
    assert shape(step(s)) == [(1, 40, 1, True)]  # then one new token per step


def test_every_running_request_decodes_in_the_same_step() -> None:
    s = scheduler(budget=64)
    for rid in (1, 2, 3):
        s.add(make(rid, 10, first=100 * rid))
    assert [seq[0] for seq in shape(step(s))] == [1, 2, 3]
    out = step(s)
    assert shape(out) == [(1, 10, 1, True), (2, 10, 1, True), (3, 10, 1, True)]


def test_completions_go_before_chats_and_admission_is_capped() -> None:
    s = scheduler(budget=12, running=2)
    s.add(make(1, 30, priority=PRIORITY_CHAT, first=1000))
    step(s)  # the chat starts prefilling
    s.add(make(2, 10, priority=PRIORITY_CHAT, first=2000))
    s.add(make(3, 10, priority=PRIORITY_COMPLETE, first=3000))
    out = step(s)
    # The completion goes first, the running chat gets what is left of the budget, and
    # the second chat waits: two are running.
    assert shape(out) == [(3, 0, 10, True), (1, 12, 2, False)]
    assert [r.id for r in s.waiting] == [2]


def test_a_completion_pauses_a_long_chat_prompt_at_once() -> None:
    s = scheduler(budget=8)
    s.add(make(1, 40, priority=PRIORITY_CHAT))
    step(s)
    s.add(make(2, 6, priority=PRIORITY_COMPLETE, first=500))
    assert shape(step(s)) == [(2, 0, 6, True), (1, 8, 2, False)]
    assert shape(step(s)) == [(2, 6, 1, True), (1, 10, 7, False)]


def test_a_completion_pushes_a_chat_back_when_every_slot_is_taken() -> None:
    s = scheduler(budget=64, running=2)
    s.add(make(1, 6, max_tokens=50, priority=PRIORITY_CHAT))
    s.add(make(2, 6, max_tokens=50, priority=PRIORITY_CHAT, first=300))
    step(s)
    step(s)
    s.add(make(3, 6, first=600))
    out = step(s)  # the later chat makes room for the completion
    assert [seq[0] for seq in shape(out)] == [1, 3]
    assert [r.id for r in s.waiting] == [2] and s.waiting[0].preemptions == 1
    for _ in range(20):
        step(s)
        if 2 in {r.id for r in s.running}:
            break
    assert {r.id for r in s.running} == {1, 2}  # the completion is done: the chat is back


def test_one_slot_serves_a_queue_in_order() -> None:
    s = scheduler(budget=64, running=1)
    for rid in (1, 2, 3, 4):
        s.add(make(rid, 20, max_tokens=3, first=100 * rid))
    done = []
    for _ in range(40):
        out = step(s)
        assert len({seq.request.id for seq in out.seqs}) <= 1
        done += [seq.request.id for seq in out.seqs if seq.request.finished]
        if not s.has_work:
            break
    assert done == [1, 2, 3, 4]


def test_stop_id_and_limits_finish_requests() -> None:
    s = scheduler()
    s.add(make(1, 5, max_tokens=3))
    s.add(make(2, 5, first=300))
    step(s)
    out = s.schedule()
    s.update(out, {1: 9, 2: STOP})
    request_2 = out.seqs[1].request
    assert request_2.finished and request_2.finish_reason == FINISH_END
    step(s)
    request_1 = out.seqs[0].request
    assert request_1.finished and request_1.finish_reason == FINISH_LENGTH
    assert request_1.num_generated == 3
    assert not s.has_work and s.kv.num_free == s.kv.num_blocks


def test_the_window_ends_a_request() -> None:
    s = scheduler()
    s.add(make(1, 8, max_tokens=100, window=10))
    step(s)
    step(s)
    assert not s.running  # 8 prompt + 2 generated = the window


def test_an_aborted_prefill_is_reused_by_the_next_keystroke() -> None:
    s = scheduler(budget=16)
    first = make(1, 40)
    s.add(first)
    step(s)
    step(s)  # 32 of 40 prompt tokens computed
    assert s.abort(1) is first and first.finish_reason == FINISH_ABORTED
    typed = make(2, 41)  # the same text plus one token
    s.add(typed)
    out = step(s)
    assert typed.num_cached == 32
    assert shape(out) == [(2, 32, 9, True)]


def test_the_pool_running_short_preempts_the_latest_request_and_resumes_it() -> None:
    s = scheduler(blocks=6, budget=64)
    s.add(make(1, 10, max_tokens=20, window=24))  # 3 blocks, growing to 6
    s.add(make(2, 9, max_tokens=20, first=500, window=24))  # 3 blocks
    step(s)
    for _ in range(3):
        step(s)  # request 1 needs a 4th block at 12 tokens: request 2 is pushed out
    assert [r.id for r in s.running] == [1] and [r.id for r in s.waiting] == [2]
    preempted = s.waiting[0]
    assert preempted.status is Status.WAITING and preempted.preemptions == 1
    generated = list(preempted.tokens[9:])
    while s.running:
        step(s)
    while s.has_work:
        step(s)  # request 2 comes back, recomputes (mostly from cache) and finishes
    assert preempted.tokens[9 : 9 + len(generated)] == generated
    assert preempted.num_tokens == 24 and s.kv.num_free == 6


def test_a_request_that_cannot_fit_alone_ends_instead_of_spinning() -> None:
    s = scheduler(blocks=3, budget=64)
    request = make(1, 10, max_tokens=20)  # would need 30 slots; the pool has 12
    s.add(request)
    for _ in range(10):
        if not s.has_work:
            break
        step(s)
    assert request.finished and request.finish_reason == FINISH_LENGTH
    assert request.num_tokens == 13 and s.kv.num_free == 3  # 12 computed + the last sample


def test_a_failed_step_ends_only_its_requests() -> None:
    s = scheduler(budget=8)
    s.add(make(1, 4))
    step(s)
    s.add(make(2, 20, first=400))
    out = s.schedule()
    failed = s.fail(out, "boom")
    assert {r.id for r in failed} == {1, 2}
    assert all(r.error == "boom" for r in failed)
    assert not s.has_work and s.kv.num_free == s.kv.num_blocks


def test_a_prompt_alone_is_prefilled_in_one_step() -> None:
    s = Scheduler(KVCacheManager(64, B), max_running=8, max_batch_tokens=16, max_prefill_tokens=48)
    s.add(make(1, 40))
    assert shape(step(s)) == [(1, 0, 40, True)]  # one forward, like generate()
    assert shape(step(s)) == [(1, 40, 1, True)]
    s = Scheduler(KVCacheManager(64, B), max_running=8, max_batch_tokens=16, max_prefill_tokens=48)
    s.add(make(2, 60))  # longer than one step may hold: the most a step takes, then the rest
    assert shape(step(s)) == [(2, 0, 48, False)]
    assert shape(step(s)) == [(2, 48, 12, True)]


def test_a_prompt_that_is_not_alone_is_chunked() -> None:
    s = Scheduler(KVCacheManager(64, B), max_running=8, max_batch_tokens=16, max_prefill_tokens=48)
    s.add(make(1, 40))
    s.add(make(2, 40))
    assert shape(step(s)) == [(1, 0, 16, False)]  # two waiting: the budget is shared
