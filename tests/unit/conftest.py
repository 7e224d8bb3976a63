"""Fixtures for unit tests: the real Llama 2 / Code Llama tokenizers kept beside the repo."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_host.text.tokenizer import SentencePieceTokenizer
from tests.paths import SHARED_TOKENIZERS

TOKENIZERS = SHARED_TOKENIZERS


def _real(name: str) -> SentencePieceTokenizer:
    path = TOKENIZERS / name / "tokenizer.model"
    if not path.is_file():
        pytest.skip(f"real tokenizers not found at {TOKENIZERS} (they live beside the repo)")
    return SentencePieceTokenizer.from_file(path)


@pytest.fixture(scope="session")
def tokenizers_dir() -> Path:
    if not TOKENIZERS.is_dir():
        pytest.skip(f"real tokenizers not found at {TOKENIZERS} (they live beside the repo)")
    return TOKENIZERS


@pytest.fixture(scope="session")
def code_llama() -> SentencePieceTokenizer:
    return _real("code-llama")


@pytest.fixture(scope="session")
def code_llama_70b() -> SentencePieceTokenizer:
    return _real("code-llama-70b")


@pytest.fixture(scope="session")
def llama2() -> SentencePieceTokenizer:
    return _real("llama-2")
