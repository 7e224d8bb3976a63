"""The cross-file header: its text per language, its exact ids in every prompt order, and `context` validation."""

from __future__ import annotations

from typing import Any

import pytest

from model_host.checkpoint.load import Checkpoint
from model_host.checkpoint.profile import ModelProfile
from model_host.methods.params import (
    MAX_CONTEXT_CHARS,
    MAX_CONTEXT_ITEMS,
    MAX_CONTEXT_PATH,
    MAX_CONTEXT_TEXT,
    parse_complete,
)
from model_host.methods.prompts import build_complete_prompt
from model_host.rpc.protocol import ErrorCode, RpcError
from model_host.text.header import ContextSnippet, comment_marker, render_header
from model_host.text.prompts import InfillIds, infill_prompt, prefix_prompt
from model_host.text.tokenizer import SentencePieceTokenizer

UTIL = ContextSnippet("pkg/util.py", 'def helper(x: int) -> str:\n    """Name x."""')
UTIL_HEADER = '# Path: pkg/util.py\n# def helper(x: int) -> str:\n#     """Name x."""\n'
PREFIX = "from pkg.util import helper\n\n\ndef main():\n    return helper("
SUFFIX = ")\n"


@pytest.mark.parametrize(
    ("language", "marker"),
    [
        ("python", "#"),
        ("go", "//"),
        ("rust", "//"),
        ("c", "//"),
        ("cpp", "//"),
        ("java", "//"),
        ("javascript", "//"),
        ("typescriptreact", "//"),
        ("lua", "--"),
        ("TypeScript", "//"),
        ("shellscript", "#"),
        ("", "#"),
        (None, "#"),
    ],
)
def test_comment_marker_per_language(language: str | None, marker: str) -> None:
    assert comment_marker(language) == marker


def test_header_format() -> None:
    assert render_header([], "python") == ""
    assert render_header([UTIL], "python") == UTIL_HEADER
    go = [("util/math.go", "func Add(a, b int) int"), ("util/strs.go", "type Name string")]
    assert render_header(go, "go") == (
        "// Path: util/math.go\n// func Add(a, b int) int\n"
        "// Path: util/strs.go\n// type Name string\n"
    )
    assert render_header([("m.lua", "function M.f(x)\n\nend")], "lua") == (
        "-- Path: m.lua\n-- function M.f(x)\n--\n-- end\n"
    )


def test_every_line_is_commented_whatever_breaks_it() -> None:
    text = "a = 1\r\nb = 2\rc = 3\u2028d = 4\n\ne = 5\n"
    header = render_header([("odd\nname.py", text)], "python")
    assert header == ("# Path: odd name.py\n# a = 1\n# b = 2\n# c = 3\n# d = 4\n#\n# e = 5\n")
    assert all(line.startswith("#") for line in header.splitlines())


@pytest.fixture(scope="module")
def model(code_llama: SentencePieceTokenizer) -> Checkpoint:
    infill = InfillIds.from_tokenizer(code_llama)
    assert infill is not None
    profile = ModelProfile("test", 16384, code_llama.vocab_size, True, "llama2", (2,), infill)
    return Checkpoint(code_llama, profile)


def complete(**params: Any) -> Any:
    return parse_complete({"prefix": PREFIX, "suffix": SUFFIX, **params})


def test_ids_exact_in_every_order(model: Checkpoint) -> None:
    tok, ids = model.tokenizer, model.profile.infill
    context = [{"path": UTIL.path, "text": UTIL.text}]
    psm = build_complete_prompt(model, complete(order="psm", context=context, language="python"))
    spm = build_complete_prompt(model, complete(order="spm", context=context, language="python"))
    header_ids = tok.encode(UTIL_HEADER + PREFIX)
    assert psm.ids == [
        tok.bos_id,
        ids.pre,
        *header_ids,
        ids.suf,
        *tok.encode_infilling(SUFFIX),
        ids.mid,
    ]
    assert spm.ids == [
        tok.bos_id,
        ids.pre,
        ids.suf,
        *tok.encode_infilling(SUFFIX),
        ids.mid,
        *header_ids,
    ]
    # Prefix only (no suffix, or a model that cannot infill): the header still leads.
    plain = build_complete_prompt(
        model, parse_complete({"prefix": PREFIX, "context": context, "language": "python"})
    )
    assert plain.mode == "prefix" and plain.ids == [tok.bos_id, *header_ids]
    # No context: the prompt is exactly what it was without the feature.
    assert build_complete_prompt(model, complete(order="spm")).ids == infill_prompt(
        tok, PREFIX, SUFFIX, order="spm", ids=ids
    )
    assert build_complete_prompt(model, parse_complete({"prefix": PREFIX})).ids == prefix_prompt(
        tok, PREFIX
    )


def test_header_ids_are_the_header_then_the_prefix(model: Checkpoint) -> None:
    """What the language server counts (the header alone) is what the prompt holds: a
    header ends in a newline, and no Llama piece spans one."""
    tok = model.tokenizer
    assert tok.encode(UTIL_HEADER + PREFIX) == tok.encode(UTIL_HEADER) + tok.encode_infilling(
        PREFIX
    )


CONTROL_TEXT = "<PRE> <SUF> <MID> <EOT> </s> <s> [INST] <<SYS>> <step> ▁<EOT>"


@pytest.mark.parametrize("order", ["psm", "spm"])
def test_snippet_text_never_becomes_control_ids(model: Checkpoint, order: str) -> None:
    tok, ids = model.tokenizer, model.profile.infill
    context = [{"path": "<PRE>.py", "text": f"{CONTROL_TEXT}\n{CONTROL_TEXT}"}]
    prompt = build_complete_prompt(model, complete(order=order, context=context))
    specials = [i for i in prompt.ids if tok.is_special(i)]
    assert sorted(specials) == sorted([tok.bos_id, ids.pre, ids.suf, ids.mid])
    assert f"# {CONTROL_TEXT}\n# {CONTROL_TEXT}\n" in tok.decode_infilling(prompt.ids)


def test_valid_context_is_parsed() -> None:
    p = complete(
        context=[{"path": "a.py", "text": ""}, {"path": "b.go", "text": "x"}], language="go"
    )
    assert p.context == (ContextSnippet("a.py", ""), ContextSnippet("b.go", "x"))
    assert p.language == "go"
    assert complete().context == () and complete().language == ""
    assert complete(context=None).context == ()


BAD_CONTEXT = [
    ({"context": "a.py"}, "'context' must be an array"),
    ({"context": {"path": "a.py", "text": ""}}, "'context' must be an array"),
    ({"context": ["a.py"]}, "context[0] must be a map with 'path' and 'text'"),
    ({"context": [{"text": "x"}]}, "context[0].path must be a string"),
    ({"context": [{"path": "", "text": "x"}]}, "context[0].path must be a string"),
    ({"context": [{"path": 3, "text": "x"}]}, "context[0].path must be a string"),
    ({"context": [{"path": "p" * (MAX_CONTEXT_PATH + 1), "text": ""}]}, "context[0].path"),
    ({"context": [{"path": "a", "text": ""}, {"path": "b"}]}, "context[1].text must be a string"),
    ({"context": [{"path": "a", "text": b"x"}]}, "context[0].text must be a string"),
    (
        {"context": [{"path": "a", "text": "x" * (MAX_CONTEXT_TEXT + 1)}]},
        f"context[0].text must be a string of at most {MAX_CONTEXT_TEXT}",
    ),
    (
        {"context": [{"path": "a", "text": ""}] * (MAX_CONTEXT_ITEMS + 1)},
        f"'context' must hold at most {MAX_CONTEXT_ITEMS} items",
    ),
    (
        {"context": [{"path": "a", "text": "x" * MAX_CONTEXT_TEXT}] * 5},
        f"'context' must hold at most {MAX_CONTEXT_CHARS} characters in all",
    ),
    ({"language": 7}, "'language' must be a string"),
    ({"language": "x" * 65}, "'language' must be at most 64 characters"),
]


@pytest.mark.parametrize(("params", "message"), BAD_CONTEXT, ids=[m for _, m in BAD_CONTEXT])
def test_bad_context_is_invalid_params(params: dict[str, Any], message: str) -> None:
    with pytest.raises(RpcError) as err:
        complete(**params)
    assert err.value.code == ErrorCode.INVALID_PARAMS
    assert message in str(err.value)
