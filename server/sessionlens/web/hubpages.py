"""The team hub's pages and API: sign-in, API keys, members and roles, the audit log, push ingestion."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import quote

from aiohttp import web
from pydantic import ValidationError

from sessionlens.services.hub import ROLES, SCOPES, HubError, PushChunk
from sessionlens.web import html as H
from sessionlens.web.common import audit, csrf_input, ctx_of, json_response, page
from sessionlens.web.security import PRINCIPAL, SESSION_COOKIE, client_address, cookie_kw, same_origin, too_many

LOGIN_COOKIE = "sessionlens_login"
MAX_CHUNKS = 32


def _principal(request):
    p = request.get(PRINCIPAL)
    if p is None:
        raise web.HTTPUnauthorized(text="sign in first\n")
    return p


def _admin(request):
    p = _principal(request)
    if p.role != "admin" or not p.has_scope("admin"):
        raise web.HTTPForbidden(text="admins only\n")
    return p


def _safe_next(v: str | None) -> str:
    v = v or "/"
    if not v.startswith("/") or v.startswith("//") or "\\" in v or any(ord(c) < 32 for c in v):
        return "/"
    return v


# ---------------------------------------------------------------------- sign-in
async def login_form(request: web.Request, error: str = "", status: int = 200, nxt: str | None = None) -> web.Response:
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    nxt = _safe_next(nxt or request.query.get("next"))
    err = f'<p class="bad">{H.esc(error)}</p>' if error else ""
    body = (
        f'<form class="login" method="post" action="/login"><h1>Sign in</h1>{err}'
        f'<input type="hidden" name="csrf" value="{H.esc(nonce)}"><input type="hidden" name="next" value="{H.esc(nxt)}">'
        '<label>User <input name="username" autocomplete="username" required maxlength="64" autofocus></label>'
        '<label>Password <input name="password" type="password" autocomplete="current-password" required maxlength="1024"></label>'
        '<button type="submit">Sign in</button></form>'
    )
    resp = page(request, "Sign in", body)
    resp.set_status(status)
    resp.set_cookie(LOGIN_COOKIE, nonce, **cookie_kw(ctx_of(request).cfg, max_age=3600))
    return resp


async def login_get(request: web.Request) -> web.Response:
    return await login_form(request)


async def login_post(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    src = client_address(request, ctx.cfg)
    wait = ctx.auth_limit.hit(src)
    if wait:
        await ctx.run(ctx.hub.audit, "anonymous", "signin", source=src, outcome="rate-limited")
        raise too_many(wait)
    if not same_origin(request):
        raise web.HTTPForbidden(text="cross-origin request refused\n")
    form = await request.post()
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not nonce or not secrets.compare_digest(str(form.get("csrf") or ""), nonce):
        raise web.HTTPForbidden(text="missing or wrong CSRF token; reload the page\n")
    username = str(form.get("username") or "")[:64]
    wait = ctx.auth_limit.hit("user:" + username)
    if wait:
        raise too_many(wait)
    user = await ctx.run(ctx.hub.authenticate, username, str(form.get("password") or ""))
    if user is None:
        await ctx.run(ctx.hub.audit, username or "anonymous", "signin", source=src, outcome="failed")
        return await login_form(request, "Wrong user name or password.", 401, nxt=str(form.get("next") or ""))
    token, _csrf = await ctx.run(ctx.hub.start_session, user)
    await ctx.run(ctx.hub.audit, user.username, "signin", source=src, outcome="ok")
    resp = web.HTTPSeeOther(_safe_next(str(form.get("next") or "/")))
    resp.set_cookie(SESSION_COOKIE, token, **cookie_kw(ctx.cfg, max_age=12 * 3600))
    resp.del_cookie(LOGIN_COOKIE, path="/")
    raise resp


async def logout(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    p = _principal(request)
    await ctx.run(ctx.hub.end_session, request.cookies.get(SESSION_COOKIE))
    await audit(request, "signout", target=p.user.username)
    resp = web.HTTPSeeOther("/login")
    resp.del_cookie(SESSION_COOKIE, path="/")
    raise resp


# ---------------------------------------------------------------------- API keys
def _keys_table(request, keys, *, owner_names=None) -> str:
    rows = []
    now = time.time()
    for k in keys:
        state = "revoked" if k.revoked_at else ("expired" if k.expires_at and k.expires_at < now else "active")
        revoke = ""
        if state == "active":
            revoke = (
                f'<form method="post" action="/keys/revoke">{csrf_input(request)}<input type="hidden" name="id" value="{k.id}">'
                '<button class="danger" type="submit">Revoke</button></form>'
            )
        rows.append(
            [
                H.esc(k.name),
                f"<code>slk_{H.esc(k.prefix)}_…</code>",
                H.esc((owner_names or {}).get(k.user_id, "")),
                H.esc(", ".join(k.scopes)),
                H.esc(k.project or "all"),
                H.esc(H.fmt_time(k.expires_at) if k.expires_at else "never"),
                H.esc(H.fmt_time(k.last_used_at)),
                f'<span class="{"ok" if state == "active" else "muted"}">{state}</span>',
                revoke,
            ]
        )
    cols = [
        ("name", ""),
        ("key", "nowrap"),
        ("owner", ""),
        ("scopes", ""),
        ("project", ""),
        ("expires", "nowrap"),
        ("last used", "nowrap"),
        ("state", ""),
        ("", ""),
    ]
    return H.table(cols, rows) if rows else '<p class="empty">No keys.</p>'


async def keys_page(request: web.Request, created: str | None = None) -> web.Response:
    ctx = ctx_of(request)
    p = _principal(request)
    keys = await ctx.run(ctx.hub.store.keys, p.user.id)
    projects = await ctx.run(ctx.hub.store.user_projects, p.user.id) if p.role != "admin" else await ctx.run(ctx.hub.store.projects)
    shown = ""
    if created:
        shown = f'<h2>Your new key</h2><p>Copy it now: it is shown only once and stored hashed.</p><p class="secret">{H.esc(created)}</p>'
    scopes = "".join(
        f'<label class="check"><input type="checkbox" name="scope" value="{s}"{" checked" if s == "read" else ""}> {s}</label>'
        for s in SCOPES
        if s != "admin" or p.role == "admin"
    )
    form = (
        f'<div class="stack"><form method="post" action="/keys">{csrf_input(request)}'
        '<label>Name <input name="name" required maxlength="80" placeholder="laptop push"></label>'
        f"<label>Scopes <span>{scopes}</span></label>"
        "<label>Project " + H.select("project", [("", "all my projects")] + [(x, x) for x in projects], "") + "</label>"
        '<label>Expires in days <input name="expires_days" type="number" min="1" max="3650" placeholder="never"></label>'
        '<button type="submit">Create key</button></form></div>'
    )
    body = f"<h1>API keys</h1>{shown}{form}<h2>Your keys</h2>{_keys_table(request, keys)}"
    return page(request, "API keys", body, "/keys")


async def keys_create(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    p = _principal(request)
    if p.key is not None and not p.has_scope("admin"):
        raise web.HTTPForbidden(text="a key cannot create keys\n")
    form = await request.post()
    exp = str(form.get("expires_days") or "").strip()
    try:
        expires = float(exp) if exp else None
    except ValueError:
        raise web.HTTPBadRequest(text="expiry must be a number of days\n") from None
    try:
        raw, rec = await ctx.run(
            ctx.hub.create_key,
            p.user,
            str(form.get("name") or ""),
            form.getall("scope", []),
            project=str(form.get("project") or "") or None,
            expires_days=expires,
        )
    except HubError as e:
        await audit(request, "key.create", outcome="denied", reason=str(e))
        raise _http(e) from None
    await audit(request, "key.create", target=f"slk_{rec.prefix}", scopes=rec.scopes, project=rec.project)
    return await keys_page(request, created=raw)


async def keys_revoke(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    p = _principal(request)
    form = await request.post()
    try:
        k = await ctx.run(ctx.hub.revoke_key, p, int(str(form.get("id") or "0")))
    except (HubError, ValueError) as e:
        await audit(request, "key.revoke", outcome="denied", reason=str(e))
        raise _http(e if isinstance(e, HubError) else HubError("bad key id")) from None
    await audit(request, "key.revoke", target=f"slk_{k.prefix}")
    raise web.HTTPSeeOther("/admin" if p.role == "admin" and form.get("back") == "admin" else "/keys")


def _http(e: HubError) -> web.HTTPException:
    cls = {
        400: web.HTTPBadRequest,
        401: web.HTTPUnauthorized,
        403: web.HTTPForbidden,
        404: web.HTTPNotFound,
        409: web.HTTPConflict,
        413: web.HTTPRequestEntityTooLarge,
    }.get(e.status, web.HTTPBadRequest)
    if cls is web.HTTPRequestEntityTooLarge:
        return web.HTTPRequestEntityTooLarge(max_size=0, actual_size=0, text=f"{e}\n")
    return cls(text=f"{e}\n")


# ---------------------------------------------------------------------- admin
async def admin_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    _admin(request)
    users = await ctx.run(ctx.hub.store.users)
    keys = await ctx.run(ctx.hub.store.keys)
    projects = await ctx.run(ctx.hub.store.projects)
    names = {u.id: u.username for u in users}
    rows = []
    for u in users:
        role_form = (
            f'<form method="post" action="/admin/role" class="inline">{csrf_input(request)}<input type="hidden" name="user" value="{H.esc(u.username)}">'
            + H.select("role", [(r, r) for r in ROLES], u.role)
            + '<button type="submit">Set</button></form>'
        )
        member_form = (
            f'<form method="post" action="/admin/member" class="inline">{csrf_input(request)}<input type="hidden" name="user" value="{H.esc(u.username)}">'
            '<input name="project" placeholder="project" required maxlength="64" size="10"><button type="submit">Add</button></form>'
        )
        dis = (
            f'<form method="post" action="/admin/disable" class="inline">{csrf_input(request)}<input type="hidden" name="user" value="{H.esc(u.username)}">'
            f'<input type="hidden" name="disabled" value="{"0" if u.disabled else "1"}"><button class="{"" if u.disabled else "danger"}" type="submit">'
            f"{'Enable' if u.disabled else 'Disable'}</button></form>"
        )
        rows.append(
            [
                H.esc(u.username) + (' <span class="pill">disabled</span>' if u.disabled else ""),
                role_form,
                H.esc(", ".join(u.projects) or "—") + member_form,
                dis,
            ]
        )
    create = (
        f'<div class="stack"><form method="post" action="/admin/users">{csrf_input(request)}'
        '<label>User <input name="username" required maxlength="64"></label>'
        '<label>Password <input name="password" type="password" required minlength="10" maxlength="1024" autocomplete="new-password"></label>'
        "<label>Role " + H.select("role", [(r, r) for r in ROLES], "member") + "</label>"
        '<label>Project <input name="project" maxlength="64" placeholder="optional"></label>'
        '<button type="submit">Add member</button></form></div>'
    )
    body = (
        "<h1>Organization</h1><h2>Members</h2>"
        + H.table([("user", ""), ("role", ""), ("projects", "wide"), ("", "")], rows)
        + create
        + "<h2>Projects</h2><p>"
        + (
            " ".join(f'<span class="chip">{H.esc(p)}</span>' for p in projects)
            or '<span class="muted">none yet (a push creates them)</span>'
        )
        + "</p>"
        + "<h2>All API keys</h2>"
        + _keys_table(request, keys, owner_names=names)
    )
    return page(request, "Admin", body, "/admin")


async def _admin_action(request: web.Request, action: str, fn) -> web.Response:
    ctx = ctx_of(request)
    _admin(request)
    form = await request.post()
    target = str(form.get("user") or form.get("username") or "")[:64]
    try:
        detail = await ctx.run(fn, form)
    except HubError as e:
        await audit(request, action, target=target, outcome="denied", reason=str(e))
        raise _http(e) from None
    await audit(request, action, target=target, **(detail or {}))
    raise web.HTTPSeeOther("/admin")


async def admin_users(request: web.Request) -> web.Response:
    hub = ctx_of(request).hub

    def fn(form):
        proj = str(form.get("project") or "").strip()
        u = hub.create_user(
            str(form.get("username") or ""), str(form.get("password") or ""), str(form.get("role") or "member"), [proj] if proj else []
        )
        return {"role": u.role, "project": proj or None}

    return await _admin_action(request, "user.create", fn)


async def admin_role(request: web.Request) -> web.Response:
    hub = ctx_of(request).hub

    def fn(form):
        u = hub.user_by_name(str(form.get("user") or ""))
        hub.set_role(u.id, str(form.get("role") or ""))
        return {"from": u.role, "to": str(form.get("role"))}

    return await _admin_action(request, "role.change", fn)


async def admin_member(request: web.Request) -> web.Response:
    hub = ctx_of(request).hub

    def fn(form):
        u = hub.user_by_name(str(form.get("user") or ""))
        proj = str(form.get("project") or "").strip()
        if form.get("remove"):
            hub.store.remove_member(u.id, proj)
            return {"removed": proj}
        hub.add_member(u.id, proj)
        return {"project": proj}

    return await _admin_action(request, "member.change", fn)


async def admin_disable(request: web.Request) -> web.Response:
    hub = ctx_of(request).hub

    def fn(form):
        u = hub.user_by_name(str(form.get("user") or ""))
        hub.set_disabled(u.id, str(form.get("disabled")) == "1")
        return {"disabled": str(form.get("disabled")) == "1"}

    return await _admin_action(request, "user.disable", fn)


async def audit_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    _admin(request)
    action = request.query.get("action") or None
    if request.query.get("format") == "jsonl":
        entries = await ctx.run(ctx.hub.store.audit, limit=1_000_000, action=action, ascending=True)
        await audit(request, "audit.export", entries=len(entries))
        text = "".join(json.dumps(e.model_dump(), ensure_ascii=False) + "\n" for e in entries)
        return web.Response(
            text=text, content_type="application/x-ndjson", headers={"Content-Disposition": 'attachment; filename="audit.jsonl"'}
        )
    entries = await ctx.run(ctx.hub.store.audit, limit=300, action=action)
    ver = await ctx.run(ctx.hub.verify_audit)
    rows = [
        [
            H.esc(str(e.id)),
            H.esc(H.fmt_time(e.ts)),
            H.esc(e.actor),
            f'<a href="/admin/audit{H.qs({}, action=e.action)}">{H.esc(e.action)}</a>',
            H.esc((e.target or "")[:80]),
            H.esc(e.source or ""),
            f'<span class="{"ok" if e.outcome == "ok" else "bad"}">{H.esc(e.outcome)}</span>',
            f'<code class="small">{H.esc((e.detail or "")[:120])}</code>',
        ]
        for e in entries
    ]
    status = f'<p class="{"ok" if ver["ok"] else "bad"}">Hash chain: {H.esc(ver["message"])}</p>'
    body = (
        f'<h1>Audit log</h1>{status}<p><a href="/admin/audit{H.qs({"format": "jsonl"}, action=action)}">Export (JSON lines)</a></p>'
        + H.table(
            [
                ("#", "num"),
                ("time", "nowrap"),
                ("actor", ""),
                ("action", ""),
                ("target", "wide"),
                ("source", ""),
                ("outcome", ""),
                ("detail", ""),
            ],
            rows,
        )
    )
    return page(request, "Audit", body, "/admin/audit")


# ---------------------------------------------------------------------- push API
def _key_only(request):
    p = _principal(request)
    if p.key is None:
        raise web.HTTPForbidden(text="push with an API key (Authorization: Bearer slk_…)\n")
    if not p.has_scope("ingest"):
        raise web.HTTPForbidden(text="this key has no ingest scope\n")
    return p


async def _json_body(request: web.Request):
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="send application/json\n")
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text="malformed JSON\n") from None


async def push_status(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    p = _key_only(request)
    body = await _json_body(request)
    keys = body.get("file_keys") if isinstance(body, dict) else None
    if not isinstance(keys, list) or len(keys) > 10_000:
        raise web.HTTPBadRequest(text="file_keys: a list of at most 10000 keys\n")
    return json_response({"committed": await ctx.run(ctx.hub.push_status, p, keys)})


async def push(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    p = _key_only(request)
    body = await _json_body(request)
    raw = body.get("chunks") if isinstance(body, dict) else None
    if not isinstance(raw, list) or not raw or len(raw) > MAX_CHUNKS:
        raise web.HTTPBadRequest(text=f"chunks: a list of 1 to {MAX_CHUNKS} chunks\n")
    try:
        chunks = [PushChunk.model_validate(c) for c in raw]
    except ValidationError as e:
        first = e.errors()[0]
        raise web.HTTPBadRequest(text=f"malformed chunk: {'.'.join(str(x) for x in first['loc'])}: {first['msg']}\n"[:400]) from None
    results: list[dict[str, Any]] = []
    changed: list[str] = []
    nbytes, outcome = 0, "ok"
    for c in chunks:
        try:
            r = await ctx.run(ctx.hub.push, p, c)
        except HubError as e:
            outcome = "partial" if results else "denied"
            results.append({"file_key": c.file_key, "status": "refused", "code": e.status, "error": str(e), **e.extra})
            continue
        if r["status"] == "ok":
            nbytes += len(c.data)
            changed.append(r["path"])
        results.append({"file_key": c.file_key, "status": r["status"], "committed": r["committed"]})
    if changed:
        ctx.queue_index(changed)
    await audit(request, "push", target=",".join(sorted({c.project for c in chunks})), outcome=outcome, chunks=len(chunks), bytes=nbytes)
    status = 200 if any(r["status"] != "refused" for r in results) else max(r["code"] for r in results)
    return json_response({"results": results}, status=status)


def add_routes(r: web.UrlDispatcher) -> None:
    r.add_get("/login", login_get)
    r.add_post("/login", login_post)
    r.add_post("/logout", logout)
    r.add_get("/keys", keys_page)
    r.add_post("/keys", keys_create)
    r.add_post("/keys/revoke", keys_revoke)
    r.add_get("/admin", admin_page)
    r.add_post("/admin/users", admin_users)
    r.add_post("/admin/role", admin_role)
    r.add_post("/admin/member", admin_member)
    r.add_post("/admin/disable", admin_disable)
    r.add_get("/admin/audit", audit_page)
    r.add_post("/api/push", push)
    r.add_post("/api/push/status", push_status)


__all__ = ["add_routes", "quote"]
