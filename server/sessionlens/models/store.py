"""The rows the store's read API returns (``store.db.Store``): one return style, typed models.

They are plain rows (``models.row.Row``: no pydantic, whose import alone costs a read command ~90 ms),
built WITHOUT validation (``Row.from_dict``/``from_row``: the SQL columns already have the field types).  Field order is the JSON order:
``model_dump()`` gives exactly the dict the store returned before these models existed (the CLI's
``--json`` outputs and the LSP results built from them are byte-compatible).

Mappings of scalars keyed by an id (``Store.counts``, ``line_map``, ``turn_usage``'s turn -> model,
``sessions_per_agent``) stay mappings; small internal bookkeeping rows that never reach a contract stay
``NamedTuple`` in ``store.db`` (``OutlineRow``, ``SearchOp``, ``FindingCount``...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sessionlens.models.kinds import TokenFigures
from sessionlens.models.row import Row

if TYPE_CHECKING:
    from datetime import datetime
    from typing import TypeAlias

    from sessionlens.models.kinds import EventKind
    from sessionlens.models.session import Event, TokenUsage


class StoredSession(Row):
    """A session as stored (``Store.get_session``, ``session_for_path``, ``subagent_sessions``); times
    are unix seconds."""

    id: str
    agent: str
    cwd: str | None = None
    project: str | None = None
    git_branch: str | None = None
    git_commit: str | None = None
    git_remote: str | None = None
    models: list[str] = []
    cli_version: str | None = None
    originator: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    parent_session_id: str | None = None
    agent_id: str | None = None
    title: str | None = None
    events: int = 0
    turns: int = 0
    path: str
    file_id: int
    usage_lower_bound: bool = False


class StoredFinding(Row):
    """A coach finding as stored (``Store.findings``), with its log's path and its session's project
    and agent."""

    id: int
    file_id: int
    session_id: str
    seq: int
    rule_id: str
    severity: str
    message: str
    guideline: str | None = None
    related: list[dict[str, Any]] = []  # EventRef fields
    data: dict[str, Any] = {}
    path: str
    project: str | None = None
    agent: str | None = None


class FindingDetail(StoredFinding):
    """One finding by id (``Store.finding``): also its session's working directory."""

    cwd: str | None = None


class StoredTokenUsage(Row, TokenFigures):
    """``models.session.TokenUsage`` as a plain row (the usage of a ``StoredEvent``): the same fields,
    defaults and properties."""

    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0

    def add(self, other: AnyUsage) -> StoredTokenUsage:
        return StoredTokenUsage.from_row(getattr(self, f) + getattr(other, f) for f in self._fields)


class StoredEvent(Row):
    """``models.session.Event`` as a plain row (``Store.event_rows``: ``sessionlens show``'s timeline,
    which then needs no pydantic): the same fields in the same order with the same defaults (a test
    holds them together), ``timestamp`` a ``datetime`` and ``kind`` an ``EventKind`` as there."""

    seq: int
    line: int
    offset: int
    length: int = 0
    timestamp: datetime | None = None
    kind: EventKind
    subtype: str | None = None
    role: str | None = None
    turn: int | None = None
    tool: str | None = None
    call_id: str | None = None
    command: str | None = None
    exit_code: int | None = None
    is_error: bool = False
    duration_ms: int | None = None
    text: str | None = None
    files: list[str] = []
    model: str | None = None
    usage: StoredTokenUsage | None = None
    usage_key: str | None = None
    duplicate: bool = False
    sidechain: bool = False
    agent_id: str | None = None
    parent_call_id: str | None = None
    message_id: str | None = None
    request_id: str | None = None
    uuid: str | None = None
    extra: dict[str, Any] = {}

    def model_dump(self, **kw: Any) -> dict[str, Any]:
        """As ``Event.model_dump()`` (python mode: ``timestamp`` and ``kind`` stay objects), the usage
        a dict too."""
        if kw.get("mode", "python") != "python":
            raise ValueError("StoredEvent.model_dump: python mode only")
        out = super().model_dump(**kw)
        if out.get("usage") is not None:
            out["usage"] = out["usage"].model_dump()
        return out


if TYPE_CHECKING:
    #: an event as the renderers and the redaction read it: the pydantic model or its plain row
    AnyEvent: TypeAlias = Event | StoredEvent
    AnyUsage: TypeAlias = TokenUsage | StoredTokenUsage


class StoredProblem(Row):
    """A malformed line of a log (``Store.problems``): ``models.session.ParseProblem``'s fields."""

    line: int
    offset: int
    message: str
    severity: str = "error"


class TurnUsage(Row):
    """One turn's token usage and cost (``Store.turn_usage``)."""

    input: int
    cache_read: int
    cache_write: int  # 5-minute + 1-hour cache writes
    output: int
    cost_usd: float | None
    unknown: int  # requests without a known price


class EventUsage(Row):
    """The usage of one billed request (``Store.usage_for_event``)."""

    model: str | None
    input: int
    cache_read: int
    cache_write_5m: int
    cache_write_1h: int
    output: int
    reasoning: int
    cost_usd: float | None
    cost_known: int


class UsageRow(Row):
    """One billed request of a session (``Store.usage_rows``: exports)."""

    key: str
    seq: int
    turn: int | None
    ts: float | None
    model: str | None
    input: int
    cache_read: int
    cache_write_5m: int
    cache_write_1h: int
    output: int
    reasoning: int
    speed: str | None
    cost_usd: float | None
    cost_known: int
    log_cost_usd: float | None


class UsageTotals(Row):
    """Token and cost totals over sessions (``Store.session_totals``)."""

    input: int = 0
    cache_read: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    output: int = 0
    reasoning: int = 0
    cost_usd: float = 0.0
    unknown: int = 0  # requests without a known price, plus sessions whose agent records no tokens
    requests: int = 0
    untracked_sessions: int | None = None  # sessions of an agent that records no tokens (None: none)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ``untracked_sessions`` only when there are some (as outputs always had it)."""
        return self.model_dump(exclude={"untracked_sessions"} if self.untracked_sessions is None else None)


class UsageGroup(Row):
    """One group of a usage report (``Store.usage_report``): a key (day, week, model...) and, by time,
    a model."""

    key: str | None
    model: str
    input: int
    cache_read: int
    cache_write_5m: int
    cache_write_1h: int
    output: int
    reasoning: int
    cost_usd: float
    unknown: int
    requests: int
    sessions: int
    first_ts: float | None
    last_ts: float | None


class ConversationMessage(Row):
    """One message of a stored chat about a session (``Store.conversation``)."""

    role: str
    content: str
    created: float


class EvalRun(Row):
    """A stored eval run (``Store.eval_runs``)."""

    id: int
    suite: str
    suite_path: str | None = None
    started_at: float
    finished_at: float | None = None
    git_commit: str | None = None
    instructions_hash: str | None = None
    pinned: int = 0
    summary: dict[str, Any] = {}


class EvalResultRow(Row):
    """One check's stored result in an eval run (``Store.eval_results``)."""

    session_id: str | None = None
    case_id: str | None = None
    check_id: str
    passed: bool
    message: str | None = None
    evidence_seq: int | None = None
    data: dict[str, Any] = {}


class EditedBy(Row):
    """A session that edited some files (``store.edits.sessions_for_paths``): its edit events and when."""

    session_id: str
    agent: str
    title: str | None
    edits: int
    last: float | None
    first: float | None


class SessionEvalResult(Row):
    """An eval result recorded for a session, with its run's suite and finish time (``store.telemetry``)."""

    run_id: int
    suite: str
    finished_at: float | None
    case_id: str | None
    check_id: str
    passed: int
    message: str | None


class RuleCountByProject(Row):
    """Findings of one rule in one project (``store.webq.findings_by_project``)."""

    project: str
    rule_id: str
    severity: str
    findings: int
    sessions: int


class RecentFinding(Row):
    """A finding with its session's facts, newest sessions first (``store.webq.recent_findings``)."""

    session_id: str
    seq: int
    rule_id: str
    severity: str
    message: str
    project: str | None
    agent: str | None
    title: str | None
    started_at: float | None
