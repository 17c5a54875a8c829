"""Per-project coach configuration: the ``.sessionlens.json`` file at a project root.

```json
{"coach": {"rules": {"tool-error": {"enabled": false}}, "slow_tool_seconds": 300},
 "llm": {"model": "claude-sonnet-4-5"}, "pricing": {...}}
```
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from sessionlens.coach.evidence import BLOCKING_TOOLS
from sessionlens.models import Severity

log = logging.getLogger(__name__)

CONFIG_FILENAME = ".sessionlens.json"

DEFAULT_TEST_COMMAND_PATTERNS: list[str] = [
    r"\bpytest\b",
    r"\bpython[0-9.]*\s+-m\s+(?:pytest|unittest)\b",
    r"\b(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?test\b",
    r"\bnpx\s+(?:jest|vitest|mocha|playwright\s+test)\b",
    r"\b(?:jest|vitest|mocha|ava)\b",
    r"\bgo\s+test\b",
    r"\bcargo\s+(?:test|nextest)\b",
    r"\b(?:mvn|mvnw|\./mvnw)\b.*\b(?:test|verify)\b",
    r"\b(?:gradle|gradlew|\./gradlew)\b.*\b(?:test|check)\b",
    r"\bmake\s+(?:-\S+\s+)*(?:test|tests|check)\b",
    r"\b(?:tox|nox)\b",
    r"\b(?:rspec|bundle\s+exec\s+rspec|rake\s+test)\b",
    r"\b(?:phpunit|pest)\b",
    r"\bctest\b",
    r"\bdotnet\s+test\b",
    r"\bswift\s+test\b",
    r"\bmix\s+test\b",
    r"\bdeno\s+test\b",
    r"\bbazel\s+test\b",
    r"\bhatch\s+(?:run\s+)?test\b",
    r"\buv\s+run\s+(?:pytest|python\s+-m\s+pytest)\b",
]


class RuleConfig(BaseModel):
    """Settings of one coach rule."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Run this rule. Set to false to silence it for this project.")
    severity: Severity | None = Field(None, description="Override the rule's default severity (error, warning, info, hint).")


class CoachConfig(BaseModel):
    """Deterministic coach rules: which run, at which severity, and their thresholds."""

    model_config = ConfigDict(extra="forbid")

    rules: dict[str, RuleConfig] = Field(
        default_factory=dict,
        description='Per-rule settings keyed by rule id (e.g. "tool-error"). Rules not listed run with defaults.',
    )
    repeat_threshold: int = Field(3, ge=2, description="repeated-failure: how many failures of the same command count as a loop.")
    huge_output_chars: int = Field(20_000, ge=1, description="huge-tool-output: tool output longer than this many characters is flagged.")
    slow_tool_seconds: float = Field(
        120.0, gt=0, description="slow-tool-call: tool calls that took longer than this many seconds are flagged."
    )
    slow_tool_ignore: list[str] = Field(
        default_factory=lambda: list(BLOCKING_TOOLS),
        description="slow-tool-call: tool names that are expected to be slow (sub-agents, waiting for the user), "
        "besides the tools that block by design (TaskOutput, BashOutput, wait-like tools), which are never flagged.",
    )
    token_outlier_factor: float = Field(
        3.0, gt=1, description="token-outlier: a turn using more than this factor times the session median is flagged."
    )
    token_outlier_min_tokens: int = Field(100_000, ge=0, description="token-outlier: turns below this many tokens are never flagged.")
    test_command_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_TEST_COMMAND_PATTERNS),
        description="Regular expressions (Python syntax, searched in shell commands) that identify a test run. "
        "Replaces the defaults when set.",
    )
    doc_file_extensions: list[str] = Field(
        default_factory=lambda: [".md", ".markdown", ".rst", ".txt", ".adoc"],
        description="no-tests-after-edit: edits that only touch files with these extensions do not need tests.",
    )

    @field_validator("test_command_patterns")
    @classmethod
    def _check_patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
        return value

    def rule(self, rule_id: str) -> RuleConfig:
        return self.rules.get(rule_id) or RuleConfig()


class LLMConfig(BaseModel):
    """Anthropic model used by the coach's explanations and session reviews."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field("claude-sonnet-4-5", description="Anthropic model name.")
    base_url: str | None = Field(None, description="API base URL (for a proxy or gateway). Defaults to the SDK's (env ANTHROPIC_BASE_URL).")
    timeout_s: float = Field(60.0, gt=0, description="Request timeout in seconds.")
    max_tokens: int = Field(1024, ge=1, description="Maximum tokens of a coach answer.")
    max_retries: int = Field(2, ge=0, description="Retries on connection errors, 429 and 5xx (with backoff).")
    context_budget_chars: int = Field(
        24_000, ge=1000, description="Maximum characters of session content sent in one request (after redaction)."
    )
    api_key_env: str = Field("ANTHROPIC_API_KEY", description="Environment variable holding the API key.")


class ProjectConfig(BaseModel):
    """Top level of a project's ``.sessionlens.json``."""

    model_config = ConfigDict(extra="allow")

    coach: CoachConfig = Field(default_factory=CoachConfig, description="Coach rules and thresholds.")
    # No `pricing` or `llm` here: nothing read them per project (prices are the store's `config.json` `pricing`
    # section, the LLM the editor's `sessionlens.llm` settings). Other keys are kept (and ignored) as written.

    _error: str | None = PrivateAttr(default=None)

    @property
    def error(self) -> str | None:
        """Why (part of) the file was ignored, or None when it loaded cleanly."""
        return self._error


def _format_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ())) or "(top level)"
        parts.append(f"{loc}: {err.get('msg')}")
    return "; ".join(parts)


def load_project_config(path: str | os.PathLike[str]) -> ProjectConfig:
    """Load ``.sessionlens.json`` (``path`` is the file or the directory holding it).

    Never raises: a missing file gives defaults; unreadable/invalid JSON gives defaults with
    ``config.error`` set; an invalid section falls back to that section's defaults (the valid
    sections are kept) and ``config.error`` names the offending fields.
    """
    p = Path(path)
    if p.is_dir():
        p = p / CONFIG_FILENAME
    if not p.exists():
        return ProjectConfig()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        cfg = ProjectConfig()
        cfg._error = f"{p}: cannot read configuration ({exc}); using defaults"
        log.warning(cfg._error)
        return cfg
    if not isinstance(data, dict):
        cfg = ProjectConfig()
        cfg._error = f"{p}: expected a JSON object at the top level; using defaults"
        return cfg
    try:
        return ProjectConfig.model_validate(data)
    except ValidationError as exc:
        problems = _format_validation(exc)
    kept: dict[str, Any] = {}
    for key, value in data.items():
        try:
            ProjectConfig.model_validate({key: value})
            kept[key] = value
        except ValidationError:
            continue
    cfg = ProjectConfig.model_validate(kept)
    cfg._error = f"{p}: invalid settings ignored ({problems})"
    log.warning(cfg._error)
    return cfg


def disable_rule_edit(text: str | None, rule_id: str) -> str:
    """Return the new ``.sessionlens.json`` text with ``coach.rules[rule_id].enabled = false``.

    Other keys are preserved.  ``text`` None or blank means the file does not exist yet.
    Raises ``ValueError`` when the existing text is not a JSON object (it is not overwritten).
    """
    if text is None or not text.strip():
        data: dict[str, Any] = {}
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{CONFIG_FILENAME} is not valid JSON ({exc}); fix it before disabling a rule") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{CONFIG_FILENAME} must contain a JSON object")
    coach = data.setdefault("coach", {})
    if not isinstance(coach, dict):
        raise ValueError(f'"coach" in {CONFIG_FILENAME} must be an object')
    rules = coach.setdefault("rules", {})
    if not isinstance(rules, dict):
        raise ValueError(f'"coach.rules" in {CONFIG_FILENAME} must be an object')
    rule = rules.get(rule_id)
    if not isinstance(rule, dict):
        rule = {}
    rule["enabled"] = False
    rules[rule_id] = rule
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
