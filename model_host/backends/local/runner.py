"""Executing one scheduled step on the device: cache copies, one packed forward, batched sampling.

The model is transformers' own (its weights, layers and numerics); the runner gives it
a KV pool allocated once (per layer, on that layer's device, so accelerate's device
map across GPUs works) and the `tandem_paged` attention that reads and writes it.
One step = one forward over every scheduled request, one host sync for the tokens.
A step of decoding requests only goes through `decode.DecodeStep` (persistent buffers,
bucketed, compiled where that pays); prefill chunks and mixed steps run eagerly here.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from ..base import Sampling
from . import attention
from .decode import DecodeStep
from .kv_cache import CopyOp
from .sampling import sample
from .scheduler import ScheduledSeq, SchedulerOutput

log = logging.getLogger(__name__)

# How decode-only steps run: "eager" builds every input anew (the first engine's step);
# "buffers" fills persistent buffers and attends in one SDPA call per layer; "compiled"
# adds torch.compile (CUDA graphs on a GPU) and FlexAttention over the block tables.
DECODE_MODES = ("auto", "eager", "buffers", "compiled")


def decode_mode(mode: str, device: torch.device) -> str:
    """What "auto" means on `device`: compiled on a GPU; on the CPU, where compiling the
    step measured no faster, persistent buffers alone."""
    if mode not in DECODE_MODES:
        raise ValueError(f"decode mode must be one of {', '.join(DECODE_MODES)}, not {mode!r}")
    if mode != "auto":
        return mode
    return "compiled" if device.type == "cuda" else "buffers"


def _kv_shape(config: Any) -> tuple[int, int]:
    """(KV heads, head dim) of a Llama-style config."""
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or config.num_attention_heads
    return kv_heads, head_dim


def kv_bytes_per_token(model: Any) -> int:
    """Bytes of K and V per token across all layers, in the model's dtype."""
    kv_heads, head_dim = _kv_shape(model.config)
    itemsize = next(model.parameters()).element_size()
    return 2 * model.config.num_hidden_layers * kv_heads * head_dim * itemsize


class ModelRunner:
    def __init__(
        self,
        model: Any,
        *,
        num_blocks: int,
        block_size: int,
        max_running: int = 16,
        decode: str = "auto",
    ) -> None:
        self.model = model
        self.block_size = block_size
        kv_heads, head_dim = _kv_shape(model.config)
        self.kv: list[tuple[torch.Tensor, torch.Tensor]] = []
        for layer in model.model.layers:
            weight = layer.self_attn.k_proj.weight
            # One block more than the cache manager hands out: padding rows write there.
            shape = ((num_blocks + 1) * block_size, kv_heads, head_dim)
            self.kv.append(
                (
                    torch.zeros(shape, dtype=weight.dtype, device=weight.device),
                    torch.zeros(shape, dtype=weight.dtype, device=weight.device),
                )
            )
        self.device = model.get_input_embeddings().weight.device
        model.set_attn_implementation(attention.ATTN_IMPLEMENTATION)
        self._generators: dict[int, torch.Generator] = {}
        # For tests: keep each sampled request's logits of the last step ([V], float32).
        self.keep_logits = False
        self.last_logits: dict[int, torch.Tensor] = {}
        self.decode_mode = decode_mode(decode, self.device)
        self._num_blocks = num_blocks
        self._max_running = max_running
        self.decode_step: DecodeStep | None = None
        if self.decode_mode != "eager":
            self.decode_step = self._decode_step(self.decode_mode == "compiled")

    def _decode_step(self, compiled: bool) -> DecodeStep:
        return DecodeStep(
            self.model,
            self.kv,
            block_size=self.block_size,
            scratch_block=self._num_blocks,
            max_running=self._max_running,
            use_flex=compiled,
            compile_mode=("reduce-overhead" if self.device.type == "cuda" else "default")
            if compiled
            else None,
        )

    def forget(self, rid: int) -> None:
        """The request is gone: drop its sampling state."""
        self._generators.pop(rid, None)

    @torch.inference_mode()
    def execute(self, out: SchedulerOutput) -> dict[int, int]:
        """Run the step; returns the sampled token of every request whose chunk reached its end."""
        seqs = out.seqs
        if (
            self.decode_step is not None
            and not out.copies
            and len(seqs) <= self._max_running
            and all(len(s.tokens) == 1 and s.sample for s in seqs)
        ):
            return self._decode(seqs)
        self._copy(out.copies)
        ids: list[int] = []
        positions: list[int] = []
        spans: list[attention.SeqSpan] = []
        rows: list[int] = []
        sampled_seqs = []
        for seq in seqs:
            spans.append(attention.SeqSpan(len(ids), len(seq.tokens), seq.start, seq.block_table))
            ids.extend(seq.tokens)
            positions.extend(range(seq.start, seq.end))
            if seq.sample:
                rows.append(len(ids) - 1)
                sampled_seqs.append(seq)
        batch = attention.PagedBatch(kv=self.kv, block_size=self.block_size, spans=spans)
        input_ids = torch.tensor([ids], dtype=torch.long, device=self.device)  # [1, T]
        position_ids = torch.tensor([positions], dtype=torch.long, device=self.device)  # [1, T]
        keep: Any = torch.tensor(rows, dtype=torch.long, device=self.device) if rows else 1
        logits = self.model(
            input_ids=input_ids,
            position_ids=position_ids,
            logits_to_keep=keep,
            use_cache=False,
            tandem_batch=batch,
        ).logits[0]  # [S, V]
        if not sampled_seqs:
            return {}
        return self._sample(sampled_seqs, logits.float(), None)

    def _decode(self, seqs: list[ScheduledSeq]) -> dict[int, int]:
        assert self.decode_step is not None
        try:
            greedy, logits = self.decode_step.run(seqs)
        except Exception:
            if not self.decode_step.compiled:
                raise
            # A compiler that cannot build the step on this machine: run it uncompiled.
            log.exception("the compiled decode step failed; decoding without compiling")
            self.decode_mode = "buffers"
            self.decode_step = self._decode_step(False)
            greedy, logits = self.decode_step.run(seqs)
        return self._sample(seqs, logits[: len(seqs)], greedy[: len(seqs)])

    def _sample(
        self, seqs: list[ScheduledSeq], logits: torch.Tensor, greedy: torch.Tensor | None
    ) -> dict[int, int]:
        """logits: [S, V] float32; greedy: [S] their argmax when already picked."""
        params = [s.request.sampling for s in seqs]
        if greedy is None or not all(p.greedy for p in params):
            generators = [self._generator(s.request.id, s.request.sampling) for s in seqs]
            greedy = sample(logits, params, generators)
        tokens = greedy.tolist()  # the step's one host sync
        if self.keep_logits:
            self.last_logits = {
                s.request.id: row.clone() for s, row in zip(seqs, logits, strict=True)
            }
        return {s.request.id: t for s, t in zip(seqs, tokens, strict=True)}

    def _generator(self, rid: int, sampling: Sampling) -> torch.Generator | None:
        if sampling.seed is None or sampling.greedy:
            return None
        generator = self._generators.get(rid)
        if generator is None:
            generator = torch.Generator(device=self.device).manual_seed(sampling.seed)
            self._generators[rid] = generator
        return generator

    def _copy(self, copies: list[CopyOp]) -> None:
        """Copy matched heads of cached blocks into the blocks that reuse them."""
        if not copies:
            return
        size = self.block_size
        src = [op.src * size + i for op in copies for i in range(op.tokens)]
        dst = [op.dst * size + i for op in copies for i in range(op.tokens)]
        on_device: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}
        for k_pool, v_pool in self.kv:
            found = on_device.get(k_pool.device)
            if found is None:  # once per device, not per layer
                found = on_device[k_pool.device] = (
                    torch.tensor(src, dtype=torch.long, device=k_pool.device),
                    torch.tensor(dst, dtype=torch.long, device=k_pool.device),
                )
            s, d = found
            k_pool.index_copy_(0, d, k_pool[s])
            v_pool.index_copy_(0, d, v_pool[s])
