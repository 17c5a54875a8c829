"""A session listing: the filters every surface offers (CLI ``sessions``, the LSP ``sessions`` command,
the web UI's sessions page, saved views) and the row each of them shows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sessionlens.models.store import StoredSession

#: what a listing can be sorted by
SessionSort = Literal["started", "ended", "cost", "tokens", "events", "turns", "findings", "agent", "title"]
SESSION_SORTS: tuple[str, ...] = ("started", "ended", "cost", "tokens", "events", "turns", "findings", "agent", "title")


class SessionFilter(BaseModel):
    """Which sessions, in which order.  Times are unix seconds (the caller parses dates and spans)."""

    model_config = ConfigDict(frozen=True)

    agent: str | None = None
    project: str | None = Field(None, description="a project root, a cwd, or a project's folder name")
    since: float | None = Field(None, description="active at or after (ended, else started)")
    until: float | None = Field(None, description="started before")
    text: str | None = Field(None, description="a substring of the title, id, project or log path (literal: no wildcards)")
    has_findings: bool = False
    include_subagents: bool = True
    projects_under: Sequence[str] = Field((), description="only sessions in (or logged under) these folders: a workspace")
    path_prefixes: Sequence[str] | None = Field(None, description="only log files under these prefixes (a hub caller's scope); None: all")
    session_ids: Sequence[str] | None = None
    sort: SessionSort = "started"
    descending: bool = True
    limit: int = Field(100, ge=1)
    offset: int = Field(0, ge=0)


class SessionSummary(StoredSession):
    """One session as a listing shows it: the stored facts plus its priced usage and findings."""

    cost_usd: float = 0.0
    cost_known: bool = True
    tokens: int | None = Field(0, description="None: the agent's logs record no token counts (unknown, never 0)")
    findings: int = 0


class SessionPage(BaseModel):
    """One page of a listing, the number of sessions the filters match, and facet counts over them."""

    total: int
    rows: list[SessionSummary]
    facets: dict[str, list[tuple[str, int]]] = {}
