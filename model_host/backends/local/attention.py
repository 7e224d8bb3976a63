"""Attention over the paged KV pool, plugged into transformers' Llama as an attention implementation.

The model runs one packed sequence per step: every scheduled request's new tokens side
by side (`input_ids: [1, T]`), each with its own positions. transformers calls
`paged_attention` once per layer with that layer's projected Q/K/V; it writes the new
K/V into the pool at the step's slots, then attends each request to its own tokens:
- a request whose blocks are one run of the pool reads it as a view (no copy);
- decoding requests (one query each) scattered over the pool attend together in one
  batched call over their gathered, padded contexts;
- other prefill chunks gather their context and attend one by one.
The math is transformers' own SDPA path, so one request alone computes what
`generate()` computes.

A decode-only step (`DecodeBatch`, built by `decode.py` on persistent buffers) attends
all its requests in one call per layer, through their block tables: FlexAttention
with the tables as the block mask (the kernel reads the pool's blocks where they lie),
or, on the CPU, one SDPA call over the slots the tables name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward

ATTN_IMPLEMENTATION = "tandem_paged"
FLEX_Q_BLOCK = 128  # one query row per request: a single query block


@dataclass
class DecodeBatch:
    """A decode-only step: one query per request, every tensor a view of a persistent buffer."""

    kv: list[tuple[torch.Tensor, torch.Tensor]]
    block_size: int
    slots: torch.Tensor  # [S] where each new token's K/V goes
    tables: torch.Tensor  # [S, pool blocks] int32: each request's block table, padded
    lengths: torch.Tensor  # [S] context length, the new token included
    width: int  # SDPA path: context slots to read (a multiple of the block size)
    flex_mask: Any = None  # FlexAttention's BlockMask over the pool, or None for SDPA


def flex_block_mask(
    tables: torch.Tensor,  # [S, pool blocks] int32
    full: torch.Tensor,  # [S] blocks every slot of which is in the context
    partial: torch.Tensor,  # [S, pool blocks] int32, column 0: the block of the new token
    filled: torch.Tensor,  # [S] slots of that block in the context
    *,
    block_size: int,
) -> Any:
    """A block mask whose KV blocks are the pool's physical blocks: the full ones straight
    from the tables, the last one masked past `filled`. Padding past `full` is never read."""
    from torch.nn.attention.flex_attention import BlockMask

    rows, pool_blocks = tables.shape

    def mask_mod(b: Any, h: Any, q_idx: Any, kv_idx: Any) -> Any:
        return kv_idx % block_size < filled[b]

    return BlockMask.from_kv_blocks(
        torch.ones(rows, 1, 1, dtype=torch.int32, device=tables.device),
        partial[:, None, None, :],
        full.to(torch.int32)[:, None, None],
        tables[:, None, None, :],
        BLOCK_SIZE=(FLEX_Q_BLOCK, block_size),
        mask_mod=mask_mod,
        seq_lengths=(1, pool_blocks * block_size),
        compute_q_blocks=False,
    )


def decode_attention(
    module: torch.nn.Module,
    query: torch.Tensor,  # [1, heads, S, head_dim]
    key: torch.Tensor,  # [1, kv_heads, S, head_dim]
    value: torch.Tensor,
    batch: DecodeBatch,
    scaling: float | None,
) -> torch.Tensor:
    """[1, S, heads, head_dim]: each request's one query against its own context, all in one call."""
    k_pool, v_pool = batch.kv[module.layer_idx]  # type: ignore[index]
    k_pool.index_copy_(0, batch.slots, key[0].transpose(0, 1).to(k_pool.dtype))
    v_pool.index_copy_(0, batch.slots, value[0].transpose(0, 1).to(v_pool.dtype))
    q = query[0].transpose(0, 1).unsqueeze(2)  # [S, heads, 1, d]
    if batch.flex_mask is not None:
        from torch.nn.attention.flex_attention import flex_attention

        k = k_pool.permute(1, 0, 2).unsqueeze(0)  # [1, kv_heads, slots, d]: the pool as is
        v = v_pool.permute(1, 0, 2).unsqueeze(0)
        out = flex_attention(
            q.to(k.dtype),
            k,
            v,
            block_mask=batch.flex_mask,
            scale=scaling,
            enable_gqa=q.shape[1] != k.shape[1],
        )
        assert isinstance(out, torch.Tensor)
        return out.to(query.dtype).transpose(1, 2).transpose(0, 1)  # [1, S, heads, d]
    size = batch.block_size
    blocks = batch.width // size
    offsets = torch.arange(size, device=q.device)
    slots = (batch.tables[:, :blocks, None].long() * size + offsets).reshape(len(q), -1)
    k = k_pool[slots].permute(0, 2, 1, 3)  # [S, kv_heads, width, d]
    v = v_pool[slots].permute(0, 2, 1, 3)
    keep = torch.arange(batch.width, device=q.device)[None, :] < batch.lengths[:, None]
    out = sdpa_attention_forward(module, q, k, v, keep[:, None, None, :], scaling=scaling)[0]
    return out.transpose(0, 1)  # [S, 1, heads, d] -> [1, S, heads, d]


@dataclass
class SeqSpan:
    """One request's part of the packed step."""

    q_start: int  # its first token in the packed sequence
    q_len: int
    start: int  # absolute position of its first new token
    table: list[int]  # its block table: position p lives in slot table[p // B] * B + p % B

    @property
    def ctx_len(self) -> int:
        return self.start + self.q_len

    def first_slot(self, block_size: int) -> int | None:
        """The slot of position 0 when positions 0..ctx_len-1 are one run of slots."""
        used = self.table[: -(-self.ctx_len // block_size)]
        if all(b == used[0] + i for i, b in enumerate(used)):
            return used[0] * block_size
        return None


@dataclass
class _Run:
    """Spans read as views of the pool: (span, first slot, causal mask or None)."""

    span: SeqSpan
    first_slot: int
    mask: torch.Tensor | None


@dataclass
class _Gathered:
    span: SeqSpan
    slots: torch.Tensor  # [ctx_len]
    mask: torch.Tensor | None


@dataclass
class _DeviceIndex:
    slot_mapping: torch.Tensor  # [T] where each new token's K/V goes
    runs: list[_Run]
    decode: list[SeqSpan]  # scattered decoding requests, attended in one call
    decode_rows: torch.Tensor | None  # [S] their rows in the packed step
    decode_slots: torch.Tensor | None  # [S, max_ctx]
    decode_mask: torch.Tensor | None  # [S, 1, 1, max_ctx] (None when all lengths are equal)
    gathered: list[_Gathered]


@dataclass
class PagedBatch:
    """What one step's attention needs; passed through the model as the `tandem_batch` kwarg."""

    kv: list[tuple[torch.Tensor, torch.Tensor]]  # per layer: K, V pools [slots, kv_heads, head_dim]
    block_size: int
    spans: list[SeqSpan]
    _index: dict[torch.device, _DeviceIndex] = field(default_factory=dict)

    def index(self, device: torch.device) -> _DeviceIndex:
        """Index tensors on `device`, built once per step and device (layers may sit on several GPUs)."""
        found = self._index.get(device)
        if found is None:
            found = self._index[device] = self._build(device)
        return found

    def _build(self, device: torch.device) -> _DeviceIndex:
        size = self.block_size
        mapping = [
            span.table[p // size] * size + p % size
            for span in self.spans
            for p in range(span.start, span.ctx_len)
        ]
        offsets = torch.arange(size, device=device)
        runs: list[_Run] = []
        decode: list[SeqSpan] = []
        gathered: list[_Gathered] = []
        for span in self.spans:
            first = span.first_slot(size)
            if first is not None:
                runs.append(_Run(span, first, _causal_mask(span, device)))
            elif span.q_len == 1:
                decode.append(span)
            else:
                table = torch.tensor(span.table, dtype=torch.long, device=device)
                slots = (table[:, None] * size + offsets).reshape(-1)[: span.ctx_len]
                gathered.append(_Gathered(span, slots, _causal_mask(span, device)))
        decode_rows = decode_slots = decode_mask = None
        if decode:
            decode_rows = torch.tensor([span.q_start for span in decode], device=device)
            width = max(span.ctx_len for span in decode)
            blocks = -(-width // size)
            tables = [
                (span.table + [0] * blocks)[:blocks] for span in decode
            ]  # pad: block 0, masked
            table = torch.tensor(tables, dtype=torch.long, device=device)  # [S, blocks]
            decode_slots = (table[:, :, None] * size + offsets).reshape(len(decode), -1)[:, :width]
            if any(span.ctx_len != width for span in decode):
                lengths = torch.tensor([span.ctx_len for span in decode], device=device)
                keep = torch.arange(width, device=device)[None, :] < lengths[:, None]
                decode_mask = keep[:, None, None, :]
        return _DeviceIndex(
            slot_mapping=torch.tensor(mapping, dtype=torch.long, device=device),
            runs=runs,
            decode=decode,
            decode_rows=decode_rows,
            decode_slots=decode_slots,
            decode_mask=decode_mask,
            gathered=gathered,
        )


def _causal_mask(span: SeqSpan, device: torch.device) -> torch.Tensor | None:
    """None when SDPA's own causal flag is exact: a chunk with no past (as `generate()` prefills)
    or a single query."""
    if span.start == 0 or span.q_len == 1:
        return None
    query_pos = torch.arange(span.start, span.ctx_len, device=device)[:, None]
    key_pos = torch.arange(span.ctx_len, device=device)[None, :]
    return (key_pos <= query_pos)[None, None, :, :]


def paged_attention(
    module: torch.nn.Module,
    query: torch.Tensor,  # [1, heads, T, head_dim]
    key: torch.Tensor,  # [1, kv_heads, T, head_dim]
    value: torch.Tensor,  # [1, kv_heads, T, head_dim]
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    batch: PagedBatch | DecodeBatch = kwargs["tandem_batch"]
    if isinstance(batch, DecodeBatch):
        return decode_attention(module, query, key, value, batch, scaling), None
    k_pool, v_pool = batch.kv[module.layer_idx]  # type: ignore[index]
    index = batch.index(query.device)
    k_pool.index_copy_(0, index.slot_mapping, key[0].transpose(0, 1).to(k_pool.dtype))
    v_pool.index_copy_(0, index.slot_mapping, value[0].transpose(0, 1).to(v_pool.dtype))
    heads, head_dim = query.shape[1], value.shape[-1]
    # [1, T, heads, head_dim]; with one request its own result is the whole output.
    out = None if len(batch.spans) == 1 else query.new_empty(1, query.shape[2], heads, head_dim)

    def put(span: SeqSpan, result: torch.Tensor) -> torch.Tensor:
        if out is not None:
            out[:, span.q_start : span.q_start + span.q_len] = result
        return result

    last = None
    for run in index.runs:
        span = run.span
        q = query[:, :, span.q_start : span.q_start + span.q_len, :]
        end = run.first_slot + span.ctx_len
        k = k_pool[run.first_slot : end].transpose(0, 1).unsqueeze(0)  # [1, kv_heads, ctx, d]
        v = v_pool[run.first_slot : end].transpose(0, 1).unsqueeze(0)
        last = put(span, sdpa_attention_forward(module, q, k, v, run.mask, scaling=scaling)[0])
    if index.decode:
        assert index.decode_slots is not None and index.decode_rows is not None
        rows = index.decode_rows
        q = query[0].index_select(1, rows).transpose(0, 1).unsqueeze(2)  # [S, heads, 1, d]
        k = k_pool[index.decode_slots].permute(0, 2, 1, 3)  # [S, kv_heads, ctx, d]
        v = v_pool[index.decode_slots].permute(0, 2, 1, 3)
        result = sdpa_attention_forward(module, q, k, v, index.decode_mask, scaling=scaling)[0]
        result = result.transpose(0, 1)  # [S, 1, heads, d] -> [1, S, heads, d]
        if out is not None:
            out[:, rows] = result
        last = result
    for item in index.gathered:
        span = item.span
        q = query[:, :, span.q_start : span.q_start + span.q_len, :]
        k = k_pool[item.slots].transpose(0, 1).unsqueeze(0)
        v = v_pool[item.slots].transpose(0, 1).unsqueeze(0)
        last = put(span, sdpa_attention_forward(module, q, k, v, item.mask, scaling=scaling)[0])
    assert last is not None
    return (last if out is None else out), None


AttentionInterface.register(ATTN_IMPLEMENTATION, paged_attention)
