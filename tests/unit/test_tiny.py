"""The tiny random checkpoint: built offline in seconds, loadable by transformers and by us."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from model_host.checkpoint.profile import detect_profile
from model_host.devtools.tiny import TINY_NAME, main, make_tiny
from model_host.text.prompts import InfillIds, chat_prompt, infill_prompt
from model_host.text.tokenizer import SentencePieceTokenizer, load_tokenizer


def test_builds_quickly_and_deterministically(tmp_path: Path, tiny_model: Path) -> None:
    start = time.perf_counter()
    out = make_tiny(tmp_path / "again")
    took = time.perf_counter() - start
    assert took < 30, f"make_tiny took {took:.1f} s"
    for name in ("tokenizer.model", "model.safetensors", "config.json"):
        assert (out / name).read_bytes() == (tiny_model / name).read_bytes(), name


def test_transformers_loads_it(tiny_model: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    hf = AutoTokenizer.from_pretrained(tiny_model)
    config = json.loads((tiny_model / "config.json").read_text())
    assert config["tandem_name"] == TINY_NAME
    assert config["rope_parameters"]["rope_theta"] == 1_000_000.0
    assert (hf.bos_token_id, hf.eos_token_id, len(hf)) == (1, 2, config["vocab_size"])
    tok = load_tokenizer(tiny_model)
    ids = [tok.bos_id, *tok.encode("def add(a, b):")]
    assert hf.encode("def add(a, b):") == ids
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits
    assert logits.shape == (1, len(ids), config["vocab_size"])


def test_our_tokenizer_and_profile(tiny_model: Path) -> None:
    tok = load_tokenizer(tiny_model)
    assert isinstance(tok, SentencePieceTokenizer)
    assert (tok.vocab_size, tok.bos_id, tok.eos_id) == (2000, 1, 2)
    assert tok.piece_id("<step>") is None
    config = json.loads((tiny_model / "config.json").read_text())
    profile = detect_profile(name=str(tiny_model), config=config, tok=tok, has_chat_template=False)
    assert profile.can_infill and profile.chat_format == "llama2"
    assert profile.context_window == 2048 and profile.vocab_size == 2000
    infill = InfillIds.from_tokenizer(tok)
    assert infill is not None and profile.stop_ids == (2, infill.eot)
    prompt = infill_prompt(tok, "def f(x):\n    ", "\n    return y\n", order="psm", ids=infill)
    assert prompt[:2] == [1, infill.pre] and prompt[-1] == infill.mid
    text = "x <EOT> y <PRE> ☺ 你好"
    assert not any(tok.is_special(i) for i in tok.encode(text))
    assert tok.decode(tok.encode(text)) == text


def test_step_variant_speaks_the_70b_format(tmp_path: Path) -> None:
    out = make_tiny(tmp_path / "step", step_piece=True)
    tok = load_tokenizer(out)
    step = tok.piece_id("<step>")
    assert step == 1999
    config = json.loads((out / "config.json").read_text())
    profile = detect_profile(name="tiny-instruct", config=config, tok=tok, has_chat_template=False)
    assert profile.chat_format == "codellama-70b" and step in profile.stop_ids
    prompt = chat_prompt(tok, [{"role": "user", "content": "<step> hi"}], "codellama-70b")
    assert prompt.count(step) == 2


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "cli")]) == 0
    said = capsys.readouterr().out
    assert TINY_NAME in said and "noise" in said
    assert (tmp_path / "cli" / "model.safetensors").is_file()
