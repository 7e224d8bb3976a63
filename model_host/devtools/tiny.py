"""A tiny random Code Llama-shaped checkpoint, built offline in seconds, for tests and demos."""

from __future__ import annotations

import importlib
import inspect
import io
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from model_host.devtools.shapes import SHAPES, Shape
from model_host.text.tokenizer import CODE_LLAMA_PIECES, STEP_PIECE

TINY_NAME = "tandem-tiny-random-codellama"

# Stdlib modules whose source is the tokenizer's training text: plenty of real
# code, present on every Python, and the same on every run of one install.
_CORPUS_MODULES = (
    "textwrap",
    "string",
    "heapq",
    "bisect",
    "functools",
    "json.decoder",
    "json.encoder",
    "shlex",
    "fractions",
)

_EXTRA_TEXT = """\
function add(a, b) {
  return a + b;
}
const xs = [1, 2, 3].map((x) => x * 2);
export default class Point { constructor(x, y) { this.x = x; this.y = y; } }
#include <stdio.h>
int main(int argc, char **argv) {
    printf("hello, world\\n");
    for (int i = 0; i < argc; i++) { puts(argv[i]); }
    return 0;
}
fn main() { let v: Vec<u32> = (0..10).collect(); println!("{:?}", v); }
// Größe, café, naïve, déjà vu
# 日本語のコメント: 関数を定義する
# 中文注释：计算两个数的和
print("Привет, мир")
s = "☺ smile ☺"
"""


def _corpus() -> str:
    parts = [inspect.getsource(importlib.import_module(m)) for m in _CORPUS_MODULES]
    return "\n".join([*parts, _EXTRA_TEXT])


def train_tiny_tokenizer(
    *, vocab_size: int = 2000, code_llama_pieces: bool = True, step_piece: bool = False
) -> bytes:
    """A serialized SentencePiece BPE model trained like Llama's, in about 0.1 s.

    With `code_llama_pieces` its last 16 ids are Code Llama's infill pieces;
    `step_piece` then makes the last one `<step>`, like CodeLlama-70b-Instruct.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb

    piece_type: Any = pb.ModelProto.SentencePiece.Type  # type: ignore[attr-defined]
    model = io.BytesIO()
    lines = iter(_corpus().splitlines())
    # Trainer settings copied from the real Llama 2 tokenizer.model's trainer_spec.
    spm.SentencePieceTrainer.train(
        sentence_iterator=lines,
        model_writer=model,
        model_type="bpe",
        vocab_size=vocab_size - (len(CODE_LLAMA_PIECES) if code_llama_pieces else 0),
        character_coverage=0.99995,
        split_by_unicode_script=True,
        split_by_whitespace=True,
        split_by_number=True,
        split_digits=True,
        treat_whitespace_as_suffix=False,
        allow_whitespace_only_pieces=True,
        byte_fallback=True,
        max_sentencepiece_length=16,
        max_sentence_length=4192,
        normalization_rule_name="identity",
        add_dummy_prefix=True,
        remove_extra_whitespaces=False,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        unk_surface=" ⁇ ",
        vocabulary_output_piece_score=True,
        hard_vocab_limit=True,
        num_threads=1,
        minloglevel=2,
    )
    if not code_llama_pieces:
        return model.getvalue()
    proto = pb.ModelProto()  # type: ignore[attr-defined]
    proto.ParseFromString(model.getvalue())
    # Appended the way /work/shared/tokenizers reconstructs Code Llama: ordinary
    # pieces with score 0; the 70B variant has a user-defined "<step>" last.
    for piece in CODE_LLAMA_PIECES:
        new = proto.pieces.add()
        new.piece, new.score, new.type = piece, 0.0, piece_type.NORMAL
    if step_piece:
        last = proto.pieces[-1]
        last.piece, last.type = STEP_PIECE, piece_type.USER_DEFINED
    return proto.SerializeToString()


def _write_tokenizer_files(out: Path, model: bytes, *, step_piece: bool) -> None:
    (out / "tokenizer.model").write_bytes(model)
    specials: dict[str, object] = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
    config: dict[str, object] = {
        **specials,
        "tokenizer_class": "LlamaTokenizer",
        "add_bos_token": True,
        "add_eos_token": False,
        "legacy": True,
        "clean_up_tokenization_spaces": False,
        "model_max_length": 2048,
    }
    if step_piece:
        specials["additional_special_tokens"] = [STEP_PIECE]
        config["additional_special_tokens"] = [STEP_PIECE]
    (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out / "special_tokens_map.json").write_text(json.dumps(specials, indent=2) + "\n")


def make_tiny(
    out_dir: Path,
    *,
    seed: int = 0,
    shape: str | Shape = "tiny",
    max_position_embeddings: int = 2048,
    step_piece: bool = False,
    tokenizer_model: Path | None = None,
) -> Path:
    """Write a random `LlamaForCausalLM` plus a real tokenizer into `out_dir`.

    Its output is noise; it exists so that every layer above can run against
    a real checkpoint without downloads. `shape` names one of `model_host.devtools.shapes`
    (or is a Shape). The tokenizer is trained here on stdlib source with as many
    ids as the shape's vocabulary (at most 2000), unless `tokenizer_model` gives a
    SentencePiece file to use, such as Code Llama's real one. `step_piece=True`
    makes the last Code Llama piece `<step>`, like CodeLlama-70b-Instruct's tokenizer.
    """
    import torch
    from transformers import GenerationConfig, LlamaForCausalLM

    size = SHAPES[shape] if isinstance(shape, str) else shape
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if tokenizer_model is not None:
        model_proto = Path(tokenizer_model).read_bytes()
    else:
        model_proto = train_tiny_tokenizer(vocab_size=min(size.vocab, 2000), step_piece=step_piece)
    _write_tokenizer_files(out, model_proto, step_piece=step_piece)

    config = size.config(max_position_embeddings=max_position_embeddings)
    config.tandem_name = TINY_NAME  # a marker for humans reading config.json
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    from transformers.utils import logging as hf_logging

    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a bar for a 1 MB file is only noise in test logs
    try:
        model.save_pretrained(out, safe_serialization=True)
    finally:
        if bar:
            hf_logging.enable_progress_bar()
    GenerationConfig(bos_token_id=1, eos_token_id=2).save_pretrained(out)
    (out / "README.md").write_text(
        f"# {TINY_NAME}\n\nA randomly initialised Code Llama-shaped model (seed {seed}) made by "
        "`python -m model_host.devtools.tiny`. Its output is random noise; it is for tests only.\n"
    )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m model_host.devtools.tiny", description=__doc__)
    parser.add_argument("out_dir", type=Path, help="folder to write the checkpoint into")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--step-piece", action="store_true", help="70B-Instruct style <step>")
    parser.add_argument(
        "--shape", default="tiny", choices=sorted(SHAPES), help="model size (default: tiny)"
    )
    parser.add_argument(
        "--tokenizer",
        type=Path,
        default=None,
        help="a SentencePiece tokenizer.model to use instead of training one",
    )
    parser.add_argument(
        "--context", type=int, default=2048, help="context window (max_position_embeddings)"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    out = make_tiny(
        args.out_dir,
        seed=args.seed,
        shape=args.shape,
        max_position_embeddings=args.context,
        step_piece=args.step_piece,
        tokenizer_model=args.tokenizer,
    )
    took = time.perf_counter() - start
    files = ", ".join(sorted(p.name for p in out.iterdir()))
    print(f"built {TINY_NAME} in {out} ({took:.1f} s): {files}")
    print("its weights are random: whatever it generates is noise")
    return 0


if __name__ == "__main__":
    sys.exit(main())
