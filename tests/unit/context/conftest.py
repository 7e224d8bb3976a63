"""Fixtures for the context engine tests: token counters (real SentencePiece and a fake)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.paths import SHARED_TOKENIZERS

TOKENIZERS = SHARED_TOKENIZERS
CODE_LLAMA_MODEL = TOKENIZERS / "code-llama" / "tokenizer.model"


class FakeCounter:
    """ceil(chars / 4) tokens per text; records every batch so tests can bound the calls."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def __call__(self, texts: Sequence[str]) -> list[int]:
        self.batches.append(list(texts))
        return [math.ceil(len(text) / 4) for text in texts]

    @property
    def calls(self) -> int:
        return len(self.batches)

    @property
    def chars(self) -> int:
        return sum(len(text) for batch in self.batches for text in batch)


class SentencePieceCounter:
    """The real Code Llama tokenizer, as the model host would count."""

    def __init__(self, model_file: Path) -> None:
        import sentencepiece

        self.processor = sentencepiece.SentencePieceProcessor(model_file=str(model_file))
        self.calls = 0

    def count(self, text: str) -> int:
        return len(self.processor.encode(text))

    async def __call__(self, texts: Sequence[str]) -> list[int]:
        self.calls += 1
        return [len(ids) for ids in self.processor.encode(list(texts))]


@pytest.fixture
def fake_counter() -> FakeCounter:
    return FakeCounter()


@pytest.fixture(scope="session")
def sp_counter() -> SentencePieceCounter:
    if not CODE_LLAMA_MODEL.exists():
        pytest.skip(f"real tokenizer not found at {CODE_LLAMA_MODEL} (../shared/tokenizers)")
    return SentencePieceCounter(CODE_LLAMA_MODEL)
