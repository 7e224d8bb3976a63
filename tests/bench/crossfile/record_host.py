"""A model host that records what it is asked: the cross-file benchmark's stand-in for a model.

It speaks the host protocol like the shaping benchmark's replay host (hello, status,
count_tokens, cancel, complete), but answers every `complete` at once with an empty
completion and keeps the request's params, which is what the model would have received
(`prefix`, `suffix`, and the cross-file `context` items). Tokens are counted with Code
Llama's real tokenizer when ../shared/tokenizers is beside the repo (so the language
server budgets as it would against a real host), else with the replay host's word rule.

    bench.take {}  -> {"requests": [params, ...]}  (the recorded `complete` params, then forgotten)
    bench.take {"drop": true}  -> {"requests": [], "dropped": n}  (forgotten unread)

    python -m tests.bench.crossfile.record_host unix:/tmp/record.sock
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

from model_host.rpc.session import Call
from tests.bench.shaping.replay_host import ReplayHost, serve_unix, tokens
from tests.paths import SHARED_TOKENIZERS

TAKE = "bench.take"
TOKENIZER = SHARED_TOKENIZERS / "code-llama" / "tokenizer.model"


def token_counter() -> tuple[str, Callable[[str], int]]:
    """(name, count) of the tokenizer the host counts with."""
    if TOKENIZER.exists():
        from model_host.text.token_counts import TokenCounter
        from model_host.text.tokenizer import SentencePieceTokenizer

        counter = TokenCounter(SentencePieceTokenizer.from_file(TOKENIZER))
        return "code-llama", counter.count
    return "words", lambda text: len(tokens(text))


class RecordHost(ReplayHost):
    def __init__(self) -> None:
        super().__init__()
        self.tokenizer, self.count = token_counter()
        self.requests: list[dict[str, Any]] = []

    async def handle(self, call: Call, params: Any) -> Any:
        p = params[0] if isinstance(params, list) and params else params
        p = p if isinstance(p, dict) else {}
        if call.method == "count_tokens":
            return {"counts": [self.count(str(t)) for t in p.get("texts", [])]}
        if call.method == TAKE:
            taken, self.requests = self.requests, []
            if p.get("drop"):
                return {"requests": [], "dropped": len(taken)}
            return {"requests": taken}
        if call.method == "complete":
            self.requests.append(dict(p))
            self.answer = ""  # answer with nothing, at once
        return await super().handle(call, params)


async def serve(path: str) -> None:
    host = RecordHost()
    banner = f"record-host: listening on unix:{path} ({host.tokenizer})"
    await serve_unix(path, host, "record client", banner)


def main() -> int:
    address = sys.argv[1] if len(sys.argv) > 1 else "unix:/tmp/tandem-record.sock"
    asyncio.run(serve(address.removeprefix("unix:")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
