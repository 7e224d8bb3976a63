"""The decode step: every decoding request's one token on persistent buffers, padded to a bucket,
compiled where that pays (a CUDA graph on a GPU).

A step's inputs are written in place into buffers allocated once (`[max_running]` ids,
positions, cache slots, context lengths; `[max_running, pool blocks]` block tables), so
the compiled step always sees the same tensors and a CUDA graph can replay it. The
batch is padded to the next bucket (1, 2, 4, 8, ...): padding rows write into a scratch
block nobody owns and attend to it alone. Greedy tokens are picked inside the step; the
caller syncs once, when it reads them.

Attention reads the pool through the block tables (`attention.DecodeBatch`): FlexAttention
with the tables as its block mask on a GPU (no copy of any context), one batched SDPA
over the tables' slots on the CPU (see docs/architecture.md for why).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from . import attention
from .scheduler import ScheduledSeq


def buckets(max_running: int) -> list[int]:
    """Batch sizes a decode step is padded to: powers of two, then `max_running` itself."""
    out = [1]
    while out[-1] * 2 < max_running:
        out.append(out[-1] * 2)
    if out[-1] < max_running:
        out.append(max_running)
    return out


class DecodeStep:
    def __init__(
        self,
        model: Any,
        kv: list[tuple[torch.Tensor, torch.Tensor]],
        *,
        block_size: int,
        scratch_block: int,
        max_running: int,
        use_flex: bool,
        compile_mode: str | None,
    ) -> None:
        self.model = model
        self.kv = kv
        self.block_size = block_size
        self.scratch_block = scratch_block
        self.max_running = max_running
        self.buckets = buckets(max_running)
        device = model.get_input_embeddings().weight.device
        self.device = device
        pool_blocks = scratch_block + 1
        rows = max_running
        # One int64 tensor for what changes every step, so it crosses to the device in one
        # copy, each row [rows]: ids, positions, slots, context lengths, then for the flex
        # mask: full blocks, the last (partly filled) block, and how much of it is filled.
        self._meta = torch.zeros(7, rows, dtype=torch.long, device=device)
        self._host_meta = torch.zeros(7, rows, dtype=torch.long, pin_memory=_pinned(device))
        # Block tables, as wide as the pool (the flex block mask's layout); rows change
        # only when a request gains a block or the batch changes.
        self.tables = torch.zeros(rows, pool_blocks, dtype=torch.int32, device=device)
        self._host_tables = torch.zeros(
            rows, pool_blocks, dtype=torch.int32, pin_memory=_pinned(device)
        )
        self._row_tables: list[list[int] | None] = [None] * rows
        self.use_flex = use_flex
        # The flex mask's partial block per row (column 0; as wide as the pool, like the tables).
        self._partial = torch.zeros(rows, pool_blocks, dtype=torch.int32, device=device)
        for buffer in (self._meta, self.tables, self._partial, *(t for pair in kv for t in pair)):
            if compile_mode is not None:
                torch._dynamo.mark_static_address(buffer)
        step: Callable[[int, int], tuple[torch.Tensor, torch.Tensor]] = self._step
        if compile_mode is not None:
            import torch._dynamo.config as dynamo_config

            # One graph per bucket (the bucket is a constant of each).
            dynamo_config.recompile_limit = max(
                dynamo_config.recompile_limit, 4 * len(self.buckets)
            )
            step = torch.compile(self._step, mode=compile_mode, dynamic=False)
        self._compiled = step
        self.compiled = compile_mode is not None

    def bucket(self, n: int) -> int:
        return next(b for b in self.buckets if b >= n)

    def run(self, seqs: Sequence[ScheduledSeq]) -> tuple[torch.Tensor, torch.Tensor]:
        """Greedy tokens [bucket] and logits [bucket, V] of the decoding requests, in order
        (rows past len(seqs) are padding). Nothing here waits for the device."""
        n = len(seqs)
        size = self.block_size
        bucket = self.bucket(n)
        meta = self._host_meta
        values: list[list[int]] = [[], [], [], [], [], [], []]
        dirty = False
        for row, seq in enumerate(seqs):
            pos = seq.start
            table = seq.block_table
            values[0].append(seq.tokens[0])
            values[1].append(pos)
            values[2].append(table[pos // size] * size + pos % size)
            values[3].append(pos + 1)
            full = pos // size  # blocks before the one the new token goes in
            values[4].append(full)
            values[5].append(table[full])
            values[6].append(pos + 1 - full * size)
            if self._row_tables[row] != table:
                self._row_tables[row] = table
                self._host_tables[row, : len(table)] = torch.tensor(table, dtype=torch.int32)
                dirty = True
        scratch = self.scratch_block * size
        for row in range(n, bucket):  # padding: token 0 at position 0 in the scratch block
            values[0].append(0)
            values[1].append(0)
            values[2].append(scratch)
            values[3].append(1)
            values[4].append(0)
            values[5].append(self.scratch_block)
            values[6].append(1)
            if self._row_tables[row] is not None:
                self._row_tables[row] = None
                self._host_tables[row, 0] = self.scratch_block
                dirty = True
        meta[:, :bucket] = torch.tensor(values, dtype=torch.long)
        self._meta[:, :bucket].copy_(meta[:, :bucket], non_blocking=True)
        if dirty:
            self.tables.copy_(self._host_tables, non_blocking=True)
        width = 0
        if not self.use_flex:  # the SDPA path reads only the blocks in use
            width = max(values[3]) + size - 1
            width -= width % size
        return self._compiled(bucket, width)

    def _step(self, bucket: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        ids, positions, slots, lengths, full, last, filled = self._meta[:, :bucket]
        tables = self.tables[:bucket]
        mask = None
        if self.use_flex:
            self._partial[:bucket, 0] = last.to(torch.int32)
            mask = attention.flex_block_mask(
                tables, full, self._partial[:bucket], filled, block_size=self.block_size
            )
        batch = attention.DecodeBatch(
            kv=self.kv,
            block_size=self.block_size,
            slots=slots,
            tables=tables,
            lengths=lengths,
            width=width,
            flex_mask=mask,
        )
        logits = self.model(
            input_ids=ids[None, :],  # [1, bucket]: one token per request, packed
            position_ids=positions[None, :],
            use_cache=False,
            tandem_batch=batch,
        ).logits[0]  # [bucket, V]
        return torch.argmax(logits, dim=-1), logits.float()


def _pinned(device: torch.device) -> bool:
    return device.type == "cuda"
