"""Llama shapes by name: the tiny test models and Code Llama's real sizes, for random-weight checkpoints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CODE_LLAMA_VOCAB = 32016


@dataclass(frozen=True)
class Shape:
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    vocab: int  # the model's vocabulary; a tokenizer may have fewer ids

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    def config(self, *, max_position_embeddings: int = 16384) -> Any:
        """A `LlamaConfig` of this shape, with Code Llama's long-context RoPE base."""
        from transformers import LlamaConfig

        return LlamaConfig(
            vocab_size=self.vocab,
            hidden_size=self.hidden,
            intermediate_size=self.intermediate,
            num_hidden_layers=self.layers,
            num_attention_heads=self.heads,
            num_key_value_heads=self.kv_heads,
            max_position_embeddings=max_position_embeddings,
            rms_norm_eps=1e-5,
            rope_parameters={"rope_type": "default", "rope_theta": 1_000_000.0},
            bos_token_id=1,
            eos_token_id=2,
            tie_word_embeddings=False,
        )


SHAPES: dict[str, Shape] = {
    "tiny": Shape(64, 2, 4, 4, 128, 2000),  # the test model: ~0.6M parameters
    "mini": Shape(128, 2, 4, 4, 256, 2000),  # head_dim 32, what vLLM's CPU attention needs
    "small": Shape(512, 8, 8, 8, 1376, CODE_LLAMA_VOCAB),  # ~58M: CPU benchmarks
    "7b": Shape(4096, 32, 32, 32, 11008, CODE_LLAMA_VOCAB),
    "13b": Shape(5120, 40, 40, 40, 13824, CODE_LLAMA_VOCAB),
    "34b": Shape(8192, 48, 64, 8, 22016, CODE_LLAMA_VOCAB),
}
