"""The ``--json`` output of the ``sessionlens`` commands: a documented, versioned contract.

``sessionlens schemas`` writes one JSON Schema per command (``schemas/cli-<command>.schema.json``,
generated from these models); tests validate every command's ``--json`` against them.  Objects
may gain fields in a compatible change (``additionalProperties`` stays open); removing or
retyping a field raises :data:`CLI_JSON_VERSION`.  See ``docs/cli-json.md``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

CLI_JSON_VERSION = 1


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class Totals(_Out):
    input: int
    cache_read: int
    cache_write_5m: int
    cache_write_1h: int
    output: int
    reasoning: int
    cost_usd: float
    unknown: int = Field(description="Billed requests whose model has no known price.")
    requests: int


class StoreStats(_Out):
    store: str = Field(description="The store directory.")
    files: int
    sessions: int
    events: int
    projects: int
    findings: int
    problems: int
    search_docs: int
    by_agent: dict[str, int]
    totals: Totals


class IndexStatsOut(_Out):
    files_seen: int
    files_changed: int
    files_skipped: int
    events: int
    bytes_parsed: int
    problems: int
    seconds: float
    errors: list[str]


class SessionRow(_Out):
    id: str
    agent: str
    path: str
    uri: str | None = Field(description="file:// URI of the log; null for an imported session.")
    cwd: str | None
    project: str | None
    project_name: str | None
    title: str | None = Field(description="Secrets masked unless --show-secrets.")
    started_at: str | None = Field(description="ISO 8601, UTC.")
    ended_at: str | None
    parent_session_id: str | None = Field(description="Set for a sub-agent session.")
    agent_id: str | None
    models: list[str]
    turns: int
    events: int
    tokens: int | None = Field(description="Null when the agent's logs record no token counts (unknown, never 0).")
    cost_usd: float
    cost_known: bool
    findings: int = Field(0, description="Coach findings of the session.")
    imported: bool = Field(description="Loaded by `sessionlens import`, not indexed from a log here.")
    log_missing: bool = Field(
        False,
        description="The log file is gone (deleted, or from another machine): the session "
        "still opens from the store; the table marks it ⊘.",
    )


class IndexOut(_Out):
    index: IndexStatsOut | None = Field(description="Null when there was nothing to index.")
    store: StoreStats
    not_session_logs: list[str] = Field(default_factory=list, description="Named files that are no session log.")


class MainOut(_Out):
    index: IndexStatsOut
    store: StoreStats
    samples: bool = Field(description="True when the bundled sample sessions (their own store) were shown.")
    sessions: list[SessionRow]


class SearchHitOut(_Out):
    session_id: str
    seq: int
    line: int = Field(description="1-based line of the event in its log.")
    path: str
    uri: str | None
    link: str = Field(description="sessionlens://session/<id>?event=<line>")
    agent: str
    project: str | None
    project_name: str | None
    kind: str
    tool: str | None
    model: str | None
    timestamp: str | None
    score: float
    snippet: str = Field(description="Secrets masked unless --show-secrets.")
    snippet_html: str
    highlights: list[list[int]] = Field(description="[start, end) character ranges of the snippet that matched.")
    title: str | None
    description: str | None = Field(description="What a tool call is for, when the agent said (Bash description).")


class SearchOut(_Out):
    total: int
    hits: list[SearchHitOut]
    warnings: list[str]


class SessionsOut(RootModel[list[SessionRow]]):
    pass


class TimelineRow(_Out):
    line: int
    time: str
    text: str


class ProblemOut(_Out):
    line: int
    offset: int
    message: str
    severity: str


class ShowOut(_Out):
    session: dict[str, Any]
    timeline: list[TimelineRow]
    problems: list[ProblemOut]


class ShowMarkdownOut(_Out):
    title: str
    markdown: str


class CostRow(_Out):
    input: int
    cache_read: int
    cache_write: int
    output: int
    cost_usd: float
    unpriced_requests: int
    requests: int


class CostTotals(_Out):
    input: int
    cache_read: int
    cache_write: int
    output: int
    cost_usd: float
    unpriced_requests: int
    requests: int


class CostOut(_Out):
    by: Literal["day", "week", "month", "session", "model", "project", "agent"]
    rows: list[CostRow]
    totals: CostTotals


class FindingCount(_Out):
    rule_id: str
    severity: str
    findings: int
    sessions: int = Field(description="Distinct sessions with a finding of this rule.")


class FindingOut(_Out):
    id: int
    rule_id: str
    severity: str
    message: str
    session_id: str
    path: str
    seq: int
    guideline: str | None
    related: list[dict[str, Any]]
    data: dict[str, Any]
    project: str | None
    agent: str | None


class CoachTotals(_Out):
    findings: int
    sessions: int = Field(description="Distinct sessions with any finding in the selection (not a sum over rules).")


class CoachOut(_Out):
    counts: list[FindingCount]
    totals: CoachTotals
    findings: list[FindingOut]


class DoctorCheck(_Out):
    section: str
    id: str
    status: Literal["ok", "info", "warn", "error"]
    title: str
    details: list[str]
    fix: str | None


class DoctorOut(_Out):
    ok: bool = Field(description="False when a check is an error (exit code 1).")
    store: str
    checks: list[DoctorCheck]


class ImportOut(_Out):
    file: str
    imported: int
    skipped: int = Field(description="Sessions already in the store (an import is idempotent).")
    events: int
    sessions: list[str]
    skipped_ids: list[str]


class SchemasOut(RootModel[list[str]]):
    pass


class EvalRunReport(_Out):
    suite: str
    kind: str
    suite_path: str | None
    run_id: int | None
    started_at: float
    finished_at: float
    git_commit: str | None
    instructions_hash: str | None
    cancelled: bool
    summary: dict[str, Any]
    regressions: list[Any]
    fixed: list[Any]
    subjects: list[dict[str, Any]]


class EvalRunOut(_Out):
    runs: list[EvalRunReport]
    ok: bool = Field(description="All suites passed (exit 0); otherwise exit 1, or 3 for regressions with --fail-on-regression.")
    regressions: int


class EvalHistoryRun(_Out):
    id: int
    suite: str
    suite_path: str | None
    started_at: float
    finished_at: float | None
    git_commit: str | None
    instructions_hash: str | None
    pinned: int | bool
    summary: dict[str, Any]


class EvalHistoryOut(_Out):
    suite: str
    runs: list[EvalHistoryRun] = Field(min_length=1, description="Newest first; an unknown suite exits 4 instead.")


class RulesOut(_Out):
    sessions: int = Field(description="Recent sessions checked.")
    rows: list[dict[str, Any]] = Field(description="One row per checkable guideline.")


class BlameSessionOut(_Out):
    session_id: str
    agent: str
    agent_label: str
    title: str | None
    edits: int = Field(description="Edit events of the session that named this file.")
    lines: int = Field(description="Current lines attributed to the session.")
    first: str | None
    last: str | None
    link: str = Field(description="sessionlens:// link of the session.")


class BlameLineOut(_Out):
    line: int = Field(description="1-based line of the file.")
    text: str
    session: int | None = Field(description="Index in `sessions` of the line's writer (null: no agent session).")


class BlameWriterOut(_Out):
    session_id: str
    agent: str
    agent_label: str
    seq: int
    line: int = Field(description="1-based line of the edit event in its log.")
    ts: str | None
    turn: int | None = Field(description="0-based turn.")
    tool: str | None
    op: str
    path: str = Field(description="The edited path relative to its repository (maybe an earlier name).")
    prompt: str | None
    title: str | None
    link: str = Field(description="sessionlens:// link of the edit event.")
    log_path: str


class BlameOut(_Out):
    path: str
    rel: str = Field(description="The file relative to its repository root.")
    root: str | None
    git: bool = Field(description="git history was used (lines committed before an edit are not its).")
    names: list[str] = Field(description="The repository-relative names the edits were looked up by (renames).")
    line_count: int
    attributed: int
    sessions: list[BlameSessionOut] = Field(description="Sessions that edited the file, most recent first.")
    lines: list[BlameLineOut] = Field(description="Every line (or the one asked for with FILE:LINE).")
    writer: BlameWriterOut | None = Field(None, description="With FILE:LINE: the edit that wrote the line.")


#: command -> (description, model) ; the schema file is ``cli-<command>.schema.json``
CLI_OUTPUTS: dict[str, tuple[str, type[BaseModel]]] = {
    "main": ("`sessionlens --json` (the main job)", MainOut),
    "index": ("`sessionlens index --json`", IndexOut),
    "stats": ("`sessionlens stats --json`", StoreStats),
    "search": ("`sessionlens search --json`", SearchOut),
    "sessions": ("`sessionlens sessions --json`", SessionsOut),
    "show": ("`sessionlens show --json`", ShowOut),
    "show-markdown": ("`sessionlens show --markdown --json`", ShowMarkdownOut),
    "cost": ("`sessionlens cost --json`", CostOut),
    "coach": ("`sessionlens coach --json`", CoachOut),
    "doctor": ("`sessionlens doctor --json`", DoctorOut),
    "import": ("`sessionlens import --json`", ImportOut),
    "schemas": ("`sessionlens schemas --json`", SchemasOut),
    "eval-run": ("`sessionlens eval run --json` and `eval dataset --json`", EvalRunOut),
    "eval-history": ("`sessionlens eval history --json`", EvalHistoryOut),
    "rules": ("`sessionlens rules --json`", RulesOut),
    "blame": ("`sessionlens blame --json`", BlameOut),
}
