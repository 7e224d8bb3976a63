"""The engine loop with a stand-in model runner: streaming deltas, aborts, and surviving failures."""

from __future__ import annotations

import threading
from typing import Any

from model_host.backends.base import BackendError, Delta, GenerateRequest, Sampling
from model_host.backends.local.core import EngineCore
from model_host.backends.local.kv_cache import KVCacheManager
from model_host.backends.local.scheduler import Scheduler, SchedulerOutput


class FakeRunner:
    """Samples token 7 for everyone; can be told to fail the next step."""

    def __init__(self) -> None:
        self.fail_next = False
        self.forgotten: list[int] = []

    def execute(self, out: SchedulerOutput) -> dict[int, int]:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("device lost")
        return {seq.request.id: 7 for seq in out.seqs if seq.sample}

    def forget(self, rid: int) -> None:
        self.forgotten.append(rid)


class Collector:
    def __init__(self) -> None:
        self.items: list[Delta | BaseException] = []
        self.done = threading.Event()

    def __call__(self, item: Delta | BaseException) -> None:
        self.items.append(item)
        if isinstance(item, BaseException) or item.finish is not None:
            self.done.set()

    @property
    def ids(self) -> list[int]:
        return [i for item in self.items if isinstance(item, Delta) for i in item.ids]


def engine(runner: FakeRunner) -> EngineCore:
    scheduler = Scheduler(KVCacheManager(64, 4), max_running=4, max_batch_tokens=32)
    return EngineCore(runner, scheduler, max_len=200)  # type: ignore[arg-type]


def request(tokens: int = 10, max_tokens: int = 5, stop: int = 2) -> GenerateRequest:
    return GenerateRequest(
        tuple(range(100, 100 + tokens)), max_tokens, Sampling(0), frozenset({stop})
    )


def test_deltas_stream_and_the_last_one_finishes() -> None:
    core = engine(FakeRunner())
    sink = Collector()
    core.submit(request(), sink)
    assert sink.done.wait(5)
    core.stop()
    assert sink.ids == [7] * 5
    first, last = sink.items[0], sink.items[-1]
    assert isinstance(first, Delta) and first.cached_tokens == 0
    assert isinstance(last, Delta) and last.finish == "length"
    assert core.steps == 5


def test_an_abort_is_confirmed_once_the_request_is_gone() -> None:
    runner = FakeRunner()
    core = engine(runner)
    sink = Collector()
    rid = core.submit(request(max_tokens=10_000), sink)
    confirmed = threading.Event()
    core.abort(rid, confirmed.set)
    assert confirmed.wait(5)
    steps = core.steps
    assert rid in runner.forgotten and core.counts() == (0, 0)
    core.stop()
    assert core.steps == steps


def test_a_failed_forward_fails_its_requests_and_the_engine_goes_on() -> None:
    runner = FakeRunner()
    core = engine(runner)
    runner.fail_next = True
    failed = Collector()
    core.submit(request(), failed)
    assert failed.done.wait(5)
    assert isinstance(failed.items[-1], BackendError)
    assert "device lost" in str(failed.items[-1])
    fine = Collector()
    core.submit(request(), fine)
    assert fine.done.wait(5)
    core.stop()
    assert fine.ids == [7] * 5


def test_a_scheduling_bug_fails_what_is_in_flight_instead_of_killing_the_loop() -> None:
    core = engine(FakeRunner())
    real = core.scheduler.schedule
    calls = {"n": 0}

    def flaky() -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ValueError("bug")
        return real()

    core.scheduler.schedule = flaky  # type: ignore[method-assign]
    first = Collector()
    core.submit(request(), first)
    assert first.done.wait(5)
    assert isinstance(first.items[-1], BackendError) and "bug" in str(first.items[-1])
    second = Collector()
    core.submit(request(), second)
    assert second.done.wait(5)
    core.stop()
    assert second.ids == [7] * 5


def test_a_request_ended_while_scheduling_still_reaches_its_consumer() -> None:
    # A pool of 3 blocks of 4 (12 slots) cannot hold 10 prompt tokens + 20 new ones: the
    # scheduler ends the request while making room, outside any step's output.
    scheduler = Scheduler(KVCacheManager(3, 4), max_running=4, max_batch_tokens=64)
    core = EngineCore(FakeRunner(), scheduler, max_len=200)  # type: ignore[arg-type]
    sink = Collector()
    core.submit(request(tokens=10, max_tokens=20, stop=2), sink)
    assert sink.done.wait(5), "the consumer was never told the request ended"
    last = sink.items[-1]
    assert isinstance(last, Delta) and last.finish == "length"
    assert core.status()["active"] == 0
    core.stop()
