"""``sessionlens serve``: the aiohttp application - local web UI and (``--team``) the team hub.

Handlers are thin: they validate parameters, call ``sessionlens.services`` in a thread pool (store
connections are per thread; nothing blocks the event loop) and draw HTML with ``web.html`` (a session's
transcript with the reader's renderer, ``services/render``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from sessionlens.services import render
from sessionlens.services import web as svc
from sessionlens.services.app import App, NotFound
from sessionlens.services.render import html as render_html
from sessionlens.services.web import StoreError
from sessionlens.web import blame as web_blame
from sessionlens.web import html as H
from sessionlens.web import hubapi, hubpages
from sessionlens.web.common import CTX, Ctx, _int, audit, csrf_input, ctx_of, json_response, page
from sessionlens.web.security import (
    COOKIE_AUTH,
    CSRF,
    PRINCIPAL,
    SCOPE,
    SESSION_COOKIE,
    TOKEN_COOKIE,
    WebConfig,
    client_address,
    cookie_kw,
    same_origin,
    security_headers,
    token_ok,
    too_many,
)

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
PUBLIC = ("/static/", "/login", "/healthz")


# ---------------------------------------------------------------------- middlewares
@web.middleware
async def guard(request: web.Request, handler):
    """Security headers on every response; Host check; rate limit; errors as plain pages."""
    ctx = ctx_of(request)
    try:
        if not ctx.cfg.host_ok(request.headers.get("Host"), ctx.port):
            raise web.HTTPMisdirectedRequest(text="unknown Host header (DNS rebinding protection)\n")
        if request.method == "OPTIONS":
            raise web.HTTPMethodNotAllowed("OPTIONS", ["GET", "POST"], text="no CORS here\n")
        wait = ctx.general.hit(client_address(request, ctx.cfg))
        if wait:
            raise too_many(wait)
        resp = await handler(request)
    except web.HTTPException as e:
        resp = web.Response(status=e.status, text=e.text or f"{e.status} {e.reason}\n", headers=e.headers)
        for name, morsel in e.cookies.items():
            resp.cookies[name] = morsel
    except (NotFound, KeyError) as e:
        resp = web.Response(status=404, text="not found\n")
        log.debug("not found: %s", e)
    except (StoreError, ValueError, svc.ViewError) as e:
        resp = web.Response(status=400, text=f"bad request: {str(e)[:300]}\n")
    except Exception:
        log.exception("web handler failed: %s", request.path)
        resp = web.Response(status=500, text="internal error\n")
    security_headers(resp, ctx.cfg)
    return resp


@web.middleware
async def auth(request: web.Request, handler):
    ctx = ctx_of(request)
    path = request.path
    request[PRINCIPAL] = None
    request[SCOPE] = None
    if path.startswith(PUBLIC) or path == "/favicon.ico":
        return await handler(request)
    if ctx.hub is None:
        # local mode: the per-start token, from the printed URL (then a cookie) or a header
        t = request.query.get("token")
        if t is not None:
            if not token_ok(t, ctx.cfg):
                raise web.HTTPForbidden(text="wrong access token\n")
            q = {k: v for k, v in request.query.items() if k != "token"}
            loc = path + H.qs(q)
            resp = web.HTTPSeeOther(loc)
            resp.set_cookie(TOKEN_COOKIE, ctx.cfg.token, **cookie_kw(ctx.cfg))
            raise resp
        hdr = request.headers.get("Authorization", "")
        presented = hdr[6:].strip() if hdr.lower().startswith("token ") else request.cookies.get(TOKEN_COOKIE)
        if not token_ok(presented, ctx.cfg):
            raise web.HTTPForbidden(text="open the URL that `sessionlens serve` printed (it carries the access token)\n")
        request[CSRF] = ctx.cfg.csrf_for_token()
        request[COOKIE_AUTH] = not hdr
    else:
        from sessionlens.services.hub import HubError

        hdr = request.headers.get("Authorization", "")
        p = None
        if hdr.lower().startswith("bearer "):
            raw = hdr[7:].strip()
            wait = ctx.key_limit.hit(raw[:16])
            if wait:
                raise too_many(wait)
            try:
                p = await ctx.run(ctx.hub.key_principal, raw)
            except HubError as e:
                await ctx.run(
                    ctx.hub.audit,
                    "anonymous",
                    "key.use",
                    target=raw[:15],
                    source=client_address(request, ctx.cfg),
                    outcome="denied",
                    reason=str(e),
                )
                raise web.HTTPUnauthorized(text=f"{e}\n", headers={"WWW-Authenticate": "Bearer"}) from None
            request[COOKIE_AUTH] = False
        else:
            p = await ctx.run(ctx.hub.session_principal, request.cookies.get(SESSION_COOKIE))
            if p is not None:
                request[CSRF] = p.csrf
                request[COOKIE_AUTH] = True
        if p is None:
            if path.startswith("/api/"):
                raise web.HTTPUnauthorized(text="sign in or send an API key\n", headers={"WWW-Authenticate": "Bearer"})
            raise web.HTTPSeeOther("/login?next=" + quote(path, safe="/"))
        request[PRINCIPAL] = p
        if not path.startswith("/api/push") and not p.has_scope("read"):
            raise web.HTTPForbidden(text="this key has no read scope\n")
        request[SCOPE] = await ctx.run(ctx.hub.scope, p)
    if request.method not in ("GET", "HEAD") and request.get(COOKIE_AUTH):
        await check_csrf(request)
    return await handler(request)


async def check_csrf(request: web.Request) -> None:
    if not same_origin(request):
        raise web.HTTPForbidden(text="cross-origin request refused\n")
    sent = request.headers.get("X-CSRF-Token")
    if sent is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        field = form.get("csrf")
        sent = field if isinstance(field, str) else None
    import hmac

    if not sent or not request.get(CSRF) or not hmac.compare_digest(str(sent), request[CSRF]):
        raise web.HTTPForbidden(text="missing or wrong CSRF token; reload the page\n")


# ---------------------------------------------------------------------- sessions
AGENTS = ["", *svc.agent_names()]
SORTS = [
    ("started", "started"),
    ("ended", "last activity"),
    ("cost", "cost"),
    ("tokens", "tokens"),
    ("events", "events"),
    ("turns", "turns"),
    ("findings", "findings"),
    ("agent", "agent"),
    ("title", "title"),
]


async def sessions_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    raw = dict(request.query)
    views = await ctx.run(svc.saved_views, ctx.app) if ctx.hub is None else {}
    if raw.get("view"):
        if raw["view"] not in views:
            raise NotFound("no such view")
        raw = {**views[raw["view"]], **{k: v for k, v in raw.items() if k not in ("view",)}}
    limit = 50
    off = _int(raw.get("offset"), 0)
    pg = await ctx.run(svc.sessions_page, ctx.app, raw, scope=request[SCOPE], limit=limit, offset=off)
    f = pg["filters"]
    agents = sorted({a for a, _ in pg["facets"]["agent"]} | set(AGENTS[1:]))
    form = [
        '<form class="filters" method="get" action="/">',
        f'<label>Text <input type="search" name="q" value="{H.esc(f.get("q"))}" placeholder="title, id, project"></label>',
        "<label>Agent " + H.select("agent", [("", "any")] + [(a, a) for a in agents if a], f.get("agent")) + "</label>",
        f'<label>Project <input name="project" value="{H.esc(f.get("project"))}" list="projects" placeholder="any"></label>',
        '<datalist id="projects">'
        + "".join(f'<option value="{H.esc(p.rsplit("/", 1)[-1])}">' for p, _ in pg["facets"]["project"])
        + "</datalist>",
        f'<label>From <input type="date" name="since" value="{H.esc(f.get("since"))}"></label>',
        f'<label>To <input type="date" name="until" value="{H.esc(f.get("until"))}"></label>',
        f'<label class="check"><input type="checkbox" name="findings" value="1"{" checked" if f.get("findings") else ""}> has findings</label>',
        '<label>Sort <span class="row">'
        + H.select("sort", SORTS, f.get("sort") or "started")
        + H.select("order", [("desc", "newest / largest first"), ("asc", "oldest / smallest first")], f.get("order") or "desc")
        + "</span></label>",
        '<button type="submit">Filter</button> <a class="button light" href="/">Reset</a></form>',
    ]
    if ctx.hub is None:
        opts = "".join(f'<a class="chip" href="/?view={quote(n)}">{H.esc(n)}</a>' for n in sorted(views))
        form.append(
            f'<div class="views"><span class="muted">Saved views:</span> {opts or "<span class=muted>none yet</span>"}'
            f'<form method="post" action="/views" class="inline">{csrf_input(request)}'
            + "".join(f'<input type="hidden" name="{k}" value="{H.esc(v)}">' for k, v in f.items())
            + '<input name="name" placeholder="name this view" required maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9 _.\\-]*">'
            '<button type="submit">Save view</button></form></div>'
        )
    facets = []
    for name, vals in pg["facets"].items():
        chips = "".join(
            f'<a class="chip" href="/{H.qs(f, **{name: v.rsplit("/", 1)[-1] if name == "project" else v, "offset": None})}">'
            f"{H.esc(v.rsplit('/', 1)[-1] if name == 'project' else v)} <span>{n}</span></a>"
            for v, n in vals[:10]
        )
        facets.append(f'<div class="facet"><b>{name}</b> {chips}</div>')
    rows = []
    for r in pg["rows"]:
        title = r["title"] or r["id"]
        sub = ' <span class="pill">sub-agent</span>' if r.get("parent_session_id") else ""
        if r.get("log_missing"):
            sub += ' <span class="pill gone" title="the log file is gone: the transcript is from the store">log deleted</span>'
        rows.append(
            [
                H.esc(H.fmt_time(r["started_at"])),
                f'<span class="agent a-{H.esc(r["agent"])}">{H.esc(r["agent"])}</span>',
                f'<a href="{H.session_href(r["id"])}">{H.esc(title[:120])}</a>{sub}<div class="muted small sid">{H.esc(r["id"])}</div>',
                H.esc(r["project_name"] or "—"),
                H.fmt_int(r["turns"]),
                H.fmt_int(r["events"]),
                H.fmt_int(r["tokens"]),
                H.esc(render.fmt_usd(r["cost_usd"], r["cost_known"])),
                f'<a class="bad" href="/coach?session={quote(r["id"])}">{r["findings"]}</a>' if r["findings"] else "",
            ]
        )
    cols = [
        ("Started", "nowrap"),
        ("Agent", ""),
        ("Session", "wide"),
        ("Project", "nowrap"),
        ("Turns", "num"),
        ("Events", "num"),
        ("Tokens", "num"),
        ("Cost", "num"),
        ("Findings", "num"),
    ]
    nav = []
    if off > 0:
        nav.append(f'<a href="/{H.qs(f, offset=max(off - limit, 0) or None)}">← newer</a>')
    if off + limit < pg["total"]:
        nav.append(f'<a href="/{H.qs(f, offset=off + limit)}">older →</a>')
    shown = f"{off + 1}–{off + len(pg['rows'])} of {pg['total']:,}" if pg["rows"] else "0"
    body = (
        f'<h1>Sessions <span class="count">{shown}</span></h1>'
        + "".join(form)
        + '<div class="facets">'
        + "".join(facets)
        + "</div>"
        + (
            H.table(cols, rows)
            if rows
            else '<p class="empty">No sessions match. Run <code>sessionlens index</code> or widen the filters.</p>'
        )
        + f'<p class="pager">{" · ".join(nav)}</p>'
    )
    return page(request, "Sessions", body, "/")


async def save_view(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    form = await request.post()
    name = str(form.get("name") or "")
    if form.get("delete"):
        await ctx.run(svc.delete_view, ctx.app, name)
        raise web.HTTPSeeOther("/")
    await ctx.run(svc.save_view, ctx.app, name, {k: str(v) for k, v in form.items() if k in svc.VIEW_FIELDS})
    raise web.HTTPSeeOther("/?view=" + quote(name))


async def session_page(request: web.Request) -> web.Response:
    """A session's transcript, drawn by the reader's one renderer (``services/render``: the editor's
    webview and ``export --format html`` show the same), styled and scripted by static files."""
    ctx = ctx_of(request)
    sid = request.match_info["sid"]
    v = await ctx.run(svc.transcript, ctx.app, sid, scope=request[SCOPE])
    s = v["session"]
    await audit(request, "session.view", target=s["id"])
    links = [f'<a href="/s/{quote(s["id"], safe="")}/export">export (redacted Markdown)</a>']
    if s.get("parent_session_id"):
        links.append(f'sub-agent of <a href="{H.session_href(s["parent_session_id"])}">{H.esc(s["parent_session_id"][:40])}</a>')
    if v["subagents"]:
        links.append(
            "sub-agents: "
            + " · ".join(
                f'<a href="{H.session_href(x["id"])}">{H.esc(x.get("agent_id") or x["id"][:12])}</a> ({H.fmt_int(x["events"])} events)'
                for x in v["subagents"]
            )
        )
    probs = ""
    if v["problems"]:
        probs = (
            '<details class="problems"><summary>'
            + f"{len(v['problems'])} malformed line(s)</summary><ul>"
            + "".join(f"<li>line {p.line}: {H.esc(p.message)}</li>" for p in v["problems"][:200])
            + "</ul></details>"
        )
    body = (
        f'<div class="sessionbar"><p class="crumbs"><a href="/">Sessions</a> › {" · ".join(links)}</p>'
        f'<span class="live" id="live" data-session="{H.esc(s["id"])}" data-after="{v["last_seq"]}">live</span></div>'
        f'{probs}<div id="transcript">{v["body"]}</div>'
    )
    if ctx.hub is None:  # agent blame: the files this session edited, when they are here
        bar = await ctx.run(web_blame.files_bar, ctx.app, s["id"])
        body = body.replace("</div>", "</div>" + bar, 1)  # under the session bar
    return page(request, s.get("title") or s["id"], body, transcript=True)


async def session_events(request: web.Request) -> web.Response:
    """The turns with events after ``after`` as HTML ``<section>`` fragments (the live view puts
    each in place of the page's section of the same id, or appends it)."""
    ctx = ctx_of(request)
    after = _int(request.query.get("after"), 0)
    frag, last = await ctx.run(svc.transcript_turns_after, ctx.app, request.match_info["sid"], after, scope=request[SCOPE])
    return web.Response(text=frag, content_type="text/html", charset="utf-8", headers={"X-Last-Seq": str(last)})


async def session_image(request: web.Request) -> web.Response:
    """An image a log kept (a screenshot in a tool result): the bytes, typed, never sniffed."""
    ctx = ctx_of(request)
    seq, index = _int(request.match_info["seq"], -1), _int(request.match_info["n"], -1)
    mime, raw = await ctx.run(svc.image, ctx.app, request.match_info["sid"], seq, index, scope=request[SCOPE])
    return web.Response(body=raw, content_type=mime, headers={"Cache-Control": "private, max-age=3600", "Content-Disposition": "inline"})


async def transcript_asset(request: web.Request) -> web.Response:
    """The reader's stylesheet and script (the same the webview and the exported file inline),
    as files: the page's CSP allows no inline style or script."""
    if request.path.endswith(".css"):
        return web.Response(
            text=render_html.TRANSCRIPT_CSS, content_type="text/css", charset="utf-8", headers={"Cache-Control": "public, max-age=300"}
        )
    return web.Response(
        text=render_html.TRANSCRIPT_JS,
        content_type="application/javascript",
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


async def session_live(request: web.Request) -> web.StreamResponse:
    """Server-sent events: ``grew`` whenever the session's log got new events."""
    ctx = ctx_of(request)
    sid = request.match_info["sid"]
    path, prog = await ctx.run(svc.session_progress, ctx.app, sid, scope=request[SCOPE])
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
    security_headers(resp, ctx.cfg)
    await resp.prepare(request)
    await resp.write(b"retry: 2000\nevent: hello\ndata: {}\n\n")
    try:
        ticks = 0
        while True:
            await asyncio.sleep(ctx.cfg.poll_seconds)
            ticks += 1
            n = 0
            if ctx.hub is None:
                n = await ctx.run(svc.refresh_file, ctx.app, path)
            new = await ctx.run(svc.session_progress, ctx.app, sid, scope=request[SCOPE])
            if n or new[1] != prog:
                prog = new[1]
                await resp.write(f"event: grew\ndata: {json.dumps({'events': n})}\n\n".encode())
            elif ticks % 15 == 0:
                await resp.write(b": keep-alive\n\n")
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return resp


async def session_export(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    s = await ctx.run(svc.session_ref, ctx.app, request.match_info["sid"], scope=request[SCOPE])  # scope check first
    title, md = await ctx.run(ctx.app.render_session, s.id, redact=True)
    await audit(request, "session.export", target=s.id)
    return web.Response(
        text=md, content_type="text/markdown", charset="utf-8", headers={"Content-Disposition": 'attachment; filename="session.md"'}
    )


async def resolve_link(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    r = await ctx.run(svc.resolve_link, ctx.app, request.query.get("u", ""), scope=request[SCOPE])
    raise web.HTTPSeeOther(H.session_href(r["session_id"], r.get("seq")))


# ---------------------------------------------------------------------- search
def _snippet(h: dict) -> str:
    s = h.get("snippet") or ""
    out, pos = [], 0
    for a, b in h.get("highlights") or []:
        if 0 <= pos <= a <= b <= len(s):
            out.append(H.esc(s[pos:a]) + "<mark>" + H.esc(s[a:b]) + "</mark>")
            pos = b
    return "".join(out) + H.esc(s[pos:])


async def search_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    q = (request.query.get("q") or "").strip()[:500]
    f = {k: request.query.get(k) for k in ("agent", "project", "kind", "tool", "since", "until") if request.query.get(k)}
    form = (
        f'<form class="filters" method="get" action="/search"><label class="grow">Query <input type="search" name="q" value="{H.esc(q)}" '
        'placeholder="words, &quot;phrases&quot;, kind:tool_call, tool:Bash" autofocus></label>'
        + "".join(f'<input type="hidden" name="{k}" value="{H.esc(v)}">' for k, v in f.items())
        + '<button type="submit">Search</button></form>'
    )
    if not q:
        return page(
            request,
            "Search",
            "<h1>Search</h1>" + form + '<p class="muted">Full-text search over messages, commands, tool output and patches.</p>',
            "/search",
        )
    res = await ctx.run(svc.search, ctx.app, q, filters=f, scope=request[SCOPE], limit=50)
    await audit(request, "search", target=q[:200], hits=len(res["hits"]))
    facet_html = []
    for name, key in (("agent", "agent"), ("kind", "kind"), ("project", "project_name"), ("tool", "tool")):
        chips = "".join(
            f'<a class="chip{" on" if f.get(name) == v else ""}" href="/search{H.qs({"q": q, **f}, **{name: None if f.get(name) == v else v})}">{H.esc(v)} <span>{n}</span></a>'
            for v, n in res["facets"][key]
            if v != "-"
        )
        if chips:
            facet_html.append(f'<div class="facet"><b>{name}</b> {chips}</div>')
    items = []
    for h in res["hits"]:
        when = (h.get("timestamp") or "")[:16].replace("T", " ")
        items.append(
            f'<li><a class="hit" href="{H.session_href(h["session_id"], h["seq"])}">{H.esc((h.get("title") or h["session_id"])[:100])}</a>'
            f' <span class="muted small">{H.esc(h["agent"])} · {H.esc(h["kind"])}{" · " + H.esc(h["tool"]) if h.get("tool") else ""}'
            f" · {H.esc(when)} · {H.esc(h.get('project_name') or '—')} · line {h['seq']}</span>"
            f'<p class="snippet">{_snippet(h)}</p></li>'
        )
    warn = "".join(f'<p class="warn">{H.esc(w)}</p>' for w in res.get("warnings") or [])
    body = (
        f'<h1>Search <span class="count">{len(res["hits"])} of {res["total"]:,}</span></h1>{form}{warn}'
        f'<div class="facets">{"".join(facet_html)}</div>'
        + (f'<ol class="hits">{"".join(items)}</ol>' if items else '<p class="empty">No matches.</p>')
    )
    return page(request, f"Search: {q}", body, "/search")


# ---------------------------------------------------------------------- cost
async def cost_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    by = request.query.get("by", "day")
    if by not in ("day", "week", "month", "model", "project", "agent", "session"):
        by = "day"
    f = {k: request.query.get(k) for k in ("since", "until", "project", "agent") if request.query.get(k)}
    rep = await ctx.run(svc.cost, ctx.app, by, scope=request[SCOPE], **f)
    tabs = "".join(
        f'<a class="tab{" on" if b == by else ""}" href="/cost{H.qs(f, by=b)}">{b}</a>'
        for b in ("day", "week", "month", "model", "project", "agent", "session")
    )
    form = (
        '<form class="filters" method="get" action="/cost">' + f'<input type="hidden" name="by" value="{H.esc(by)}">'
        f'<label>From <input type="date" name="since" value="{H.esc(f.get("since"))}"></label>'
        f'<label>To <input type="date" name="until" value="{H.esc(f.get("until"))}"></label>'
        f'<label>Project <input name="project" value="{H.esc(f.get("project"))}" placeholder="any"></label>'
        "<label>Agent " + H.select("agent", [("", "any")] + [(a, a) for a in AGENTS if a], f.get("agent")) + "</label>"
        '<button type="submit">Apply</button></form>'
    )
    if by in ("day", "week", "month"):
        chart = await ctx.run(svc.cost_chart, rep["rows"], title=f"Cost per {by} by model (USD)")
    else:
        agg: dict[str, float] = {}
        for r in rep["rows"]:
            k = r.get("title") or r["key"] if by == "session" else r["key"]
            if by == "project" and k:
                k = k.rsplit("/", 1)[-1]
            agg[k or "—"] = agg.get(k or "—", 0) + r["cost_usd"]
        chart = H.bar_chart(sorted(agg.items(), key=lambda kv: -kv[1]), title=f"Cost by {by} (USD)")
    cols = (
        [(by, "wide")]
        + ([("model", "")] if by in ("day", "week", "month") else [])
        + [("input", "num"), ("cache read", "num"), ("cache write", "num"), ("output", "num"), ("requests", "num"), ("cost", "num")]
    )
    rows = []
    for r in reversed(rep["rows"]) if by in ("day", "week", "month") else sorted(rep["rows"], key=lambda r: -r["cost_usd"]):
        label = H.esc(r["key"] or "—")
        if by == "session":
            label = f'<a href="{H.session_href(r["key"])}">{H.esc((r.get("title") or r["key"])[:80])}</a>'
        cells = [label] + ([H.esc(r["model"])] if by in ("day", "week", "month") else [])
        cells += [
            H.fmt_int(r["input"]),
            H.fmt_int(r["cache_read"]),
            H.fmt_int(r["cache_write"]),
            H.fmt_int(r["output"]),
            H.fmt_int(r["requests"]),
            H.esc(render.fmt_usd(r["cost_usd"])) + (" *" if r["unknown"] else ""),
        ]
        rows.append(cells)
    t = rep["totals"]
    summary = (
        f'<div class="cards"><div><b>{H.esc(render.fmt_usd(t["cost_usd"]))}</b><span>total cost</span></div>'
        f"<div><b>{H.fmt_int(t['requests'])}</b><span>billed requests</span></div>"
        f"<div><b>{H.fmt_int(t['input'] + t['cache_read'] + t['cache_write'])}</b><span>prompt tokens</span></div>"
        f"<div><b>{H.fmt_int(t['output'])}</b><span>output tokens</span></div></div>"
    )
    note = f'<p class="muted">* {t["unknown"]} request(s) used models without a known price; not included.</p>' if t["unknown"] else ""
    body = (
        f'<h1>Cost</h1>{summary}<div class="tabs">{tabs}</div>{form}<figure>{chart}</figure>'
        + (H.table(cols, rows[:500]) if rows else '<p class="empty">No token usage for this selection.</p>')
        + note
    )
    return page(request, "Cost", body, "/cost")


# ---------------------------------------------------------------------- coach / compliance
async def coach_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    rule = request.query.get("rule")
    sid = request.query.get("session")
    ov = await ctx.run(svc.findings_overview, ctx.app, scope=request[SCOPE], rule=rule, limit=300)
    recent = ov["recent"]
    if sid:
        recent = [r for r in recent if r["session_id"] == sid]
    by_proj: dict[str, list[dict]] = {}
    for r in ov["by_project"]:
        by_proj.setdefault(r["project"], []).append(r)
    blocks = []
    for proj, items in by_proj.items():
        chips = "".join(
            f'<a class="chip sev-{H.esc(i["severity"])}" href="/coach{H.qs({}, rule=i["rule_id"])}">{H.esc(i["rule_id"])} <span>{i["findings"]}</span></a>'
            for i in items
        )
        total = sum(i["findings"] for i in items)
        blocks.append(
            f'<div class="proj"><h3>{H.esc(proj.rsplit("/", 1)[-1])} <span class="muted small">{H.esc(proj)} · {total} findings</span></h3>{chips}</div>'
        )
    rows = [
        [
            f'<span class="sev sev-{H.esc(r["severity"])}">{H.esc(r["severity"])}</span>',
            H.esc(r["rule_id"]),
            f'<a href="{H.session_href(r["session_id"], r["seq"])}">{H.esc(r["message"][:160])}</a>',
            H.esc((r["project"] or "—").rsplit("/", 1)[-1]),
            H.esc(H.fmt_time(r["started_at"])),
        ]
        for r in recent
    ]
    comp = ""
    if ctx.hub is None:
        rep = await ctx.run(svc.compliance, ctx.app, scope=request[SCOPE])
        if rep.get("rows"):
            crow = [
                [
                    H.esc(f"{Path(r['path']).name}:{r['line']}"),
                    H.esc(r["guideline"][:120]),
                    H.fmt_int(r["applied"]),
                    H.fmt_int(r["followed"]),
                    f'<span class="{"bad" if r["violated"] else ""}">{H.fmt_int(r["violated"])}</span>',
                ]
                for r in rep["rows"]
            ]
            comp = (
                "<h2>Guideline compliance</h2>"
                + f'<p class="muted">{rep["sessions"]} recent session(s) checked against their AGENTS.md / CLAUDE.md.</p>'
                + H.table([("file", "nowrap"), ("guideline", "wide"), ("applied", "num"), ("followed", "num"), ("violated", "num")], crow)
            )
        else:
            comp = '<h2>Guideline compliance</h2><p class="muted">No checkable guidelines in the instruction files of recent sessions.</p>'
    body = (
        "<h1>Coach</h1>"
        + (f'<p>Filtered by rule <b>{H.esc(rule)}</b> · <a href="/coach">all rules</a></p>' if rule else "")
        + "<h2>Findings by project</h2>"
        + ("".join(blocks) or '<p class="empty">No coach findings.</p>')
        + "<h2>Recent findings</h2>"
        + (
            H.table([("severity", ""), ("rule", "nowrap"), ("finding", "wide"), ("project", "nowrap"), ("session", "nowrap")], rows)
            if rows
            else '<p class="empty">None.</p>'
        )
        + comp
    )
    return page(request, "Coach", body, "/coach")


# ---------------------------------------------------------------------- evals
async def evals_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    runs = await ctx.run(svc.eval_runs, ctx.app)
    rows = []
    for r in runs:
        s = r["summary"] or {}
        reg = s.get("regressions", 0)
        rows.append(
            [
                f'<a href="/evals/{r["id"]}">#{r["id"]}</a>',
                H.esc(r["suite"]),
                H.esc(H.fmt_time(r["started_at"])),
                H.fmt_int(s.get("passed")),
                H.fmt_int(s.get("failed")),
                f'<span class="{"bad" if reg else ""}">{H.fmt_int(reg)}</span>',
                H.esc((r["git_commit"] or "—")[:10]),
                "📌" if r["pinned"] else "",
            ]
        )
    body = "<h1>Eval runs</h1>" + (
        H.table(
            [
                ("run", ""),
                ("suite", "wide"),
                ("started", "nowrap"),
                ("passed", "num"),
                ("failed", "num"),
                ("regressions", "num"),
                ("commit", ""),
                ("baseline", ""),
            ],
            rows,
        )
        if rows
        else '<p class="empty">No eval runs yet: <code>sessionlens eval run</code>.</p>'
    )
    return page(request, "Evals", body, "/evals")


async def eval_run_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    rid = _int(request.match_info["rid"], -1)
    res = await ctx.run(svc.eval_results, ctx.app, rid, scope=request[SCOPE])
    rows = []
    for r in res:
        link = H.esc(r["session_id"] or "—")
        if r["session_id"]:
            link = f'<a href="{H.session_href(r["session_id"], r["evidence_seq"])}">{H.esc(r["session_id"][:24])}</a>'
        rows.append(
            [
                f'<span class="{"ok" if r["passed"] else "bad"}">{"pass" if r["passed"] else "FAIL"}</span>',
                H.esc(r["check_id"]),
                H.esc(r["case_id"] or ""),
                link,
                H.esc((r["message"] or "")[:200]),
            ]
        )
    body = f'<p class="crumbs"><a href="/evals">Eval runs</a> ›</p><h1>Run #{rid}</h1>' + (
        H.table([("result", ""), ("check", "nowrap"), ("case", ""), ("session", ""), ("message", "wide")], rows)
        if rows
        else '<p class="empty">No results.</p>'
    )
    return page(request, f"Eval run {rid}", body, "/evals")


# ---------------------------------------------------------------------- JSON API (read)
async def api_sessions(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    pg = await ctx.run(
        svc.sessions_page,
        ctx.app,
        dict(request.query),
        scope=request[SCOPE],
        limit=_int(request.query.get("limit"), 100, 1, 500),
        offset=_int(request.query.get("offset"), 0),
    )
    keep = (
        "id",
        "agent",
        "project",
        "title",
        "started_iso",
        "ended_iso",
        "events",
        "turns",
        "tokens",
        "cost_usd",
        "findings",
        "cost_known",
        "models",
        "parent_session_id",
        "agent_id",
    )
    return json_response({"total": pg["total"], "sessions": [{k: r.get(k) for k in keep} for r in pg["rows"]], "facets": pg["facets"]})


async def api_search(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    q = (request.query.get("q") or "").strip()[:500]
    if not q:
        raise web.HTTPBadRequest(text="q is required\n")
    res = await ctx.run(
        svc.search,
        ctx.app,
        q,
        scope=request[SCOPE],
        limit=_int(request.query.get("limit"), 20, 1, 200),
        filters={k: request.query.get(k) for k in ("agent", "kind", "tool")},
    )
    await audit(request, "search", target=q[:200], hits=len(res["hits"]))
    keep = ("session_id", "seq", "line", "agent", "kind", "tool", "timestamp", "title", "snippet", "project_name")
    return json_response({"total": res["total"], "hits": [{k: h.get(k) for k in keep} for h in res["hits"]], "facets": res["facets"]})


async def api_cost(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    by = request.query.get("by", "day")
    rep = await ctx.run(svc.cost, ctx.app, by, scope=request[SCOPE])
    return json_response(rep)


async def api_status(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    return json_response({"indexing": ctx.busy()})


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


# ---------------------------------------------------------------------- application
def make_app(app: App, cfg: WebConfig, hub=None) -> web.Application:
    from sessionlens.web import telemetry as web_telemetry  # a no-op list unless OTEL_* ask

    wa = web.Application(
        middlewares=[*web_telemetry.middlewares(), guard, auth], client_max_size=cfg.max_push_body if hub is not None else cfg.max_body
    )
    ctx = Ctx(app, cfg, hub)
    wa[CTX] = ctx
    r = wa.router
    r.add_get("/", sessions_page)
    r.add_post("/views", save_view)
    r.add_get("/s/{sid}", session_page)
    r.add_get("/s/{sid}/events", session_events)
    r.add_get("/s/{sid}/live", session_live)
    r.add_get("/s/{sid}/export", session_export)
    r.add_get(r"/s/{sid}/img/{seq:\d+}/{n:\d+}", session_image)
    r.add_get("/link", resolve_link)
    r.add_get("/search", search_page)
    r.add_get("/cost", cost_page)
    r.add_get("/coach", coach_page)
    r.add_get("/evals", evals_page)
    r.add_get("/evals/{rid}", eval_run_page)
    r.add_get("/api/sessions", api_sessions)
    r.add_get("/api/search", api_search)
    r.add_get("/api/cost", api_cost)
    r.add_get("/api/status", api_status)
    hubapi.add_routes(r)  # /api/s/<id>: a session as data (editors render it)
    r.add_get("/healthz", healthz)
    r.add_get("/static/transcript.css", transcript_asset)
    r.add_get("/static/transcript.js", transcript_asset)
    r.add_static("/static/", STATIC, show_index=False, follow_symlinks=False)
    if hub is not None:
        hubpages.add_routes(r)
    else:
        web_blame.add_routes(r)  # /blame/<log>/<event>/<hunk>: the local machine's files only

    async def on_start(_):
        ctx.worker = threading.Thread(target=ctx._work, name="sessionlens-web-indexer", daemon=True)
        ctx.worker.start()
        if hub is not None:
            paths = await ctx.run(hub.recover)
            ctx.queue_index(paths)
        elif cfg.index_on_start:
            roots = await ctx.run(app.roots)
            ctx.queue_index(roots)

    async def on_stop(_):
        ctx.stop.set()
        ctx.wake.set()
        if ctx.worker is not None:
            await asyncio.get_running_loop().run_in_executor(None, ctx.worker.join, 30)
        ctx.pool.shutdown(wait=False)

    wa.on_startup.append(on_start)
    wa.on_cleanup.append(on_stop)
    return wa


async def start(app: App, cfg: WebConfig, hub=None, ssl_context=None) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner and the bound port (``cfg.port`` 0 picks a free one)."""
    wa = make_app(app, cfg, hub)
    runner = web.AppRunner(wa, access_log=None, keepalive_timeout=30, shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, cfg.host, cfg.port, ssl_context=ssl_context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    wa[CTX].port = port
    return runner, port
