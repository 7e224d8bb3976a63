"""Which checkpoints infill, which chat format they speak, and where generation stops."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest

from model_host.checkpoint.profile import DEFAULT_CONTEXT_WINDOW, ProfileError, detect_profile
from model_host.devtools.tiny import train_tiny_tokenizer
from model_host.text.prompts import InfillIds
from model_host.text.tokenizer import SentencePieceTokenizer

SEVEN_B = {"hidden_size": 4096, "num_hidden_layers": 32, "max_position_embeddings": 16384}
THIRTEEN_B = {"hidden_size": 5120, "num_hidden_layers": 40, "max_position_embeddings": 16384}
THIRTY_FOUR_B = {"hidden_size": 8192, "num_hidden_layers": 48, "max_position_embeddings": 16384}
SEVENTY_B = {"hidden_size": 8192, "num_hidden_layers": 80, "max_position_embeddings": 16384}


@pytest.fixture(scope="module")
def code_tok() -> SentencePieceTokenizer:
    return SentencePieceTokenizer(train_tiny_tokenizer())


@pytest.fixture(scope="module")
def step_tok() -> SentencePieceTokenizer:
    return SentencePieceTokenizer(train_tiny_tokenizer(step_piece=True))


@pytest.fixture(scope="module")
def plain_tok() -> SentencePieceTokenizer:
    return SentencePieceTokenizer(train_tiny_tokenizer(code_llama_pieces=False))


def detect(tok: SentencePieceTokenizer, config: dict[str, Any], **kw: Any) -> Any:
    defaults: dict[str, Any] = {"name": "codellama/CodeLlama-7b-hf", "has_chat_template": False}
    return detect_profile(
        config={"vocab_size": tok.vocab_size, **config}, tok=tok, **(defaults | kw)
    )


@pytest.mark.parametrize("shape", [SEVEN_B, THIRTEEN_B])
def test_7b_13b_base_and_instruct_infill(code_tok: SentencePieceTokenizer, shape: Any) -> None:
    for name in ("codellama/CodeLlama-7b-hf", "/models/CodeLlama-13b-Instruct-hf"):
        profile = detect(code_tok, shape, name=name)
        eot = code_tok.piece_id("▁<EOT>")
        assert profile.can_infill and profile.infill == InfillIds.from_tokenizer(code_tok)
        assert profile.stop_ids == (2, eot)
        assert profile.chat_format == "llama2"
        assert profile.context_window == 16384


@pytest.mark.parametrize(
    "name", ["codellama/CodeLlama-7b-Python-hf", "/m/codellama-13b-python", "PYTHON-7b"]
)
def test_python_variants_do_not_infill(code_tok: SentencePieceTokenizer, name: str) -> None:
    profile = detect(code_tok, SEVEN_B, name=name)
    assert not profile.can_infill and profile.infill is None
    assert profile.stop_ids == (2,)


def test_python_only_in_a_parent_folder_does_not_count(code_tok: SentencePieceTokenizer) -> None:
    profile = detect(code_tok, SEVEN_B, name="/opt/python3.11/models/CodeLlama-7b-hf")
    assert profile.can_infill


@pytest.mark.parametrize("shape", [THIRTY_FOUR_B, SEVENTY_B])
def test_34b_and_70b_do_not_infill(code_tok: SentencePieceTokenizer, shape: Any) -> None:
    assert not detect(code_tok, shape).can_infill


def test_no_infill_pieces_no_infill(plain_tok: SentencePieceTokenizer) -> None:
    profile = detect(plain_tok, SEVEN_B, name="meta-llama/Llama-2-7b-chat-hf")
    assert not profile.can_infill and profile.infill is None
    assert profile.chat_format == "llama2" and profile.stop_ids == (2,)


def test_step_piece_means_codellama_70b_chat(step_tok: SentencePieceTokenizer) -> None:
    profile = detect(step_tok, SEVENTY_B, name="codellama/CodeLlama-70b-Instruct-hf")
    assert profile.chat_format == "codellama-70b"
    assert not profile.can_infill
    assert profile.stop_ids == (2, step_tok.piece_id("<step>"))


def test_chat_template_used_when_no_step(
    code_tok: SentencePieceTokenizer, step_tok: SentencePieceTokenizer
) -> None:
    assert detect(code_tok, SEVEN_B, has_chat_template=True).chat_format == "template"
    assert detect(step_tok, SEVENTY_B, has_chat_template=True).chat_format == "codellama-70b"


def test_overrides_win(code_tok: SentencePieceTokenizer, step_tok: SentencePieceTokenizer) -> None:
    assert detect(code_tok, THIRTY_FOUR_B, infill_override=True).can_infill
    assert not detect(code_tok, SEVEN_B, infill_override=False).can_infill
    assert detect(step_tok, SEVENTY_B, chat_format_override="llama2").chat_format == "llama2"
    assert detect(step_tok, SEVENTY_B, chat_format_override="llama2").stop_ids == (2,)
    profile = detect(code_tok, SEVEN_B, has_chat_template=True, chat_format_override="template")
    assert profile.chat_format == "template"


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"chat_format_override": "chatml"}, "unknown chat format"),
        ({"chat_format_override": "codellama-70b"}, "<step>"),
        ({"chat_format_override": "template"}, "has none"),
    ],
)
def test_impossible_overrides(code_tok: SentencePieceTokenizer, kw: Any, match: str) -> None:
    with pytest.raises(ProfileError, match=match):
        detect(code_tok, SEVEN_B, **kw)


def test_infill_override_needs_the_pieces(plain_tok: SentencePieceTokenizer) -> None:
    with pytest.raises(ProfileError, match="infilling"):
        detect(plain_tok, SEVEN_B, infill_override=True)


def test_context_window_and_vocab(code_tok: SentencePieceTokenizer) -> None:
    assert detect(code_tok, {"max_position_embeddings": 2048}).context_window == 2048
    assert detect(code_tok, {}).context_window == DEFAULT_CONTEXT_WINDOW
    padded = detect(code_tok, {"vocab_size": code_tok.vocab_size + 48})
    assert padded.vocab_size == code_tok.vocab_size + 48
    with pytest.raises(ProfileError, match="not from the same checkpoint"):
        detect(code_tok, {"vocab_size": 1000})


def test_to_wire_is_plain_data(code_tok: SentencePieceTokenizer) -> None:
    profile = detect(code_tok, SEVEN_B, name="tiny")
    wire = profile.to_wire()
    assert msgpack.unpackb(msgpack.packb(wire)) == wire
    assert wire["infill"] == {"pre": 1991, "suf": 1992, "mid": 1993, "eot": 1994}
    assert wire["stop_ids"] == [2, 1994] and wire["chat_format"] == "llama2"
    assert detect(code_tok, SEVEN_B, infill_override=False).to_wire()["infill"] is None
