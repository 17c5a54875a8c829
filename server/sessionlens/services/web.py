"""Application functions for the web UI and the team hub (``sessionlens.web``).

Every function takes a ``scope``: ``None`` means the caller may read everything (the local UI,
a hub admin); otherwise a list of folder prefixes - only sessions whose log file lies under one of
them are listed, shown, counted, searched or priced.  Nothing outside the scope leaks through a
total, a facet count, a cost row or an error message (an unknown and a forbidden session read the
same: "not found").
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

from sessionlens.coach.redact import may_hold_secret, redact
from sessionlens.cost import report as cost_report_mod
from sessionlens.models.listing import SessionFilter
from sessionlens.models.store import StoredSession
from sessionlens.services.app import App, NotFound, iso, parse_time
from sessionlens.services.render import blocks as render_blocks
from sessionlens.services.render import html as render_html
from sessionlens.store import StoreError, webq

Scope = list[str] | None

__all__ = ["StoreError", "NotFound"]

#: the filters a sessions page (and a saved view) understands
VIEW_FIELDS = ("agent", "project", "since", "until", "q", "findings", "sort", "order")
VIEW_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")
MAX_VIEWS = 200


class ViewError(ValueError):
    pass


def _clean(value: Any, limit: int = 200) -> str | None:
    if value is None:
        return None
    v = str(value).strip()[:limit]
    return v or None


def agent_names() -> list[str]:
    """Every registered agent (the agent filter's choices)."""
    from sessionlens.agents import names

    return names()


def session_filters(raw: dict[str, Any]) -> dict[str, Any]:
    """Validated filters from a query string or saved view (unknown keys dropped, lengths capped)."""
    out: dict[str, Any] = {}
    for k in VIEW_FIELDS:
        v = _clean(raw.get(k))
        if v is not None:
            out[k] = v
    if out.get("sort") and out["sort"] not in webq.SESSION_SORTS:
        out.pop("sort")
    if out.get("order") not in (None, "asc", "desc"):
        out.pop("order")
    if "findings" in out:
        if out["findings"] in ("1", "true", "yes", "on"):
            out["findings"] = "1"
        else:
            out.pop("findings")
    for k in ("since", "until"):
        if k in out:
            parse_time(out[k], end=k == "until")  # raises StoreError with a readable message
    return out


def session_filter(filters: dict[str, Any], *, scope: Scope = None, limit: int = 50, offset: int = 0) -> SessionFilter:
    """The store's session filter for validated page/view filters (:func:`session_filters`)."""
    f = session_filters(filters)
    return SessionFilter(
        agent=f.get("agent"),
        project=f.get("project"),
        since=parse_time(f.get("since")),
        until=parse_time(f.get("until"), end=True),
        text=f.get("q"),
        has_findings=bool(f.get("findings")),
        sort=f.get("sort", "started"),
        descending=f.get("order", "desc") == "desc",
        limit=min(max(limit, 1), 500),
        offset=max(offset, 0),
        path_prefixes=tuple(scope) if scope is not None else None,
    )


def sessions_page(app: App, filters: dict[str, Any], *, scope: Scope = None, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    f = session_filters(filters)
    pg = webq.session_page(app.db(), session_filter(f, scope=scope, limit=limit, offset=offset))
    rows = []
    for m in pg.rows:
        r = m.model_dump()
        r["started_iso"] = iso(r["started_at"])
        r["ended_iso"] = iso(r["ended_at"])
        r["project_name"] = Path(r["project"]).name if r.get("project") else None
        r["log_missing"] = not os.path.exists(r["path"])  # history outlives files: it still opens from the store
        if r.get("title"):
            r["title"] = redact(r["title"])
        rows.append(r)
    return {"total": pg.total, "rows": rows, "facets": pg.facets, "filters": f}


def _check_scope(app: App, session_id: str, scope: Scope) -> None:
    if not webq.session_path_ok(app.db(), session_id, scope):
        raise NotFound("no such session")


def session_ref(app: App, ref: str, *, scope: Scope = None) -> StoredSession:
    """The session ``ref`` names (id, id prefix or path) if the caller may read it, else NotFound."""
    try:
        s = app.resolve_session(ref)
    except NotFound:
        raise NotFound("no such session") from None
    _check_scope(app, s.id, scope)
    return s


def image_href(session_id: str, seq: int, index: int) -> str:
    """Where the web UI serves image ``index`` of event ``seq`` (see :func:`image`)."""
    return f"/s/{quote(session_id, safe='')}/img/{int(seq)}/{int(index)}"


def _session_data(app: App, ref: str, scope: Scope) -> render_html.SessionData:
    s = session_ref(app, ref, scope=scope)
    d = app.session_data(s.id)  # secrets masked in every field, as on every surface
    if scope is not None:
        db = app.db()
        d.subagents = [x for x in d.subagents if webq.session_path_ok(db, x["id"], scope)]
    return d


def transcript(app: App, ref: str, *, scope: Scope = None) -> dict[str, Any]:
    """A session through the reader's one renderer (the same transcript as the editor's webview and
    ``export --format html``), images as URLs this server answers: ``session``, ``body`` (sanitized
    HTML), ``last_seq`` (for the live view), ``problems`` (malformed lines), ``subagents``, ``log_missing``."""
    d = _session_data(app, ref, scope)
    sid = d.session["id"]
    with render_html.image_urls(lambda ev, i: image_href(sid, ev.seq, i)):
        body = render_html.session_body(d)
    return {
        "session": d.session,
        "body": body,
        "last_seq": max((e.seq for e in d.events), default=0),
        "problems": app.db().problems(d.session["file_id"]),
        "subagents": d.subagents,
        "log_missing": d.log_missing,
    }


def _item_seqs(items: list[render_blocks.Item]) -> Iterator[int]:
    for it in items:
        if it.event is not None:
            yield it.event.seq
        for x in (*it.results, *it.folded, *it.mirrors):
            yield x.seq
        yield from _item_seqs(it.children)


def transcript_turns_after(app: App, ref: str, after: int, *, scope: Scope = None) -> tuple[str, int]:
    """The turns holding an event after ``after`` (whole ``<section class="sl-turn">`` fragments,
    which replace the page's sections of the same id or are appended) and the last event's seq."""
    d = _session_data(app, ref, scope)
    sid, cwd = d.session["id"], d.session.get("cwd")
    out = []
    with render_html.image_urls(lambda ev, i: image_href(sid, ev.seq, i)):
        for b in render_blocks.build(d.events, d.turns, d.turn_usage):
            if max(_item_seqs(b.items), default=-1) > after:
                out.append(render_html.turn_html(b, cwd))
    return "".join(out), max((e.seq for e in d.events), default=after)


def image(app: App, ref: str, seq: int, index: int, *, scope: Scope = None) -> tuple[str, bytes]:
    """(mime, bytes) of an image an event of the session kept (only the types and sizes the
    transcript shows inline); NotFound otherwise."""
    s = session_ref(app, ref, scope=scope)
    ev = app.db().event(s.file_id, seq)
    got = render_html.image_bytes(ev, index) if ev is not None else None
    if got is None:
        raise NotFound("no such image")
    return got


def session_progress(app: App, session_id: str, *, scope: Scope = None) -> tuple[str, tuple[int, int] | None]:
    """The session's log path and (size, indexed offset) - for the live view."""
    s = app.db().get_session(session_id)
    if s is None:
        raise NotFound("no such session")
    _check_scope(app, s.id, scope)
    return s.path, webq.file_progress(app.db(), s.path)


def refresh_file(app: App, path: str) -> int:
    """Index one log file again if it grew; returns the number of new events (0 when busy)."""
    try:
        st = os.stat(path)
    except OSError:
        return 0
    prog = webq.file_progress(app.db(), path)
    if prog is not None and prog[0] == st.st_size:
        return 0
    stats = app.index([path], lock_timeout=0)
    return stats.events


def resolve_link(app: App, link: str, *, scope: Scope = None) -> dict[str, Any]:
    r = app.resolve_link(link)
    _check_scope(app, r["session_id"], scope)
    return r


def search(app: App, query: str, *, filters: dict[str, Any] | None = None, scope: Scope = None, limit: int = 50) -> dict[str, Any]:
    """Search hits with snippets and facet counts (agent, kind, project, tool) over the hits the caller may see."""
    f = {k: _clean(v) for k, v in (filters or {}).items() if k in ("agent", "project", "kind", "tool", "since", "until")}
    want = min(max(limit, 1), 200)
    res = app.search(
        query,
        limit=want if scope is None else min(want * 10, 2000),
        workspace_only=False,
        agent=f.get("agent"),
        project=f.get("project"),
        kind=f.get("kind"),
        tool=f.get("tool"),
        since=f.get("since") or None,
        until=f.get("until") or None,
    )
    hits = res["hits"]
    if scope is not None:
        allowed = webq.session_ids_under(app.db(), scope)
        hits = [h for h in hits if h["session_id"] in allowed]
        total = len(hits)
    else:
        total = res["total"]
    hits = hits[:want]
    for h in hits:
        if h.get("snippet") and may_hold_secret(h["snippet"]):
            masked = redact(h["snippet"])
            if masked != h["snippet"]:
                h["snippet"], h["highlights"] = masked, []
        if h.get("title"):
            h["title"] = redact(h["title"])
    facets = {k: Counter((h.get(k) or "-") for h in hits).most_common(12) for k in ("agent", "kind", "project_name", "tool")}
    return {"total": total, "hits": hits, "facets": facets, "warnings": res.get("warnings", [])}


def cost(app: App, by: str = "day", *, since=None, until=None, project=None, agent=None, scope: Scope = None) -> dict[str, Any]:
    if by not in webq.USAGE_GROUPS:
        raise ValueError(f"cannot group cost by {by!r}")
    raw = app.db().usage_report(
        by,
        since=parse_time(since),
        until=parse_time(until, end=True),
        project=_clean(project),
        agent=_clean(agent),
        path_prefixes=scope,
    )
    rows: dict[tuple[str | None, str], dict[str, Any]] = {}
    for g in raw:  # the web pages' rows: the two cache-write columns as one
        key = g.key
        if by == "week" and key:
            key = cost_report_mod.bucket_key(datetime.fromisoformat(key), "week")
        row = {
            "key": key,
            "model": g.model,
            "input": g.input,
            "cache_read": g.cache_read,
            "output": g.output,
            "cost_usd": g.cost_usd,
            "unknown": g.unknown,
            "requests": g.requests,
            "sessions": g.sessions,
            "cache_write": g.cache_write_5m + g.cache_write_1h,
        }
        k = (key, g.model)
        acc = rows.get(k)
        if acc is None:
            rows[k] = row
        else:
            for fld in ("input", "cache_read", "cache_write", "output", "cost_usd", "unknown", "requests", "sessions"):
                acc[fld] += row[fld]
    out = [dict(r) for _, r in sorted(rows.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or ""))]
    if by == "session":
        for r in out:
            s = app.db().get_session(r["key"]) if r["key"] else None
            r["title"] = s.title if s else None
    totals = {fld: sum(r[fld] for r in out) for fld in ("input", "cache_read", "cache_write", "output", "cost_usd", "unknown", "requests")}
    return {"by": by, "rows": out, "totals": totals}


def cost_chart(rows: list[dict[str, Any]], *, title: str) -> str:
    series = [{"day": r["key"], "model": r.get("model") or "(unknown)", "cost": r["cost_usd"]} for r in rows]
    return cost_report_mod.render_svg_chart(series, title=title)


def findings_overview(app: App, *, scope: Scope = None, rule: str | None = None, limit: int = 200) -> dict[str, Any]:
    db = app.db()
    return {
        "by_project": [x.model_dump() for x in webq.findings_by_project(db, scope)],
        "recent": [x.model_dump() for x in webq.recent_findings(db, limit=limit, rule=_clean(rule), path_prefixes=scope)],
    }


def compliance(app: App, *, project: str | None = None, scope: Scope = None, limit: int = 20) -> dict[str, Any]:
    """Guideline compliance of recent sessions (only for an unscoped caller: instruction files are local paths)."""
    if scope is not None:
        return {"rows": [], "sessions": 0, "scoped": True}
    from sessionlens.compliance.checker import report

    return report(app, project=_clean(project), limit=limit)


def eval_runs(app: App, *, limit: int = 100) -> list[dict[str, Any]]:
    runs = [r.model_dump() for r in webq.eval_runs_all(app.db(), limit)]  # the pages' rows
    for r in runs:
        r["started_iso"] = iso(r["started_at"])
    return runs


def eval_results(app: App, run_id: int, *, scope: Scope = None) -> list[dict[str, Any]]:
    res = app.db().eval_results(run_id)
    if scope is not None:
        allowed = webq.session_ids_under(app.db(), scope)
        res = [r for r in res if r.session_id in allowed]
    return [r.model_dump() for r in res]  # the pages' and the JSON API's rows


# ---------------------------------------------------------------------- saved views
def _views_path(app: App) -> Path:
    return app.home / "views.json"


def saved_views(app: App) -> dict[str, dict[str, Any]]:
    """Named sets of session filters, shared by the web UI, the CLI (``--view``) and the editor."""
    p = _views_path(app)
    try:
        raw = orjson.loads(p.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    if not isinstance(raw, dict):
        return {}
    out = {}
    for name, f in raw.items():
        if isinstance(name, str) and VIEW_NAME.match(name) and isinstance(f, dict):
            try:
                out[name] = session_filters(f)
            except Exception:  # a view whose dates no longer parse is dropped, not fatal
                continue
    return out


def save_view(app: App, name: str, filters: dict[str, Any]) -> dict[str, Any]:
    name = (name or "").strip()
    if not VIEW_NAME.match(name):
        raise ViewError("a view name is 1-64 letters, digits, spaces, '.', '_' or '-'")
    views = saved_views(app)
    if name not in views and len(views) >= MAX_VIEWS:
        raise ViewError(f"at most {MAX_VIEWS} saved views")
    views[name] = session_filters(filters)
    _write_views(app, views)
    return views[name]


def delete_view(app: App, name: str) -> bool:
    views = saved_views(app)
    if views.pop(name, None) is None:
        return False
    _write_views(app, views)
    return True


def view(app: App, name: str) -> dict[str, Any]:
    views = saved_views(app)
    if name not in views:
        raise NotFound(f"no saved view named {name!r} (saved: {', '.join(sorted(views)) or 'none'})")
    return views[name]


def _write_views(app: App, views: dict[str, Any]) -> None:
    p = _views_path(app)
    tmp = p.with_suffix(".tmp")
    tmp.write_bytes(orjson.dumps(views, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    os.replace(tmp, p)
