"""Fixtures of the vLLM tiers: a checkpoint folder with no weights, for a host that generates remotely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_host.devtools.shapes import SHAPES
from model_host.devtools.tiny import _write_tokenizer_files, train_tiny_tokenizer


def write_tokenizer_only(out: Path, *, vocab_size: int = 2000, context: int = 2048) -> Path:
    """config.json and the tiny tokenizer, no weights: all `tandem-host --engine vllm` reads."""
    shape = SHAPES["mini"]
    out.mkdir(parents=True, exist_ok=True)
    _write_tokenizer_files(out, train_tiny_tokenizer(vocab_size=vocab_size), step_piece=False)
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": vocab_size,
        "hidden_size": shape.hidden,
        "num_hidden_layers": shape.layers,
        "num_attention_heads": shape.heads,
        "num_key_value_heads": shape.kv_heads,
        "intermediate_size": shape.intermediate,
        "max_position_embeddings": context,
        "bos_token_id": 1,
        "eos_token_id": 2,
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return out


@pytest.fixture(scope="session")
def tokenizer_only_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tokenizer_only(tmp_path_factory.mktemp("tok-only") / "model")
