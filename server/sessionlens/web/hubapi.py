"""The read endpoints editors use (``sessionlens.addHub``): one session as JSON, scoped to the caller.

Listing and search are ``/api/sessions`` and ``/api/search`` (``web.server``); a transcript is
``GET /api/s/<id>``: the session's events and turns as data, rendered by the editor's own server.
Authorization is the middleware's (key, read scope, the caller's projects); a session outside the
caller's projects reads as not found, as everywhere.
"""

from __future__ import annotations

from aiohttp import web

from sessionlens.services import hubread
from sessionlens.web.common import audit, ctx_of, json_response
from sessionlens.web.security import SCOPE


async def api_session(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    sid = request.match_info["sid"][:200]
    payload = await ctx.run(hubread.session_payload, ctx.app, sid, scope=request[SCOPE])
    await audit(request, "session.view", target=payload["session"]["id"], via="api")
    return json_response(payload)


def add_routes(r: web.UrlDispatcher) -> None:
    r.add_get("/api/s/{sid}", api_session)
