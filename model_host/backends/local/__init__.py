"""The in-process engine: a paged KV cache with prefix reuse and batched decoding on this machine's device.

request (state, no torch) · kv_cache (blocks, prefix trie, no torch) · scheduler (the
batch of each step, no torch) · attention + runner (the forward pass) · sampling ·
core (the loop on the device's thread) · this module (the `Backend` the host uses).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from ..base import Delta, GenerateRequest, Sampling

log = logging.getLogger(__name__)

ABORT_WAIT_S = 5.0  # how long a cancelled request waits for the engine to confirm
WARM_UP_S = 600.0  # the first forward on a big model can take a while (kernels, allocator)


@dataclass(frozen=True)
class EngineConfig:
    max_running: int = 16  # requests decoded side by side in one forward
    max_batch_tokens: int = 256  # tokens per step: a cancel lands within one step
    # A prompt alone in the engine is prefilled in one step up to this many tokens.
    max_prefill_tokens: int = 8192
    block_size: int = 16
    kv_cache_tokens: int = 0  # 0: sized from memory (see kv_pool_tokens)
    prefix_cache: bool = True
    # Decode-only steps: "auto" (compiled on a GPU, persistent buffers on the CPU),
    # "compiled", "buffers" or "eager" (see runner.DECODE_MODES).
    decode: str = "auto"


def kv_pool_tokens(config: EngineConfig, *, window: int, bytes_per_token: int, device: Any) -> int:
    """How many tokens the KV pool holds: the configured number, or what memory allows.

    On a GPU, 85% of the memory left after the weights (as vLLM's default does); on
    the CPU, room for `max_running` windows but at most 2 GiB. Never less than one
    full window plus a block, so any single request fits.
    """
    floor = window + config.block_size
    if config.kv_cache_tokens:
        return max(config.kv_cache_tokens, floor)
    import torch

    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        budget = int(free * 0.85)
    else:
        budget = 2 * 1024**3
    wanted = config.max_running * window
    return max(floor, min(wanted, budget // max(1, bytes_per_token)))


class LocalBackend:
    """Runs the model in this process. `generate` feeds the engine thread and streams its deltas."""

    name = "local"

    def __init__(self, model: Any, *, window: int, config: EngineConfig) -> None:
        from .core import EngineCore
        from .kv_cache import KVCacheManager
        from .runner import ModelRunner, kv_bytes_per_token
        from .scheduler import Scheduler

        device = model.get_input_embeddings().weight.device
        per_token = kv_bytes_per_token(model)
        tokens = kv_pool_tokens(config, window=window, bytes_per_token=per_token, device=device)
        num_blocks = -(-tokens // config.block_size)
        self.config = config
        kv = KVCacheManager(num_blocks, config.block_size, prefix_cache=config.prefix_cache)
        runner = ModelRunner(
            model,
            num_blocks=num_blocks,
            block_size=config.block_size,
            max_running=config.max_running,
            decode=config.decode,
        )
        scheduler = Scheduler(
            kv,
            max_running=config.max_running,
            max_batch_tokens=config.max_batch_tokens,
            max_prefill_tokens=config.max_prefill_tokens,
        )
        self.core = EngineCore(runner, scheduler, max_len=window)
        log.info(
            "KV cache: %d blocks of %d tokens (%.1f MiB), prefix cache %s",
            num_blocks,
            config.block_size,
            num_blocks * config.block_size * per_token / 2**20,
            "on" if config.prefix_cache else "off",
        )
        log.info("decode steps: %s", runner.decode_mode)
        self._warm_up()

    def _warm_up(self) -> None:
        """One tiny request through the paged path (cache writes, attention, sampling) so
        the first user does not pay for lazy initialization; its counts are then cleared.
        Its prompt starts with EOS, which no real prompt does, so nothing reuses its blocks."""
        outcome: list[Delta | BaseException] = []
        done = threading.Event()

        def sink(item: Delta | BaseException) -> None:
            if isinstance(item, BaseException) or item.finish is not None:
                outcome.append(item)
                done.set()

        self.core.submit(GenerateRequest((2, 2), 1, Sampling(0), frozenset()), sink)
        if not done.wait(WARM_UP_S):
            raise RuntimeError(f"the first forward pass took over {WARM_UP_S:.0f} s")
        if isinstance(outcome[0], BaseException):
            raise RuntimeError(f"the first forward pass failed: {outcome[0]}")
        self.core.reset_counters()

    async def generate(self, request: GenerateRequest) -> AsyncGenerator[Delta, None]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Delta | BaseException] = asyncio.Queue()

        def sink(item: Delta | BaseException) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
                loop.call_soon_threadsafe(queue.put_nowait, item)

        rid = self.core.submit(request, sink)
        ended = False
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    ended = True
                    raise item
                if item.finish is not None:
                    ended = True
                yield item
                if ended:
                    return
        finally:
            if not ended:
                # The consumer stopped early or was cancelled: stop the engine's work and
                # wait until it has (at most one step), so a CANCELLED answer is the truth.
                stopped = loop.create_future()

                def settle() -> None:
                    if not stopped.done():
                        stopped.set_result(None)

                def confirmed() -> None:  # on the engine thread
                    with contextlib.suppress(RuntimeError):
                        loop.call_soon_threadsafe(settle)

                self.core.abort(rid, confirmed)
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(stopped), ABORT_WAIT_S)

    def status(self) -> dict[str, Any]:
        return {"engine": self.name, **self.core.status()}

    async def close(self) -> None:
        await asyncio.to_thread(self.core.stop)
