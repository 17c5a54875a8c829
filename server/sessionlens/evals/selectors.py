"""Session selection for suites and datasets."""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING

from sessionlens.evals.checks import glob_match
from sessionlens.evals.models import SessionSelector
from sessionlens.store import NotFound, parse_time
from sessionlens.store.context import AppContext

if TYPE_CHECKING:
    from sessionlens.models.listing import SessionSummary
    from sessionlens.models.store import StoredSession

# list_sessions needs a bound; far above any realistic store, it only stops a runaway query
_MAX_SESSIONS = 1_000_000


def select_sessions(app: AppContext, sel: SessionSelector) -> list[SessionSummary]:
    """Store session rows matching every filter of ``sel``, newest first.

    Explicit ``ids`` accept unique prefixes; an id that matches nothing raises :class:`NotFound`.
    """
    db = app.db()
    if sel.ids:
        rows = []
        for ref in sel.ids:
            s = db.get_session(ref)
            if s is None:
                found = db.find_session_prefix(ref)
                if len(found) != 1:
                    what = "is ambiguous" if found else "matches no indexed session"
                    raise NotFound(f"session id {ref!r} in the suite's selector {what}")
                s = db.get_session(found[0])
            if s is not None:
                rows.append(s)
        ids = {r.id for r in rows}
        candidates = [r for r in db.list_sessions(limit=_MAX_SESSIONS) if r.id in ids]
    else:
        candidates = db.list_sessions(
            project=sel.project,
            agent=sel.agent,
            since=parse_time(sel.since),
            until=parse_time(sel.until, end=True),
            limit=_MAX_SESSIONS,
            include_subagents=sel.include_subagents,
        )
    out = []
    for r in candidates:
        if sel.ids:
            if sel.project and not _project_matches(sel.project, r):
                continue
            if sel.agent and r.agent != sel.agent:
                continue
        if sel.model and not any(fnmatch.fnmatchcase(m, sel.model) for m in r.models):
            continue
        if sel.path and not any(glob_match(g, r.path) or glob_match("**/" + g.lstrip("/"), r.path) for g in sel.path):
            continue
        out.append(r)
    out.sort(key=lambda r: (r.started_at or 0, r.id), reverse=True)
    if sel.latest:
        out = out[: sel.latest]
    return out


def _project_matches(project: str, row: StoredSession) -> bool:
    p = row.project or ""
    return p == project or p.endswith("/" + project) or row.cwd == project
