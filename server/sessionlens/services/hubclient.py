"""The editor side of the team hub: a client of the hub's read API (``/api/sessions``, ``/api/search``,
``/api/s/<id>``) for the language server.

The editor adds a hub (``sessionlens.addHub``: URL + API key from its secret storage) at every start;
the key lives in this process's memory only (a ``SecretStr``: never logged, never written, never in
an answer - :attr:`TeamHub.key_hint` is the key's public prefix).  Every request is asynchronous
(aiohttp on the server's event loop, never blocking it) with a timeout; a hub that is down, slow, or
refuses the key becomes a message (``warnings`` of search and the session list, the hub's
``status``) while local results are shown as always.  What a hub answers is hostile like any log:
ids are checked, texts masked, sizes capped, and a transcript is rendered here, by the server's own
renderer, from the events the hub sends.
"""

from __future__ import annotations

import asyncio
import json
import logging
import posixpath
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import aiohttp
from pydantic import SecretStr, ValidationError

from sessionlens.coach.redact import egress, redact, redact_event
from sessionlens.models import Event, Turn
from sessionlens.services.render import html as render_html
from sessionlens.store import NotFound

log = logging.getLogger(__name__)

TIMEOUT_S = 5.0  # listing and search: the editor waits for this at most
TRANSCRIPT_TIMEOUT_S = 30.0
MAX_LIST_BYTES = 8 * 1024 * 1024
MAX_SESSION_BYTES = 128 * 1024 * 1024
PAGE_LIMIT = 500  # the hub's page size cap for /api/sessions
SEARCH_LIMIT = 200
KEY_RE = re.compile(r"^slk_([a-z0-9]{10})_[A-Za-z0-9_\-]{32,64}$")
SESSION_ID = re.compile(r"^[^\x00-\x1f\x7f/\\?#\s]{1,200}$")
RETRY_UNREACHABLE_S = 30.0  # an unreachable hub is asked again after this long (or when checked / added again)
REFUSED = ("unauthorized", "forbidden")  # the key was refused: not asked again until re-added or checked
TOTAL_KEYS = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning", "cost_usd", "unknown", "requests")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


class HubUnavailable(Exception):
    """A hub that could not answer: ``status`` (unreachable/unauthorized/forbidden/error) and a readable message."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def normalize_url(url: str) -> str:
    """``HTTP://Host:443/prefix/`` -> ``https://host/prefix``; credentials, queries and fragments are refused."""
    u = urlsplit(url.strip())
    if u.scheme.lower() not in ("http", "https") or not u.hostname:
        raise ValueError("a hub URL is http(s)://host[:port][/prefix]")
    if u.username or u.password:
        raise ValueError("put the API key in the key field, not in the URL")
    if u.query or u.fragment:
        raise ValueError("a hub URL has no ?query or #fragment")
    scheme = u.scheme.lower()
    host = u.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = u.port
    except ValueError:
        raise ValueError("the hub URL's port is not a number") from None
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    path = posixpath.normpath(u.path) if u.path not in ("", "/") else ""
    return urlunsplit((scheme, netloc, "" if path in (".", "/") else path.rstrip("/"), "", ""))


def insecure_note(url: str) -> str:
    """A word when the key would cross a network unencrypted (plain http to a host that is not this machine)."""
    u = urlsplit(url)
    if u.scheme == "http" and (u.hostname or "") not in ("127.0.0.1", "::1", "localhost"):
        return "the key travels unencrypted over http:// to another machine: use the hub's https:// URL"
    return ""


def key_hint(key: str) -> str:
    """What of a key may be shown: its public prefix (``slk_ab12cd34ef_…``), never the secret."""
    m = KEY_RE.match(key)
    return f"slk_{m.group(1)}_…" if m else "(not a sessionlens key)"


def clean_text(value: Any, limit: int = 300) -> str:
    """A hub's text for a message: one line, no control or bidi characters, capped, secrets masked."""
    text = _CONTROL.sub("", str(value or "")).replace("\n", " ").strip()
    return redact(text[:limit])


@dataclass
class TeamHub:
    id: str
    url: str
    name: str
    key: SecretStr = field(repr=False)
    status: str = "unchecked"
    message: str = ""
    sessions: int | None = None
    checked_at: float | None = None

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "name": self.name,
            "key_hint": key_hint(self.key.get_secret_value()),
            "status": self.status,
            "message": self.message,
            "sessions": self.sessions,
        }

    def mark(self, status: str, message: str = "", sessions: int | None = None) -> None:
        self.status, self.message, self.checked_at = status, message, time.time()
        if sessions is not None:
            self.sessions = sessions

    def warning(self) -> str:
        return f"team hub {self.name}: {self.message}"


def _session_id(value: Any) -> str | None:
    return value if isinstance(value, str) and SESSION_ID.match(value) else None


def _str(value: Any, limit: int = 2000) -> str | None:
    return _CONTROL.sub("", value)[:limit] if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class TeamHubs:
    """The hubs one editor added (in memory), and the requests to them."""

    def __init__(self, *, timeout: float = TIMEOUT_S, transcript_timeout: float = TRANSCRIPT_TIMEOUT_S):
        self.timeout = timeout
        self.transcript_timeout = transcript_timeout
        self._hubs: dict[str, TeamHub] = {}

    # ------------------------------------------------------------------ registry
    def add(self, url: str, key: str, name: str | None = None) -> TeamHub:
        hid = normalize_url(url)
        key = key.strip()
        if not KEY_RE.match(key):
            raise ValueError("that is not a sessionlens hub API key (slk_<prefix>_<secret>; create one on the hub's /keys page)")
        label = _CONTROL.sub("", (name or "").strip())[:80] or (urlsplit(hid).netloc + urlsplit(hid).path)
        hub = TeamHub(hid, hid, label, SecretStr(key))
        self._hubs[hid] = hub
        return hub

    def remove(self, ref: str) -> bool:
        try:
            hub = self.get(ref)
        except NotFound:
            return False
        del self._hubs[hub.id]
        return True

    def get(self, ref: str) -> TeamHub:
        if ref in self._hubs:
            return self._hubs[ref]
        try:
            hid = normalize_url(ref)
        except ValueError:
            hid = ""
        if hid in self._hubs:
            return self._hubs[hid]
        for h in self._hubs.values():
            if h.name == ref:
                return h
        raise NotFound(f"no team hub {clean_text(ref, 100)!r} (add it with sessionlens.addHub)")

    def all(self) -> list[TeamHub]:
        return list(self._hubs.values())

    # ------------------------------------------------------------------ HTTP
    async def _get(
        self, hub: TeamHub, path: str, params: dict[str, Any] | None = None, *, timeout: float | None = None, max_bytes: int | None = None
    ) -> Any:
        t = timeout or self.timeout
        max_bytes = max_bytes or MAX_LIST_BYTES
        headers = {"Authorization": f"Bearer {hub.key.get_secret_value()}", "Accept": "application/json", "User-Agent": "sessionlens-lsp"}
        q = {k: str(v) for k, v in (params or {}).items() if v not in (None, "")}
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=t, connect=min(t, 5.0))) as s:
                async with s.get(hub.url + path, params=q, headers=headers, allow_redirects=False) as r:
                    status = r.status
                    buf = bytearray()
                    async for chunk in r.content.iter_chunked(64 * 1024):
                        buf += chunk
                        if len(buf) > max_bytes:
                            break
                    body = bytes(buf)
        except TimeoutError:
            raise HubUnavailable("unreachable", f"no answer from {hub.url} within {t:g} s") from None
        except aiohttp.ClientConnectorError as e:
            raise HubUnavailable("unreachable", f"cannot connect to {hub.url} ({clean_text(e.os_error.strerror or e, 120)})") from None
        except aiohttp.ClientError as e:
            raise HubUnavailable("unreachable", f"the connection to {hub.url} failed ({clean_text(type(e).__name__, 60)})") from None
        text = body[:300].decode("utf-8", "replace")
        if status == 401:
            raise HubUnavailable(
                "unauthorized",
                f"the hub refused the API key ({clean_text(text, 120) or 'unauthorized'}): "
                "it may be expired, revoked or wrong; add the hub again with a new key",
            )
        if status == 403:
            raise HubUnavailable(
                "forbidden", f"the API key may not read sessions ({clean_text(text, 120) or 'forbidden'}): it needs the read scope"
            )
        if status == 404 and path.startswith("/api/s/"):
            raise NotFound("the hub has no such session (or this key may not read it)")
        if status in (429, 503):
            raise HubUnavailable("error", f"the hub is busy (HTTP {status}); try again shortly")
        if 300 <= status < 400:
            raise HubUnavailable("error", f"the hub answered with a redirect (HTTP {status}): is the URL the hub's base URL?")
        if status != 200:
            raise HubUnavailable("error", f"the hub answered HTTP {status}: {clean_text(text, 120)}")
        if len(body) > max_bytes:
            raise HubUnavailable("error", f"the hub's answer is larger than {max_bytes // (1024 * 1024)} MB")
        try:
            return json.loads(body)
        except ValueError:
            raise HubUnavailable("error", f"{hub.url} is not a sessionlens hub (the answer is not JSON)") from None

    async def _each(self, hubs: list[TeamHub], fn) -> tuple[list[tuple[TeamHub, Any]], list[str]]:
        """``fn(hub)`` on every hub at once; a hub that fails gives a warning (and its status), never an exception.
        A hub that refused the key is not asked again (every refusal is an entry in its audit log) until the
        hub is added again or checked (``sessionlens.hubs {check: true}``), an unreachable one not for
        ``RETRY_UNREACHABLE_S``: its last message stands."""

        async def one(h: TeamHub) -> tuple[TeamHub, Any]:
            if h.status in REFUSED:
                return h, HubUnavailable(h.status, h.message)
            if h.status == "unreachable" and h.checked_at is not None and time.time() - h.checked_at < RETRY_UNREACHABLE_S:
                # a hub that just timed out or refused the connection is not waited for on every keystroke
                return h, HubUnavailable(h.status, h.message)
            try:
                return h, await fn(h)
            except HubUnavailable as e:
                h.mark(e.status, e.message)
                return h, e
            except Exception as e:  # a hub's answer we could not read: say so, keep going
                log.warning("team hub %s: %s", h.url, type(e).__name__, exc_info=True)
                h.mark("error", f"the hub's answer could not be read ({type(e).__name__})")
                return h, e

        done = await asyncio.gather(*(one(h) for h in hubs))
        ok = [(h, r) for h, r in done if not isinstance(r, Exception)]
        warnings = [h.warning() for h, r in done if isinstance(r, Exception)]
        return ok, warnings

    # ------------------------------------------------------------------ reads
    async def check(self, hub: TeamHub) -> TeamHub:
        try:
            res = await self._get(hub, "/api/sessions", {"limit": 1})
            total = _int(res.get("total")) if isinstance(res, dict) else None
            if total is None:
                raise HubUnavailable("error", f"{hub.url} is not a sessionlens hub (no session list)")
            hub.mark("ok", insecure_note(hub.url), sessions=total)
        except HubUnavailable as e:
            hub.mark(e.status, e.message)
        return hub

    async def check_all(self) -> list[TeamHub]:
        await asyncio.gather(*(self.check(h) for h in self.all()))
        return self.all()

    async def sessions(self, *, limit: int = 200, include_subagents: bool = True, **filters: Any) -> tuple[list[dict[str, Any]], list[str]]:
        """Every hub's sessions (newest first per hub) as session rows marked with their hub."""
        params = {k: v for k, v in filters.items() if k in ("agent", "project", "since", "until", "q", "findings", "sort", "order")}
        params["limit"] = min(max(limit, 1), PAGE_LIMIT)

        async def fetch(h: TeamHub) -> list[dict[str, Any]]:
            res = await self._get(h, "/api/sessions", params)
            if not isinstance(res, dict) or not isinstance(res.get("sessions"), list):
                raise HubUnavailable("error", f"{h.url} is not a sessionlens hub (no session list)")
            rows = [r for r in (self.session_row(h, x) for x in res["sessions"]) if r is not None]
            filtered = any(k != "limit" and v not in (None, "") for k, v in params.items())
            h.mark("ok", "", sessions=None if filtered else _int(res.get("total")))  # a filtered total is not the hub's
            return rows if include_subagents else [r for r in rows if not r.get("parent_session_id")]

        ok, warnings = await self._each(self.all(), fetch)
        return [r for _, rows in ok for r in rows], warnings

    @staticmethod
    def session_row(hub: TeamHub, x: Any) -> dict[str, Any] | None:
        if not isinstance(x, dict) or not (sid := _session_id(x.get("id"))):
            return None
        project = _str(x.get("project"), 500)
        models = [m[:100] for m in x.get("models") or [] if isinstance(m, str)][:20] if isinstance(x.get("models"), list) else []
        cost = _num(x.get("cost_usd"))
        title = _str(x.get("title"), 500)
        return {
            "id": sid,
            "agent": _str(x.get("agent"), 40),
            "project": project,
            "project_name": posixpath.basename(project.rstrip("/")) if project else None,
            "title": redact(title) if title else None,
            "started_at": _str(x.get("started_iso"), 40),
            "ended_at": _str(x.get("ended_iso"), 40),
            "models": models,
            "path": "",
            "uri": None,
            "events": _int(x.get("events")),
            "turns": _int(x.get("turns")),
            "tokens": _int(x.get("tokens")),
            "cost_usd": cost,
            "cost_known": x.get("cost_known") if isinstance(x.get("cost_known"), bool) else cost is not None,
            "parent_session_id": _session_id(x.get("parent_session_id")),
            "agent_id": _str(x.get("agent_id"), 100),
            "hub": hub.id,
            "hub_name": hub.name,
            "log_missing": False,
        }

    async def search(
        self,
        query: str,
        *,
        limit: int = 20,
        agent: str | None = None,
        kind: str | None = None,
        tool: str | None = None,
        project: str | None = None,
    ) -> tuple[list[dict[str, Any]], int, list[str]]:
        """Every hub's hits for ``query`` (the hub ranks them), marked with their hub; and their total."""
        params = {"q": query[:500], "limit": min(max(limit, 1), SEARCH_LIMIT), "agent": agent, "kind": kind, "tool": tool}

        async def fetch(h: TeamHub) -> tuple[list[dict[str, Any]], int]:
            res = await self._get(h, "/api/search", params)
            if not isinstance(res, dict) or not isinstance(res.get("hits"), list):
                raise HubUnavailable("error", f"{h.url} is not a sessionlens hub (no search results)")
            hits = [x for x in (self.search_hit(h, x) for x in res["hits"]) if x is not None]
            if project:  # the hub's search has no project filter: applied to its hits here
                hits = [x for x in hits if x.get("project_name") == project or (x.get("project_name") or "").endswith("/" + project)]
                return hits, len(hits)
            h.mark("ok", "", sessions=h.sessions)
            return hits, _int(res.get("total")) or len(hits)

        ok, warnings = await self._each(self.all(), fetch)
        hits = [x for _, (hs, _) in ok for x in hs]
        return hits, sum(n for _, (_, n) in ok), warnings

    @staticmethod
    def search_hit(hub: TeamHub, x: Any) -> dict[str, Any] | None:
        if not isinstance(x, dict) or not (sid := _session_id(x.get("session_id"))) or _int(x.get("seq")) is None:
            return None
        title, snippet = _str(x.get("title"), 500), _str(x.get("snippet"), 2000)
        return {
            "session_id": sid,
            "seq": x["seq"],
            "line": _int(x.get("line")) or x["seq"],
            "path": "",
            "uri": None,
            "link": "",
            "agent": _str(x.get("agent"), 40),
            "project_name": _str(x.get("project_name"), 200),
            "kind": _str(x.get("kind"), 40),
            "tool": _str(x.get("tool"), 100),
            "timestamp": _str(x.get("timestamp"), 40),
            "title": redact(title) if title else None,
            "snippet": redact(snippet) if snippet else None,
            "hub": hub.id,
            "hub_name": hub.name,
        }

    async def session(self, ref: str, session_id: str) -> tuple[TeamHub, dict[str, Any]]:
        """One session's data from its hub (``NotFound`` when the hub has none the key may read)."""
        hub = self.get(ref)
        if not _session_id(session_id):
            raise NotFound("not a session id")
        try:
            payload = await self._get(
                hub, "/api/s/" + quote(session_id, safe=""), timeout=self.transcript_timeout, max_bytes=MAX_SESSION_BYTES
            )
        except HubUnavailable as e:
            hub.mark(e.status, e.message)
            raise ValueError(hub.warning()) from None
        if not isinstance(payload, dict) or not isinstance(payload.get("session"), dict):
            raise ValueError(f"team hub {hub.name}: not a session")
        return hub, payload


# ---------------------------------------------------------------------- rendering a team session here
def session_data(hub: TeamHub, payload: dict[str, Any]) -> render_html.SessionData:
    """A hub's session payload as what the renderer draws: every event re-validated by the event model
    (a line that does not validate is left out), every text masked again."""
    raw = payload.get("session") or {}
    sid = _session_id(raw.get("id")) or "?"
    s: dict[str, Any] = {k: _str(raw.get(k), 2000) for k in ("agent", "title", "project", "cwd", "git_branch", "started_at", "ended_at")}
    s.update(
        id=sid,
        models=[m for m in raw.get("models") or [] if isinstance(m, str)][:20] if isinstance(raw.get("models"), list) else [],
        turns=_int(raw.get("turns")),
        events=_int(raw.get("events")),
        path=f"team hub {hub.name}" + ("" if hub.name in hub.url else f" ({hub.url})"),
        started_at_text=(s.get("started_at") or "")[:16].replace("T", " ") or None,
    )
    events: list[Event] = []
    for e in payload.get("events") or []:
        try:
            events.append(redact_event(Event.model_validate(e)))
        except ValidationError:
            continue
    turns: list[Turn] = []
    for t in payload.get("turns") or []:
        try:
            turn = Turn.model_validate(t)
        except ValidationError:
            continue
        turns.append(turn.model_copy(update={"prompt": redact(turn.prompt)}) if turn.prompt else turn)
    usage: dict[int, dict[str, Any]] = {}
    for k, u in (payload.get("turn_usage") or {}).items() if isinstance(payload.get("turn_usage"), dict) else ():
        if isinstance(u, dict) and str(k).lstrip("-").isdigit():
            usage[int(k)] = {a: b for a, b in u.items() if isinstance(b, (int, float)) and not isinstance(b, bool)}
    raw_totals = payload.get("totals")
    totals: dict[str, Any] = dict.fromkeys(TOTAL_KEYS, 0)
    totals["cost_usd"] = 0.0
    if isinstance(raw_totals, dict):
        totals.update({a: b for a, b in raw_totals.items() if a in TOTAL_KEYS and isinstance(b, (int, float)) and not isinstance(b, bool)})
    s["agent"] = s.get("agent") or "unknown"
    s["events"] = s["events"] if s["events"] is not None else len(events)
    s["turns"] = s["turns"] if s["turns"] is not None else len(turns)
    findings = [
        {
            "seq": f["seq"],
            "rule_id": _str(f.get("rule_id"), 80) or "?",
            "severity": _str(f.get("severity"), 20) or "info",
            "message": redact(_str(f.get("message"), 1000) or ""),
        }
        for f in payload.get("findings") or []
        if isinstance(f, dict) and _int(f.get("seq")) is not None
    ]
    subs = [
        {
            "id": sid_,
            "agent_id": _str(x.get("agent_id"), 100),
            "title": redact(_str(x.get("title"), 300) or ""),
            "events": _int(x.get("events")),
        }
        for x in payload.get("subagents") or []
        if isinstance(x, dict) and (sid_ := _session_id(x.get("id")))
    ]
    return render_html.SessionData(
        session=egress(s), turns=turns, events=events, totals=totals, turn_usage=usage, findings=findings, subagents=subs, log_missing=False
    )


def render_parts(hub: TeamHub, payload: dict[str, Any]) -> dict[str, Any]:
    """A team session as the HTML transcript in parts (``renderSessionHtml``)."""
    d = session_data(hub, payload)
    s = d.session
    title = s.get("title") or s["id"]
    return {
        "session_id": s["id"],
        "title": f"{title} · {hub.name}",
        "body": render_html.session_body(d),
        "css": render_html.TRANSCRIPT_CSS,
        "js": render_html.TRANSCRIPT_JS,
        "path": None,
        "log_missing": False,
        "hub": hub.id,
    }


def render_markdown(hub: TeamHub, payload: dict[str, Any]) -> tuple[str, str]:
    """A team session as the Markdown transcript (``renderSession``: Neovim buffers, previews)."""
    from sessionlens.services import render

    d = session_data(hub, payload)
    s = d.session
    md = render.session_markdown(s, d.turns, d.events, d.totals, d.findings, d.turn_usage, log_missing=False)
    return f"{s.get('title') or s['id']} · {hub.name}", egress(md)
