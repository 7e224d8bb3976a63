"""Choosing next tokens for a whole batch on the device: greedy, temperature and top-p, seeded or not."""

from __future__ import annotations

import torch

from ..base import Sampling


def sample(
    logits: torch.Tensor,  # [S, V] float32
    params: list[Sampling],
    generators: list[torch.Generator | None],
) -> torch.Tensor:
    """One token id per row: [S]. Stays on the device (the caller syncs once per step)."""
    picked = torch.argmax(logits, dim=-1)  # [S]; greedy rows keep this
    rows = [i for i, p in enumerate(params) if not p.greedy]
    if not rows:
        return picked
    index = torch.tensor(rows, device=logits.device)
    temperature = torch.tensor(
        [params[i].temperature for i in rows], device=logits.device, dtype=logits.dtype
    )
    top_p = torch.tensor([params[i].top_p for i in rows], device=logits.device, dtype=logits.dtype)
    probs = top_p_filter(torch.softmax(logits[index] / temperature[:, None], dim=-1), top_p)
    shared = [k for k, i in enumerate(rows) if generators[i] is None]
    if shared:
        draws = torch.multinomial(probs[shared], 1).squeeze(-1)
        picked[index[shared]] = draws
    for k, i in enumerate(rows):
        generator = generators[i]
        if generator is not None:
            picked[i] = torch.multinomial(probs[k], 1, generator=generator)[0]
    return picked


def top_p_filter(probs: torch.Tensor, top_p: torch.Tensor) -> torch.Tensor:
    """probs: [S, V], top_p: [S] -> probs with only the smallest set whose mass reaches
    top_p kept in each row (always at least the most likely token); not renormalised,
    since multinomial does not need it."""
    sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
    before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs  # mass of the tokens ahead
    sorted_probs = sorted_probs.masked_fill(before > top_p[:, None], 0.0)
    return torch.zeros_like(probs).scatter_(-1, order, sorted_probs)
