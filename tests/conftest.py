"""Fixtures shared by every test tier: the tiny model and the real tokenizers beside the repo."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Code Llama-shaped checkpoint (its output is noise), built once per run."""
    from model_host.tiny import make_tiny

    return make_tiny(tmp_path_factory.mktemp("tiny") / "model")
