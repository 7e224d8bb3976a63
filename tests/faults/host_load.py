"""Load for the host's fault scenarios: requests with known right answers, and judging them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from model_host.rpc.protocol import ErrorCode, Method, Notify
from tests.faults.host_wire import RawHost
from tests.faults.report import Kind, Row
from tests.hostproc import HostProcess

# A right answer, as a test on the response message `[1, msgid, error, result]`; None: no
# answer is due at all.
Expect = Callable[[list[Any]], bool] | None


def result(check: Callable[[Any], bool] | None = None) -> Callable[[list[Any]], bool]:
    """A result (no error), and one `check` accepts when given."""
    return lambda m: m[2] is None and (check is None or bool(check(m[3])))


def error(*codes: int) -> Callable[[list[Any]], bool]:
    """An error with one of `codes`."""
    return lambda m: isinstance(m[2], dict) and m[2].get("code") in codes


def result_or_error(*codes: int) -> Callable[[list[Any]], bool]:
    return lambda m: m[2] is None or (isinstance(m[2], dict) and m[2].get("code") in codes)


def describe(message: list[Any]) -> str:
    if isinstance(message[2], dict):
        return f"error {message[2].get('code')} {str(message[2].get('message', ''))[:80]}"
    return f"result {str(message[3])[:80]}"


def judge(row: Row, conn: RawHost, expected: Mapping[int, tuple[str, Expect]], stray: str) -> None:
    """Count each request in `expected` as sent and judge its (first) answer; second answers
    and answers to ids never sent are spurious (the latter charged to `stray`)."""
    for msgid, (kind, expect) in expected.items():
        answers = conn.responses.get(msgid, [])
        row.sent(kind)
        if expect is None:
            row.judge(
                kind, not answers, f"id {msgid} answered: {describe(answers[0])}" if answers else ""
            )
            continue
        if answers:
            row.judge(kind, expect(answers[0]), f"id {msgid}: {describe(answers[0])}")
            row.extra(kind, len(answers) - 1, f"second answers to id {msgid}")
    for msgid, answers in conn.responses.items():
        if msgid not in expected:
            row.extra(stray, len(answers), f"answers to id {msgid}, never sent")
        for answer in answers:
            if isinstance(answer[2], dict) and answer[2].get("code") == ErrorCode.INTERNAL_ERROR:
                row.internal += 1


def error_notes(conn: RawHost) -> list[Any]:
    """The `error` notifications a connection got, in order."""
    return [n for n in conn.notes if len(n) == 3 and n[1] == Notify.ERROR]


def judge_notes(row: Row, notes: list[Any], expected: list[tuple[str, int]]) -> None:
    """`error` notifications, in order, against the id-less inputs that were sent (each
    `(kind, code)`); more notifications than inputs are spurious."""
    for i, (kind, code) in enumerate(expected):
        row.sent(kind)
        if i < len(notes):
            got = notes[i][2].get("code") if isinstance(notes[i][2], dict) else None
            row.judge(kind, got == code, f"notification {i}: code {got}, not {code}")
    if len(notes) > len(expected):
        kind = expected[-1][0] if expected else Kind.HOST_NO_ID
        row.extra(kind, len(notes) - len(expected), "`error` notifications for nothing sent")


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

    def request(self, i: int) -> tuple[str, Any, str, Expect]:
        """The i-th request: method, params, its kind and its right answer."""
        text = self.TEXTS[i % len(self.TEXTS)]
        kind = i % 10
        if kind < 4:
            want = self.ids[text]
            return (
                Method.TOKENIZE,
                {"text": text},
                Kind.HOST_VALID,
                result(lambda r: r["ids"] == want),
            )
        if kind < 6:
            counts = [len(self.ids[text])] * 2
            return (
                Method.COUNT_TOKENS,
                {"texts": [text, text]},
                Kind.HOST_VALID,
                result(lambda r: r["counts"] == counts),
            )
        if kind < 7:
            done = self.completion
            return (
                Method.COMPLETE,
                self.PROMPT,
                Kind.HOST_VALID,
                result(lambda r: r["text"] == done),
            )
        if kind < 8:
            return (
                Method.DETOKENIZE,
                {"ids": self.ids[text]},
                Kind.HOST_VALID,
                result(lambda r: isinstance(r.get("text"), str)),
            )
        if kind < 9:
            bad = error(ErrorCode.INVALID_PARAMS)
            return Method.COMPLETE, {"prefix": 42}, Kind.HOST_BAD_PARAMS, bad
        return Method.STATUS, {}, Kind.HOST_VALID, result(lambda r: r["state"] == "ready")


async def mixed_requests(
    conn: RawHost, load: MixedLoad, ids: range, *, window: int = 32
) -> dict[int, tuple[str, Expect]]:
    """Send `ids` through one connection, at most `window` unanswered; what each expects."""
    expected: dict[int, tuple[str, Expect]] = {}
    for i in ids:
        method, params, kind, expect = load.request(i)
        conn.request(i, method, params)
        expected[i] = (kind, expect)
        if len(expected) - len(set(expected) & set(conn.responses)) >= window:
            await conn.response(i)
    deadline = time.monotonic() + 120
    while not set(expected) <= set(conn.responses) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return expected
