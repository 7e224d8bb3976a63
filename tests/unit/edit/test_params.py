"""Reading edit params and command arguments; which models can edit; which code actions are offered."""

from __future__ import annotations

from typing import Any

import pytest
from lsprotocol import types

from lsp_server.edit import EditInputError, cannot_chat_reason
from lsp_server.edit.actions import code_actions, has_edit_input, label
from lsp_server.edit.params import parse_command, parse_edit

RANGE = {"start": {"line": 1, "character": 0}, "end": {"line": 3, "character": 2}}


def test_edit_params_read_with_defaults() -> None:
    p = parse_edit(
        {"textDocument": {"uri": "file:///a.py"}, "range": RANGE, "instruction": " add x "}
    )
    assert (p.uri, p.start.line, p.end.character, p.instruction) == ("file:///a.py", 1, 2, "add x")
    assert p.version is None and p.edit_id is None and p.stream is False


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"range": RANGE, "instruction": "x"}, "textDocument.uri"),
        ({"textDocument": {"uri": "u"}, "instruction": "x"}, "'range'"),
        ({"textDocument": {"uri": "u"}, "range": RANGE, "instruction": ""}, "non-empty"),
        ({"textDocument": {"uri": "u"}, "range": RANGE, "instruction": "x" * 2001}, "2000"),
        (
            {"textDocument": {"uri": "u"}, "range": RANGE, "instruction": "x", "version": "7"},
            "version",
        ),
        ({"textDocument": {"uri": "u"}, "range": RANGE, "instruction": "x", "editId": 3}, "editId"),
        (
            {
                "textDocument": {"uri": "u"},
                "range": {"start": RANGE["end"], "end": RANGE["start"]},
                "instruction": "x",
            },
            "ends before",
        ),
        (
            {
                "textDocument": {"uri": "u"},
                "range": {"start": {"line": -1, "character": 0}, "end": RANGE["end"]},
                "instruction": "x",
            },
            "negative",
        ),
    ],
)
def test_bad_edit_params_say_what_is_wrong(params: dict[str, Any], says: str) -> None:
    with pytest.raises(EditInputError, match=says):
        parse_edit(params)


def test_command_argument_with_a_preset_and_diagnostics() -> None:
    p = parse_command(
        (
            {
                "uri": "file:///a.py",
                "range": RANGE,
                "preset": "fix",
                "diagnostics": [
                    {
                        "range": {"start": {"line": 4, "character": 0}},
                        "message": "undefined  name\n'x'",
                    },
                    {"message": 5},
                ],
            },
        )
    )
    assert p.instruction == "" and p.preset == "fix"
    assert p.problems == ("line 5: undefined name 'x'",)
    with pytest.raises(EditInputError, match="instruction"):
        parse_command(({"uri": "u", "range": RANGE},))
    with pytest.raises(EditInputError, match="preset"):
        parse_command(({"uri": "u", "range": RANGE, "preset": "poem"},))


@pytest.mark.parametrize(
    ("model", "can"),
    [
        ({"name": "codellama/CodeLlama-7b-Instruct-hf", "chat_format": "llama2"}, True),
        ({"name": "/models/CodeLlama-70b-Instruct-hf/", "chat_format": "codellama-70b"}, True),
        ({"name": "meta-llama/Llama-2-7b-chat-hf", "chat_format": "llama2"}, True),
        ({"name": "/tmp/tiny/model", "chat_format": "llama2"}, True),
        ({"name": "codellama/CodeLlama-7b-hf", "chat_format": "llama2"}, False),
        ({"name": "codellama/CodeLlama-13b-Python-hf", "chat_format": "llama2"}, False),
        ({"name": "anything", "chat_format": None}, False),
        ({"name": "codellama/CodeLlama-7b-hf", "chat_format": "llama2", "can_chat": True}, True),
        (None, False),
    ],
)
def test_which_models_can_edit(model: dict[str, Any] | None, can: bool) -> None:
    assert (cannot_chat_reason(model) is None) is can


def test_the_cannot_chat_message_names_what_is_needed() -> None:
    reason = cannot_chat_reason({"name": "codellama/CodeLlama-7b-hf", "chat_format": "llama2"})
    assert reason == (
        "the loaded model codellama/CodeLlama-7b-hf is a base/Python checkpoint and cannot follow "
        "instructions; load a Code Llama Instruct checkpoint (e.g. "
        "codellama/CodeLlama-7b-Instruct-hf) to edit by instruction"
    )


def _params(
    rng: types.Range, diagnostics: list[types.Diagnostic], only: list[str] | None = None
) -> types.CodeActionParams:
    return types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri="file:///a.py"),
        range=rng,
        context=types.CodeActionContext(diagnostics=diagnostics, only=only),
    )


def test_code_actions_by_selection_diagnostics_and_kind() -> None:
    p0, p1 = types.Position(line=0, character=0), types.Position(line=2, character=0)
    selected = _params(types.Range(start=p0, end=p1), [])
    assert [a.title for a in code_actions(selected, edit_input=True)] == [
        "Tandem: Edit…",
        "Tandem: Fix",
        "Tandem: Document",
        "Tandem: Add tests",
    ]
    assert [a.kind for a in code_actions(selected, edit_input=False)] == [
        "quickfix.tandem.fix",
        "refactor.rewrite.tandem.document",
        "refactor.rewrite.tandem.tests",
    ]
    only = _params(types.Range(start=p0, end=p1), [], only=["quickfix"])
    assert [a.title for a in code_actions(only, edit_input=True)] == ["Tandem: Fix"]
    d = types.Diagnostic(
        range=types.Range(
            start=types.Position(line=4, character=2), end=types.Position(line=4, character=5)
        ),
        message="boom",
    )
    cursor = _params(types.Range(start=p1, end=p1), [d])
    (fix,) = code_actions(cursor, edit_input=True)
    assert fix.command is not None and fix.command.arguments is not None
    assert fix.command.arguments[0]["diagnostics"][0]["message"] == "boom"
    assert fix.command.arguments[0]["range"]["start"] == {"line": 4, "character": 2}
    assert code_actions(_params(types.Range(start=p1, end=p1), []), edit_input=True) == []


def test_edit_input_capability_and_labels() -> None:
    caps = types.ClientCapabilities(experimental={"tandem": {"editInput": True}})
    assert has_edit_input(caps) and not has_edit_input(types.ClientCapabilities())
    assert label("", "tests") == "Tandem: Add tests"
    assert label("make it async", None) == "Tandem: make it async"
