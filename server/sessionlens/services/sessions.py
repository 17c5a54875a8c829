"""Sessions: listing, resolving a reference (id, prefix, short id, path), everything a transcript
shows (``SessionData``), a terminal timeline, store statistics."""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sessionlens.agents.paths import source_exists  # (not .base: a listing imports no adapter contract)
from sessionlens.services.base import Host, workspace_scope
from sessionlens.services.links import ResolvedLink, file_uri, is_imported, parse_link
from sessionlens.services.masking import SESSION_TEXT, egress_model, mask_row
from sessionlens.store import NotFound, iso, parse_time

if TYPE_CHECKING:  # a listing needs none of them: the transcript's and timeline's imports are theirs
    from sessionlens.models import Event
    from sessionlens.models.store import StoredSession
    from sessionlens.services.render import html as render_html

#: a timeline row: (line, local time, "kind  description")
TimelineRow = tuple[str, str, str]


def _keep_images(new: Event, old: Event) -> Event:
    """A redacted event keeps the original's images (pixels are not text a detector can mask)."""
    if old.extra and "images" in old.extra and new.extra is not old.extra:
        new = new.model_copy(update={"extra": {**new.extra, "images": old.extra["images"]}})
    return new


class Sessions:
    def __init__(self, host: Host):
        self.host = host

    def list(
        self,
        *,
        project: str | None = None,
        agent: str | None = None,
        since: Any = None,
        until: Any = None,
        limit: int = 100,
        workspace_only: bool | None = None,
        query: str | None = None,
        include_subagents: bool = True,
        has_findings: bool = False,
        sort: str = "started",
        descending: bool = True,
    ) -> builtins.list[dict[str, Any]]:
        """Sessions (the store's one session-query builder) as the rows a listing shows (the store's
        ``SessionSummary`` plus display fields): newest first unless ``sort`` names another key
        (``models.listing.SESSION_SORTS``); ``query``: a substring of the title, id, project or path."""
        db = self.host.db()
        found = db.list_sessions(
            project=project,
            agent=agent,
            since=parse_time(since),
            until=parse_time(until, end=True),
            limit=limit,
            projects_under=workspace_scope(self.host, workspace_only),
            query=query,
            include_subagents=include_subagents,
            has_findings=has_findings,
            sort=sort,
            descending=descending,
        )
        subs = db.subagent_counts()
        rows = [m.model_dump() for m in found]
        for r in rows:
            r["started_at"] = iso(r["started_at"])
            r["ended_at"] = iso(r["ended_at"])
            r["project_name"] = Path(r["project"]).name if r.get("project") else None
            r["uri"] = file_uri(r.get("path"))
            r["imported"] = is_imported(r.get("path"))
            mask_row(r, SESSION_TEXT)  # titles, folders, remotes are shown everywhere: masked
            # history outlives files: a session whose log is gone still opens from the store
            r["log_missing"] = not source_exists(r.get("path"))
            r["subagents"] = subs.get(r["id"], 0)
        return rows

    def resolve(self, ref: str) -> StoredSession:
        """A session by id, unique id prefix, or file path.  A short id as tables show it
        (``ae4a77f8-aed…``, a sub-agent as ``ae4a77f8…›aac57f5…``) resolves like its prefix."""
        db = self.host.db()
        if "›" in ref:  # <parent prefix>›<agent id prefix>
            parent, _, agent = (x.replace("…", "").strip() for x in ref.partition("›"))
            p = self.resolve(parent)
            subs = [x for x in db.subagent_sessions(p.id) if (x.agent_id or "").startswith(agent)]
            if len(subs) == 1:
                return self._get(subs[0].id)
            if len(subs) > 1:
                raise NotFound(f"sub-agent {ref!r} is ambiguous: {', '.join(x.id for x in subs)}")
            raise NotFound(f"session {p.id} has no sub-agent starting with {agent!r}")
        if ref.endswith("…"):
            ref = ref[:-1]
        s = db.get_session(ref)
        if s:
            return s
        s = db.session_for_path(os.path.abspath(os.path.expanduser(ref)))
        if s:
            return s
        ids = db.find_session_prefix(ref)
        main = [i for i in ids if ":agent-" not in i]
        if len(ids) > 1 and len(main) == 1:  # a prefix of a session also matches its sub-agents: prefer the session
            ids = main
        if len(ids) == 1:
            return self._get(ids[0])
        if len(ids) > 1:
            raise NotFound(f"session id {ref!r} is ambiguous: {', '.join(ids)}")
        raise NotFound(f"no indexed session matches {ref!r} (run `sessionlens index` first?)")

    def _get(self, session_id: str) -> StoredSession:
        s = self.host.db().get_session(session_id)
        if s is None:
            raise NotFound(f"session {session_id} is gone from the store")
        return s

    def for_path(self, path: str) -> StoredSession | None:
        return self.host.db().session_for_path(os.path.abspath(path))

    def resolve_link(self, link: str) -> ResolvedLink:
        sid, seq = parse_link(link)
        s = self.resolve(sid)
        line = seq or 1
        if seq:
            line = self.host.db().line_map(s.file_id).get(seq, seq)
        return {"session_id": s.id, "seq": seq, "path": s.path, "uri": file_uri(s.path), "line": line}

    def data(self, ref: str, *, redact: bool = True) -> render_html.SessionData:
        """Everything a transcript shows, from the store (so it works after the log file is gone);
        secrets masked (every field) unless ``redact=False``, the user's explicit request."""
        from sessionlens.coach.redact import redact_event
        from sessionlens.services.render import html as render_html

        db = self.host.db()
        s = self.resolve(ref)
        events = db.events(s.file_id)
        if redact:
            events = [_keep_images(redact_event(e), e) for e in events]
            s = egress_model(s)
        return render_html.SessionData(
            session=s.model_dump(),  # the renderer's input is JSON-shaped: a hub's payload is one too
            turns=db.turns(s.id),
            events=events,
            totals=db.session_totals([s.id]).as_dict(),
            turn_usage={k: u.model_dump() for k, u in db.turn_usage(s.id).items()},
            findings=[f.model_dump() for f in db.findings(session_id=s.id)],
            subagents=[x.model_dump() for x in db.subagent_sessions(s.id)],
            log_missing=not source_exists(s.path),
        )

    def timeline(self, ref: str, *, redact: bool = True) -> tuple[StoredSession, builtins.list[TimelineRow]]:
        """Rows (line, time, description) of a session for a terminal, secrets masked unless
        ``redact=False`` (the user's explicit request)."""
        from sessionlens.coach.redact import redact_event
        from sessionlens.models.kinds import EventKind
        from sessionlens.services.render.tools import KIND_LABEL, one_line

        s = self.resolve(ref)
        events = self.host.db().event_rows(s.file_id)  # plain rows: a timeline needs no pydantic model
        if redact:
            events = [redact_event(e) for e in events]
            s = egress_model(s)
        results = {e.call_id: e for e in events if e.kind == EventKind.TOOL_RESULT and e.call_id}
        rows: builtins.list[TimelineRow] = []
        for e in events:
            if e.duplicate or e.kind in (EventKind.META, EventKind.TOKEN_USAGE, EventKind.TOOL_RESULT):
                continue
            t = e.timestamp.astimezone().strftime("%H:%M:%S") if e.timestamp else "--:--:--"
            label = KIND_LABEL.get(e.kind, e.kind.value)
            desc = one_line(e, 110, cwd=s.cwd)
            if e.kind in (EventKind.TOOL_CALL, EventKind.PATCH):
                r = results.get(e.call_id) if e.call_id else None
                if r is not None and (r.is_error or r.exit_code not in (None, 0)):
                    desc += f"  ✗ exit {r.exit_code}" if r.exit_code is not None else "  ✗ error"
            rows.append((str(e.line), t, f"{label:<10} {desc}"))
        return s, rows

    def stats(self) -> dict[str, Any]:
        db = self.host.db()
        c: dict[str, Any] = dict(db.counts())
        c["store"] = str(self.host.home)
        c["search_docs"] = self.host.search_index.num_docs()
        c["by_agent"] = db.sessions_per_agent()
        c["totals"] = db.session_totals(None).as_dict()  # every session: one index scan
        return c
