from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sessionlens.coach.config import (
    CoachConfig,
    LLMConfig,
    ProjectConfig,
    disable_rule_edit,
    load_project_config,
)
from sessionlens.models import Severity


def test_defaults_and_schema_descriptions() -> None:
    cfg = CoachConfig()
    assert cfg.repeat_threshold == 3 and cfg.rule("anything").enabled
    llm = LLMConfig()
    assert (llm.model, llm.base_url, llm.timeout_s, llm.max_tokens, llm.context_budget_chars, llm.api_key_env) == (
        "claude-sonnet-4-5",
        None,
        60,
        1024,
        24000,
        "ANTHROPIC_API_KEY",
    )
    for model in (CoachConfig, LLMConfig, ProjectConfig):
        schema = model.model_json_schema()
        for name, prop in schema["properties"].items():
            assert prop.get("description"), f"{model.__name__}.{name} has no description"
    assert "error" not in ProjectConfig.model_json_schema()["properties"]


@pytest.mark.parametrize(
    "command",
    [
        "pytest -x",
        "python3 -m pytest tests",
        "npm test",
        "pnpm run test",
        "yarn test",
        "go test ./...",
        "cargo test",
        "mvn -q test",
        "./gradlew test",
        "make test",
        "make check",
        "npx jest",
        "vitest run",
        "tox",
        "nox -s tests",
        "bundle exec rspec",
        "vendor/bin/phpunit",
        "ctest",
        "dotnet test",
    ],
)
def test_default_test_patterns_match(command: str) -> None:
    assert any(re.search(p, command) for p in CoachConfig().test_command_patterns)


@pytest.mark.parametrize("command", ["ls", "cat tests/test_a.py", "git commit -m 'add test'", "make build"])
def test_default_test_patterns_do_not_match(command: str) -> None:
    assert not any(re.search(p, command) for p in CoachConfig().test_command_patterns)


def test_load_missing_file_gives_defaults(tmp_path: Path) -> None:
    cfg = load_project_config(tmp_path)
    assert cfg == ProjectConfig() and cfg.error is None


def test_load_valid_file(tmp_path: Path) -> None:
    (tmp_path / ".sessionlens.json").write_text(
        json.dumps(
            {
                "coach": {"rules": {"tool-error": {"enabled": False, "severity": "hint"}}, "slow_tool_seconds": 5},
                "pricing": {"m": {"input": 1}},
                "llm": {"model": "x"},
                "other": 1,
            }
        )
    )
    cfg = load_project_config(tmp_path / ".sessionlens.json")
    assert cfg.error is None and cfg.model_extra == {"pricing": {"m": {"input": 1}}, "llm": {"model": "x"}, "other": 1}
    assert cfg.coach.rule("tool-error").enabled is False and cfg.coach.rule("tool-error").severity is Severity.HINT
    assert cfg.coach.slow_tool_seconds == 5


def test_load_bad_json_never_raises(tmp_path: Path) -> None:
    (tmp_path / ".sessionlens.json").write_text("{not json")
    cfg = load_project_config(tmp_path)
    assert cfg.coach == CoachConfig() and "cannot read configuration" in cfg.error
    (tmp_path / ".sessionlens.json").write_text("[1, 2]")
    assert "JSON object" in load_project_config(tmp_path).error


def test_load_invalid_section_keeps_valid_ones(tmp_path: Path) -> None:
    (tmp_path / ".sessionlens.json").write_text(
        json.dumps({"coach": {"test_command_patterns": ["(unclosed"], "repeat_threshold": 1}, "llm": {"model": "kept"}})
    )
    cfg = load_project_config(tmp_path)
    assert cfg.model_extra == {"llm": {"model": "kept"}} and cfg.coach == CoachConfig()
    assert "coach.test_command_patterns" in cfg.error and "coach.repeat_threshold" in cfg.error


def test_disable_rule_edit_creates_and_preserves() -> None:
    new = json.loads(disable_rule_edit(None, "tool-error"))
    assert new == {"coach": {"rules": {"tool-error": {"enabled": False}}}}
    text = json.dumps(
        {"pricing": {"a": 1}, "coach": {"repeat_threshold": 4, "rules": {"tool-error": {"severity": "hint"}, "x": {"enabled": True}}}}
    )
    out = disable_rule_edit(text, "tool-error")
    data = json.loads(out)
    assert data["pricing"] == {"a": 1} and data["coach"]["repeat_threshold"] == 4
    assert data["coach"]["rules"] == {"tool-error": {"severity": "hint", "enabled": False}, "x": {"enabled": True}}
    assert out.endswith("\n")
    assert ProjectConfig.model_validate(data).coach.rule("tool-error").enabled is False


def test_disable_rule_edit_refuses_invalid_json() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        disable_rule_edit("{oops", "tool-error")
    with pytest.raises(ValueError, match="must be an object"):
        disable_rule_edit('{"coach": 3}', "tool-error")


def test_the_project_config_declares_only_what_is_read() -> None:
    # `pricing` and `llm` were advertised in the schema but nothing read them per project
    assert set(ProjectConfig.model_fields) == {"coach"}
