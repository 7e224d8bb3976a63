"""Inline suggestions: debounce, supersede, typed-ahead cache, context, host call, shaping."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tree_sitter import Tree

from model_host.rpc.messages import CompleteRequest
from model_host.rpc.protocol import RpcError

from .config import CompletionSettings
from .context.budget import CountTokens, PromptContext
from .context.mode import CompletionMode, detect_mode
from .context.sticky import StickyContexts
from .context.syntax import DocumentSyntax
from .cost import SuggestionCost
from .crossfile import CrossFileContext, Header, visible_span
from .documents import Document
from .host import HostLink, HostUnavailable
from .stats import SuggestionStats
from .suggestion_stream import stream_suggestion

log = logging.getLogger(__name__)

# Room for the control tokens around prefix and suffix (BOS, PRE, SUF, MID).
CONTROL_TOKENS = 8
_ids = itertools.count(1)


@dataclass(frozen=True)
class Suggestion:
    id: str
    uri: str
    text: str  # what to insert at the cursor
    before: str  # document text before the cursor when it was made
    after: str  # document text after the cursor when it was made


@dataclass(frozen=True)
class Plan:
    text: str
    offset: int
    mode: CompletionMode
    context: PromptContext
    params: CompleteRequest
    tree: Tree | None = None  # the document's syntax tree when the plan was made
    header: Header | None = None  # the cross-file snippets sent as `context`

    def to_wire(self) -> dict[str, Any]:
        """For `tandem/prompt`: what the model would be asked, so users can see it."""
        ctx = self.context
        return {
            "mode": self.mode.mode,
            "reason": self.mode.reason,
            "indent": self.mode.indent,
            "prefix": ctx.prefix,
            "suffix": ctx.suffix,
            "prefixTokens": ctx.prefix_tokens,
            "suffixTokens": ctx.suffix_tokens,
            "budgetTokens": ctx.budget_tokens,
            "wholeFile": ctx.whole_file,
            "droppedPrefixLines": [list(r) for r in ctx.dropped_prefix_lines],
            "droppedSuffixLines": [list(r) for r in ctx.dropped_suffix_lines],
            "maxTokens": self.params["max_tokens"],
            "context": self.params.get("context", []),
            "language": self.params.get("language", ""),
            "headerTokens": self.header.tokens if self.header else 0,
            "headerBudgetTokens": self.header.budget_tokens if self.header else 0,
            "headerReused": bool(self.header and self.header.reused),
        }


class TypeAheadCache:
    """The last suggestion per document, so typing what it predicted costs no model call."""

    def __init__(self) -> None:
        self._last: dict[str, Suggestion] = {}

    def store(self, suggestion: Suggestion) -> None:
        self._last[suggestion.uri] = suggestion

    def forget(self, uri: str) -> None:
        self._last.pop(uri, None)

    def lookup(self, uri: str, text: str, offset: int, *, fresh: bool = False) -> Suggestion | None:
        """The rest of the last suggestion if the user typed a prefix of it.

        `fresh` (an explicit request for a suggestion) skips the hit where nothing
        was typed: asking again at the same spot means "give me another one".
        """
        last = self._last.get(uri)
        if last is None or len(text) - offset != len(last.after) or not text.endswith(last.after):
            return None
        before = text[:offset]
        if not before.startswith(last.before):
            return None
        typed = before[len(last.before) :]
        if fresh and not typed:
            return None
        if not last.text.startswith(typed) or len(typed) >= len(last.text):
            return None
        rest = last.text[len(typed) :]
        if not rest.strip():
            return None
        return Suggestion(last.id, uri, rest, before, last.after)


class Completer:
    def __init__(
        self,
        link: HostLink,
        stats: SuggestionStats,
        settings: Callable[[], CompletionSettings],
        crossfile: CrossFileContext | None = None,
    ) -> None:
        self.link = link
        self.crossfile = crossfile
        self.stats = stats
        self.settings = settings
        self.cache = TypeAheadCache()
        self.contexts = StickyContexts()
        self._inflight: dict[str, asyncio.Task[object]] = {}

    def forget(self, uri: str) -> None:
        """The document was closed."""
        self.cache.forget(uri)
        self.contexts.forget(uri)
        if self.crossfile is not None:
            self.crossfile.forget(uri)

    def supersede(self, uri: str) -> None:
        """Cancel the request in flight for this document: a newer one replaces it."""
        task = self._inflight.pop(uri, None)
        current = asyncio.current_task()
        if task is not None and task is not current and not task.done():
            task.cancel()
        if current is not None:
            self._inflight[uri] = current

    async def suggest(self, doc: Document, offset: int, *, invoked: bool) -> Suggestion | None:
        """A shaped suggestion for the cursor at `offset`, or None. Never raises for host trouble."""
        cfg = self.settings()
        if not cfg.enable:
            return None
        started = time.perf_counter()
        cached = self.cache.lookup(doc.uri, doc.text, offset, fresh=invoked)
        if cached is not None:
            self.stats.cache_hits += 1
            return cached
        self.supersede(doc.uri)
        try:
            if not invoked and cfg.debounce_ms:
                await asyncio.sleep(cfg.debounce_ms / 1000)
            return await self._ask_model(doc, offset, cfg, started)
        except HostUnavailable as exc:
            log.info("no suggestion: %s", exc)
            return None
        except RpcError as exc:
            log.warning("no suggestion: host error %s", exc)
            return None
        except Exception:
            # Ghost text is best effort: a failure is an empty answer and a log line, never
            # an error popup (or a traceback) in the editor.
            log.exception("no suggestion: unexpected failure")
            return None
        finally:
            with contextlib.suppress(KeyError):
                if self._inflight[doc.uri] is asyncio.current_task():
                    del self._inflight[doc.uri]

    async def plan(
        self,
        doc: Document,
        offset: int,
        cfg: CompletionSettings,
        cost: SuggestionCost | None = None,
    ) -> Plan | None:
        """What we would ask the model for at `offset`: mode, budgeted context, host params.

        None when the model's window leaves no room for any context.
        """
        cost = cost if cost is not None else SuggestionCost()
        count_tokens = cost.counting(self.link.count_tokens)
        with cost.phase("context"):
            text, syntax, tree, mode = self._snapshot(doc, offset)
        # Learn the context window before counting tokens; a host still starting or loading
        # is waited for (bounded, cancelled with this request), anything else fails fast.
        with cost.phase("host"):
            await self.link.loaded_client(self.link.settings.request_timeout)
        with cost.phase("context"):
            return await self._plan(doc, offset, cfg, text, syntax, tree, mode, count_tokens)

    @staticmethod
    def _snapshot(
        doc: Document, offset: int
    ) -> tuple[str, DocumentSyntax | None, Tree | None, CompletionMode]:
        text = doc.text  # a snapshot: edits while we wait must not shift our offsets
        syntax = doc.syntax  # ...and its tree, taken with it (before any await)
        tree = syntax.tree.copy() if syntax is not None and syntax.text == text else None
        return text, syntax, tree, detect_mode(text, offset, syntax=syntax, lang=doc.lang)

    async def _plan(
        self,
        doc: Document,
        offset: int,
        cfg: CompletionSettings,
        text: str,
        syntax: DocumentSyntax | None,
        tree: Tree | None,
        mode: CompletionMode,
        count_tokens: CountTokens,
    ) -> Plan | None:
        max_tokens = cfg.max_tokens_line if mode.mode == "line" else cfg.max_tokens_block
        window = self.link.context_window
        # The token cap is a safety limit the answer rarely nears (the decode stops where the
        # suggestion ends): reserve at most a quarter of the window for it; the host clips
        # the cap to the room the prompt leaves.
        room = window - min(max_tokens, window // 4) - CONTROL_TOKENS
        budget = min(cfg.context_tokens, room) if cfg.context_tokens else room
        if budget <= 0:
            return None
        # Cross-file text has its own share of the budget, taken from the file's.
        header_budget = self.crossfile.budget(budget) if self.crossfile is not None else 0
        ctx = await self.contexts.build(
            doc.uri,
            text,
            offset,
            syntax=syntax,
            lang=doc.lang,
            budget_tokens=budget - header_budget,
            count_tokens=count_tokens,
            prefix_share=cfg.prefix_share,
        )
        params: CompleteRequest = {
            "prefix": ctx.prefix,
            "suffix": ctx.suffix,
            "order": cfg.order,
            "document": doc.uri,
            "max_tokens": max_tokens,
            "temperature": cfg.temperature,
            "top_p": cfg.top_p,
            # A line suggestion is done at the newline: stop decoding there.
            "stop": ["\n"] if mode.mode == "line" else [],
        }
        header = await self._header(doc, text, offset, ctx, header_budget, count_tokens)
        if header is not None:
            params["context"], params["language"] = header.to_wire(), header.language
        return Plan(text, offset, mode, ctx, params, tree, header)

    async def _header(
        self,
        doc: Document,
        text: str,
        offset: int,
        ctx: PromptContext,
        budget: int,
        count_tokens: CountTokens,
    ) -> Header | None:
        if self.crossfile is None or budget <= 0:
            return None
        return await self.crossfile.header(
            doc.uri,
            text,
            offset,
            language_id=doc.language_id or (doc.lang.name if doc.lang else ""),
            visible=visible_span(text, ctx),
            budget_tokens=budget,
            count_tokens=count_tokens,
        )

    async def _ask_model(
        self, doc: Document, offset: int, cfg: CompletionSettings, started: float
    ) -> Suggestion | None:
        cost = SuggestionCost()
        plan = await self.plan(doc, offset, cfg, cost)
        if plan is None:
            return None
        raw, shaper = await stream_suggestion(self.link, self.stats, plan, doc, cfg, cost)
        with cost.phase("shaping"):
            try:
                if not shaper.decided and raw.startswith(shaper.raw):
                    shaper.feed(raw[len(shaper.raw) :])  # a host that did not stream it all
                shaped = shaper.result()
            except Exception:  # a shaping bug must cost one suggestion, never the server
                log.exception("shaping failed; no suggestion")
                shaped = None
        latency = (time.perf_counter() - started) * 1000
        self.stats.record_latency(latency)
        if not shaped:
            cost.finish()
            self.stats.record_cost(cost)
            return None
        suggestion = Suggestion(
            f"s{next(_ids)}",
            doc.uri,
            shaped,
            plan.text[:offset],
            plan.text[offset:],
        )
        self.cache.store(suggestion)
        cost.finish()
        self.stats.record_cost(cost)
        return suggestion
