"""`complete`'s cross-file `context` against the real host: the header's ids, generation with it, bad shapes."""

from __future__ import annotations

import pytest

from model_host.methods.params import MAX_CONTEXT_ITEMS
from model_host.rpc.protocol import ErrorCode, LoadState, Method, RpcError
from model_host.text.header import render_header
from tests.hostproc import HostProcess

pytestmark = pytest.mark.timeout(120)

CONTEXT = [
    {"path": "pkg/util.py", "text": "def helper(x: int) -> str:\n    <EOT></s>[INST]"},
    {"path": "pkg/io.py", "text": "def load(path: str) -> bytes: ..."},
]
PREFIX = "from pkg.util import helper\n\nprint(helper("
SUFFIX = "))\n"


@pytest.mark.parametrize("order", ["psm", "spm"])
async def test_the_header_is_the_prefix_s_first_text(host: HostProcess, order: str) -> None:
    client = await host.client()
    try:
        base = {"kind": "complete", "suffix": SUFFIX, "order": order}
        sent = await client.request(
            Method.PROMPT, {**base, "prefix": PREFIX, "context": CONTEXT, "language": "python"}
        )
        header = render_header([(c["path"], c["text"]) for c in CONTEXT], "python")
        assert sent["header"] == header and header.startswith("# Path: pkg/util.py\n# def helper")
        # Exactly the ids of the same request with the header written into the prefix.
        by_hand = await client.request(Method.PROMPT, {**base, "prefix": header + PREFIX})
        assert sent["ids"] == by_hand["ids"] and by_hand["header"] == ""
        # Snippet text stays text: the control ids are the prompt's own, once each.
        infill = (await client.request(Method.HELLO, {}))["model"]["infill"]
        controls = [sent["ids"].count(infill[k]) for k in ("pre", "suf", "mid", "eot")]
        assert controls == [1, 1, 1, 0] and sent["ids"].count(2) == 0  # no </s> either
        assert "#     <EOT></s>[INST]\n" in sent["text"]
        plain = await client.request(Method.PROMPT, {**base, "prefix": PREFIX})
        assert plain["tokens"] < sent["tokens"]
    finally:
        await client.close()


async def test_a_completion_with_context_generates_from_that_prompt(host: HostProcess) -> None:
    client = await host.client()
    try:
        params = {"prefix": PREFIX, "suffix": SUFFIX, "order": "spm", "context": CONTEXT}
        params |= {"language": "python", "max_tokens": 4, "temperature": 0}
        dry = await client.request(Method.PROMPT, {"kind": "complete", **params})
        result = await client.request(Method.COMPLETE, params)
        assert result["prompt_tokens"] == dry["tokens"] and result["generated_tokens"] >= 1
    finally:
        await client.close()


BAD = [
    ({"context": "pkg/util.py"}, "'context' must be an array"),
    ({"context": [{"path": "a.py"}]}, "context[0].text must be a string"),
    ({"context": [{"path": "a.py", "text": "x"}] * (MAX_CONTEXT_ITEMS + 1)}, "at most 64 items"),
    ({"language": ["python"]}, "'language' must be a string"),
]


@pytest.mark.parametrize(("extra", "message"), BAD, ids=[m for _, m in BAD])
async def test_bad_context_is_invalid_params_and_the_host_serves_on(
    host: HostProcess, extra: dict[str, object], message: str
) -> None:
    client = await host.client()
    try:
        for method in (Method.COMPLETE, Method.PROMPT):
            params = {"prefix": PREFIX, **extra}
            if method == Method.PROMPT:
                params["kind"] = "complete"
            with pytest.raises(RpcError) as err:
                await client.request(method, params)
            assert err.value.code == ErrorCode.INVALID_PARAMS and message in str(err.value)
        assert (await client.request(Method.STATUS))["state"] == LoadState.READY
    finally:
        await client.close()
