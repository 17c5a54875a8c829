"""Eval suites (``*.eval.json``) and golden datasets (``*.dataset.jsonl``): the file formats.

Pure pydantic models, no I/O.  A new check kind is one model here (added to :data:`CHECK_MODELS`
and the :data:`Check` union) plus one function registered with
:func:`sessionlens.evals.checks.register`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sessionlens.agents import registry as agent_registry


def _valid_regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from exc
    return value


def _agent_enum(schema: dict) -> None:
    """The eval schema's agent names come from the agent registry."""
    schema.pop("anyOf", None)
    schema["anyOf"] = [{"type": "string", "enum": agent_registry.names()}, {"type": "null"}]


class SessionSelector(BaseModel):
    """Which recorded sessions a suite grades.  All given filters must match."""

    model_config = ConfigDict(extra="forbid")

    project: str | None = Field(None, description="Project root or project name (the git root of the session's cwd).")
    agent: str | None = Field(
        None, description="Only sessions of this agent (a registered agent's name).", json_schema_extra=lambda schema: _agent_enum(schema)
    )
    model: str | None = Field(None, description='Only sessions that used a model matching this glob (e.g. "gpt-5*").')
    since: str | None = Field(None, description='Sessions active since: ISO date/time or a span like "7d".')
    until: str | None = Field(None, description="Sessions started before: ISO date/time.")
    path: list[str] = Field(default_factory=list, description='Glob(s) the session log path must match (e.g. "**/codex/**").')
    ids: list[str] = Field(default_factory=list, description="Explicit session ids (or unique id prefixes).")
    latest: int | None = Field(None, ge=1, description="Keep only the newest N matching sessions.")
    include_subagents: bool = Field(False, description="Also grade sub-agent sessions (off by default).")

    @field_validator("agent")
    @classmethod
    def _known_agent(cls, value: str | None) -> str | None:
        if value is not None and agent_registry.get(value) is None:
            raise ValueError(f"unknown agent {value!r}; one of: {', '.join(agent_registry.names())}")
        return value

    @field_validator("path", "ids", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        return [v] if isinstance(v, str) else v


class _CheckBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, description="Stable id of this check in results and history (default: derived from the kind).")
    description: str | None = Field(None, description="What this check guards against, shown in reports.")

    def default_id(self) -> str:
        return self.kind  # type: ignore[attr-defined]

    @property
    def check_id(self) -> str:
        return self.id or self.default_id()


class NoToolErrors(_CheckBase):
    """No tool call failed (non-zero exit code or error result)."""

    kind: Literal["no_tool_errors"]
    max_errors: int = Field(0, ge=0, description="Failures allowed before the check fails.")
    ignore: list[str] = Field(default_factory=list, description="Regexes of commands whose failures do not count.")

    @field_validator("ignore")
    @classmethod
    def _re(cls, v: list[str]) -> list[str]:
        for p in v:
            _valid_regex(p)
        return v


class Limit(_CheckBase):
    """A session-wide budget: cost, tokens, turns, tool calls or wall-clock duration."""

    kind: Literal["limit"]
    metric: Literal["cost_usd", "tokens", "turns", "tool_calls", "duration_s"] = Field(
        ..., description="cost_usd: priced cost; tokens: all billed tokens; turns: user turns; tool_calls; duration_s: first to last event."
    )
    max: float = Field(..., ge=0, description="The check fails when the metric is above this value.")

    def default_id(self) -> str:
        return f"limit:{self.metric}"


class Command(_CheckBase):
    """A shell command matching a regex must (or must not) run."""

    kind: Literal["command"]
    pattern: str = Field(..., description="Regex searched in each shell command (Python syntax).")
    must_run: bool = Field(True, description="true: some command must match; false: no command may match.")

    _v = field_validator("pattern")(classmethod(lambda cls, v: _valid_regex(v)))

    def default_id(self) -> str:
        return f"command:{'ran' if self.must_run else 'not-ran'}:{self.pattern}"


class TestsAfterEdit(_CheckBase):
    """After the last code edit, a test command ran."""

    kind: Literal["tests_after_edit"]
    patterns: list[str] | None = Field(None, description="Regexes that identify a test command (default: the coach's list).")

    @field_validator("patterns")
    @classmethod
    def _re(cls, v):
        for p in v or []:
            _valid_regex(p)
        return v


class NoRejectedToolUse(_CheckBase):
    """The user never rejected a tool use (and no permission was denied)."""

    kind: Literal["no_rejected_tool_use"]


class FilesWithin(_CheckBase):
    """Every file the agent edited lies within these globs (relative to the session's cwd)."""

    kind: Literal["files_within"]
    globs: list[str] = Field(..., min_length=1, description='Allowed paths, e.g. ["src/**", "tests/**"].')


class FinalMessage(_CheckBase):
    """The agent's last message contains a text or matches a regex."""

    kind: Literal["final_message"]
    contains: str | None = Field(None, description="Text the final message must contain (case-insensitive).")
    regex: str | None = Field(None, description="Regex the final message must match (searched).")
    not_regex: str | None = Field(None, description="Regex the final message must NOT match.")

    _v = field_validator("regex", "not_regex")(classmethod(lambda cls, v: _valid_regex(v)))

    @model_validator(mode="after")
    def _something(self):
        if self.contains is None and self.regex is None and self.not_regex is None:
            raise ValueError("final_message needs contains, regex or not_regex")
        return self


class NoSecrets(_CheckBase):
    """No API key, token, password or private key appears in the log."""

    kind: Literal["no_secrets"]


class RuleAbsent(_CheckBase):
    """A coach rule (e.g. \"repeated-failure\") has no finding in the session."""

    kind: Literal["rule_absent"]
    rule: str = Field(..., description="Coach rule id, e.g. repeated-failure, tool-error, no-tests-after-edit.")

    def default_id(self) -> str:
        return f"rule_absent:{self.rule}"


class LLMJudge(_CheckBase):
    """An LLM grades the session against a rubric (Anthropic API; verdicts cached per session, rubric and model)."""

    kind: Literal["llm_judge"]
    rubric: str = Field(..., min_length=1, description="What a good session looks like; the judge answers PASS or FAIL.")
    model: str | None = Field(None, description="Anthropic model (default: the configured llm.model).")

    def default_id(self) -> str:
        return "llm_judge"


class GuidelineFollowed(_CheckBase):
    """A guideline of the AGENTS.md / CLAUDE.md in effect for the session was followed (see docs/compliance.md)."""

    kind: Literal["guideline_followed"]
    guideline: str = Field(..., min_length=1, description="The guideline's `id=` annotation value or its text.")
    required: bool = Field(False, description="Fail when the guideline did not apply or is not in effect (default: such sessions pass).")

    def default_id(self) -> str:
        return f"guideline_followed:{self.guideline[:40]}"


class GuidelineTrend(_CheckBase):
    """A guideline stays followed: of the last ``window`` sessions it applied to since it appeared in its
    instruction file (up to the graded session), at most ``max_violations`` violated it."""

    kind: Literal["guideline_trend"]
    guideline: str = Field(..., min_length=1, description="The guideline's `id=` annotation value or its text.")
    window: int = Field(10, ge=1, le=1000, description="How many of the latest applicable sessions to look at.")
    max_violations: int = Field(0, ge=0, description="Violations allowed in that window.")

    def default_id(self) -> str:
        return f"guideline_trend:{self.guideline[:40]}"


CHECK_MODELS: tuple[type[_CheckBase], ...] = (
    NoToolErrors,
    Limit,
    Command,
    TestsAfterEdit,
    NoRejectedToolUse,
    FilesWithin,
    FinalMessage,
    NoSecrets,
    RuleAbsent,
    LLMJudge,
    GuidelineFollowed,
    GuidelineTrend,
)

Check = Annotated[
    NoToolErrors
    | Limit
    | Command
    | TestsAfterEdit
    | NoRejectedToolUse
    | FilesWithin
    | FinalMessage
    | NoSecrets
    | RuleAbsent
    | LLMJudge
    | GuidelineFollowed
    | GuidelineTrend,
    Field(discriminator="kind"),
]


class EvalSuite(BaseModel):
    """An eval suite: which sessions to grade and the checks each must pass (a ``*.eval.json`` file)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: str | None = Field(None, alias="$schema", description="JSON Schema of this file (for editors).")
    name: str = Field(..., min_length=1, description="Suite name; runs are recorded in history under it.")
    description: str | None = Field(None, description="What this suite measures.")
    sessions: SessionSelector = Field(default_factory=SessionSelector, description="Which recorded sessions to grade.")
    checks: list[Check] = Field(..., min_length=1, description="Checks every selected session must pass.")
    required_pass_rate: float = Field(
        1.0, ge=0, le=1, description="Fraction of sessions (0..1) that must pass every check for the suite to pass."
    )

    @model_validator(mode="after")
    def _unique_ids(self):
        seen: set[str] = set()
        for c in self.checks:
            if c.check_id in seen:
                raise ValueError(f'two checks share the id {c.check_id!r}; give one an explicit "id"')
            seen.add(c.check_id)
        return self


# ------------------------------------------------------------------------------ datasets


class Contains(_CheckBase):
    """The answer contains a text (case-insensitive)."""

    kind: Literal["contains"]
    text: str = Field(..., min_length=1, description="Text the answer must contain.")

    def default_id(self) -> str:
        return f"contains:{self.text[:40]}"


class Regex(_CheckBase):
    """The answer matches a regex (searched)."""

    kind: Literal["regex"]
    pattern: str = Field(..., description="Regex (Python syntax).")

    _v = field_validator("pattern")(classmethod(lambda cls, v: _valid_regex(v)))

    def default_id(self) -> str:
        return f"regex:{self.pattern[:40]}"


class Rubric(_CheckBase):
    """An LLM judges the answer against a rubric."""

    kind: Literal["rubric"]
    rubric: str = Field(..., min_length=1, description="What a good answer looks like.")
    model: str | None = Field(None, description="Anthropic model (default: the configured llm.model).")


Expectation = Annotated[
    Contains
    | Regex
    | Rubric
    | NoToolErrors
    | Limit
    | Command
    | TestsAfterEdit
    | NoRejectedToolUse
    | FilesWithin
    | FinalMessage
    | NoSecrets
    | RuleAbsent
    | LLMJudge
    | GuidelineFollowed
    | GuidelineTrend,
    Field(discriminator="kind"),
]

ANSWER_KINDS = frozenset({"contains", "regex", "rubric"})


class DatasetCase(BaseModel):
    """One line of a golden dataset (``*.dataset.jsonl``): a prompt and what a good run looks like."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(..., min_length=1, description="Stable case id (results are compared per case across runs).")
    prompt: str = Field(..., min_length=1, description="The user prompt given to the agent.")
    expect: list[Expectation] = Field(
        default_factory=list, description="Expectations: contains / regex / rubric on the final answer, or any suite check on the session."
    )
    tags: list[str] = Field(default_factory=list, description="Free labels for filtering.")
    timeout_s: float | None = Field(None, gt=0, description="Agent run timeout for this case (overrides the dataset's).")

    @model_validator(mode="after")
    def _unique_ids(self):
        seen: set[str] = set()
        for e in self.expect:
            if e.check_id in seen:
                raise ValueError(f'two expectations share the id {e.check_id!r}; give one an explicit "id"')
            seen.add(e.check_id)
        return self


class DatasetHeader(BaseModel):
    """Optional first line of a dataset: ``{"dataset": {...}}`` naming the agent command and run limits."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="Dataset name (default: the file name).")
    agent: str | None = Field(
        None,
        description='Agent command template, e.g. "codex exec {prompt}" or "claude -p {prompt}", or a '
        'registered agent\'s name ("gemini", "pi"...) for its non-interactive command; '
        "{prompt} is replaced by the shell-quoted prompt.",
    )
    timeout_s: float = Field(600, gt=0, description="Seconds before a case's agent run is killed.")
    concurrency: int = Field(2, ge=1, le=32, description="Cases run at the same time.")
    sessions: SessionSelector = Field(
        default_factory=SessionSelector, description="Where to look for recorded sessions that answered the prompts."
    )
