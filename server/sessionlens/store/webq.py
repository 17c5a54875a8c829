"""Read queries for the web UI and hub: a filterable, sortable session page with facets, findings
by project, every eval run.  All SQL of ``sessionlens.web`` lives here (the web layer calls
``services.web``, which calls these)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from sessionlens.models.listing import SESSION_SORTS, SessionFilter, SessionPage
from sessionlens.models.store import EvalRun, RecentFinding, RuleCountByProject
from sessionlens.store import sessions as session_query
from sessionlens.store.db import USAGE_GROUPS, Store

__all__ = ["SESSION_SORTS", "SessionFilter", "SessionPage", "USAGE_GROUPS", "session_page"]


def session_page(store: Store, f: SessionFilter) -> SessionPage:
    """Sessions matching the filters (``path_prefixes``: only files under these folders; None = all),
    one page of them, the total and facet counts (agent, project) over the same selection."""
    return session_query.page(store, f)


def session_ids_under(store: Store, path_prefixes: Sequence[str]) -> set[str]:
    """Ids of the sessions whose log file lies under one of the folders."""
    return session_query.ids(store, SessionFilter(path_prefixes=tuple(path_prefixes)))


def _scoped(path_prefixes: Sequence[str] | None) -> tuple[list[str], list[Any]]:
    w, args = session_query.where(SessionFilter(path_prefixes=tuple(path_prefixes) if path_prefixes is not None else None))
    return ([w[len("WHERE ") :]] if w else []), args


def session_path_ok(store: Store, session_id: str, path_prefixes: Sequence[str] | None) -> bool:
    if path_prefixes is None:
        return True
    row = store.conn.execute("SELECT f.path FROM sessions s JOIN files f ON f.id = s.file_id WHERE s.id = ?", (session_id,)).fetchone()
    return row is not None and any(str(row[0]).startswith(p) for p in path_prefixes)


def findings_by_project(store: Store, path_prefixes: Sequence[str] | None = None) -> list[RuleCountByProject]:
    where, args = _scoped(path_prefixes)
    w = ("WHERE " + " AND ".join(where)) if where else ""
    return [
        RuleCountByProject.from_dict({"project": p, "rule_id": r, "severity": sev, "findings": n, "sessions": ns})
        for p, r, sev, n, ns in store.conn.execute(
            f"""SELECT COALESCE(s.project, '(none)'), fi.rule_id, fi.severity, count(*), count(DISTINCT fi.session_id)
                FROM findings fi JOIN sessions s ON s.id = fi.session_id JOIN files f ON f.id = s.file_id {w}
                GROUP BY 1, 2, 3 ORDER BY 1, 4 DESC""",
            args,
        )
    ]


def recent_findings(
    store: Store, *, limit: int = 200, rule: str | None = None, path_prefixes: Sequence[str] | None = None
) -> list[RecentFinding]:
    where, args = _scoped(path_prefixes)
    if rule:
        where.append("fi.rule_id = ?")
        args.append(rule)
    w = ("WHERE " + " AND ".join(where)) if where else ""
    out = []
    for r in store.conn.execute(
        f"""SELECT fi.session_id, fi.seq, fi.rule_id, fi.severity, fi.message, s.project, s.agent, s.title, s.started_at
            FROM findings fi JOIN sessions s ON s.id = fi.session_id JOIN files f ON f.id = s.file_id {w}
            ORDER BY COALESCE(s.started_at, 0) DESC, fi.seq LIMIT ?""",
        (*args, limit),
    ):
        cols = ("session_id", "seq", "rule_id", "severity", "message", "project", "agent", "title", "started_at")
        out.append(RecentFinding.from_dict(dict(zip(cols, r))))
    return out


def eval_runs_all(store: Store, limit: int = 100) -> list[EvalRun]:
    cols = ("id", "suite", "suite_path", "started_at", "finished_at", "git_commit", "instructions_hash", "pinned", "summary")
    out = []
    for r in store.conn.execute(f"SELECT {', '.join(cols)} FROM eval_runs ORDER BY id DESC LIMIT ?", (limit,)):
        d = dict(zip(cols, r))
        d["summary"] = orjson.loads(d["summary"]) if d["summary"] else {}
        out.append(EvalRun.from_dict(d))
    return out


def file_progress(store: Store, path: str) -> tuple[int, int] | None:
    """(size, offset) the store knows for a file, to tell when a live session grew."""
    r = store.conn.execute("SELECT size, offset FROM files WHERE path = ?", (path,)).fetchone()
    return (r[0], r[1]) if r else None
