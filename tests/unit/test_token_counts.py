"""Counting line by line through a cache gives exactly the whole text's count."""

from __future__ import annotations

import inspect
import json.decoder
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_host.text.token_counts import TokenCounter
from model_host.text.tokenizer import SentencePieceTokenizer, load_tokenizer
from tests.paths import SHARED_TOKENIZERS

REAL = SHARED_TOKENIZERS / "code-llama" / "tokenizer.model"


@pytest.fixture(scope="module")
def real() -> SentencePieceTokenizer:
    if not REAL.exists():
        pytest.skip(f"the real Code Llama tokenizer is not at {REAL}")
    return SentencePieceTokenizer.from_file(REAL)


def test_real_source_counts_exactly_and_recounts_only_what_changed(
    real: SentencePieceTokenizer,
) -> None:
    counter = TokenCounter(real)
    assert counter.line_additive
    for module in (textwrap, json.decoder, inspect):
        text = inspect.getsource(module)
        assert counter.count(text) == len(real.encode(text))
    text = inspect.getsource(inspect)
    cached = len(counter._rest)
    typed = text[:5000] + "x" + text[5000:]
    assert counter.count(typed) == len(real.encode(typed))
    assert len(counter._rest) == cached + 1  # the one edited line


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(
            alphabet=st.sampled_from(list(" \t\n\r{}()x_:;=<>/PREOTSUFMID▁☺é😀中\u2028")),
            max_size=40,
        ),
        max_size=30,
    )
)
def test_any_text_counts_exactly(tiny_tokenizer: SentencePieceTokenizer, parts: list[str]) -> None:
    text = "\n".join(parts) * 8  # long enough to take the line-by-line path
    counter = TokenCounter(tiny_tokenizer)
    assert counter.count(text) == len(tiny_tokenizer.encode(text))


@pytest.fixture(scope="module")
def tiny_tokenizer(tiny_model: Path) -> SentencePieceTokenizer:
    tok = load_tokenizer(tiny_model)
    assert isinstance(tok, SentencePieceTokenizer)
    return tok
