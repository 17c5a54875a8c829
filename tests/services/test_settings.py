"""Settings from editors: VS Code names and empty values are accepted, bad values are reported, never raised."""

from sessionlens.services.settings import merge_settings


def test_vscode_llm_names_and_empty_values():
    s, errors = merge_settings({"llm": {"model": "", "baseUrl": "http://127.0.0.1:9", "timeoutSeconds": 5, "maxTokens": 99}})
    assert errors == []
    assert s.llm.model == "claude-sonnet-4-5" and s.llm.base_url == "http://127.0.0.1:9"
    assert s.llm.timeout_s == 5 and s.llm.max_tokens == 99


def test_store_path_nesting_and_invalid_values():
    s, errors = merge_settings({"store": {"path": "/tmp/x"}}, {"sessionlens": {"homeLogsScope": "nowhere", "includeHomeLogs": False}})
    assert str(s.home) == "/tmp/x" and s.include_home_logs is False
    assert s.home_logs_scope == "workspace" and errors and "homeLogsScope" in errors[0]


def test_the_command_lines_settings_have_the_models_attributes_and_defaults():
    """``CliSettings`` (plain values, no pydantic) answers every setting as ``Settings`` does."""
    from sessionlens.services.settings import CliSettings, Settings

    for cli, model in (
        (CliSettings(), Settings()),
        (CliSettings("/tmp/store", False), Settings(storePath="/tmp/store", includeHomeLogs=False)),
    ):
        for name in Settings.model_fields:
            assert getattr(cli, name) == getattr(model, name), name
        assert cli.home == model.home
    assert CliSettings("~/x").home.is_absolute()
