"""The vLLM servers behind one host: which is healthy, which serves a given document, checks over time.

Routing is rendezvous hashing on the request's affinity key (the document's URI):
every key has a stable order of preference over the replicas, so one document's
keystrokes keep landing on the replica whose prefix cache holds its prompt, and a
replica that goes away moves only its own documents.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from .checks import Incompatible, ServerFacts, Vocabulary, parse_metrics, verify

log = logging.getLogger(__name__)

CHECKING, READY, DOWN, INCOMPATIBLE = "checking", "ready", "down", "incompatible"


@dataclass
class Replica:
    url: str  # base URL, without a trailing "/" or "/v1"
    state: str = CHECKING
    reason: str = ""  # why it is down or incompatible
    facts: ServerFacts | None = None  # set once verified; a replica is used only after that
    latency_ms: float | None = None  # round trip of the last health check
    checked_at: float | None = None
    in_flight: int = 0
    served: int = 0
    failed: int = 0
    cancelled: int = 0
    remote: dict[str, float] = field(default_factory=dict)  # from its /metrics
    # Whether its streams say how many prompt tokens its prefix cache held (None: no
    # stream has finished since it was verified).
    prompt_tokens_details: bool | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "state": self.state,
            "reason": self.reason,
            "model": self.facts.model if self.facts else None,
            "max_model_len": self.facts.max_model_len if self.facts else None,
            "latency_ms": self.latency_ms,
            "checked_s_ago": None
            if self.checked_at is None
            else round(time.monotonic() - self.checked_at, 1),
            "in_flight": self.in_flight,
            "served": self.served,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "remote": dict(self.remote),
            "prompt_tokens_details": self.prompt_tokens_details,
        }

    def note_usage(self, cached_tokens: int | None) -> None:
        """What a finished stream's usage said; warns when the details start missing."""
        has = cached_tokens is not None
        if not has and self.prompt_tokens_details is not False:
            log.warning("%s", self.details_warning())
        self.prompt_tokens_details = has

    def details_warning(self) -> str:
        return (
            f"vLLM at {self.url} sends no prompt-token details, so cached_tokens reads 0 "
            "in timings and status although its prefix cache may hit; start it with "
            "--enable-prompt-tokens-details"
        )


def normalize_url(url: str) -> str:
    """`http://h:8000/v1/` and `http://h:8000` name the same server."""
    url = url.strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")]
    if "://" not in url:
        url = "http://" + url
    return url


def preference(key: bytes, urls: list[str]) -> list[str]:
    """Rendezvous (highest random weight) order of `urls` for `key`: stable across runs and hosts."""

    def weight(url: str) -> bytes:
        return hashlib.blake2b(key + b"\0" + url.encode(), digest_size=8).digest()

    return sorted(urls, key=weight, reverse=True)


@dataclass
class ReplicaSet:
    replicas: list[Replica]
    client: httpx.AsyncClient  # for checks only, never behind generations in a pool
    vocabulary: Vocabulary  # what a server's /detokenize must agree with
    model: str | None = None
    window: int | None = None  # the host's context window, once fixed at start

    # ---- routing -------------------------------------------------------------
    def route(self, key: bytes) -> list[Replica]:
        """Verified replicas in the order to try them for `key`: ready ones first."""
        by_url = {
            r.url: r for r in self.replicas if r.facts is not None and r.state != INCOMPATIBLE
        }
        order = [by_url[u] for u in preference(key, list(by_url))]
        return [r for r in order if r.state == READY] + [r for r in order if r.state != READY]

    def mark_down(self, replica: Replica, reason: str) -> None:
        if replica.state == INCOMPATIBLE:
            return
        changed = replica.state != DOWN
        replica.state, replica.reason = DOWN, reason
        if changed:
            log.warning("vLLM replica %s is down: %s", replica.url, reason)

    def mark_ready(self, replica: Replica) -> None:
        if replica.state != READY:
            replica.state, replica.reason = READY, ""
            log.info("vLLM replica %s is ready", replica.url)

    # ---- checks --------------------------------------------------------------
    async def check(self, replica: Replica) -> None:
        """One health check: alive, verified (once), and its metrics. Never raises."""
        if replica.state == INCOMPATIBLE:
            return
        start = time.perf_counter()
        try:
            response = await self.client.get(f"{replica.url}/health")
            replica.latency_ms = round((time.perf_counter() - start) * 1000, 2)
            replica.checked_at = time.monotonic()
            if response.status_code != 200:
                self.mark_down(replica, f"/health answered HTTP {response.status_code}")
                return
            # Verified before its first use, and again when it comes back: a restarted
            # server may serve another model or vocabulary behind the same URL.
            if replica.facts is None or replica.state == DOWN:
                facts = await verify(
                    self.client, replica.url, vocabulary=self.vocabulary, model=self.model
                )
                if self.window is not None and facts.max_model_len < self.window:
                    raise Incompatible(
                        f"has max_model_len {facts.max_model_len}, less than the "
                        f"{self.window} the host serves; start it with --max-model-len "
                        f"{self.window} or more"
                    )
                replica.facts = facts
                replica.prompt_tokens_details = None  # a restarted server may say otherwise
            self.mark_ready(replica)
        except Incompatible as exc:
            replica.state, replica.reason = INCOMPATIBLE, str(exc)
            if self.window is not None:  # at start, the host stops with this message instead
                log.error("vLLM replica %s is not usable: %s", replica.url, exc)
            return
        except httpx.HTTPError as exc:
            self.mark_down(replica, describe(exc))
            return
        except Exception as exc:  # an answer nobody foresaw: keep the watcher alive
            log.exception("health check of %s failed", replica.url)
            self.mark_down(replica, f"health check failed: {exc}")
            return
        try:
            metrics = await self.client.get(f"{replica.url}/metrics")
            if metrics.status_code == 200:
                replica.remote = parse_metrics(metrics.text)
        except httpx.HTTPError:
            pass  # metrics are for the status only

    async def check_all(self) -> None:
        await asyncio.gather(*(self.check(r) for r in self.replicas))

    async def watch(self, interval_s: float) -> None:
        """Check every replica every `interval_s`, forever (until cancelled)."""
        while True:
            await asyncio.sleep(interval_s)
            await self.check_all()

    async def wait_first(self, deadline_s: float, report: Callable[[str], Awaitable[None]]) -> None:
        """At start: check every replica once, then again until one is ready.

        Raises Incompatible when a replica that answers serves the wrong thing (a
        setup mistake that should stop the host), TimeoutError when none becomes
        ready in time. Replicas still down when one is ready join later, after the
        same verification.
        """
        end = time.monotonic() + deadline_s
        while True:
            await self.check_all()
            for r in self.replicas:
                if r.state == INCOMPATIBLE:
                    raise Incompatible(f"vLLM at {r.url} {r.reason}")
            if any(r.state == READY for r in self.replicas):
                return
            if time.monotonic() >= end:
                states = "; ".join(f"{r.url}: {r.reason or r.state}" for r in self.replicas)
                raise TimeoutError(f"no vLLM replica became ready in {deadline_s:g} s ({states})")
            waiting = ", ".join(r.url for r in self.replicas)
            await report(f"waiting for vLLM at {waiting}")
            await asyncio.sleep(min(1.0, max(0.0, end - time.monotonic())))


def describe(exc: BaseException) -> str:
    """A short reason for an HTTP failure, for logs, status and error messages."""
    kinds: dict[type[BaseException], str] = {
        httpx.ConnectError: "cannot connect",
        httpx.ConnectTimeout: "connect timed out",
        httpx.ReadTimeout: "no answer in time",
        httpx.WriteTimeout: "sending timed out",
        httpx.PoolTimeout: "no free connection in time",
        httpx.RemoteProtocolError: "connection broken",
        httpx.ReadError: "connection broken",
    }
    kind = kinds.get(type(exc), type(exc).__name__)
    detail = str(exc).strip()
    return f"{kind} ({detail})" if detail else kind
