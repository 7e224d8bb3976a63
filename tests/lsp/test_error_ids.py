"""Every error answer of the real `tandem-lsp` carries an `id` (JSON-RPC 2.0, section 5).

Raw bytes over stdio: messages that cannot be parsed, that are not request objects, that
name no method or a bad one, with params that do not fit, and framing that is not LSP's.
Each must be answered once with the right code, under the request's id where it could be
read and `"id": null` where it could not: a response with no `id` member is neither a
response nor a notification to a client (vscode-jsonrpc logs it and drops it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.faults.lsp_wire import RawLsp, frame
from tests.lsp.conftest import init_options

pytestmark = pytest.mark.timeout(120)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602

TANDEM_LSP = Path(sys.executable).with_name("tandem-lsp")


def body(message: Any) -> bytes:
    return frame(json.dumps(message).encode())


# (what, bytes sent, the expected answer's code). None of these has an id to read:
# each must be answered with `"id": null`, in the order they were sent. After bad framing
# the server skips to the next `Content-Length`, so each is followed by a framed message.
WITHOUT_ID: list[tuple[str, bytes, int]] = [
    ("not JSON", frame(b"{not json"), PARSE_ERROR),
    ("a header block over 8 KiB", b"X-Junk: " + b"j" * 9000, PARSE_ERROR),
    ("an empty body", frame(b""), PARSE_ERROR),
    ("a header without a length", b"Content-Type: nothing\r\n\r\n", PARSE_ERROR),
    ("truncated JSON", frame(b'{"jsonrpc": "2.0", "id": 1, "method": "tandem/st'), PARSE_ERROR),
    ("invalid UTF-8", frame(b'{"jsonrpc": "2.0", "method": "\xff\xfe"}'), PARSE_ERROR),
    ("an absurd Content-Length", b"Content-Length: 99999999999\r\n\r\n{}", INVALID_REQUEST),
    ("a JSON array", frame(b"[1, 2]"), INVALID_REQUEST),
    ("an empty batch", frame(b"[]"), INVALID_REQUEST),
    (
        "a batch of one request",
        body([{"jsonrpc": "2.0", "id": 900, "method": "tandem/status"}]),
        INVALID_REQUEST,
    ),
    ("a number", frame(b"42"), INVALID_REQUEST),
    ("a string", frame(b'"tandem/status"'), INVALID_REQUEST),
    ("null", frame(b"null"), INVALID_REQUEST),
    ("true", frame(b"true"), INVALID_REQUEST),
    ("an empty object", body({}), INVALID_REQUEST),
    ("no method, no id", body({"jsonrpc": "2.0", "params": {}}), INVALID_REQUEST),
    ("a notification's method a number", body({"jsonrpc": "2.0", "method": 5}), INVALID_REQUEST),
    ("a notification of JSON-RPC 1.0", body({"jsonrpc": "1.0", "method": "x"}), INVALID_REQUEST),
    ("a float id", body({"jsonrpc": "2.0", "id": 1.5, "method": "tandem/status"}), INVALID_REQUEST),
    (
        "a boolean id",
        body({"jsonrpc": "2.0", "id": True, "method": "tandem/status"}),
        INVALID_REQUEST,
    ),
    (
        "an array id",
        body({"jsonrpc": "2.0", "id": [1], "method": "tandem/status"}),
        INVALID_REQUEST,
    ),
    ("an object id", body({"jsonrpc": "2.0", "id": {"a": 1}, "method": "x"}), INVALID_REQUEST),
    ("a null id", body({"jsonrpc": "2.0", "id": None, "method": "tandem/status"}), INVALID_REQUEST),
]

# (what, the message, its id, the expected answer's code): the id can be read.
WITH_ID: list[tuple[str, dict[str, Any], Any, int]] = [
    ("a method that is a number", {"jsonrpc": "2.0", "id": 7, "method": 5}, 7, INVALID_REQUEST),
    ("a null method", {"jsonrpc": "2.0", "id": "s8", "method": None}, "s8", INVALID_REQUEST),
    (
        "JSON-RPC 1.0",
        {"jsonrpc": "1.0", "id": 9, "method": "tandem/status"},
        9,
        INVALID_REQUEST,
    ),
    ("no jsonrpc member", {"id": 10, "method": "tandem/status"}, 10, INVALID_REQUEST),
    (
        "an unknown method",
        {"jsonrpc": "2.0", "id": 11, "method": "no/such/method", "params": [1]},
        11,
        METHOD_NOT_FOUND,
    ),
    (
        "an unknown method, a string id",
        {"jsonrpc": "2.0", "id": "s12", "method": "textDocument/hover", "params": {}},
        "s12",
        METHOD_NOT_FOUND,
    ),
    (
        "LSP params that do not deserialize",
        {
            "jsonrpc": "2.0",
            "id": 13,
            "method": "textDocument/inlineCompletion",
            "params": {"textDocument": {"uri": 5}, "position": "x"},
        },
        13,
        INVALID_PARAMS,
    ),
    (
        "Tandem params that do not fit",
        {"jsonrpc": "2.0", "id": 14, "method": "tandem/prompt", "params": [1, 2]},
        14,
        INVALID_PARAMS,
    ),
    (
        "a chat without messages",
        {"jsonrpc": "2.0", "id": "s15", "method": "tandem/chat", "params": {"x": 1}},
        "s15",
        INVALID_PARAMS,
    ),
]


async def test_every_error_answer_has_the_id_or_null(sock_dir: Path) -> None:
    assert TANDEM_LSP.exists(), f"{TANDEM_LSP} is not installed (pip install -e .)"
    # No host is needed to answer these: the server fails its host requests fast.
    lsp = await RawLsp.start(command=[str(TANDEM_LSP)])
    try:
        await lsp.initialize(init_options(f"unix:{sock_dir / 'nobody.sock'}"))
        for what, data, _ in WITHOUT_ID:
            lsp.send_bytes(data)
            # Interleaved, so an answer by id between two id-less ones cannot be mistaken.
            if what.startswith("a float"):
                lsp.send(WITH_ID[0][1])
        for _, message, _, _ in WITH_ID[1:]:
            lsp.send(message)
        last = await lsp.request("tandem/status", {}, timeout=30)
        assert "result" in last, last
        ids = [msgid for _, _, msgid, _ in WITH_ID]
        await lsp.wait_for(lambda: all(i in lsp.responses for i in ids), 30, "answers by id")
    finally:
        code = await lsp.close()
    assert code == 0, lsp.stderr[-3000:]

    # Every answer has the member; the test sees the raw JSON, no client library between.
    assert lsp.without_id == [], lsp.without_id
    null_answers = lsp.responses.get(None, [])
    got = [a["error"]["code"] for a in null_answers]
    want = [code for _, _, code in WITHOUT_ID]
    assert got == want, list(zip([w for w, _, _ in WITHOUT_ID], want, got, strict=False))
    for what, _, msgid, code in WITH_ID:
        answers = lsp.responses[msgid]
        assert len(answers) == 1, (what, answers)
        assert answers[0]["error"]["code"] == code, (what, answers[0])
        assert answers[0]["jsonrpc"] == "2.0"
    # Nothing else was answered: the batch's inner request is not served on its own.
    assert 900 not in lsp.responses
    for answer in lsp.answers:
        assert "traceback" not in json.dumps(answer), answer
