"""What Tandem asks a vLLM server before trusting it: same vocabulary, which model, how long a window.

Tandem sends prompts as ids and turns ids into text itself, so what must match is
the vocabulary: the same id means the same piece, the control ids are the same. How
each side splits text into ids need not match (transformers and SentencePiece split
runs of spaces differently on the very same tokenizer.model), so the check never
tokenizes text: it asks vLLM's `/detokenize` for a spread of ids (the control ids,
whitespace, byte and word pieces, the last id and the one past it) and compares the
text with Tandem's pieces. Its `/metrics` feed the host's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from ...text.tokenizer import SPACE_SYMBOL, Tokenizer
from .stream import error_message

WORD_SPREAD = 64  # ordinary pieces sampled evenly across the vocabulary
LAST_IDS = 8
WHITESPACE_RUN = 16  # "▁" .. "▁" * 16, those the vocabulary has
# Valid UTF-8 spelled with byte pieces (a lone non-ASCII byte piece is half a character).
BYTE_RUNS = ("é", "☺", "日", "🙂")
ANCHORS = ("a", "x", "t", "e")
# What transformers' clean_up_tokenization_spaces rewrites in decoded text: a word piece
# holding one of these is left out of the spread, so a checkpoint with that option set
# is not refused for a difference in decoding rather than in the vocabulary.
_CLEANUP = (" .", " ?", " !", " ,", " ' ", " n't", " 'm", " 's", " 've", " 're")


class Incompatible(Exception):
    """The server answers, but serves something Tandem's tokenizer and profile do not match."""


@dataclass(frozen=True)
class ServerFacts:
    model: str  # the name to send in requests
    max_model_len: int


@dataclass(frozen=True)
class Probe:
    ids: tuple[int, ...]  # one id, the byte pieces of one character, or none: the anchor alone
    text: str  # what they read as, after the anchor, in Tandem's vocabulary
    what: str  # for a message: "BOS", "whitespace piece", ...


@dataclass(frozen=True)
class Vocabulary:
    """The ids a server's `/detokenize` must read as Tandem's tokenizer reads them.

    Each probe is detokenized after an anchor (an ordinary piece that does not start
    with a space): decoders drop the leading space of the first piece of a text
    (SentencePiece and transformers alike), so a probe alone would lose exactly the
    space that tells "▁▁▁▁" from "▁▁▁". Control ids read as their piece (vLLM
    detokenizes with special tokens kept), ordinary ones as Tandem's bytes.
    """

    size: int
    anchor: int
    anchor_text: str
    probes: tuple[Probe, ...]

    @classmethod
    def of(cls, tok: Tokenizer) -> Vocabulary:
        anchor = _anchor(tok)
        probes: list[Probe] = []
        seen: set[tuple[int, ...]] = set()

        def add(ids: tuple[int, ...], what: str, text: str | None = None) -> None:
            if ids not in seen:
                seen.add(ids)
                probes.append(Probe(ids, _text(tok, ids[0]) if text is None else text, what))

        add((), "the anchor piece", "")  # first, alone: every other probe relies on it
        named = {tok.bos_id: "BOS", tok.eos_id: "EOS"}
        if tok.unk_id is not None:
            named[tok.unk_id] = "UNK"
        for i in sorted(tok.special_ids):
            if 0 <= i < tok.vocab_size:
                add((i,), named.get(i, f"control piece {tok.piece(i)!r}"))
        for n in range(1, WHITESPACE_RUN + 1):
            space = tok.piece_id(SPACE_SYMBOL * n)
            if space is not None:
                add((space,), f"whitespace piece {SPACE_SYMBOL * n!r}")
        for b in range(128):
            byte = tok.piece_id(f"<0x{b:02X}>")
            if byte is not None and byte not in tok.special_ids:
                add((byte,), f"byte piece <0x{b:02X}>")
        for ch in BYTE_RUNS:
            run = [tok.piece_id(f"<0x{b:02X}>") for b in ch.encode()]
            ids = tuple(i for i in run if i is not None)
            if len(ids) == len(run):
                add(ids, f"byte pieces of {ch!r}", ch)
        step = max(1, tok.vocab_size // WORD_SPREAD)
        for i in range(step, tok.vocab_size, step):
            if _is_word(tok, i):
                add((i,), "word piece")
        for i in range(max(0, tok.vocab_size - LAST_IDS), tok.vocab_size):
            add((i,), "the last id" if i == tok.vocab_size - 1 else "one of the last ids")
        return cls(tok.vocab_size, anchor, _text(tok, anchor), tuple(probes))

    def tokens(self) -> list[int]:
        """Every probe after its own anchor, as one `/detokenize` request."""
        return [i for p in self.probes for i in (self.anchor, *p.ids)]

    def expected(self) -> str:
        return "".join(self.anchor_text + p.text for p in self.probes)


def _text(tok: Tokenizer, token_id: int) -> str:
    """An id's text after another piece: control pieces as written, the rest as Tandem decodes."""
    if tok.is_special(token_id):
        return tok.piece(token_id).replace(SPACE_SYMBOL, " ")
    return tok.decode_infilling([token_id])


def _is_word(tok: Tokenizer, token_id: int) -> bool:
    piece = tok.piece(token_id)
    if not piece or tok.is_special(token_id) or piece.startswith("<0x"):
        return False
    text = piece.replace(SPACE_SYMBOL, " ")
    return not any(c in text for c in _CLEANUP)


def _anchor(tok: Tokenizer) -> int:
    for piece in ANCHORS:
        i = tok.piece_id(piece)
        if i is not None and not tok.is_special(i):
            return i
    for i in range(tok.vocab_size):
        piece = tok.piece(i)
        if _is_word(tok, i) and not piece.startswith(SPACE_SYMBOL) and piece.isprintable():
            return i
    raise ValueError("the vocabulary has no ordinary piece to anchor the check on")


async def verify(
    client: httpx.AsyncClient, base: str, *, vocabulary: Vocabulary, model: str | None
) -> ServerFacts:
    """Read the served model and its window, and check its vocabulary against Tandem's.

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
    await check_vocabulary(client, base, model, vocabulary)
    return ServerFacts(model, window)


async def check_vocabulary(
    client: httpx.AsyncClient, base: str, model: str, vocab: Vocabulary
) -> None:
    """One `/detokenize` of every probe; on a difference, one per probe to name the first."""
    if await _detokenize(client, base, model, vocab.tokens()) != vocab.expected():
        for probe in vocab.probes:
            got = await _detokenize(client, base, model, [vocab.anchor, *probe.ids])
            want = vocab.anchor_text + probe.text
            if got != want:
                ids = probe.ids or (vocab.anchor,)
                named = f"id {ids[0]}" if len(ids) == 1 else f"ids {list(ids)}"
                after = vocab.anchor_text if probe.ids else ""
                raise Incompatible(
                    f"has another vocabulary than the checkpoint's tokenizer: {named} "
                    f"({probe.what}) reads {_shown(got, after)} there and "
                    f"{_shown(want, after)} in Tandem's; serve the same checkpoint as --model"
                )
        raise Incompatible(
            "has another vocabulary than the checkpoint's tokenizer: its /detokenize of "
            f"{len(vocab.probes)} probe ids differs from Tandem's text, though each id alone "
            "reads the same; serve the same checkpoint as --model"
        )
    # Past the last id: nothing (an id the tokenizer does not have) or a refusal.
    past = await _detokenize(client, base, model, [vocab.anchor, vocab.size], missing_ok=True)
    if past not in (None, vocab.anchor_text):
        raise Incompatible(
            f"has a larger vocabulary than the checkpoint's tokenizer ({vocab.size} ids): "
            f"id {vocab.size} reads {_shown(past, vocab.anchor_text)} there; serve the same "
            "checkpoint as --model"
        )


def _shown(text: str | None, anchor: str) -> str:
    """The probe's part of a detokenized text, quoted (without the anchor it was read after)."""
    if text is None:
        return "nothing (refused as out of vocabulary)"
    if anchor and text.startswith(anchor):
        text = text[len(anchor) :]
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


async def _detokenize(
    client: httpx.AsyncClient, base: str, model: str, ids: list[int], *, missing_ok: bool = False
) -> str | None:
    """vLLM's text for `ids`; None for a 400 (ids out of its vocabulary) when `missing_ok`."""
    url = f"{base}/detokenize"
    response = await client.post(url, json={"model": model, "tokens": ids})
    if missing_ok and response.status_code == 400:
        return None
    answer = _json_of(response, url)
    text = answer.get("prompt") if isinstance(answer, dict) else None
    if not isinstance(text, str):
        raise Incompatible(f"answered {url} without a 'prompt' text")
    return text


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
