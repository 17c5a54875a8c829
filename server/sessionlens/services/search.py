"""Search: ranked hits from the derived Tantivy index, each joined with what the store knows (its
file, editor line, session title, a call's description), secrets masked, scoped to the workspace."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, TypedDict

from sessionlens.search import SearchFilters
from sessionlens.services.base import Host, workspace_scope
from sessionlens.services.links import deep_link_for, file_uri
from sessionlens.services.masking import SESSION_TEXT, mask_excerpt, mask_row, mask_text
from sessionlens.store import parse_time


class SearchResult(TypedDict):
    total: int
    hits: list[dict[str, Any]]  # SearchHit.to_dict() plus uri, link, seq, line, end_line, title, description
    warnings: list[str]


class Search:
    def __init__(self, host: Host):
        self.host = host

    def _rebuild_if_needed(self) -> None:
        """The derived index was removed or is outdated: rebuild it from the store now if nobody else is writing."""
        index = self.host.search_index
        if index.needs_rebuild():
            db = self.host.db()
            if db.lock.acquire(timeout=0):
                try:
                    index.sync(db)
                finally:
                    db.lock.release()

    def query(
        self,
        query: str,
        *,
        agent: str | None = None,
        project: str | None = None,
        kind: str | None = None,
        tool: str | None = None,
        session: str | None = None,
        model: str | None = None,
        since: Any = None,
        until: Any = None,
        limit: int = 20,
        offset: int = 0,
        workspace_only: bool | None = False,
        show_secrets: bool = False,
    ) -> SearchResult:
        """Ranked hits; secrets in snippets (found in the event's full text, so a secret cut by the
        snippet's edge is masked too), titles and descriptions are masked unless ``show_secrets``
        (the user's explicit request)."""
        filters = SearchFilters(
            agent=agent,
            project=project,
            kind=kind,
            tool=tool,
            session=session,
            model=model,
            since=parse_time(since),
            until=parse_time(until, end=True),
        )
        scope = workspace_scope(self.host, workspace_only)
        self._rebuild_if_needed()
        want = limit if not scope else limit * 5
        total, hits, warnings = self.host.search_index.search(query, filters, limit=want, offset=offset)
        db = self.host.db()
        paths: dict[int | None, str] = {}
        titles: dict[str, str | None] = {}  # one session lookup per session, not per hit
        out: list[dict[str, Any]] = []
        in_scope = 0
        for h in hits:
            fid: int | None = getattr(h, "_file_id", None)
            if fid not in paths:
                row = db.file_row_by_id(fid) if fid is not None else None
                paths[fid] = row.path if row else ""
            h.path = paths[fid]
            if scope and not any((h.project or "").startswith(r) or h.path.startswith(r) for r in scope):
                continue
            in_scope += 1
            if len(out) >= limit:
                continue  # only counting (the scoped total)
            d = h.to_dict()
            d["uri"] = file_uri(h.path)
            d["project_name"] = Path(h.project).name if h.project else None
            d["link"] = deep_link_for(h.session_id, h.line)
            d["seq"] = h.line  # the event number (the link's event=); "line" is the editor line
            # the hit's editor line (its seq is the event number) and last line (a message of a JSON
            # document spans lines): this event's, not a map of the whole file (a 200 MB log's)
            d["line"], d["end_line"] = db.event_lines(fid, h.line) if fid is not None else (d["line"], d["line"])
            if h.session_id not in titles:
                found = db.get_session(h.session_id)
                titles[h.session_id] = found.title if found else None
            d["title"] = titles[h.session_id]
            d["description"] = None
            ev = db.hit_texts(fid, h.line) if fid is not None and (h.kind in ("tool_call", "patch") or not show_secrets) else None
            if h.kind in ("tool_call", "patch") and ev is not None:  # Bash/Task say what a call is for
                desc = (ev.extra or {}).get("description")
                d["description"] = desc if isinstance(desc, str) and desc.strip() else None
            if not show_secrets:
                # the event's own secrets, found in its full texts, masked in the snippet whole or cut by its window
                full = "\n".join(x for x in ((ev.command, ev.text, *(ev.files or [])) if ev is not None else ()) if x)
                d["snippet"], d["highlights"] = mask_excerpt(d["snippet"], d["highlights"], full)
                if d["snippet"] != h.snippet:
                    d["snippet_html"] = html.escape(d["snippet"])
                d["title"], d["description"] = mask_text(d["title"]), mask_text(d["description"])
                mask_row(d, SESSION_TEXT)
            out.append(d)
        if scope:
            if offset == 0 and len(hits) >= total:  # every match was seen: the scoped count is exact
                total = in_scope
            else:
                warnings = [*warnings, f"total counts {total:,} matches in every project; the workspace's are among them"]
        return {"total": total, "hits": out, "warnings": list(warnings)}
