"""A chat-capable stand-in model host that answers `chat` with scripted rewrites, for tests.

It speaks the real host protocol (docs/protocol.md) over a Unix socket with the project's
own msgpack-rpc session, like the shaping benchmark's replay host (whose `complete`,
`count_tokens`, `status` and `cancel` it keeps), and adds what edit-by-instruction needs:

- `hello` reports a chat-capable model, `codellama/CodeLlama-7b-Instruct-hf` in the `llama2`
  chat format (`--model-name` names another, e.g. a base or Python checkpoint);
- `prompt {kind: "chat", messages}` (the dry run the language server fits prompts with)
  counts a "token" per word, run of spaces or other character;
- `chat` answers with the first scripted answer whose `match` is in the last user message
  (the instruction is there), streamed piece by piece when asked (`stream: true`), each
  piece `delay` seconds apart, honouring `max_tokens` (`length`) and `cancel` between
  pieces (answered CANCELLED, as the real host does);
- `standin.stats {}` -> `{chats, cancelled, last: {messages, max_tokens} | null}`: what it
  was asked last, for tests that check the prompt or that a cancel reached the generation.

The answers are a JSON list of `{"match": str, "answer": str, "delay"?: float}` read from
the file `--answers FILE` or `$TANDEM_STANDIN_ANSWERS` names, again at every `chat` (a test
may rewrite it between requests). An instruction nothing matches gets NO_MATCH.

A test starts it and points `tandem-lsp` at it like this:

    host = start_standin(f"unix:{tmp / 'standin.sock'}", answers=tmp / "answers.json")
    init_options = {"host": {"address": host.address, "autoStart": False}}
    ...
    host.stop()

or by hand: `python -m tests.standin_host unix:/tmp/standin.sock --answers answers.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from model_host.rpc.protocol import ErrorCode, RpcError
from model_host.rpc.session import Call
from tests.bench.shaping.replay_host import TIMINGS, ReplayHost, serve_unix, tokens
from tests.hostproc import HostProcess, spawn

ANSWERS_ENV = "TANDEM_STANDIN_ANSWERS"
INSTRUCT_MODEL = "codellama/CodeLlama-7b-Instruct-hf"
STATS = "standin.stats"
NO_MATCH = "I have no scripted answer for that instruction."
WINDOW = 16384


def load_answers(path: Path | None) -> list[dict[str, Any]]:
    if path is None or not path.exists():
        return []
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise ValueError(f"{path}: the answers must be a JSON list of {{match, answer, delay?}}")
    return [a for a in raw if isinstance(a, dict) and isinstance(a.get("answer"), str)]


class StandinHost(ReplayHost):
    def __init__(self, answers: Path | None, model_name: str) -> None:
        super().__init__()
        self.answers_path = answers
        self.model_name = model_name
        self.chats = 0
        self.cancelled_chats = 0
        self.last: dict[str, Any] | None = None

    async def handle(self, call: Call, params: Any) -> Any:
        p = params[0] if isinstance(params, list) and params else params
        p = p if isinstance(p, dict) else {}
        if call.method == "hello":
            hello = await super().handle(call, params)
            hello["model"].update(name=self.model_name, context_window=WINDOW)
            return hello
        if call.method == "prompt":
            return self._prompt(p)
        if call.method == "chat":
            return await self._chat(call, p)
        if call.method == STATS:
            return {"chats": self.chats, "cancelled": self.cancelled_chats, "last": self.last}
        return await super().handle(call, params)

    def _prompt(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("kind") == "chat":
            text = "".join(f"[{m.get('role')}] {m.get('content')}\n" for m in p.get("messages", []))
        else:
            text = str(p.get("prefix", "")) + str(p.get("suffix") or "")
        pieces = tokens(text)
        return {
            "ids": list(range(len(pieces))),
            "pieces": pieces,
            "text": text,
            "mode": "chat" if p.get("kind") == "chat" else "infill",
            "tokens": len(pieces),
            "header": "",
        }

    def _answer_for(self, messages: list[dict[str, Any]]) -> tuple[str, float]:
        users = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
        asked = users[-1] if users else ""
        for answer in load_answers(self.answers_path):
            if str(answer.get("match", "")) in asked:
                return answer["answer"], float(answer.get("delay", 0.0))
        return NO_MATCH, 0.0

    async def _chat(self, call: Call, p: dict[str, Any]) -> dict[str, Any]:
        messages = [m for m in p.get("messages", []) if isinstance(m, dict)]
        if not messages or messages[-1].get("role") != "user":
            raise RpcError(ErrorCode.INVALID_PARAMS, "the last message must be the user's")
        self.chats += 1
        self.last = {"messages": messages, "max_tokens": p.get("max_tokens")}
        text, delay = self._answer_for(messages)
        pieces = tokens(text)
        reason = "end"
        limit = int(p.get("max_tokens", 512))
        if len(pieces) > limit:
            pieces, reason = pieces[:limit], "length"
        try:
            sent = await self.stream(call, p, pieces, delay)
        except (RpcError, asyncio.CancelledError):  # cancelled, or the connection went away
            self.cancelled_chats += 1
            raise
        self.served += 1
        prompt_tokens = self._prompt({"kind": "chat", "messages": messages})["tokens"]
        return {
            "text": "".join(sent),
            "finish_reason": reason,
            "prompt_tokens": prompt_tokens,
            "generated_tokens": len(sent),
            "timings": dict(TIMINGS, prompt_tokens=prompt_tokens),
        }


async def serve(path: str, answers: Path | None, model_name: str) -> None:
    host = StandinHost(answers, model_name)
    banner = f"standin-host: listening on unix:{path} ({model_name})"
    await serve_unix(path, host, "standin client", banner, "tandem-host: ready")


def start_standin(
    address: str, *, answers: Path | None = None, model_name: str = INSTRUCT_MODEL
) -> HostProcess:
    """Run the stand-in host as a subprocess on `address` (`unix:PATH`), ready when this returns."""
    command = [sys.executable, "-m", "tests.standin_host", address, "--model-name", model_name]
    if answers is not None:
        command += ["--answers", str(answers)]
    host = spawn(command, address, {**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        host.wait_line("tandem-host: ready", 30)
    except BaseException:
        host.stop()
        raise
    return host


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.standin_host", description=__doc__)
    parser.add_argument("address", nargs="?", default="unix:/tmp/tandem-standin.sock")
    parser.add_argument("--answers", type=Path, default=os.environ.get(ANSWERS_ENV) or None)
    parser.add_argument("--model-name", default=INSTRUCT_MODEL)
    args = parser.parse_args(argv)
    if not args.address.startswith("unix:"):
        parser.error("the stand-in host listens on unix:PATH only")
    asyncio.run(serve(args.address.removeprefix("unix:"), args.answers, args.model_name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
