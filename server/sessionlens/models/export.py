"""The JSON Lines export format (``sessionlens export --format jsonl``), version 1.

One JSON object per line.  The first line is a :class:`ExportHeader`; then, per session, one
:class:`ExportSession` followed by its :class:`ExportTurn`, :class:`ExportEvent`,
:class:`ExportUsage` and :class:`ExportFinding` records (each names its ``session_id``).
Events are the normalized :class:`~sessionlens.models.Event` model.  Every text is redacted
(secrets replaced by ``[REDACTED:<kind>]``) before it is written.

Readers must ignore record types they do not know; a newer minor addition keeps ``version``,
an incompatible change raises it.  ``schemas/export-record.schema.json`` is generated from here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from sessionlens.models.session import Event, Turn

EXPORT_FORMAT: Final = "sessionlens-export"
EXPORT_VERSION = 1


class _Rec(BaseModel):
    model_config = ConfigDict(extra="allow")


class ExportHeader(_Rec):
    type: Literal["header"] = "header"
    format: Literal["sessionlens-export"] = EXPORT_FORMAT
    version: int = Field(EXPORT_VERSION, description="Format version; a reader refuses a higher one.")
    exported_at: datetime
    sessionlens: str = Field(description="Version of sessionlens that wrote the file.")
    redacted: bool = Field(True, description="Secrets were replaced by [REDACTED:<kind>].")
    sessions: int = Field(description="Number of session records that follow.")


class SessionInfo(_Rec):
    id: str
    agent: str
    cwd: str | None = None
    project: str | None = Field(None, description="Project root (git root of the session's folder).")
    git_branch: str | None = None
    git_commit: str | None = None
    git_remote: str | None = None
    models: list[str] = Field(default_factory=list)
    cli_version: str | None = None
    originator: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    parent_session_id: str | None = None
    agent_id: str | None = None
    title: str | None = None
    events: int = 0
    turns: int = 0
    source_path: str | None = Field(None, description="The log file it was indexed from, on the exporting machine.")


class ExportSession(_Rec):
    type: Literal["session"] = "session"
    session: SessionInfo


class ExportTurn(_Rec):
    type: Literal["turn"] = "turn"
    session_id: str
    turn: Turn


class ExportEvent(_Rec):
    type: Literal["event"] = "event"
    session_id: str
    event: Event


class UsageInfo(_Rec):
    key: str = Field(description="Globally unique id of one billed request.")
    seq: int = Field(description="Line of the event that reported it.")
    turn: int | None = None
    timestamp: datetime | None = None
    model: str | None = None
    input: int = 0
    cache_read: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    output: int = 0
    reasoning: int = 0
    speed: str | None = None
    cost_usd: float | None = Field(None, description="Cost computed with the exporting machine's price table.")
    cost_known: bool = True
    log_cost_usd: float | None = Field(None, description="A cost the log itself recorded, if any.")


class ExportUsage(_Rec):
    type: Literal["usage"] = "usage"
    session_id: str
    usage: UsageInfo


class FindingInfo(_Rec):
    rule_id: str
    severity: str
    message: str
    seq: int
    guideline: str | None = None
    related: list[dict[str, Any]] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)


class ExportFinding(_Rec):
    type: Literal["finding"] = "finding"
    session_id: str
    finding: FindingInfo


ExportRecord = Annotated[
    ExportHeader | ExportSession | ExportTurn | ExportEvent | ExportUsage | ExportFinding,
    Field(discriminator="type"),
]

KNOWN_TYPES = ("header", "session", "turn", "event", "usage", "finding")


class ExportLine(BaseModel):
    """Any one line of an export (the schema of ``export-record.schema.json``)."""

    record: ExportRecord
