"""One suggestion's host call: ask with streaming, shape the text as it arrives, and stop the
decode the moment the suggestion is decided; the time spent shaping while the host streams
is booked to shaping, the rest of the wait to the host."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from model_host.rpc.messages import CompleteRequest
from model_host.rpc.protocol import ErrorCode, RpcError

from .config import CompletionSettings
from .context.shaping import Shaper
from .cost import SuggestionCost
from .documents import Document
from .host import HostLink
from .stats import SuggestionStats

if TYPE_CHECKING:
    from .completion import Plan

log = logging.getLogger(__name__)


class StreamFeed:
    """The `stop_when` of a streamed host call: feeds each piece to the shaper and answers
    True once the suggestion is decided. A shaping failure stops the feeding, never the
    connection's reader."""

    def __init__(self, shaper: Shaper) -> None:
        self.shaper = shaper
        self.decided_at: list[int | None] = []  # the host's token count when decided
        self.broken = False
        self.spent = [0.0, 0.0]  # fed while the host streams (wall, CPU): shaping

    def __call__(self, piece: dict[str, Any]) -> bool:
        if self.broken:
            return False
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            done = self.shaper.feed(str(piece.get("text", "")))
        except Exception:  # never let shaping break the connection's reader
            log.exception("shaping a streamed suggestion failed")
            self.broken = True
            return False
        finally:
            self.spent[0] += time.perf_counter() - t0
            self.spent[1] += time.thread_time() - c0
        if done:
            tokens = piece.get("tokens")
            self.decided_at.append(tokens if isinstance(tokens, int) else None)
        return done


async def stream_suggestion(
    link: HostLink,
    stats: SuggestionStats,
    plan: Plan,
    doc: Document,
    cfg: CompletionSettings,
    cost: SuggestionCost,
) -> tuple[str, Shaper]:
    """Ask the host with streaming, shaping as the text arrives, and stop the decode the
    moment the suggestion is decided. Returns the host's text (what it generated before
    it stopped) and the shaper."""
    with cost.phase("shaping"):
        shaper = Shaper(
            mode=plan.mode,
            prefix=plan.text[: plan.offset],
            suffix=plan.text[plan.offset :],
            lang=doc.lang,
            max_lines=cfg.max_lines,
            doc_tree=plan.tree,
            parse=doc.syntax is not None,
        )
    feed = StreamFeed(shaper)
    params: CompleteRequest = {**plan.params, "stream": True}
    generated: object  # the host's answer's, or its CANCELLED error data's
    timings: object
    asked, asked_cpu = time.perf_counter(), time.thread_time()
    try:
        result = await link.complete(params, stop_when=feed)
        raw, generated = str(result.get("text", "")), result.get("generated_tokens")
        timings = result.get("timings")
    except RpcError as exc:
        if exc.code != ErrorCode.CANCELLED or not feed.decided_at:
            raise
        data = exc.data if isinstance(exc.data, dict) else {}
        raw, generated = str(data.get("text", shaper.raw)), data.get("generated_tokens")
        timings = data.get("timings")
    finally:
        waited, cpu = time.perf_counter() - asked, time.thread_time() - asked_cpu
        cost.spent["host"] += waited
        cost.spent_cpu["host"] += cpu
        cost.move(*feed.spent, source="host", to="shaping")
    stats.record_tokens(generated, feed.decided_at[0] if feed.decided_at else None)
    if isinstance(timings, dict):
        stats.record_host(timings)
    return raw, shaper
