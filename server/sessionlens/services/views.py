"""Saved views in the editor: a named set of session filters (``services.web`` stores them, the web
UI and ``sessionlens sessions --view`` apply them) applied to the session list of the language server."""

from __future__ import annotations

from typing import Any

from sessionlens.services import web as svc
from sessionlens.services.app import App


def list_views(app: App) -> list[dict[str, Any]]:
    return [
        {"name": n, "filters": f, "description": " ".join(f"{k}={v}" for k, v in f.items())}
        for n, f in sorted(svc.saved_views(app).items())
    ]


def view_filters(app: App, name: str) -> dict[str, str]:
    """The filters of the saved view ``name`` (``NotFound`` naming the saved ones)."""
    return dict(svc.view(app, name))


def session_kwargs(view: dict[str, str], explicit: dict[str, Any]) -> dict[str, Any]:
    """``App.sessions`` keyword arguments: the view's agent, project, dates and text; explicit ones win."""
    out = {
        "agent": view.get("agent"),
        "project": view.get("project"),
        "since": view.get("since"),
        "until": view.get("until"),
        "query": view.get("q"),
    }
    out.update({k: v for k, v in explicit.items() if v is not None})
    return out


_SORT_KEYS = {
    "started": "started_at",
    "ended": "ended_at",
    "cost": "cost_usd",
    "tokens": "tokens",
    "events": "events",
    "turns": "turns",
    "agent": "agent",
    "title": "title",
}


def sort_rows(rows: list[dict[str, Any]], sort: str | None, order: str | None) -> list[dict[str, Any]]:
    """A view's sort over rows of this store and of team hubs alike (missing values last)."""
    key = _SORT_KEYS.get(sort or "started", "started_at")
    desc = (order or "desc") == "desc"
    have = [r for r in rows if r.get(key) is not None]
    none = [r for r in rows if r.get(key) is None]
    have.sort(key=lambda r: r[key].lower() if isinstance(r[key], str) and key in ("agent", "title") else r[key], reverse=desc)
    return have + none
