"""Load for the host's fault scenarios: requests with known right answers, and their tally."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, ClassVar

from model_host.rpc.protocol import ErrorCode, Method
from tests.faults.host_wire import RawHost
from tests.faults.report import Row
from tests.hostproc import HostProcess


def tally(row: Row, conn: RawHost, expected: set[int]) -> None:
    row.expected += len(expected)
    for msgid, answers in conn.responses.items():
        if msgid in expected:
            row.answered += 1
            row.spurious += len(answers) - 1
        else:
            row.spurious += len(answers)
        for answer in answers:
            if answer[2] is not None and answer[2].get("code") == ErrorCode.INTERNAL_ERROR:
                row.internal += 1


class MixedLoad:
    """Requests of every kind with known right answers (taken from the host alone, first)."""

    TEXTS: ClassVar[list[str]] = [
        f"line {i}: value = f(x{i}, y) + {i * 7}  # note" for i in range(16)
    ]
    PROMPT: ClassVar[dict[str, Any]] = {
        "prefix": "def add(a, b):",
        "max_tokens": 6,
        "temperature": 0,
    }

    def __init__(self) -> None:
        self.ids: dict[str, list[int]] = {}
        self.completion = ""

    async def learn(self, host: HostProcess) -> None:
        conn = await RawHost.connect(host.address)
        for i, text in enumerate(self.TEXTS):
            conn.request(i, Method.TOKENIZE, {"text": text})
            self.ids[text] = (await conn.response(i))[3]["ids"]
        conn.request(99, Method.COMPLETE, self.PROMPT)
        self.completion = (await conn.response(99))[3]["text"]
        await conn.close()

    def request(self, i: int) -> tuple[str, Any, Callable[[Any], bool] | None]:
        """The i-th request: method, params, and a check of a successful answer."""
        text = self.TEXTS[i % len(self.TEXTS)]
        kind = i % 10
        if kind < 4:
            return Method.TOKENIZE, {"text": text}, lambda r: r["ids"] == self.ids[text]
        if kind < 6:
            want = [len(self.ids[text]), len(self.ids[text])]
            return Method.COUNT_TOKENS, {"texts": [text, text]}, lambda r: r["counts"] == want
        if kind < 7:
            return Method.COMPLETE, self.PROMPT, lambda r: r["text"] == self.completion
        if kind < 8:
            return Method.DETOKENIZE, {"ids": self.ids[text]}, None
        if kind < 9:
            return Method.COMPLETE, {"prefix": 42}, None  # bad params: INVALID_PARAMS
        return Method.STATUS, {}, None


async def mixed_requests(
    conn: RawHost, load: MixedLoad, ids: range, *, window: int = 32
) -> tuple[set[int], int]:
    """Send `ids` through one connection, at most `window` unanswered; (expected, wrong)."""
    checks: dict[int, Callable[[Any], bool] | None] = {}
    for i in ids:
        method, params, check = load.request(i)
        conn.request(i, method, params)
        checks[i] = check
        if len(checks) - len(set(checks) & set(conn.responses)) >= window:
            await conn.response(i)
    deadline = time.monotonic() + 120
    while not set(checks) <= set(conn.responses) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    wrong = 0
    for i, check in checks.items():
        answer = conn.responses.get(i)
        if answer and check is not None and answer[0][2] is None and not check(answer[0][3]):
            wrong += 1
    return set(checks), wrong
