"""Coach findings: what went wrong in a session, where, and what guideline would prevent it."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    HINT = "hint"


class EventRef(BaseModel):
    """A pointer to one event: the session, its file and 1-based line (== event seq)."""

    session_id: str
    seq: int
    path: str | None = None
    line: int | None = None
    note: str | None = None


class Finding(BaseModel):
    rule_id: str
    severity: Severity
    message: str  # names the evidence
    session_id: str
    seq: int  # the primary event (1-based line)
    related: list[EventRef] = Field(default_factory=list)
    guideline: str | None = None  # suggested instruction for AGENTS.md / CLAUDE.md
    data: dict = Field(default_factory=dict)
