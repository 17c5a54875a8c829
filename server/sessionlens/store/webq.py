"""Read queries for the web UI and hub: a filterable, sortable session page with facets, findings
by project, every eval run.  All SQL of ``sessionlens.web`` lives here (the web layer calls
``services.web``, which calls these)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from sessionlens.store import db as _db
from sessionlens.store.db import SESSION_COLS, Store, row_to_session_dict

_N_SESSION_COLS = SESSION_COLS.count(",") + 1

#: sort keys offered by the sessions page -> SQL expression
SESSION_SORTS = {
    "started": "COALESCE(s.started_at, 0)",
    "ended": "COALESCE(s.ended_at, s.started_at, 0)",
    "cost": "cost",
    "tokens": "tokens",
    "events": "s.events",
    "turns": "s.turns",
    "findings": "nfind",
    "agent": "s.agent",
    "title": "lower(COALESCE(s.title, ''))",
}


def _session_where(*, agent: str | None, project: str | None, since: float | None, until: float | None,
                   text: str | None, has_findings: bool, path_prefixes: Sequence[str] | None,
                   session_ids: Sequence[str] | None = None, include_subagents: bool = True) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    if project:
        where.append("(s.project = ? OR s.project LIKE ? OR s.cwd = ?)")
        args += [project, f"%/{project}", project]
    if agent:
        where.append("s.agent = ?")
        args.append(agent)
    if since is not None:
        where.append("COALESCE(s.ended_at, s.started_at) >= ?")
        args.append(since)
    if until is not None:
        where.append("s.started_at < ?")
        args.append(until)
    if text:
        esc = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append("(s.title LIKE ? ESCAPE '\\' OR s.id LIKE ? ESCAPE '\\' OR s.project LIKE ? ESCAPE '\\')")
        args += [f"%{esc}%"] * 3
    if has_findings:
        where.append("EXISTS (SELECT 1 FROM findings fi WHERE fi.session_id = s.id)")
    if not include_subagents:
        where.append("s.parent_session_id IS NULL")
    if path_prefixes is not None:
        if not path_prefixes:
            where.append("0")
        else:
            where.append("(" + " OR ".join("substr(f.path, 1, ?) = ?" for _ in path_prefixes) + ")")
            for p in path_prefixes:
                args += [len(p), p]
    if session_ids is not None:
        where.append(f"s.id IN ({','.join('?' * len(session_ids)) or 'NULL'})")
        args += list(session_ids)
    return where, args


def session_page(store: Store, *, agent: str | None = None, project: str | None = None, since: float | None = None,
                 until: float | None = None, text: str | None = None, has_findings: bool = False,
                 sort: str = "started", descending: bool = True, limit: int = 50, offset: int = 0,
                 path_prefixes: Sequence[str] | None = None, include_subagents: bool = True) -> dict[str, Any]:
    """Sessions matching the filters (``path_prefixes``: only files under these folders; None = all),
    one page of them, the total and facet counts (agent, project) over the same selection."""
    where, args = _session_where(agent=agent, project=project, since=since, until=until, text=text,
                                 has_findings=has_findings, path_prefixes=path_prefixes, include_subagents=include_subagents)
    w = ("WHERE " + " AND ".join(where)) if where else ""
    order = SESSION_SORTS.get(sort, SESSION_SORTS["started"])
    sql = f"""SELECT {SESSION_COLS},
                 (SELECT coalesce(sum(u.cost_usd), 0) FROM usage u WHERE u.session_id = s.id) AS cost,
                 (SELECT count(*) FROM usage u WHERE u.session_id = s.id AND u.cost_known = 0),
                 (SELECT coalesce(sum(u.input + u.cache_read + u.cache_write_5m + u.cache_write_1h + u.output), 0)
                    FROM usage u WHERE u.session_id = s.id) AS tokens,
                 (SELECT count(*) FROM findings fi WHERE fi.session_id = s.id) AS nfind
              FROM sessions s JOIN files f ON f.id = s.file_id {w}
              ORDER BY {order} {"DESC" if descending else "ASC"}, s.id LIMIT ? OFFSET ?"""
    rows = []
    n = _N_SESSION_COLS
    records = getattr(_db, "_records_tokens", None)
    for r in store.conn.execute(sql, (*args, max(1, limit), max(0, offset))):
        d = row_to_session_dict(r)
        d["cost_usd"], d["cost_known"], d["tokens"], d["findings"] = r[n], r[n + 1] == 0, r[n + 2], r[n + 3]
        if records is not None and not d["tokens"] and (not records(d.get("agent")) or d.get("usage_lower_bound")):
            d["tokens"], d["cost_known"] = None, False  # an agent that records no tokens: unknown, never 0
        rows.append(d)
    total = store.conn.execute(f"SELECT count(*) FROM sessions s JOIN files f ON f.id = s.file_id {w}", args).get
    facets: dict[str, list[tuple[str, int]]] = {}
    for name, col in (("agent", "s.agent"), ("project", "s.project")):
        facets[name] = [(v, n) for v, n in store.conn.execute(
            f"SELECT {col}, count(*) FROM sessions s JOIN files f ON f.id = s.file_id {w} GROUP BY {col} ORDER BY count(*) DESC LIMIT 30",
            args) if v]
    return {"total": total or 0, "rows": rows, "facets": facets}


def session_ids_under(store: Store, path_prefixes: Sequence[str]) -> set[str]:
    """Ids of the sessions whose log file lies under one of the folders."""
    where, args = _session_where(agent=None, project=None, since=None, until=None, text=None, has_findings=False,
                                 path_prefixes=path_prefixes)
    return {r[0] for r in store.conn.execute(
        f"SELECT s.id FROM sessions s JOIN files f ON f.id = s.file_id WHERE {' AND '.join(where)}", args)}


def session_path_ok(store: Store, session_id: str, path_prefixes: Sequence[str] | None) -> bool:
    if path_prefixes is None:
        return True
    row = store.conn.execute("SELECT f.path FROM sessions s JOIN files f ON f.id = s.file_id WHERE s.id = ?", (session_id,)).fetchone()
    return bool(row) and any(row[0].startswith(p) for p in path_prefixes)


def findings_by_project(store: Store, path_prefixes: Sequence[str] | None = None) -> list[dict[str, Any]]:
    where, args = _session_where(agent=None, project=None, since=None, until=None, text=None, has_findings=False,
                                 path_prefixes=path_prefixes)
    w = ("WHERE " + " AND ".join(where)) if where else ""
    return [
        {"project": p, "rule_id": r, "severity": sev, "findings": n, "sessions": ns}
        for p, r, sev, n, ns in store.conn.execute(
            f"""SELECT COALESCE(s.project, '(none)'), fi.rule_id, fi.severity, count(*), count(DISTINCT fi.session_id)
                FROM findings fi JOIN sessions s ON s.id = fi.session_id JOIN files f ON f.id = s.file_id {w}
                GROUP BY 1, 2, 3 ORDER BY 1, 4 DESC""", args)
    ]


def recent_findings(store: Store, *, limit: int = 200, rule: str | None = None,
                    path_prefixes: Sequence[str] | None = None) -> list[dict[str, Any]]:
    where, args = _session_where(agent=None, project=None, since=None, until=None, text=None, has_findings=False,
                                 path_prefixes=path_prefixes)
    if rule:
        where.append("fi.rule_id = ?")
        args.append(rule)
    w = ("WHERE " + " AND ".join(where)) if where else ""
    out = []
    for r in store.conn.execute(
        f"""SELECT fi.session_id, fi.seq, fi.rule_id, fi.severity, fi.message, s.project, s.agent, s.title, s.started_at
            FROM findings fi JOIN sessions s ON s.id = fi.session_id JOIN files f ON f.id = s.file_id {w}
            ORDER BY COALESCE(s.started_at, 0) DESC, fi.seq LIMIT ?""", (*args, limit)):
        out.append(dict(zip(("session_id", "seq", "rule_id", "severity", "message", "project", "agent", "title", "started_at"), r)))
    return out


def eval_runs_all(store: Store, limit: int = 100) -> list[dict[str, Any]]:
    cols = ("id", "suite", "suite_path", "started_at", "finished_at", "git_commit", "instructions_hash", "pinned", "summary")
    out = []
    for r in store.conn.execute(f"SELECT {', '.join(cols)} FROM eval_runs ORDER BY id DESC LIMIT ?", (limit,)):
        d = dict(zip(cols, r))
        d["summary"] = orjson.loads(d["summary"]) if d["summary"] else {}
        out.append(d)
    return out


def file_progress(store: Store, path: str) -> tuple[int, int] | None:
    """(size, offset) the store knows for a file, to tell when a live session grew."""
    r = store.conn.execute("SELECT size, offset FROM files WHERE path = ?", (path,)).fetchone()
    return (r[0], r[1]) if r else None


USAGE_GROUPS = {
    "day": "u.day",
    "week": "u.day",  # folded into ISO weeks by the caller
    "month": "substr(u.day, 1, 7)",
    "session": "u.session_id",
    "model": "COALESCE(u.model, '(unknown)')",
    "project": "COALESCE(u.project, '(none)')",
    "agent": "u.agent",
}


def usage_report(store: Store, by: str, *, since: float | None = None, until: float | None = None,
                 project: str | None = None, agent: str | None = None,
                 path_prefixes: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """``Store.usage_report`` restricted to log files under ``path_prefixes`` (None: every file)."""
    group = USAGE_GROUPS[by]
    where, args = [], []
    if since is not None:
        where.append("u.ts >= ?")
        args.append(since)
    if until is not None:
        where.append("u.ts < ?")
        args.append(until)
    if project:
        where.append("(u.project = ? OR u.project LIKE ?)")
        args += [project, f"%/{project}"]
    if agent:
        where.append("u.agent = ?")
        args.append(agent)
    if path_prefixes is not None:
        where.append("(" + (" OR ".join("substr(f.path, 1, ?) = ?" for _ in path_prefixes) or "0") + ")")
        for p in path_prefixes:
            args += [len(p), p]
    sql = f"""SELECT {group} AS k, {"COALESCE(u.model, '(unknown)')" if by in ("day", "week", "month") else "''"} AS m,
                     sum(u.input), sum(u.cache_read), sum(u.cache_write_5m + u.cache_write_1h), sum(u.output),
                     sum(coalesce(u.cost_usd, 0)), sum(1 - u.cost_known), count(*), count(DISTINCT u.session_id)
              FROM usage u JOIN files f ON f.id = u.file_id {"WHERE " + " AND ".join(where) if where else ""}
              GROUP BY k, m ORDER BY k, m"""
    cols = ("key", "model", "input", "cache_read", "cache_write", "output", "cost_usd", "unknown", "requests", "sessions")
    return [dict(zip(cols, r)) for r in store.conn.execute(sql, args)]
