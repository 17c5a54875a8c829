"""The one API of sessionlens, used by the CLI and the language server.

``App`` owns the store home, the shared search index and the indexer.  Store connections are
per thread (APSW connections must not be shared), so every method may be called from any
thread; the language server calls them from worker threads, never on its event loop.
"""

from __future__ import annotations

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

from sessionlens.cost import PriceTable, PricingConfig
from sessionlens.cost import report as cost_report_mod
from sessionlens.agents import registry as agent_registry
from sessionlens.ingest.discovery import default_roots
from sessionlens.models import Event, EventKind
from sessionlens.search import SearchFilters, SearchIndex
from sessionlens.services import render
from sessionlens.services.indexer import Indexer, IndexStats, ProjectResolver
from sessionlens.services.settings import Settings
from sessionlens.store import NotFound, Store, iso, parse_time

log = logging.getLogger(__name__)

LINK_SCHEME = "sessionlens"


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
        return self.indexer().index(targets, **kw)

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
        for r in rows:
            r["started_at"] = iso(r["started_at"])
            r["ended_at"] = iso(r["ended_at"])
            r["project_name"] = Path(r["project"]).name if r.get("project") else None
            r["uri"] = Path(r["path"]).as_uri() if r.get("path") else None
        return rows

    def resolve_session(self, ref: str) -> dict[str, Any]:
        """A session by id, unique id prefix, or file path."""
        db = self.db()
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

    def render_session(self, ref: str, *, redact: bool = False) -> tuple[str, str]:
        """A session as Markdown; ``redact`` masks secrets first (for anything that leaves the machine)."""
        db = self.db()
        s = self.resolve_session(ref)
        events = db.events(s["file_id"])
        if redact:
            from sessionlens.coach.redact import redact as _r

            events = [e.model_copy(update={"text": _r(e.text) if e.text else e.text,
                                           "command": _r(e.command) if e.command else e.command}) for e in events]
            s = {**s, "title": _r(s["title"]) if s.get("title") else s.get("title")}
        turns = db.turns(s["id"])
        totals = db.session_totals([s["id"]])
        findings = db.findings(session_id=s["id"])
        md = render.session_markdown(s, turns, events, totals, findings, db.turn_usage(s["id"]))
        subs = db.subagent_sessions(s["id"])
        if subs:
            md += "\n## Sub-agents\n\n" + "\n".join(
                f"- {render.escape_md(x['agent_id'] or x['id'])}: {x['events']} events ({render.escape_md(x['path'])})" for x in subs
            )
        return s.get("title") or s["id"], md

    def timeline(self, ref: str) -> tuple[dict, list[tuple[str, str, str]]]:
        """Rows (line, time, description) of a session for a terminal."""
        db = self.db()
        s = self.resolve_session(ref)
        events = db.events(s["file_id"])
        results = {e.call_id: e for e in events if e.kind == EventKind.TOOL_RESULT and e.call_id}
        rows = []
        for e in events:
            if e.duplicate or e.kind in (EventKind.META, EventKind.TOKEN_USAGE, EventKind.TOOL_RESULT):
                continue
            t = e.timestamp.astimezone().strftime("%H:%M:%S") if e.timestamp else "--:--:--"
            label = render.KIND_LABEL.get(e.kind, e.kind.value)
            desc = render.one_line(e, 110)
            if e.kind in (EventKind.TOOL_CALL, EventKind.PATCH):
                r = results.get(e.call_id) if e.call_id else None
                if r is not None and (r.is_error or r.exit_code not in (None, 0)):
                    desc += f"  ✗ exit {r.exit_code}" if r.exit_code is not None else "  ✗ error"
                desc = f"{e.tool or ''}: {desc}"
            rows.append((str(e.line), t, f"{label:<10} {desc}"))
        return s, rows

    # ------------------------------------------------------------------ search
    def search(self, query: str, *, agent=None, project=None, kind=None, tool=None, session=None, model=None,
               since=None, until=None, limit: int = 20, offset: int = 0, workspace_only: bool | None = False) -> dict[str, Any]:
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
        line_maps: dict[int, dict[int, int]] = {}
        end_maps: dict[int, dict[int, int]] = {}
        out = []
        for h in hits:
            fid = getattr(h, "_file_id", None)
            if fid not in paths:
                row = db.file_row_by_id(fid) if fid is not None else None
                paths[fid] = row.path if row else ""
            h.path = paths[fid]
            if scope and not any((h.project or "").startswith(r) or h.path.startswith(r) for r in scope):
                continue
            d = h.to_dict()
            d["uri"] = Path(h.path).as_uri() if h.path else None
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
            sess = db.get_session(h.session_id)
            d["title"] = (sess or {}).get("title")
            out.append(d)
            if len(out) >= limit:
                break
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
        return {"session_id": s["id"], "seq": seq, "path": s["path"], "uri": Path(s["path"]).as_uri(), "line": line}

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
        for (key, model), r in sorted(rows.items()):
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

    def cost_chart_svg(self, *, since=None, until=None, project=None, agent=None) -> str:
        rep = self.cost_report("day", since=since, until=until, project=project, agent=agent)
        series = [{"day": r["day"], "model": r.get("model") or "(unknown)", "cost": r["cost_usd"]} for r in rep["rows"]]
        return cost_report_mod.render_svg_chart(series)

    # ------------------------------------------------------------------ coach
    def findings(self, *, project=None, session=None, rule=None, limit=10_000) -> list[dict[str, Any]]:
        sid = self.resolve_session(session)["id"] if session else None
        return self.db().findings(project=project, session_id=sid, rule=rule, limit=limit)

    def finding_counts(self, project=None) -> list[dict[str, Any]]:
        return [
            {"rule_id": r[0], "severity": r[1], "findings": r[2], "sessions": r[3]}
            for r in self.db().finding_counts(project)
        ]

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

        def mk(r) -> OutlineNode | None:
            seq, kind, subtype, turn, tool, command, text, files, flags, is_error, exit_code, call_id, agent_id, parent = r
            ln = lines.get(seq, seq) - 1
            L = spans.get(seq, 0)
            if kind == "tool_call":
                res = results.get(call_id)
                name = f"{tool or 'tool'}: {' '.join((command or text or '').split())[:80]}" if (command or text) else (tool or "tool")
                detail = ""
                if res is not None and (res[9] or (res[10] not in (None, 0))):
                    detail = f"✗ exit {res[10]}" if res[10] is not None else "✗ error"
                node = OutlineNode(name=name, kind="tool", start=ln, end=ln, detail=detail, end_len=L)
                return node
            if kind == "patch":
                import orjson

                fl = orjson.loads(files) if files else []
                name = f"{tool or 'patch'}: {', '.join(Path(f).name for f in fl[:3]) or 'patch'}"
                res = results.get(call_id)
                detail = "✗ failed" if res is not None and (res[9] or res[10] not in (None, 0)) else ""
                return OutlineNode(name=name, kind="patch", start=ln, end=ln, detail=detail, end_len=L)
            if kind == "assistant_message":
                return OutlineNode(name=" ".join((text or "").split())[:80] or "assistant", kind="message", start=ln, end=ln, end_len=L)
            if kind == "error":
                return OutlineNode(name="error: " + " ".join((text or subtype or "").split())[:70], kind="error", start=ln, end=ln, end_len=L)
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
            prompt = " ".join((t.prompt or "").split())
            name = f"Turn {t.index + 1}: {prompt[:80]}" if prompt else f"Turn {t.index + 1}"
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
            if (flags & 2) and parent and parent in calls:  # inline sub-agent activity nests under its Task call
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
                name=f"sub-agent {agent_id}: {' '.join((sub.get('title') or '').split())[:60]}", kind="subagent",
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
        return render.event_markdown(ev, result=result, call=call, usage=usage, findings=fnd, agent=s["agent"])

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
        for f in db.findings(file_id=row.id):
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
        """The workspace file (and line, from the patch hunk) that an event edited or read."""
        found = self.event_at(path, line0)
        if not found:
            return []
        s, ev = found
        if not ev.files:
            return []
        base = s.get("cwd") or ""
        out = []
        for f in ev.files:
            cands = [f] if os.path.isabs(f) else [os.path.join(base, f)]
            for folder in self.workspace_folders:
                if os.path.isabs(f) and base and f.startswith(base.rstrip("/") + "/"):
                    cands.append(os.path.join(folder, f[len(base.rstrip("/")) + 1:]))
                elif not os.path.isabs(f):
                    cands.append(os.path.join(folder, f))
            target = next((c for c in cands if os.path.isfile(c)), None)
            if target is None:
                continue
            out.append((target, _hunk_line(ev, f, target)))
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
OUTLINE_CACHE_FILES = 16

#: Which events an outline keeps first when it cannot keep them all (lower first).
_PRIORITY = {"subagent": 0, "error": 0, "patch": 2, "tool": 3, "compaction": 3, "message": 4}


def _rank(n: OutlineNode) -> int:
    if n.detail.startswith("✗") or n.children:  # failing calls, calls hosting sub-agent activity
        return 1
    return _PRIORITY.get(n.kind, 5)


def _prune(host: OutlineNode, cap: int) -> None:
    """Keep ``host``'s ``cap`` most notable children (in line order) and one "… K more events"
    child whose range covers the lines of the ones left out."""
    kids = host.children
    if len(kids) <= cap:
        return
    order = sorted(range(len(kids)), key=lambda i: (_rank(kids[i]), i))
    keep = set(order[:cap])
    rest = [kids[i] for i in range(len(kids)) if i not in keep]
    more = OutlineNode(name=f"… {len(rest)} more events", kind="more", start=min(n.start for n in rest),
                       end=max(n.end for n in rest), end_len=max(rest, key=lambda n: n.end).end_len)
    host.children = [kids[i] for i in sorted(keep)] + [more]


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
    stack = list(hosts)
    while stack:
        n = stack.pop()
        _prune(n, cap)
        stack.extend(c for c in n.children if c.children)


def _span(t) -> str:
    if t.started_at and t.ended_at:
        return render.fmt_duration(int((t.ended_at - t.started_at).total_seconds() * 1000))
    return ""


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
