"""What Tandem asks a vLLM server before trusting it: same tokenizer, which model, how long a window.

Tandem sends prompts as ids, so a server holding another tokenizer would answer
with fluent nonsense instead of an error; one probe through its `/tokenize` catches
that. Its `/metrics` feed the host's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from .stream import error_message

# Code with an indented line, a tab, non-ASCII letters and a CJK word: text on
# which two different vocabularies essentially never agree, and which Tandem's
# SentencePiece ids and vLLM's (transformers) tokenizer give identically for the
# same tokenizer.model. No leading space and no control-token text: those are
# where the two tokenizers' string paths legitimately differ.
PROBE_TEXT = "def tandem_probe(x):\n    return x * 2  # naïve café 日本 ☺\n\tpass\n"


class Incompatible(Exception):
    """The server answers, but serves something Tandem's tokenizer and profile do not match."""


@dataclass(frozen=True)
class ServerFacts:
    model: str  # the name to send in requests
    max_model_len: int


async def verify(
    client: httpx.AsyncClient, base: str, *, probe_ids: list[int], model: str | None
) -> ServerFacts:
    """Read the served model and its window, and check the tokenizer on the probe text.

    Raises Incompatible for a server that answers wrongly, httpx errors for one that
    does not answer.
    """
    listing = await _get_json(client, f"{base}/v1/models")
    served = _served_models(listing)
    if not served:
        raise Incompatible("lists no model at /v1/models")
    if model is None:
        if len(served) > 1:
            names = ", ".join(sorted(served))
            raise Incompatible(f"serves several models ({names}); choose one with --vllm-model")
        model = next(iter(served))
    elif model not in served:
        raise Incompatible(f"does not serve {model!r} (it serves {', '.join(sorted(served))})")
    window = served[model]
    if window is None:
        raise Incompatible(f"gives no max_model_len for {model!r} at /v1/models")
    answer = await _post_json(
        client,
        f"{base}/tokenize",
        {"model": model, "prompt": PROBE_TEXT, "add_special_tokens": False},
    )
    tokens = answer.get("tokens") if isinstance(answer, dict) else None
    if not isinstance(tokens, list):
        raise Incompatible("answered /tokenize without a 'tokens' list")
    if tokens != probe_ids:
        at = next(
            (n for n, (a, b) in enumerate(zip(tokens, probe_ids, strict=False)) if a != b),
            min(len(tokens), len(probe_ids)),
        )
        raise Incompatible(
            f"tokenizes differently from Tandem's tokenizer (probe text: {len(tokens)} ids "
            f"against Tandem's {len(probe_ids)}, first difference at id {at}: "
            f"{tokens[at : at + 4]} vs {probe_ids[at : at + 4]}); serve the same checkpoint "
            "as --model"
        )
    return ServerFacts(model, window)


def _served_models(listing: Any) -> dict[str, int | None]:
    data = listing.get("data") if isinstance(listing, dict) else None
    out: dict[str, int | None] = {}
    for entry in data if isinstance(data, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            length = entry.get("max_model_len")
            ok = isinstance(length, int) and not isinstance(length, bool) and length > 0
            out[entry["id"]] = length if ok else None
    return out


async def _get_json(client: httpx.AsyncClient, url: str) -> Any:
    response = await client.get(url)
    return _json_of(response, url)


async def _post_json(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> Any:
    response = await client.post(url, json=body)
    return _json_of(response, url)


def _json_of(response: httpx.Response, url: str) -> Any:
    if response.status_code >= 500:
        # The server is there but failing for now (starting, overloaded, a proxy's 502):
        # a transient error, retried at the next check, never a verdict on the replica.
        response.raise_for_status()
    try:
        body = response.json()
    except ValueError:
        body = response.text[:200]
    if response.status_code != 200:
        raise Incompatible(
            f"answered {url} with HTTP {response.status_code}: {error_message(body)}"
        )
    if isinstance(body, str):
        raise Incompatible(f"answered {url} with something that is not JSON")
    return body


# Gauges and counters of vLLM's Prometheus endpoint that the host's status shows.
_METRICS = {
    "vllm:num_requests_running": "running",
    "vllm:num_requests_waiting": "waiting",
    "vllm:kv_cache_usage_perc": "kv_cache_usage",
    "vllm:prefix_cache_queries_total": "prefix_cache_queries",
    "vllm:prefix_cache_hits_total": "prefix_cache_hits",
    "vllm:generation_tokens_total": "generation_tokens",
}


def parse_metrics(text: str) -> dict[str, float]:
    """The few vLLM metrics the status shows, summed over their label sets."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith("vllm:"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        key = _METRICS.get(name)
        if key is None:
            continue
        try:
            value = float(line.rsplit(" ", 1)[1])
        except (IndexError, ValueError):
            continue
        out[key] = out.get(key, 0.0) + value
    return out
