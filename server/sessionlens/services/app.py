"""The one API of sessionlens, used by the CLI and the language server.

``App`` owns the store home, the shared search index and the indexer.  Store connections are
per thread (APSW connections must not be shared), so every method may be called from any
thread; the language server calls them from worker threads, never on its event loop.
"""

from __future__ import annotations

import html
import logging
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlparse

from sessionlens.agents import registry as agent_registry
from sessionlens.coach.redact import egress, may_hold_secret, redact_event
from sessionlens.cost import PriceTable, PricingConfig
from sessionlens.cost import report as cost_report_mod
from sessionlens.ingest.discovery import default_roots
from sessionlens.models import Event, EventKind
from sessionlens.search import SearchFilters, SearchIndex
from sessionlens.services import render, selftrace
from sessionlens.services.indexer import Indexer, IndexStats, ProjectResolver
from sessionlens.services.render import html as render_html
from sessionlens.services.settings import Settings
from sessionlens.store import NotFound, Store, iso, parse_time

log = logging.getLogger(__name__)

LINK_SCHEME = "sessionlens"


#: the path of an imported session's file row: ``sessionlens-import:<session id>`` (no file on disk)
IMPORT_PREFIX = "sessionlens-import:"


def is_imported(path: str | None) -> bool:
    return bool(path) and path.startswith(IMPORT_PREFIX)


def file_uri(path: str | None) -> str | None:
    """``file://`` URI of a log on disk (None for an imported session, which has no file)."""
    return Path(path).as_uri() if path and os.path.isabs(path) else None


@dataclass
class OutlineNode:
    name: str
    kind: str  # session | turn | tool | patch | message | error | compaction | subagent | result
    start: int  # 0-based first line
    end: int  # 0-based last line
    detail: str = ""
    end_len: int = 0  # byte length of the last line
    children: list["OutlineNode"] = field(default_factory=list)


@dataclass
class DiagnosticInfo:
    line: int  # 0-based
    length: int
    severity: str  # error | warning | info | hint
    message: str
    source: str  # "sessionlens" (parse) | "sessionlens-coach"
    code: str
    related: list[dict] = field(default_factory=list)  # {path, line, message}
    data: dict = field(default_factory=dict)


def load_prices(home: Path) -> tuple[PriceTable, list[str]]:
    """The bundled price table plus the user's overrides from ``<home>/config.json`` (``pricing`` section)."""
    table = PriceTable.default()
    errors: list[str] = []
    cfg_path = home / "config.json"
    if cfg_path.exists():
        try:
            import orjson

            raw = orjson.loads(cfg_path.read_bytes()).get("pricing")
            if raw:
                table = PriceTable.from_config(PricingConfig.model_validate(raw), table)
        except Exception as e:  # a bad config never stops indexing
            errors.append(f"{cfg_path}: pricing ignored: {e}")
    return table, errors


class App:
    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self.home = self.settings.home
        self.home.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.prices, self.config_errors = load_prices(self.home)
        self.projects = ProjectResolver()
        self._coach_cache: dict = {}
        self.search_index = SearchIndex(self.home)
        self.workspace_folders: list[str] = []
        self.api_key: str | None = None
        self._outline_cache: dict[str, tuple[tuple, list[OutlineNode]]] = {}

    # ------------------------------------------------------------------ plumbing
    def db(self) -> Store:
        st = getattr(self._local, "store", None)
        if st is None:
            st = Store(self.home)
            self._local.store = st
        return st

    def close(self) -> None:
        st = getattr(self._local, "store", None)
        if st is not None:
            st.close()
            self._local.store = None

    def indexer(self) -> Indexer:
        return Indexer(self.db(), self.search_index, prices=self.prices, coach_enabled=self.settings.coach.enabled,
                       projects=self.projects, coach_cache=self._coach_cache)

    def log_globs(self) -> list[str]:
        """Glob patterns of every agent's session sources (file watchers, the editor's document selector)."""
        return agent_registry.watch_globs()

    def is_log_candidate(self, path: str, *, sniff: bool = False) -> bool:
        """Whether ``path`` could be a session source by its name (content decides when indexing);
        ``sniff``: also when its first bytes are some agent's (a file the user opened, whatever its name)."""
        if agent_registry.is_candidate(path):
            return True
        if not sniff or "#" in os.path.basename(path):
            return False
        try:
            with open(path, "rb") as f:
                head = f.read(64 * 1024)
        except OSError:
            return False
        return agent_registry.detect(path, head) is not None

    def agents(self) -> list[dict]:
        """The registered agents: name, label, source kind, default log folders and their env overrides."""
        return [{"name": a.name, "agent": a.agent_name, "label": a.label, "source": a.source, "env": list(a.env_vars),
                 "roots": [r.path for r in a.default_roots()], "globs": list(a.file_patterns),
                 "records_tokens": a.records_tokens} for a in agent_registry.adapters()]

    def roots(self, extra: Iterable[str] = ()) -> list[str]:
        roots: list[str] = []
        if self.settings.include_home_logs:
            roots += [str(r.path if hasattr(r, "path") else r) for r in default_roots()]
        roots += [os.path.expanduser(p) for p in self.settings.log_roots]
        roots += list(self.workspace_folders)
        roots += [os.path.expanduser(p) for p in extra]
        seen, out = set(), []
        for r in roots:
            r = os.path.abspath(r)
            if r not in seen and os.path.exists(r):
                seen.add(r)
                out.append(r)
        return out

    # ------------------------------------------------------------------ indexing
    def index(self, paths: Iterable[str] | None = None, **kw) -> IndexStats:
        targets = [os.path.abspath(os.path.expanduser(p)) for p in paths] if paths else self.roots()
        t = selftrace.telemetry()
        if not t.enabled:
            return self.indexer().index(targets, **kw)
        with t.span("sessionlens.index", **{"sessionlens.roots": len(targets)}) as sp:
            st = self.indexer().index(targets, **kw)
            for k in ("files_seen", "files_changed", "bytes_parsed", "events"):
                sp.set_attribute(f"sessionlens.index.{k}", int(getattr(st, k)))
            if st.errors:
                sp.set_attribute("sessionlens.index.errors", len(st.errors))
            log.info("index pass: %d changed of %d files, %d bytes", st.files_changed, st.files_seen, st.bytes_parsed)
        t.record("sessionlens.index.duration", st.seconds)
        t.add("sessionlens.index.bytes", st.bytes_parsed)
        t.add("sessionlens.index.files", st.files_changed)
        return st

    def stats(self) -> dict[str, Any]:
        c = self.db().counts()
        c["store"] = str(self.home)
        c["search_docs"] = self.search_index.num_docs()
        c["by_agent"] = dict(self.db().conn.execute("SELECT agent, count(*) FROM sessions GROUP BY agent").fetchall())
        c["totals"] = self.db().session_totals([r[0] for r in self.db().conn.execute("SELECT id FROM sessions")])
        return c

    # ------------------------------------------------------------------ sessions
    def _workspace_scope(self, workspace_only: bool | None) -> list[str]:
        if workspace_only is None:
            workspace_only = self.settings.home_logs_scope == "workspace"
        return list(self.workspace_folders) if workspace_only and self.workspace_folders else []

    def sessions(self, *, project=None, agent=None, since=None, until=None, limit=100, workspace_only=None,
                 query=None, include_subagents=True) -> list[dict[str, Any]]:
        rows = self.db().list_sessions(
            project=project, agent=agent, since=parse_time(since), until=parse_time(until, end=True), limit=limit,
            projects_under=self._workspace_scope(workspace_only), query=query, include_subagents=include_subagents,
        )
        subs = dict(self.db().conn.execute(
            "SELECT parent_session_id, count(*) FROM sessions WHERE parent_session_id IS NOT NULL GROUP BY 1").fetchall())
        for r in rows:
            r["started_at"] = iso(r["started_at"])
            r["ended_at"] = iso(r["ended_at"])
            r["project_name"] = Path(r["project"]).name if r.get("project") else None
            r["uri"] = file_uri(r.get("path"))
            r["imported"] = is_imported(r.get("path"))
            mask_row(r, _SESSION_TEXT)  # titles, folders, remotes are shown everywhere: masked
            # history outlives files: a session whose log is gone still opens from the store
            r["log_missing"] = not (r.get("path") and os.path.exists(r["path"]))
            r["subagents"] = subs.get(r["id"], 0)
        return rows

    def resolve_session(self, ref: str) -> dict[str, Any]:
        """A session by id, unique id prefix, or file path.  A short id as tables show it
        (``ae4a77f8-aed…``, a sub-agent as ``ae4a77f8…›aac57f5…``) resolves like its prefix."""
        db = self.db()
        if "›" in ref:  # <parent prefix>›<agent id prefix>
            parent, _, agent = (x.replace("…", "").strip() for x in ref.partition("›"))
            p = self.resolve_session(parent)
            subs = [x for x in db.subagent_sessions(p["id"]) if (x.get("agent_id") or "").startswith(agent)]
            if len(subs) == 1:
                return db.get_session(subs[0]["id"])
            if len(subs) > 1:
                raise NotFound(f"sub-agent {ref!r} is ambiguous: {', '.join(x['id'] for x in subs)}")
            raise NotFound(f"session {p['id']} has no sub-agent starting with {agent!r}")
        if ref.endswith("…"):
            ref = ref[:-1]
        s = db.get_session(ref)
        if s:
            return s
        p = os.path.abspath(os.path.expanduser(ref))
        s = db.session_for_path(p)
        if s:
            return s
        ids = db.find_session_prefix(ref)
        main = [i for i in ids if ":agent-" not in i]
        if len(ids) > 1 and len(main) == 1:  # a prefix of a session also matches its sub-agents: prefer the session
            ids = main
        if len(ids) == 1:
            return db.get_session(ids[0])
        if len(ids) > 1:
            raise NotFound(f"session id {ref!r} is ambiguous: {', '.join(ids)}")
        raise NotFound(f"no indexed session matches {ref!r} (run `sessionlens index` first?)")

    def session_for_path(self, path: str) -> dict[str, Any] | None:
        return self.db().session_for_path(os.path.abspath(path))

    def session_data(self, ref: str, *, redact: bool = True) -> "render_html.SessionData":
        """Everything a transcript shows, from the store (so it works after the log file is gone);
        secrets masked (every field) unless ``redact=False``, the user's explicit request."""
        db = self.db()
        s = self.resolve_session(ref)
        events = db.events(s["file_id"])
        if redact:
            def _keep_images(new, old):
                if old.extra and "images" in old.extra and new.extra is not old.extra:
                    new = new.model_copy(update={"extra": {**new.extra, "images": old.extra["images"]}})
                return new

            events = [_keep_images(redact_event(e), e) for e in events]
            s = egress(s)
        return render_html.SessionData(
            session=s, turns=db.turns(s["id"]), events=events, totals=db.session_totals([s["id"]]),
            turn_usage=db.turn_usage(s["id"]), findings=db.findings(session_id=s["id"]),
            subagents=db.subagent_sessions(s["id"]), log_missing=not (s.get("path") and os.path.exists(s["path"])),
        )

    def render_session(self, ref: str, *, redact: bool = True) -> tuple[str, str]:
        """A session as a Markdown transcript (Neovim buffers, terminals, virtual documents)."""
        d = self.session_data(ref, redact=redact)
        s = d.session
        md = render.session_markdown(s, d.turns, d.events, d.totals, d.findings, d.turn_usage, log_missing=d.log_missing)
        if d.subagents:
            md += "\n## Sub-agents\n\n" + "\n".join(
                f"- {render.md_text(x['agent_id'] or x['id'])}: {x['events']} events ({render.code_span(x['path'])})" for x in d.subagents
            )
        if redact:
            md = egress(md)  # what rendering joined or escaped is looked at once more
        return s.get("title") or s["id"], md

    def render_session_parts(self, ref: str, *, redact: bool = True) -> dict[str, Any]:
        """The HTML transcript in parts, for a host page that sets its own CSP (the VS Code webview,
        the web UI): ``title``, ``body`` (sanitized HTML), ``css`` and ``js`` (to run under a nonce)."""
        d = self.session_data(ref, redact=redact)
        s = d.session
        return {"session_id": s["id"], "title": s.get("title") or s["id"], "body": render_html.session_body(d),
                "css": render_html.TRANSCRIPT_CSS, "js": render_html.TRANSCRIPT_JS, "path": s.get("path"),
                "log_missing": d.log_missing}

    def render_turn_html(self, ref: str, turn: int, *, redact: bool = True) -> str:
        """One turn (0-based index; -1: before the first prompt) as a sanitized HTML fragment."""
        from sessionlens.services.render import blocks as render_blocks

        d = self.session_data(ref, redact=redact)
        want = None if turn < 0 else turn
        for b in render_blocks.build(d.events, d.turns, d.turn_usage):
            if b.index == want:
                return render_html.turn_html(b, d.session.get("cwd"))
        raise NotFound(f"session {d.session['id']} has no turn {turn + 1}")

    def render_event_html(self, ref: str, seq: int, *, redact: bool = True) -> str:
        """The transcript item holding event ``seq`` (a call comes with its result) as an HTML fragment."""
        from sessionlens.services.render import blocks as render_blocks

        d = self.session_data(ref, redact=redact)
        cwd = d.session.get("cwd")

        def find(items):
            for it in items:
                seqs = {x.seq for x in ([it.event] if it.event else []) + it.results + it.folded + it.mirrors}
                if seq in seqs:
                    return it
                hit = find(it.children)
                if hit is not None:
                    return hit
            return None

        for b in render_blocks.build(d.events, d.turns, d.turn_usage):
            it = find(b.items)
            if it is not None:
                return render_html.item_html(it, cwd)
        raise NotFound(f"session {d.session['id']} has no event on line {seq}")

    def render_session_html(self, ref: str, *, redact: bool = True, script: bool = True) -> str:
        """A session as one self-contained HTML page (no network: CSP ``default-src 'none'``, images
        as ``data:``): what ``export --format html`` writes and the local web UI serves."""
        import secrets

        p = self.render_session_parts(ref, redact=redact)
        return render_html.document(p["title"], p["body"], nonce=secrets.token_urlsafe(16), script=script)

    def timeline(self, ref: str, *, redact: bool = True) -> tuple[dict, list[tuple[str, str, str]]]:
        """Rows (line, time, description) of a session for a terminal, secrets masked unless
        ``redact=False`` (the user's explicit request)."""
        db = self.db()
        s = self.resolve_session(ref)
        events = db.events(s["file_id"])
        if redact:
            events = [redact_event(e) for e in events]
            s = egress(s)
        results = {e.call_id: e for e in events if e.kind == EventKind.TOOL_RESULT and e.call_id}
        rows = []
        for e in events:
            if e.duplicate or e.kind in (EventKind.META, EventKind.TOKEN_USAGE, EventKind.TOOL_RESULT):
                continue
            t = e.timestamp.astimezone().strftime("%H:%M:%S") if e.timestamp else "--:--:--"
            label = render.KIND_LABEL.get(e.kind, e.kind.value)
            desc = render.one_line(e, 110, cwd=s.get("cwd"))
            if e.kind in (EventKind.TOOL_CALL, EventKind.PATCH):
                r = results.get(e.call_id) if e.call_id else None
                if r is not None and (r.is_error or r.exit_code not in (None, 0)):
                    desc += f"  ✗ exit {r.exit_code}" if r.exit_code is not None else "  ✗ error"
            rows.append((str(e.line), t, f"{label:<10} {desc}"))
        return s, rows

    # ------------------------------------------------------------------ search
    def search(self, query: str, *, agent=None, project=None, kind=None, tool=None, session=None, model=None,
               since=None, until=None, limit: int = 20, offset: int = 0, workspace_only: bool | None = False,
               show_secrets: bool = False) -> dict[str, Any]:
        """Ranked hits; secrets in snippets (found in the event's full text, so a secret cut by the
        snippet's edge is masked too), titles and descriptions are masked unless ``show_secrets``
        (the user's explicit request)."""
        filters = SearchFilters(agent=agent, project=project, kind=kind, tool=tool, session=session, model=model,
                                since=parse_time(since), until=parse_time(until, end=True))
        scope = self._workspace_scope(workspace_only)
        if self.search_index.needs_rebuild():
            # the derived index was removed or is outdated: rebuild it from the store now if nobody else is writing
            db0 = self.db()
            if db0.lock.acquire(timeout=0):
                try:
                    self.search_index.sync(db0)
                finally:
                    db0.lock.release()
        want = limit if not scope else limit * 5
        total, hits, warnings = self.search_index.search(query, filters, limit=want, offset=offset)
        db = self.db()
        paths: dict[int, str] = {}
        titles: dict[str, str | None] = {}  # one session lookup per session, not per hit
        line_maps: dict[int, dict[int, int]] = {}
        end_maps: dict[int, dict[int, int]] = {}
        out = []
        in_scope = 0
        for h in hits:
            fid = getattr(h, "_file_id", None)
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
            d["link"] = self.deep_link_for(h.session_id, h.line)
            d["seq"] = h.line  # the event number (the link's event=); "line" is the editor line
            if fid not in line_maps:
                line_maps[fid] = db.line_map(fid) if fid is not None else {}
            if line_maps[fid]:  # the hit's editor line (its seq is the event number)
                d["line"] = line_maps[fid].get(h.line, h.line)
            if fid not in end_maps:
                end_maps[fid] = db.end_lines(fid) if fid is not None else {}
            d["end_line"] = end_maps[fid].get(h.line, d["line"])  # a message of a JSON document spans lines
            if h.session_id not in titles:
                titles[h.session_id] = (db.get_session(h.session_id) or {}).get("title")
            d["title"] = titles[h.session_id]
            d["description"] = None
            ev = db.event(fid, h.line) if fid is not None and (h.kind in ("tool_call", "patch") or not show_secrets) else None
            if h.kind in ("tool_call", "patch") and ev is not None:  # Bash/Task say what a call is for
                desc = (ev.extra or {}).get("description")
                d["description"] = desc if isinstance(desc, str) and desc.strip() else None
            if not show_secrets:
                from sessionlens.services.masking import mask_excerpt, mask_text

                # the event's own secrets, found in its full texts, masked in the snippet whole or cut by its window
                full = "\n".join(x for x in ((ev.command, ev.text, *(ev.files or [])) if ev is not None else ()) if x)
                d["snippet"], d["highlights"] = mask_excerpt(d["snippet"], d["highlights"], full)
                if d["snippet"] != h.snippet:
                    d["snippet_html"] = html.escape(d["snippet"])
                d["title"], d["description"] = mask_text(d["title"]), mask_text(d["description"])
                mask_row(d, _SESSION_TEXT)
            out.append(d)
        if scope:
            if offset == 0 and len(hits) >= total:  # every match was seen: the scoped count is exact
                total = in_scope
            else:
                warnings = [*warnings, f"total counts {total:,} matches in every project; the workspace's are among them"]
        return {"total": total, "hits": out, "warnings": warnings}

    # ------------------------------------------------------------------ links
    @staticmethod
    def deep_link_for(session_id: str, seq: int | None = None) -> str:
        link = f"{LINK_SCHEME}://session/{quote(session_id, safe='')}"
        return link + (f"?event={seq}" if seq is not None else "")

    def deep_link(self, path: str, line0: int) -> str:
        s = self.db().session_for_path(path)
        if s is None:
            raise NotFound(f"{path} is not an indexed session log")
        return self.deep_link_for(s["id"], line0 + 1)

    def resolve_link(self, link: str) -> dict[str, Any]:
        u = urlparse(link.strip())
        if u.scheme != LINK_SCHEME or u.netloc != "session" or not u.path.strip("/"):
            raise NotFound(f"not a sessionlens link: {link!r} (expected {LINK_SCHEME}://session/<id>?event=<n>)")
        sid = unquote(u.path.strip("/"))
        q = parse_qs(u.query)
        seq = None
        if q.get("event"):
            try:
                seq = int(q["event"][0])
            except ValueError:
                raise NotFound(f"bad event number in {link!r}") from None
        s = self.resolve_session(sid)
        line = seq or 1
        if seq and s.get("file_id") is not None:
            line = self.db().line_map(s["file_id"]).get(seq, seq)
        # `line` is the 1-based file line, as in search hits (== the event's seq)
        return {"session_id": s["id"], "seq": seq, "path": s["path"], "uri": file_uri(s["path"]), "line": line}

    # ------------------------------------------------------------------ cost
    def cost_report(self, by: str = "day", *, since=None, until=None, project=None, agent=None, tz=None) -> dict[str, Any]:
        db = self.db()
        raw = db.usage_report("day" if by == "week" else by, since=parse_time(since), until=parse_time(until, end=True),
                              project=project, agent=agent)
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for r in raw:
            key = r["key"]
            if by == "week" and key:
                key = cost_report_mod.bucket_key(datetime.fromisoformat(key), "week", tz)
            k = (key, r["model"])
            acc = rows.get(k)
            if acc is None:
                rows[k] = dict(r, key=key)
            else:
                for f in ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning", "cost_usd", "unknown", "requests", "sessions"):
                    acc[f] += r[f]
        out = []
        # a request without a usable timestamp (or model) has no day: it sorts first, never fails the report
        for (key, model), r in sorted(rows.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or "")):
            label = key
            if by == "session":
                s = db.get_session(key)
                r["title"] = (s or {}).get("title")
            out.append({
                by: label,
                **({"model": model} if by in ("day", "week", "month") else {}),
                "input": r["input"], "cache_read": r["cache_read"],
                "cache_write": r["cache_write_5m"] + r["cache_write_1h"], "output": r["output"],
                "cost_usd": round(r["cost_usd"], 6), "unpriced_requests": r["unknown"], "requests": r["requests"],
                **({"title": r.get("title")} if by == "session" else {}),
            })
        totals = {
            "input": sum(r["input"] for r in out), "cache_read": sum(r["cache_read"] for r in out),
            "cache_write": sum(r["cache_write"] for r in out), "output": sum(r["output"] for r in out),
            "cost_usd": round(sum(r["cost_usd"] for r in rows.values()), 6), "unpriced_requests": sum(r["unpriced_requests"] for r in out),
            "requests": sum(r["requests"] for r in out),
        }
        return {"by": by, "rows": out, "totals": totals}

    def reprice(self) -> int:
        """Re-price every stored request with the current table (after a pricing override or import)."""
        from sessionlens.cost import cost_of
        from sessionlens.models import TokenUsage

        def fn(r):
            _key, model, agent, inp, cr, cw5, cw1, out, reas, speed = r
            u = TokenUsage(input_tokens=inp, cache_read_tokens=cr, cache_write_5m_tokens=cw5, cache_write_1h_tokens=cw1,
                           output_tokens=out, reasoning_tokens=reas)
            c = cost_of(u, model, self.prices, agent=agent, speed=speed)
            return c.usd, int(c.known)

        db = self.db()
        with db.lock:
            return db.recompute_costs(fn)

    def cost_chart_svg(self, *, by: str = "day", since=None, until=None, project=None, agent=None) -> str:
        """The cost chart of ``cost_report(by)``: bars per bucket (stacked by model for day/week/month)."""
        rep = self.cost_report(by, since=since, until=until, project=project, agent=agent)
        series = []
        for r in rep["rows"]:
            label = r.get(by)
            if by == "session":
                label = " ".join(str(r.get("title") or label or "?").split())[:24]
            series.append({"day": label if label is not None else "(none)",
                           "model": r.get("model") or (label if by == "model" else "cost"), "cost": r["cost_usd"]})
        timed = by in ("day", "week", "month")
        title = f"Cost per {by}" + (" by model" if timed else "") + " (USD)"
        return cost_report_mod.render_svg_chart(series, title=title, x_label=by.capitalize())

    # ------------------------------------------------------------------ coach
    def findings(self, *, project=None, session=None, rule=None, limit=10_000) -> list[dict[str, Any]]:
        """Coach findings, for display: what a rule quoted from the log is masked like the log."""
        sid = self.resolve_session(session)["id"] if session else None
        return [mask_row(f, _FINDING_TEXT) for f in self.db().findings(project=project, session_id=sid, rule=rule, limit=limit)]

    def finding_counts(self, project=None, rule=None, session=None) -> list[dict[str, Any]]:
        sid = self.resolve_session(session)["id"] if session else None
        return [
            {"rule_id": r[0], "severity": r[1], "findings": r[2], "sessions": r[3]}
            for r in self.db().finding_counts(project, rule, sid)
        ]

    def finding_totals(self, project=None, rule=None, session=None) -> dict[str, int]:
        """Findings and the number of distinct sessions they fall in (not a sum over rules)."""
        sid = self.resolve_session(session)["id"] if session else None
        n, sessions = self.db().finding_totals(project, rule, sid)
        return {"findings": n, "sessions": sessions}

    @staticmethod
    def coach_rules() -> dict[str, str]:
        """The coach's rule ids and what each looks for."""
        from sessionlens.coach.rules import RULES

        return {rid: getattr(r, "title", "") or getattr(r, "description", "") or "" for rid, r in RULES.items()}

    # ------------------------------------------------------------------ document views (LSP)
    def _file(self, path: str):
        db = self.db()
        row = db.file_row(os.path.abspath(path))
        if row is None or row.status != "ok" or not row.session_id:
            return None, None
        return row, db.get_session(row.session_id)

    def is_indexed(self, path: str) -> bool:
        row, s = self._file(path)
        return s is not None

    def outline(self, path: str) -> list[OutlineNode]:
        """The session's outline: turns with their notable events, bounded for huge sessions (see
        ``_bound_outline``); cached per file until the file is indexed again."""
        row, s = self._file(path)
        if s is None:
            return []
        # any indexing pass (this file, or a sub-agent file that nests under it) moves files.indexed_at
        key = (row.id, row.size, row.mtime_ns, row.offset, self.db().conn.execute("SELECT max(indexed_at) FROM files").get)
        hit = self._outline_cache.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
        nodes = self._build_outline(row, s)
        if len(self._outline_cache) >= OUTLINE_CACHE_FILES:
            self._outline_cache.pop(next(iter(self._outline_cache)), None)
        self._outline_cache[path] = (key, nodes)
        return nodes

    def _build_outline(self, row, s: dict[str, Any]) -> list[OutlineNode]:
        db = self.db()
        turns = db.turns(s["id"])
        spans = dict(db.line_spans(row.id))
        lines = db.line_map(row.id)  # events whose editor line is not their seq (several per line, documents)
        last_line = max([*spans, *lines.values()]) if spans else 1
        rows = db.outline_rows(row.id)
        results = {}
        for r in rows:
            if r[1] == "tool_result" and r[11]:
                results[r[11]] = r
        tusage = db.turn_usage(s["id"])
        subs = {x["agent_id"]: x for x in db.subagent_sessions(s["id"]) if x.get("agent_id")}

        cwd = s.get("cwd")

        def mk(r) -> OutlineNode | None:
            seq, kind, subtype, turn, tool, command, text, files, flags, is_error, exit_code, call_id, agent_id, parent, desc = r
            ln = lines.get(seq, seq) - 1
            L = spans.get(seq, 0)
            if kind in ("tool_call", "patch"):
                import orjson

                fl = orjson.loads(files) if files else []
                name = render.call_name(tool, command=command, text=text, files=fl, cwd=cwd, kind=kind,
                                        extra={"description": desc} if desc else None)
                res = results.get(call_id)
                detail = ""
                if res is not None and (res[9] or (res[10] not in (None, 0))):
                    if kind == "patch":
                        detail = "✗ failed"
                    else:
                        detail = f"✗ exit {res[10]}" if res[10] is not None else "✗ error"
                return OutlineNode(name=name, kind="tool" if kind == "tool_call" else "patch", start=ln, end=ln,
                                   detail=detail, end_len=L)
            if kind == "assistant_message":
                label = render.prompt_name(text, 80)
                if not label:
                    return None  # a whitespace-only text block says nothing
                return OutlineNode(name=label, kind="message", start=ln, end=ln, end_len=L)
            if kind == "error":
                return OutlineNode(name="error: " + (render.error_name(text, 70) if text else (subtype or "")), kind="error",
                                   start=ln, end=ln, end_len=L)
            if kind == "compaction":
                return OutlineNode(name="context compacted", kind="compaction", start=ln, end=ln, end_len=L)
            if kind == "tool_result" and (is_error or exit_code not in (None, 0)) and not call_id:
                return OutlineNode(name="tool error", kind="error", start=ln, end=ln, end_len=L)
            return None

        turn_nodes: dict[int | None, OutlineNode] = {}
        for t in turns:
            u = tusage.get(t.index) or {}
            detail = []
            if u:
                detail.append(f"{(u.get('input') or 0) + (u.get('cache_read') or 0) + (u.get('cache_write') or 0) + (u.get('output') or 0):,} tok")
                detail.append(render.fmt_usd(u.get("cost_usd"), not u.get("unknown")))
            if t.duration_ms:
                detail.append(render.fmt_duration(t.duration_ms))
            if t.aborted:
                detail.append("aborted")
            prompt = render.prompt_name(t.prompt, 80)
            name = f"Turn {t.index + 1}: {prompt}" if prompt else f"Turn {t.index + 1}"
            turn_nodes[t.index] = OutlineNode(name=name, kind="turn", start=t.start_line - 1, end=max(t.end_line, t.start_line) - 1,
                                              detail=" · ".join(detail), end_len=spans.get(t.end_line, 0))
        pre = OutlineNode(name="Session start", kind="turn", start=0, end=0)
        calls: dict[str, OutlineNode] = {}
        for r in rows:
            node = mk(r)
            if node is None:
                continue
            call_id, parent, agent_id, flags = r[11], r[13], r[12], r[8]
            if r[1] == "tool_call" and call_id:
                calls[call_id] = node
            if (flags & 2) and parent and parent != call_id and parent in calls:  # inline sub-agent activity nests under its Task call
                host = calls[parent]
                host.children.append(node)
                host.end = max(host.end, node.end)
                continue
            t = r[3]
            host = turn_nodes.get(t) if t is not None else None
            if host is None:
                host = pre
                pre.end = max(pre.end, node.end)
            host.children.append(node)
            host.end = max(host.end, node.end)
        # sub-agent files nest under the call that started them (progress lines name both ids)
        agent_calls = db.agent_calls(row.id)
        compactions = [n for t in [pre, *turn_nodes.values()] for n in t.children if n.kind == "compaction"]
        for agent_id, sub in subs.items():
            host = calls.get(agent_calls.get(agent_id, ""))
            if host is None and agent_id.startswith("acompact") and compactions:
                host = compactions[0]
            if host is None:
                for cid, n in calls.items():
                    res = results.get(cid)
                    if res is not None and agent_id in (res[6] or ""):
                        host = n
                        break
            target = host or (turn_nodes[max(turn_nodes)] if turn_nodes else pre)
            target.children.append(OutlineNode(
                name=(f"compaction run {agent_id}" if agent_id.startswith("acompact") else
                      f"sub-agent {agent_id}: {render.prompt_name(sub.get('title'), 60)}"), kind="subagent",
                start=target.start, end=target.start, detail=f"{sub['events']} events in {Path(sub['path']).name}",
            ))
        totals = db.session_totals([s["id"]])
        detail = f"{s['agent']} · {s['turns']} turns · {render.fmt_usd(totals['cost_usd'], not totals['unknown'])}"
        root = OutlineNode(name=s.get("title") or s["id"], kind="session", start=0, end=last_line - 1,
                           detail=detail, end_len=spans.get(last_line, 0))
        if pre.children:
            root.children.append(pre)
        root.children.extend(turn_nodes[k] for k in sorted(turn_nodes))
        for n in root.children:
            n.end = max(n.end, n.start)
        _bound_outline(root)
        return [root]

    def event_at(self, path: str, line0: int) -> tuple[dict, Event] | None:
        row, s = self._file(path)
        if s is None:
            return None
        db = self.db()
        seq = db.seq_at_line(row.id, line0 + 1)
        ev = db.event(row.id, seq) if seq is not None else None
        return (s, ev) if ev else None

    def hover(self, path: str, line0: int) -> str | None:
        found = self.event_at(path, line0)
        if not found:
            return None
        s, ev = found
        db = self.db()
        fid = s["file_id"]
        result = call = None
        if ev.call_id:
            for other in db.events_by_call(fid, ev.call_id):
                if other.seq == ev.seq:
                    continue
                if other.kind == EventKind.TOOL_RESULT and ev.kind != EventKind.TOOL_RESULT:
                    result = other
                elif other.kind in (EventKind.TOOL_CALL, EventKind.PATCH) and ev.kind == EventKind.TOOL_RESULT:
                    call = other
        usage = None
        if ev.usage_key:
            usage = db.usage_for_event(s["id"], ev.usage_key)
        fnd = db.findings(file_id=fid, seq=ev.seq)
        ev, result, call = (redact_event(x) if x is not None else None for x in (ev, result, call))  # a display: masked
        return egress(render.event_markdown(ev, result=result, call=call, usage=usage, findings=fnd, agent=s["agent"]))

    def diagnostics(self, path: str) -> list[DiagnosticInfo]:
        db = self.db()
        row = db.file_row(path)
        if row is None:
            return []
        spans = dict(db.line_spans(row.id))
        lines = db.line_map(row.id)
        out = []
        for p in db.problems(row.id):
            out.append(DiagnosticInfo(line=p.line - 1, length=max(spans.get(p.line, 0), 1), severity=p.severity,
                                      message=p.message, source="sessionlens", code="parse-error"))
        for f in (mask_row(x, _FINDING_TEXT) for x in db.findings(file_id=row.id)):
            related = []
            for r in f["related"]:
                rp = r.get("path") or path
                rl = r.get("line") or r.get("seq") or 1
                related.append({"path": rp, "line": rl - 1, "message": r.get("note") or f"related event (line {rl})"})
            out.append(DiagnosticInfo(
                line=lines.get(f["seq"], f["seq"]) - 1, length=max(spans.get(f["seq"], 0), 1), severity=f["severity"], message=f["message"],
                source="sessionlens-coach", code=f["rule_id"], related=related,
                data={"finding_id": f["id"], "rule_id": f["rule_id"], "guideline": f["guideline"], "session_id": f["session_id"],
                      "agent": f["agent"], "project": f["project"], "seq": f["seq"]},
            ))
        return out

    def definition(self, path: str, line0: int) -> list[tuple[str, int]]:
        """The workspace file (and line, from the patch hunk) that an event edited or read.

        Paths in a log are data: a target must lie inside an open workspace folder (after resolving
        ``..`` and symlinks), so no log leads the editor to, or makes sessionlens read, ``/etc/passwd``."""
        found = self.event_at(path, line0)
        if not found:
            return []
        s, ev = found
        if not ev.files:
            return []
        folders = [os.path.realpath(f) for f in self.workspace_folders if f]
        if not folders:
            return []
        base = s.get("cwd") or ""
        out = []
        for f in ev.files:
            if not isinstance(f, str) or not f or "\x00" in f:
                continue
            cands = [f] if os.path.isabs(f) else [os.path.join(base, f)] if os.path.isabs(base) else []
            for folder in self.workspace_folders:
                if os.path.isabs(f) and base and f.startswith(base.rstrip("/") + "/"):
                    cands.append(os.path.join(folder, f[len(base.rstrip("/")) + 1:]))
                elif not os.path.isabs(f):
                    cands.append(os.path.join(folder, f))
            target = next((c for c in cands if inside_folders(c, folders) and os.path.isfile(c)), None)
            if target is None:
                continue
            out.append((os.path.realpath(target), _hunk_line(ev, f, os.path.realpath(target))))
        return out

    def lenses(self, path: str) -> list[tuple[int, str]]:
        row, s = self._file(path)
        if s is None:
            return []
        db = self.db()
        tusage = db.turn_usage(s["id"])
        out = []
        for t in db.turns(s["id"]):
            u = tusage.get(t.index) or {}
            tok = (u.get("input") or 0) + (u.get("cache_read") or 0) + (u.get("cache_write") or 0) + (u.get("output") or 0)
            parts = [f"Turn {t.index + 1}", f"{tok:,} tokens", render.fmt_usd(u.get("cost_usd"), not u.get("unknown")) if u else "$0",
                     render.fmt_duration(t.duration_ms) if t.duration_ms else _span(t)]
            out.append((t.start_line - 1, " · ".join(p for p in parts if p)))
        return out

    def folding(self, path: str) -> list[tuple[int, int]]:
        row, s = self._file(path)
        if s is None:
            return []
        return [(t.start_line - 1, t.end_line - 1) for t in self.db().turns(s["id"]) if t.end_line > t.start_line]


#: Outline bounds: a turn (or a block of turns) lists at most this many events, the most notable first ...
OUTLINE_TURN_CHILDREN = 100
#: ... within a total of about this many symbols for the whole file (editors choke on tens of thousands) ...
OUTLINE_BUDGET = 3000
#: ... and a session with more turns than this shows blocks of consecutive turns instead of single turns.
OUTLINE_MAX_TURNS = 300
#: A fold ("… K more events") holds every left-out event (in nested line ranges) while the whole outline
#: has at most this many nodes; past it (a rollout of hundreds of MB: hundreds of thousands of events), a
#: fold's line ranges are leaves - the editor goes to the range, the events are its lines - so what is
#: sent stays about ``2 * OUTLINE_BUDGET`` symbols whatever the file's size.
OUTLINE_REACHABLE_MAX = 10_000
OUTLINE_CACHE_FILES = 16

#: Which events an outline keeps first when it cannot keep them all (lower first).
_PRIORITY = {"subagent": 0, "error": 0, "patch": 2, "tool": 3, "compaction": 3, "message": 4}


def _rank(n: OutlineNode) -> int:
    if n.detail.startswith("✗") or n.children:  # failing calls, calls hosting sub-agent activity
        return 1
    return _PRIORITY.get(n.kind, 5)


def _prune(host: OutlineNode, cap: int, leaf: bool = False) -> None:
    """Keep ``host``'s ``cap`` most notable children (in line order) and fold the rest into one
    "… K more events" child that holds them (in groups of at most ``cap``, by line), so every
    event stays reachable from the outline."""
    kids = host.children
    if len(kids) <= cap:
        return
    order = sorted(range(len(kids)), key=lambda i: (_rank(kids[i]), i))
    keep = set(order[:cap])
    rest = [kids[i] for i in range(len(kids)) if i not in keep]
    more = _group(f"… {len(rest)} more events", rest)
    _chunk(more, cap, leaf)
    host.children = [kids[i] for i in sorted(keep)] + [more]


def _group(name: str, nodes: list[OutlineNode]) -> OutlineNode:
    return OutlineNode(name=name, kind="more", start=min(n.start for n in nodes), end=max(n.end for n in nodes),
                       end_len=max(nodes, key=lambda n: n.end).end_len, children=nodes)


def _chunk(group: OutlineNode, cap: int, leaf: bool = False) -> None:
    """Split a fold's children into nested groups of at most ``cap`` (lines a–b), recursively (``leaf``:
    one level of groups, each a line range without its events unless it holds at most ``cap``)."""
    kids = group.children
    if len(kids) <= cap:
        return
    size = cap
    while -(-len(kids) // size) > cap:
        size *= cap
    parts = [kids[i:i + size] for i in range(0, len(kids), size)]
    group.children = [_group(f"lines {p[0].start + 1}–{p[-1].end + 1} ({len(p)} events)", p) for p in parts]
    for g in group.children:
        if leaf:
            if len(g.children) > cap:
                g.children = []
        else:
            _chunk(g, cap)


def _bound_outline(root: OutlineNode) -> None:
    """Make a huge session's outline small enough to send and useful to read: beyond
    ``OUTLINE_MAX_TURNS`` turns, consecutive turns fold into blocks; each turn or block keeps its
    most notable events (errors, failing calls, patches, then calls, then messages)."""
    hosts = root.children
    lead = [n for n in hosts[:1] if not n.name.startswith("Turn ")]  # "Session start" stays apart
    hosts = hosts[len(lead):]
    if len(hosts) > OUTLINE_MAX_TURNS:
        size = -(-len(hosts) // OUTLINE_MAX_TURNS)
        blocks = []
        for i in range(0, len(hosts), size):
            group = hosts[i:i + size]
            first, last = group[0], group[-1]
            head, _, prompt = first.name.partition(": ")
            name = f"{head.replace('Turn ', 'Turns ', 1)}–{last.name.partition(': ')[0].removeprefix('Turn ')}" if first is not last else head
            blocks.append(OutlineNode(
                name=f"{name}: {prompt}" if prompt else name, kind="turn", start=first.start, end=max(n.end for n in group),
                detail=f"{len(group)} turns", end_len=max(group, key=lambda n: n.end).end_len,
                children=[c for n in group for c in n.children],
            ))
        hosts = blocks
    root.children = hosts = lead + hosts
    cap = max(3, min(OUTLINE_TURN_CHILDREN, OUTLINE_BUDGET // max(len(hosts), 1) - 2))
    size, todo = 0, list(hosts)
    while todo and size <= OUTLINE_REACHABLE_MAX:
        n = todo.pop()
        size += 1
        todo.extend(n.children)
    leaf = size > OUTLINE_REACHABLE_MAX
    stack = list(hosts)
    while stack:
        n = stack.pop()
        if n.kind == "more":
            continue  # folds are already grouped
        _prune(n, cap, leaf)
        stack.extend(c for c in n.children if c.children and c.kind != "more")


def _span(t) -> str:
    if t.started_at and t.ended_at:
        return render.fmt_duration(int((t.ended_at - t.started_at).total_seconds() * 1000))
    return ""


#: Fields of a session row / a finding row that hold text from a log (masked for display).
_SESSION_TEXT = ("title", "cwd", "project", "project_name", "git_remote", "git_branch", "originator")
_FINDING_TEXT = ("message", "guideline", "title", "cwd", "project", "related", "data")


def mask_row(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """``row`` with the secrets in ``keys`` masked (in place; returned for chaining)."""
    for k in keys:
        v = row.get(k)
        if v and (not isinstance(v, str) or may_hold_secret(v)):
            row[k] = egress(v)
    return row


def inside_folders(path: str, folders: list[str]) -> bool:
    """True when ``path`` (resolved: ``..``, symlinks) lies inside one of ``folders`` (resolved)."""
    try:
        real = os.path.realpath(path)
        return any(os.path.commonpath([real, d]) == d for d in folders)
    except (ValueError, OSError):
        return False


_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)", re.M)


def _hunk_line(ev: Event, f: str, target: str) -> int:
    """0-based line of the first hunk for file ``f`` in the event's patch text, else of the edited text."""
    text = ev.text or ""
    m = _HUNK.search(text)
    if m:
        return max(int(m.group(1)) - 1, 0)
    new = ev.extra.get("new_string") or ev.extra.get("old_string") if ev.extra else None
    first_plus = None
    for ln in text.splitlines():
        if ln.startswith("+") and not ln.startswith("+++") and ln[1:].strip():
            first_plus = ln[1:]
            break
    needle = (new or first_plus or "").splitlines()[0].strip() if (new or first_plus) else ""
    if needle:
        try:
            with open(target, encoding="utf-8", errors="replace") as fh:
                for i, line in enumerate(fh):
                    if needle in line:
                        return i
        except OSError:
            pass
    return 0
