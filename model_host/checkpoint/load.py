"""Loading a checkpoint (local folder or cached hub id) onto a device, with progress and clear errors."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]


class LoadError(Exception):
    """Loading failed; the message is written for the person who started the host."""


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


@dataclass
class LoadedModel:
    model: Any
    device: Any  # torch.device of the input embeddings
    tokenizer: Any  # model_host.text.tokenizer.Tokenizer
    hf_tokenizer: Any
    profile: Any  # model_host.checkpoint.profile.ModelProfile


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


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


def _snapshot_dir(model: str, filename: str) -> Path | None:
    """The local folder of `model` holding `filename`: the path itself, or a hub id's
    snapshot in the local Hugging Face cache (None when neither)."""
    if Path(model).is_dir():
        return Path(model)
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    found = try_to_load_from_cache(model, filename)
    return Path(found).parent if isinstance(found, str) else None


def _require_llama(model: str, model_type: object) -> None:
    if model_type != "llama":
        raise LoadError(
            f"{model!r} is a {model_type or 'unknown'!r} model; "
            "Tandem serves Llama-architecture checkpoints (Llama 2, Code Llama)"
        )


def load(spec: LoadSpec, progress: Progress) -> LoadedModel:
    """Load config, tokenizer and weights. Raises LoadError with one readable message."""
    try:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise LoadError(
            f"the in-process engine needs torch and transformers ({exc}): install "
            "tandem-assist[local], or serve with --engine vllm"
        ) from None

    from ..text.tokenizer import TokenizerLoadError, load_tokenizer
    from .profile import ProfileError, detect_profile

    local_only = not spec.download or _offline() or Path(spec.model).is_dir()
    where = "the local folder" if Path(spec.model).is_dir() else "the local Hugging Face cache"
    if spec.device.startswith("cuda") and not torch.cuda.is_available():
        raise LoadError(f"--device {spec.device} asked for, but torch sees no CUDA device")
    cuda = spec.device.startswith("cuda") or (spec.device == "auto" and torch.cuda.is_available())
    dtype = resolve_dtype(spec.dtype, cuda)

    progress("config", 0.02)
    try:
        config = AutoConfig.from_pretrained(spec.model, local_files_only=local_only)
    except Exception as exc:
        detail = f": {_first_line(exc)}"
        if not Path(spec.model).exists():
            if spec.model.startswith(("/", ".", "~")) or spec.model.count("/") != 1:
                detail = ": no such folder"  # a path, not a hub id: the hub's words are noise
            elif local_only:
                detail = (
                    ": not in the local Hugging Face cache (tandem-host --download fetches hub ids)"
                )
        raise LoadError(f"cannot read a model config for {spec.model!r}{detail}") from exc
    _require_llama(spec.model, getattr(config, "model_type", None))

    progress("tokenizer", 0.08)
    try:
        hf_tokenizer = AutoTokenizer.from_pretrained(spec.model, local_files_only=local_only)
    except Exception as exc:
        raise LoadError(f"cannot load the tokenizer from {where}: {_first_line(exc)}") from exc
    try:
        tok_dir = _snapshot_dir(spec.model, "tokenizer.model")
        tokenizer = load_tokenizer(tok_dir if tok_dir else spec.model, hf_tokenizer)
    except TokenizerLoadError as exc:
        raise LoadError(str(exc)) from exc

    progress("weights", 0.15)
    kwargs: dict[str, Any] = {"dtype": dtype, "local_files_only": local_only}
    if cuda:
        kwargs["device_map"] = "auto" if spec.device == "auto" else spec.device
    try:
        if spec.random_weights:
            config, model = _random_model(spec.random_weights, tokenizer.vocab_size, dtype, cuda)
        else:
            model = AutoModelForCausalLM.from_pretrained(spec.model, **kwargs)
    except LoadError:
        raise
    except Exception as exc:
        raise LoadError(f"cannot load the weights from {where}: {_first_line(exc)}") from exc
    model.eval()
    device = model.get_input_embeddings().weight.device
    if device.type == "cpu":
        torch.set_num_threads(cpu_threads(spec.threads, model.num_parameters()))

    name = getattr(config, "_name_or_path", "") or spec.model
    try:
        profile = detect_profile(
            name=str(spec.model if Path(spec.model).is_dir() else name),
            config=config.to_dict(),
            tok=tokenizer,
            has_chat_template=bool(getattr(hf_tokenizer, "chat_template", None)),
            chat_format_override=spec.chat_format,
            infill_override=spec.infill,
        )
    except ProfileError as exc:
        raise LoadError(str(exc)) from exc
    progress("ready", 1.0)
    return LoadedModel(model, device, tokenizer, hf_tokenizer, profile)


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


def load_profile(spec: LoadSpec, progress: Progress) -> LoadedModel:
    """Config and tokenizer only, no weights and no torch: for a host whose engine is remote.

    A checkpoint with a SentencePiece `tokenizer.model` and no chat template needs
    nothing beyond sentencepiece; a `tokenizer.json`-only one, or the `template` chat
    format, needs transformers (which imports torch when torch is installed).
    """
    from ..text.tokenizer import TokenizerLoadError, load_tokenizer
    from .profile import ProfileError, detect_profile

    folder = _checkpoint_dir(spec.model)
    progress("config", 0.05)
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LoadError(f"cannot read {folder / 'config.json'}: {_first_line(exc)}") from exc
    if not isinstance(config, dict):
        raise LoadError(f"{folder / 'config.json'} is not a JSON object")
    _require_llama(spec.model, config.get("model_type"))
    progress("tokenizer", 0.1)
    has_template = _has_chat_template(folder)
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
    return LoadedModel(None, "remote", tokenizer, hf_tokenizer, profile)


def _checkpoint_dir(model: str) -> Path:
    """The local folder of `model`: the path itself, or a hub id's snapshot in the local cache."""
    found = _snapshot_dir(model, "config.json")
    if found is None:
        raise LoadError(f"{model!r} is neither a folder nor a hub id in the local cache")
    return found


def _has_chat_template(folder: Path) -> bool:
    if (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file():
        return True
    try:
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and bool(config.get("chat_template"))


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
        raise LoadError(f"cannot load the tokenizer from {folder}: {_first_line(exc)}") from exc


SMALL_MODEL_PARAMS = 100_000_000


def cpu_threads(requested: int, params: int) -> int:
    """Threads for CPU decoding. A small model's matmuls are too short to split: extra
    threads only spin and fight (measured: 16 ms/token with 2 threads vs 0.9 ms with 1
    for the tiny model), so small models get one; large ones keep torch's default."""
    import torch

    if requested > 0:
        return requested
    return 1 if params < SMALL_MODEL_PARAMS else torch.get_num_threads()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
