"""Loading a checkpoint: its tokenizer and profile always, its weights for the in-process engine."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..text.tokenizer import Tokenizer, TokenizerLoadError, load_tokenizer
from .find import (
    LoadError,
    checkpoint_dir,
    first_line,
    has_chat_template,
    offline,
    require_llama,
    snapshot_dir,
)
from .profile import ModelProfile, ProfileError, detect_profile

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]

__all__ = ["Checkpoint", "LoadError", "LoadSpec", "Weights", "load", "load_profile"]


@dataclass(frozen=True)
class LoadSpec:
    model: str
    dtype: str = "auto"  # auto | bf16 | fp16 | fp32
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    chat_format: str | None = None
    infill: bool | None = None
    threads: int = 0  # CPU intra-op threads; 0 = automatic
    download: bool = False  # a hub id may be fetched from the Hugging Face Hub (else: cache only)
    # A shape name (model_host.devtools.shapes): random weights of that shape instead of the
    # checkpoint's (its tokenizer is still used). For benchmarks of real sizes.
    random_weights: str | None = None


@dataclass(frozen=True)
class Checkpoint:
    """What the host's methods need of a checkpoint: its tokenizer and what it can do."""

    tokenizer: Tokenizer
    profile: ModelProfile
    # transformers' tokenizer, when one was loaded: it renders the `template` chat format.
    hf_tokenizer: Any = None


@dataclass(frozen=True)
class Weights:
    """The model itself, for the in-process engine."""

    model: Any  # a transformers LlamaForCausalLM, in eval mode
    device: Any  # torch.device of the input embeddings


@dataclass(frozen=True)
class _Source:
    """Where `load` reads from, and how to say so in an error."""

    spec: LoadSpec
    local_only: bool
    where: str


def resolve_dtype(name: str, cuda: bool) -> Any:
    import torch

    table = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
    if name in table:
        return table[name]
    if name != "auto":
        raise LoadError(f"unknown dtype {name!r}: use auto, bf16, fp16 or fp32")
    if not cuda:
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def load(spec: LoadSpec, progress: Progress) -> tuple[Checkpoint, Weights]:
    """Load config, tokenizer and weights. Raises LoadError with one readable message."""
    try:
        import torch
        import transformers  # noqa: F401  (needed below; say so now, not mid-load)
    except ImportError as exc:
        raise LoadError(
            f"the in-process engine needs torch and transformers ({exc}): install "
            "tandem-assist[local], or serve with --engine vllm"
        ) from None
    is_dir = Path(spec.model).is_dir()
    src = _Source(
        spec,
        local_only=not spec.download or offline() or is_dir,
        where="the local folder" if is_dir else "the local Hugging Face cache",
    )
    if spec.device.startswith("cuda") and not torch.cuda.is_available():
        raise LoadError(f"--device {spec.device} asked for, but torch sees no CUDA device")
    cuda = spec.device.startswith("cuda") or (spec.device == "auto" and torch.cuda.is_available())

    progress("config", 0.02)
    config = _read_config(src)
    progress("tokenizer", 0.08)
    tokenizer, hf_tokenizer = _read_tokenizer(src)
    progress("weights", 0.15)
    config, model = _read_weights(src, config, tokenizer.vocab_size, cuda)
    device = model.get_input_embeddings().weight.device
    if device.type == "cpu":
        torch.set_num_threads(cpu_threads(spec.threads, model.num_parameters()))

    name = getattr(config, "_name_or_path", "") or spec.model
    try:
        profile = detect_profile(
            name=str(spec.model if is_dir else name),
            config=config.to_dict(),
            tok=tokenizer,
            has_chat_template=bool(getattr(hf_tokenizer, "chat_template", None)),
            chat_format_override=spec.chat_format,
            infill_override=spec.infill,
        )
    except ProfileError as exc:
        raise LoadError(str(exc)) from exc
    progress("ready", 1.0)
    return Checkpoint(tokenizer, profile, hf_tokenizer), Weights(model, device)


def _read_config(src: _Source) -> Any:
    from transformers import AutoConfig

    model = src.spec.model
    try:
        config = AutoConfig.from_pretrained(model, local_files_only=src.local_only)
    except Exception as exc:
        detail = f": {first_line(exc)}"
        if not Path(model).exists():
            if model.startswith(("/", ".", "~")) or model.count("/") != 1:
                detail = ": no such folder"  # a path, not a hub id: the hub's words are noise
            elif src.local_only:
                detail = (
                    ": not in the local Hugging Face cache (tandem-host --download fetches hub ids)"
                )
        raise LoadError(f"cannot read a model config for {model!r}{detail}") from exc
    require_llama(model, getattr(config, "model_type", None))
    return config


def _read_tokenizer(src: _Source) -> tuple[Tokenizer, Any]:
    from transformers import AutoTokenizer

    model = src.spec.model
    try:
        hf_tokenizer = AutoTokenizer.from_pretrained(model, local_files_only=src.local_only)
    except Exception as exc:
        raise LoadError(f"cannot load the tokenizer from {src.where}: {first_line(exc)}") from exc
    try:
        tok_dir = snapshot_dir(model, "tokenizer.model")
        return load_tokenizer(tok_dir if tok_dir else model, hf_tokenizer), hf_tokenizer
    except TokenizerLoadError as exc:
        raise LoadError(str(exc)) from exc


def _read_weights(src: _Source, config: Any, vocab: int, cuda: bool) -> tuple[Any, Any]:
    """(config, model): the checkpoint's weights, or random ones of a named shape."""
    from transformers import AutoModelForCausalLM

    spec = src.spec
    dtype = resolve_dtype(spec.dtype, cuda)
    kwargs: dict[str, Any] = {"dtype": dtype, "local_files_only": src.local_only}
    if cuda:
        kwargs["device_map"] = "auto" if spec.device == "auto" else spec.device
    try:
        if spec.random_weights:
            config, model = _random_model(spec.random_weights, vocab, dtype, cuda)
        else:
            model = AutoModelForCausalLM.from_pretrained(spec.model, **kwargs)
    except LoadError:
        raise
    except Exception as exc:
        raise LoadError(f"cannot load the weights from {src.where}: {first_line(exc)}") from exc
    model.eval()
    return config, model


def _random_model(shape_name: str, vocab: int, dtype: Any, cuda: bool) -> tuple[Any, Any]:
    """Random weights of a named shape, built on the device in `dtype` (nothing is read)."""
    import dataclasses

    import torch
    from transformers import AutoModelForCausalLM

    from ..devtools.shapes import SHAPES

    shape = SHAPES.get(shape_name)
    if shape is None:
        raise LoadError(f"unknown shape {shape_name!r}: use one of {', '.join(SHAPES)}")
    config = dataclasses.replace(shape, vocab=max(shape.vocab, vocab)).config()
    torch.manual_seed(0)
    with torch.device("cuda" if cuda else "cpu"):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    return config, model


def load_profile(spec: LoadSpec, progress: Progress) -> Checkpoint:
    """Config and tokenizer only, no weights and no torch: for a host whose engine is remote.

    A checkpoint with a SentencePiece `tokenizer.model` and no chat template needs
    nothing beyond sentencepiece; a `tokenizer.json`-only one, or the `template` chat
    format, needs transformers (which imports torch when torch is installed).
    """
    folder = checkpoint_dir(spec.model)
    progress("config", 0.05)
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LoadError(f"cannot read {folder / 'config.json'}: {first_line(exc)}") from exc
    if not isinstance(config, dict):
        raise LoadError(f"{folder / 'config.json'} is not a JSON object")
    require_llama(spec.model, config.get("model_type"))
    progress("tokenizer", 0.1)
    has_template = has_chat_template(folder)
    hf_tokenizer = None
    try:
        if not (folder / "tokenizer.model").is_file():
            hf_tokenizer = _hf_tokenizer(folder, "it has no tokenizer.model")
        tokenizer = load_tokenizer(folder, hf_tokenizer)
        profile = detect_profile(
            name=str(spec.model),
            config=config,
            tok=tokenizer,
            has_chat_template=has_template,
            chat_format_override=spec.chat_format,
            infill_override=spec.infill,
        )
    except (TokenizerLoadError, ProfileError) as exc:
        raise LoadError(str(exc)) from exc
    if profile.chat_format == "template" and hf_tokenizer is None:
        hf_tokenizer = _hf_tokenizer(folder, "its chat template is rendered by transformers")
    progress("profile", 0.5)
    return Checkpoint(tokenizer, profile, hf_tokenizer)


def _hf_tokenizer(folder: Path, why: str) -> Any:
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise LoadError(
            f"{folder} needs transformers ({why}): install it (pip install transformers) "
            "or pass --chat-format llama2"
        ) from None
    try:
        return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except Exception as exc:  # transformers raises many kinds; all mean "unusable"
        raise LoadError(f"cannot load the tokenizer from {folder}: {first_line(exc)}") from exc


SMALL_MODEL_PARAMS = 100_000_000


def cpu_threads(requested: int, params: int) -> int:
    """Threads for CPU decoding. A small model's matmuls are too short to split: extra
    threads only spin and fight (measured: 16 ms/token with 2 threads vs 0.9 ms with 1
    for the tiny model), so small models get one; large ones keep torch's default."""
    import torch

    if requested > 0:
        return requested
    return 1 if params < SMALL_MODEL_PARAMS else torch.get_num_threads()
