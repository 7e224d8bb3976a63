"""Settings as editors send them: `[]` for an empty table (Neovim), bad values kept out with a reason."""

from __future__ import annotations

from lsp_server.config import Settings, parse_settings, setting_keys, unknown_settings


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


def test_unknown_keys_are_named_with_the_closest_setting() -> None:
    raw = {
        "tandem": {
            "host": {"modle": "x", "model": "y", "request_timeout": 3},
            "completion": {"maxTokenLine": 3},
            "completions": {},
            "debounceMs": 5,
            "logLevel": "debug",
            "zzz": 1,
        }
    }
    found = {u.key: u.suggestion for u in unknown_settings(raw)}
    assert found == {
        "host.modle": "host.model",
        "completion.maxTokenLine": "completion.maxTokensLine",
        "completions": "completion",
        "debounceMs": "completion.debounceMs",
        "zzz": None,
    }
    assert unknown_settings({"host": {"model": "m"}, "log_level": "info"}) == []
    assert unknown_settings([]) == [] and unknown_settings(None) == []
    # The valid settings beside them still apply.
    settings, problems = parse_settings(raw)
    assert settings.host.model == "y" and settings.host.request_timeout == 3 and problems == []


def test_every_documented_key_is_a_setting() -> None:
    from tests.paths import ROOT

    readme = (ROOT / "README.md").read_text()
    for key in setting_keys():
        assert f"| `{key}` |" in readme, key
