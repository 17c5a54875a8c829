"""The hub's read API for editors: one session as data (``GET /api/s/<id>``), scoped to the caller.

An editor that added the hub (``sessionlens.addHub``) lists and searches the team's sessions through
``/api/sessions`` and ``/api/search``; opening one fetches this payload and renders it with the
editor-side server's own renderer (``services.hubclient.render_parts``).  The payload carries the
events and turns as the event model dumps them, every text masked (the logs were redacted before the
push; the hub masks again, and the client a third time: logs are hostile, hubs may be too).
"""

from __future__ import annotations

from typing import Any

from sessionlens.coach.redact import egress, redact_event
from sessionlens.services import web as svc
from sessionlens.services.app import App, NotFound, iso

#: the session fields an editor shows (no local paths of the hub: its log folder is the hub's business)
SESSION_FIELDS = ("id", "agent", "title", "project", "cwd", "git_branch", "models", "turns", "events", "parent_session_id", "agent_id")
MAX_EVENTS = 50_000


def session_payload(app: App, ref: str, *, scope: svc.Scope = None) -> dict[str, Any]:
    """A session the caller may read, as JSON-ready data (``NotFound`` for an unknown or foreign one)."""
    s = svc.session_ref(app, ref, scope=scope)
    d = app.session_data(s.id)  # every field masked, as on every surface
    session = {k: d.session.get(k) for k in SESSION_FIELDS}
    session["started_at"] = iso(s.started_at)
    session["ended_at"] = iso(s.ended_at)
    events = d.events[:MAX_EVENTS]
    return {
        "session": egress(session),
        "events": [redact_event(e).model_dump(mode="json") for e in events],
        "truncated": len(d.events) > len(events),
        "turns": [t.model_dump(mode="json") for t in d.turns],
        "totals": d.totals,
        "turn_usage": {str(k): u for k, u in (d.turn_usage or {}).items()},
        "findings": [egress({k: f.get(k) for k in ("seq", "rule_id", "severity", "message")}) for f in d.findings],
        "subagents": [
            egress({"id": x["id"], "agent_id": x.get("agent_id"), "title": x.get("title"), "events": x.get("events")})
            for x in d.subagents
            if _readable(app, x["id"], scope)
        ],
    }


def _readable(app: App, session_id: str, scope: svc.Scope) -> bool:
    try:
        svc.session_ref(app, session_id, scope=scope)
    except NotFound:
        return False
    return True
