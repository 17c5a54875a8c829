"""The normalized event model shared by every layer.

Parsers (``sessionlens.ingest``) produce these objects from raw log lines; the store persists
them; every service, the CLI and the language server read them back.  No I/O here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sessionlens.models.construct import prime_shared
from sessionlens.models.kinds import Agent, EventKind, TokenFigures

__all__ = [
    "Agent",
    "Event",
    "EventKind",
    "ParseProblem",
    "ParseResult",
    "ParserState",
    "Project",
    "Session",
    "TokenUsage",
    "Turn",
    "UsageRecord",
]


class TokenUsage(BaseModel, TokenFigures):
    """Tokens of one billed model request (or a delta of Codex's running total).

    Normalized across providers:
    * ``input_tokens`` are *uncached* prompt tokens;
    * ``cache_read_tokens`` are prompt tokens served from cache (Codex ``cached_input_tokens``,
      Claude ``cache_read_input_tokens``);
    * ``cache_write_5m_tokens`` / ``cache_write_1h_tokens`` are Claude cache writes by TTL;
    * ``output_tokens`` include ``reasoning_tokens`` (OpenAI semantics; Claude reports none).
    """

    model_config = ConfigDict(extra="forbid")

    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0

    def add(self, other: "TokenUsage") -> "TokenUsage":
        return TokenUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_5m_tokens=self.cache_write_5m_tokens + other.cache_write_5m_tokens,
            cache_write_1h_tokens=self.cache_write_1h_tokens + other.cache_write_1h_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
        )


class UsageRecord(BaseModel):
    """A billed usage entry, deduplicated in the store by ``key``.

    ``key`` is globally unique for one billed request: Claude ``claude:<message.id>:<requestId>``
    (so a resumed session's replayed messages and per-content-block copies count once),
    Codex ``codex:<session id>:<line>`` for each token_count whose running total changed.
    When the same key is seen again the store keeps the record with the largest output count.
    """

    key: str
    line: int
    timestamp: datetime | None = None
    model: str | None = None
    usage: TokenUsage
    speed: str | None = None  # "fast" when the provider reports fast mode
    cost_usd: float | None = None  # a cost recorded in the log itself (old Claude costUSD)


class Event(BaseModel):
    """One line of a session log, normalized.  ``seq`` equals the 1-based line number."""

    seq: int
    line: int  # 1-based line number in the file
    offset: int  # byte offset of the line start
    length: int = 0  # bytes of the line (without the newline)
    timestamp: datetime | None = None
    kind: EventKind
    subtype: str | None = None  # the raw line type, e.g. "response_item/function_call", "progress/bash_progress"
    role: str | None = None
    turn: int | None = None  # turn index (0-based) within the session, None before the first turn
    tool: str | None = None  # tool name for tool calls and results
    call_id: str | None = None  # links a call to its result
    command: str | None = None  # shell command text for shell-like tool calls
    exit_code: int | None = None
    is_error: bool = False
    duration_ms: int | None = None
    text: str | None = None  # readable content (prompt, answer, reasoning summary, output excerpt, patch)
    files: list[str] = Field(default_factory=list)  # files touched or read
    model: str | None = None
    usage: TokenUsage | None = None  # only set on the event that carries the (deduplicated) usage
    usage_key: str | None = None
    duplicate: bool = False  # a mirror of another event (Codex agent_message vs response_item...)
    sidechain: bool = False  # belongs to a sub-agent conversation inline in this file
    agent_id: str | None = None  # Claude sub-agent id
    parent_call_id: str | None = None  # the tool call (Task/Agent) that started this sub-agent activity
    message_id: str | None = None  # Claude message.id / Codex item id
    request_id: str | None = None
    uuid: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)  # small, format-specific details


prime_shared(Event)  # events read back by the hundred thousand share their field names (models.construct)


class Turn(BaseModel):
    """A user prompt and everything the agent did until the next prompt."""

    index: int
    start_line: int
    end_line: int
    started_at: datetime | None = None
    ended_at: datetime | None = None
    prompt: str | None = None
    model: str | None = None
    turn_id: str | None = None  # Codex turn_id when known
    aborted: bool = False
    duration_ms: int | None = None


class Project(BaseModel):
    """A project is the git root of a session's cwd (or the cwd itself when no repository is found)."""

    root: str
    name: str


class Session(BaseModel):
    id: str
    agent: str  # a registered agent's name (sessionlens.agents.names())
    source_files: list[str] = Field(default_factory=list)
    cwd: str | None = None
    project: str | None = None  # Project.root
    git_branch: str | None = None
    git_commit: str | None = None
    git_remote: str | None = None
    models: list[str] = Field(default_factory=list)
    cli_version: str | None = None
    originator: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    parent_session_id: str | None = None  # sub-agent's parent, or the session a fork was made from
    agent_id: str | None = None  # Claude sub-agent id / Codex agent nickname
    title: str | None = None  # Claude summary line / first prompt
    #: some billed requests' prompt tokens are not in the log (Copilot CLI: a segment that ended without
    #: ``session.shutdown``): the session's token and cost figures are a lower bound
    usage_lower_bound: bool = False


class ParseProblem(BaseModel):
    line: int
    offset: int
    message: str
    severity: str = "error"  # "error" | "warning"


class ParserState(BaseModel):
    """Everything a parser needs to continue a file from ``offset`` after it grew.

    Persisted as JSON in the store next to the file row.
    """

    model_config = ConfigDict(extra="allow")

    offset: int = 0  # bytes consumed (always the end of a complete line)
    line: int = 0  # lines consumed
    session: Session | None = None
    turn: int | None = None  # current turn index
    turns: int = 0  # number of turns opened so far
    model: str | None = None  # current model
    data: dict[str, Any] = Field(default_factory=dict)  # format-specific running state


class ParseResult(BaseModel):
    """What one parse pass produced over the bytes ``[start_offset, state.offset)``."""

    agent: str
    session: Session
    events: list[Event] = Field(default_factory=list)
    turns: list[Turn] = Field(default_factory=list)  # turns opened or updated in this pass
    usage: list[UsageRecord] = Field(default_factory=list)
    problems: list[ParseProblem] = Field(default_factory=list)
    state: ParserState
