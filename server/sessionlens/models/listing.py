"""A session listing: the filters every surface offers (CLI ``sessions``, the LSP ``sessions`` command,
the web UI's sessions page, saved views) and the row each of them shows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sessionlens.models.row import FrozenRow, Row
from sessionlens.models.store import StoredSession

#: what a listing can be sorted by
SessionSort = Literal["started", "ended", "cost", "tokens", "events", "turns", "findings", "agent", "title"]
SESSION_SORTS: tuple[str, ...] = ("started", "ended", "cost", "tokens", "events", "turns", "findings", "agent", "title")


class SessionFilter(FrozenRow):
    """Which sessions, in which order.  Times are unix seconds (the caller parses dates and spans).

    A plain row (``models.row``: no pydantic on a listing's path); building one checks the sort,
    ``limit >= 1`` and ``offset >= 0`` (``ValueError``)."""

    agent: str | None = None
    #: a project root, a cwd, or a project's folder name
    project: str | None = None
    #: active at or after (ended, else started)
    since: float | None = None
    #: started before
    until: float | None = None
    #: a substring of the title, id, project or log path (literal: no wildcards)
    text: str | None = None
    has_findings: bool = False
    include_subagents: bool = True
    #: only sessions in (or logged under) these folders: a workspace
    projects_under: Sequence[str] = ()
    #: only log files under these prefixes (a hub caller's scope); None: all
    path_prefixes: Sequence[str] | None = None
    session_ids: Sequence[str] | None = None
    sort: SessionSort = "started"
    descending: bool = True
    limit: int = 100
    offset: int = 0

    def _check(self) -> None:
        if self.sort not in SESSION_SORTS:
            raise ValueError(f"sort: one of {', '.join(SESSION_SORTS)}, not {self.sort!r}")
        if not isinstance(self.limit, int) or self.limit < 1:
            raise ValueError(f"limit: an integer >= 1, not {self.limit!r}")
        if not isinstance(self.offset, int) or self.offset < 0:
            raise ValueError(f"offset: an integer >= 0, not {self.offset!r}")


class SessionSummary(StoredSession):
    """One session as a listing shows it: the stored facts plus its priced usage and findings."""

    cost_usd: float = 0.0
    cost_known: bool = True
    #: None: the agent's logs record no token counts (unknown, never 0)
    tokens: int | None = 0
    findings: int = 0


class SessionPage(Row):
    """One page of a listing, the number of sessions the filters match, and facet counts over them."""

    total: int
    rows: list[SessionSummary]
    facets: dict[str, list[tuple[str, int]]] = {}
