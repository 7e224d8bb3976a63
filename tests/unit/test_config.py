"""Settings as editors send them: `[]` for an empty table (Neovim), bad values kept out with a reason."""

from __future__ import annotations

from lsp_server.config import Settings, parse_settings


def test_an_empty_lua_table_is_an_empty_object() -> None:
    for raw in ([], {"tandem": []}, {"host": [], "completion": [], "chat": []}, None, {}):
        settings, problems = parse_settings(raw)
        assert problems == [], raw
        assert settings == Settings(), raw


def test_an_empty_object_for_a_list_is_an_empty_list() -> None:
    settings, problems = parse_settings({"host": {"args": {}}})
    assert problems == [] and settings.host.args == []


def test_other_shapes_are_still_refused_with_a_reason() -> None:
    _, problems = parse_settings("yes")
    assert problems == ["settings must be an object, got str; ignored"]
    settings, problems = parse_settings({"host": [1], "completion": {"temperature": "hot"}})
    assert settings.completion.temperature == Settings().completion.temperature
    assert any("tandem.host: expected an object" in p for p in problems)
    assert any("tandem.completion.temperature: expected a number" in p for p in problems)
