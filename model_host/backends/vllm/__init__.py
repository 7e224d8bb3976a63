"""A remote engine: vLLM servers (one or several replicas) driven with Tandem's prompt ids.

stream (SSE chunks → checked ids) · checks (vocabulary, window, metrics) ·
replicas (health, routing by document) · backend (the `Backend` the host uses).
Imports httpx, never torch: a host in this mode loads only a tokenizer.
"""

from __future__ import annotations

from .backend import VllmBackend, VllmConfig, VllmStartError

__all__ = ["VllmBackend", "VllmConfig", "VllmStartError"]
