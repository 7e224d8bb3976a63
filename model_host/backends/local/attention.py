"""Attention over the paged KV pool, plugged into transformers' Llama as an attention implementation.

The model runs one packed sequence per step: every scheduled request's new tokens
side by side (`input_ids: [1, T]`), each with its own positions. transformers calls
`paged_attention` once per layer with that layer's projected Q/K/V; it writes the new
K/V into the pool at the step's slots and attends each request to its own tokens.
Decoding requests (one query each) attend together in one batched call over their
gathered, padded contexts; prefill chunks attend one by one. The math is transformers'
own SDPA path, so one request alone computes exactly what `generate()` computes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward

ATTN_IMPLEMENTATION = "tandem_paged"


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


@dataclass
class _DeviceIndex:
    slot_mapping: torch.Tensor  # [T] where each new token's K/V goes
    decode_slots: torch.Tensor | None  # [S_dec, max_ctx] contexts of the decoding requests
    decode_mask: torch.Tensor | None  # [S_dec, 1, 1, max_ctx] (None when all lengths are equal)
    prefill_slots: list[torch.Tensor]  # per prefill span: [ctx_len]
    prefill_masks: list[torch.Tensor | None]  # per prefill span: [1, 1, q_len, ctx_len] or None


@dataclass
class PagedBatch:
    """What one step's attention needs; passed through the model as the `tandem_batch` kwarg.

    Spans are ordered decodes first (one query token each), then prefill chunks.
    """

    kv: list[
        tuple[torch.Tensor, torch.Tensor]
    ]  # per layer: K and V pools, [slots, kv_heads, head_dim]
    block_size: int
    num_decode: int
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
        decode = self.spans[: self.num_decode]
        decode_slots = decode_mask = None
        if decode:
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
        prefill_slots, prefill_masks = [], []
        for span in self.spans[self.num_decode :]:
            table = torch.tensor(span.table, dtype=torch.long, device=device)
            slots = (table[:, None] * size + offsets).reshape(-1)[: span.ctx_len]
            prefill_slots.append(slots)
            prefill_masks.append(_causal_mask(span, device))
        return _DeviceIndex(
            slot_mapping=torch.tensor(mapping, dtype=torch.long, device=device),
            decode_slots=decode_slots,
            decode_mask=decode_mask,
            prefill_slots=prefill_slots,
            prefill_masks=prefill_masks,
        )


def _causal_mask(span: SeqSpan, device: torch.device) -> torch.Tensor | None:
    """None when SDPA's own causal flag is exact: a chunk with no past (as `generate()` prefills)."""
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
    batch: PagedBatch = kwargs["tandem_batch"]
    k_pool, v_pool = batch.kv[module.layer_idx]  # type: ignore[index]
    index = batch.index(query.device)
    k_pool.index_copy_(0, index.slot_mapping, key[0].transpose(0, 1).to(k_pool.dtype))
    v_pool.index_copy_(0, index.slot_mapping, value[0].transpose(0, 1).to(v_pool.dtype))
    outputs: list[torch.Tensor] = []  # each [1, q, heads, head_dim]
    if batch.num_decode:
        assert index.decode_slots is not None
        n = batch.num_decode
        q = query[0, :, :n, :].transpose(0, 1).unsqueeze(2)  # [S, heads, 1, head_dim]
        k = k_pool[index.decode_slots].permute(0, 2, 1, 3)  # [S, kv_heads, ctx, head_dim]
        v = v_pool[index.decode_slots].permute(0, 2, 1, 3)
        out, _ = sdpa_attention_forward(module, q, k, v, index.decode_mask, scaling=scaling)
        outputs.append(out.transpose(0, 1))  # [S, 1, heads, d] -> [1, S, heads, d]
    for span, slots, mask in zip(
        batch.spans[batch.num_decode :], index.prefill_slots, index.prefill_masks, strict=True
    ):
        q = query[:, :, span.q_start : span.q_start + span.q_len, :]
        k = k_pool[slots].transpose(0, 1).unsqueeze(0)  # [1, kv_heads, ctx, head_dim]
        v = v_pool[slots].transpose(0, 1).unsqueeze(0)
        out, _ = sdpa_attention_forward(module, q, k, v, mask, scaling=scaling)
        outputs.append(out)
    return (outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=1)), None


AttentionInterface.register(ATTN_IMPLEMENTATION, paged_attention)
