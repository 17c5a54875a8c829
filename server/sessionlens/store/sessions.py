"""The one session-query builder: every listing of sessions (``Store.list_sessions`` for the CLI, the
LSP and the domain; the web UI's sessions page and the hub's scoped reads) is one ``SessionFilter``
turned into SQL here, and rows come back as ``SessionSummary`` models read by column name."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # (plain rows: imported where they are built, not when the store opens)
    from sessionlens.models.listing import SessionFilter, SessionPage, SessionSummary


class Store(Protocol):
    """What the builder needs of ``store.db.Store`` (which calls into this module)."""

    conn: Any


_USAGE_TOKENS = "u.input + u.cache_read + u.cache_write_5m + u.cache_write_1h + u.output"

#: the columns of a listing row: (field of ``SessionSummary``, SQL over ``sessions s JOIN files f``)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "s.id"),
    ("agent", "s.agent"),
    ("cwd", "s.cwd"),
    ("project", "s.project"),
    ("git_branch", "s.git_branch"),
    ("git_commit", "s.git_commit"),
    ("git_remote", "s.git_remote"),
    ("models", "s.models"),
    ("cli_version", "s.cli_version"),
    ("originator", "s.originator"),
    ("started_at", "s.started_at"),
    ("ended_at", "s.ended_at"),
    ("parent_session_id", "s.parent_session_id"),
    ("agent_id", "s.agent_id"),
    ("title", "s.title"),
    ("events", "s.events"),
    ("turns", "s.turns"),
    ("path", "f.path"),
    ("file_id", "s.file_id"),
    ("usage_lower_bound", "s.usage_lower_bound"),
    ("cost_usd", "(SELECT coalesce(sum(u.cost_usd), 0) FROM usage u WHERE u.session_id = s.id)"),
    ("unpriced", "(SELECT count(*) FROM usage u WHERE u.session_id = s.id AND u.cost_known = 0)"),
    ("tokens", f"(SELECT coalesce(CAST(total({_USAGE_TOKENS}) AS INTEGER), 0) FROM usage u WHERE u.session_id = s.id)"),
    ("findings", "(SELECT count(*) FROM findings fi WHERE fi.session_id = s.id)"),
)
_NAMES = tuple(n for n, _ in COLUMNS)
_SELECT = ", ".join(f"{sql} AS {name}" for name, sql in COLUMNS)

#: sort key -> SQL expression (over the selected columns' names where they are computed)
ORDER_BY = {
    "started": "COALESCE(s.started_at, 0)",
    "ended": "COALESCE(s.ended_at, s.started_at, 0)",
    "cost": "cost_usd",
    "tokens": "tokens",
    "events": "s.events",
    "turns": "s.turns",
    "findings": "findings",
    "agent": "s.agent",
    "title": "lower(COALESCE(s.title, ''))",
}

FROM = "FROM sessions s JOIN files f ON f.id = s.file_id"
#: sorts by a per-session sum (a sub-query of ``COLUMNS``): the page is chosen after computing it for every row
_COMPUTED_SORTS = frozenset({"cost", "tokens", "findings"})


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def where(f: SessionFilter) -> tuple[str, list[Any]]:
    """``WHERE …`` (or "") and its arguments, over ``sessions s JOIN files f``."""
    conds: list[str] = []
    args: list[Any] = []
    if f.project:
        conds.append("(s.project = ? OR s.project LIKE ? OR s.cwd = ?)")
        args += [f.project, f"%/{f.project}", f.project]
    if f.agent:
        conds.append("s.agent = ?")
        args.append(f.agent)
    if f.since is not None:
        conds.append("COALESCE(s.ended_at, s.started_at) >= ?")
        args.append(f.since)
    if f.until is not None:
        conds.append("s.started_at < ?")
        args.append(f.until)
    if f.text:
        conds.append("(s.title LIKE ? ESCAPE '\\' OR s.id LIKE ? ESCAPE '\\' OR s.project LIKE ? ESCAPE '\\' OR f.path LIKE ? ESCAPE '\\')")
        args += [_like(f.text)] * 4
    if f.has_findings:
        conds.append("EXISTS (SELECT 1 FROM findings fi WHERE fi.session_id = s.id)")
    if not f.include_subagents:
        conds.append("s.parent_session_id IS NULL")
    if f.projects_under:
        ors = []
        for root in f.projects_under:
            ors.append("(s.cwd = ? OR s.cwd LIKE ? OR s.project = ? OR f.path LIKE ?)")
            args += [root, root.rstrip("/") + "/%", root, root.rstrip("/") + "/%"]
        conds.append("(" + " OR ".join(ors) + ")")
    if f.path_prefixes is not None:
        if not f.path_prefixes:
            conds.append("0")
        else:
            conds.append("(" + " OR ".join("substr(f.path, 1, ?) = ?" for _ in f.path_prefixes) + ")")
            for p in f.path_prefixes:
                args += [len(p), p]
    if f.session_ids is not None:
        conds.append(f"s.id IN ({','.join('?' * len(f.session_ids)) or 'NULL'})")
        args += list(f.session_ids)
    return ("WHERE " + " AND ".join(conds)) if conds else "", args


def records_tokens(agent: str | None) -> bool:
    """False for agents whose logs hold no token counts (their totals are unknown, not 0)."""
    if not agent:
        return True
    from sessionlens.agents.registry import records_tokens as agent_records_tokens  # (its facts: no adapter imported)

    return agent_records_tokens(agent)


def _summary(r: Any) -> SessionSummary:
    from sessionlens.models.listing import SessionSummary

    d = dict(zip(_NAMES, r))
    # (the standard decoder: a listing then imports no orjson, ~10 ms with the dataclasses and uuid it
    # pulls in; a short list of model names decodes the same)
    d["models"] = json.loads(d["models"]) if d["models"] else []
    d["usage_lower_bound"] = bool(d["usage_lower_bound"])
    d["cost_known"] = d.pop("unpriced") == 0
    d["cost_usd"] = float(d["cost_usd"])  # (coalesce(sum(), 0): an integer 0 for a session without usage)
    for k in ("started_at", "ended_at"):
        if type(d[k]) is int:
            d[k] = float(d[k])
    # e.g. Cursor, or a Copilot legacy session: no tokens recorded -> unknown, never 0
    if not d["tokens"] and (not records_tokens(d["agent"]) or d["usage_lower_bound"]):
        d["tokens"], d["cost_known"] = None, False
    return SessionSummary.from_dict(d)


def query(store: Store, f: SessionFilter) -> list[SessionSummary]:
    """The sessions the filter selects, sorted, one page (``limit``/``offset``)."""
    w, args = where(f)
    order = ORDER_BY.get(f.sort, ORDER_BY["started"])
    order_by = f"ORDER BY {order} {'DESC' if f.descending else 'ASC'}, s.id"
    if f.sort in _COMPUTED_SORTS:
        sql = f"SELECT {_SELECT} {FROM} {w} {order_by} LIMIT ? OFFSET ?"
    else:
        # the page's ids first (a sort of plain columns), then the per-session sums of those rows only:
        # SQLite computes every selected column before it sorts, i.e. four sub-queries per session in
        # the store for a page of 20 (3,837 sessions at 1 GB of logs: 44 -> 2 ms)
        sql = f"SELECT {_SELECT} {FROM} WHERE s.id IN (SELECT s.id {FROM} {w} {order_by} LIMIT ? OFFSET ?) {order_by}"
    return [_summary(r) for r in store.conn.execute(sql, (*args, f.limit, f.offset))]


def count(store: Store, f: SessionFilter) -> int:
    w, args = where(f)
    return store.conn.execute(f"SELECT count(*) {FROM} {w}", args).get or 0


def ids(store: Store, f: SessionFilter) -> set[str]:
    """Ids of every session the filter selects (no paging)."""
    w, args = where(f)
    return {r[0] for r in store.conn.execute(f"SELECT s.id {FROM} {w}", args)}


def facets(store: Store, f: SessionFilter, *, top: int = 30) -> dict[str, list[tuple[str, int]]]:
    """Counts per agent and per project over the sessions the filter selects."""
    w, args = where(f)
    out: dict[str, list[tuple[str, int]]] = {}
    for name, col in (("agent", "s.agent"), ("project", "s.project")):
        out[name] = [
            (v, n)
            for v, n in store.conn.execute(
                f"SELECT {col}, count(*) {FROM} {w} GROUP BY {col} ORDER BY count(*) DESC, {col} LIMIT ?", (*args, top)
            )
            if v
        ]
    return out


def page(store: Store, f: SessionFilter) -> SessionPage:
    """One page of the listing, the number of matching sessions, and facets over all of them."""
    from sessionlens.models.listing import SessionPage

    return SessionPage(total=count(store, f), rows=query(store, f), facets=facets(store, f))
