"""The web UI and hub observing themselves: a span and a latency sample per request (by route and status)
and a count of rate-limited requests, through ``services.selftrace`` — only when OTEL_* ask for it."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from sessionlens.services import selftrace


def _route(request: web.Request) -> str:
    try:
        res = request.match_info.route.resource
        return res.canonical if res is not None else "unmatched"
    except AttributeError:
        return "unmatched"


def middlewares() -> list[Any]:
    """``[]`` when telemetry is off (no wrapper at all), else the outermost middleware."""
    t = selftrace.telemetry("hub")
    if not t.enabled:
        return []

    @web.middleware
    async def observed(request: web.Request, handler):
        route = _route(request)
        t0 = time.perf_counter()
        status = 500
        with t.span(f"{request.method} {route}", **{"http.request.method": request.method, "http.route": route}) as sp:
            try:
                resp = await handler(request)
                status = resp.status
                return resp
            except web.HTTPException as e:
                status = e.status
                raise
            finally:
                if sp is not None:
                    sp.set_attribute("http.response.status_code", status)
                attrs = {"http.request.method": request.method, "http.route": route, "http.response.status_code": status}
                t.record("sessionlens.hub.request.duration", time.perf_counter() - t0, **attrs)
                if status == 429:
                    t.add("sessionlens.hub.rate_limited", 1, **{"http.route": route})

    return [observed]
