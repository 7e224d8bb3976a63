"""Where tests find the repo and the real tokenizers kept beside it (../shared/tokenizers)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_TOKENIZERS = ROOT.parent / "shared" / "tokenizers"
