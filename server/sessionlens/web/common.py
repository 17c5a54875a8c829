"""What the web UI's and the hub's handlers share: the per-server context, the page frame, audit."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from aiohttp import web

from sessionlens.services.app import App
from sessionlens.web import html as H
from sessionlens.web.security import CSRF, PRINCIPAL, RateLimiter, WebConfig, client_address

log = logging.getLogger("sessionlens.web")
MAX_QUEUED = 256  # bounded work queue: beyond it requests get 503 with Retry-After


class Ctx:
    def __init__(self, app: App, cfg: WebConfig, hub=None):
        self.app, self.cfg, self.hub = app, cfg, hub
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sessionlens-web")
        self.queued = 0  # jobs submitted to the pool and not finished (the event loop is single-threaded)
        self.general = RateLimiter(600, 60)
        self.auth_limit = RateLimiter(cfg.auth_attempts, cfg.auth_window)
        self.key_limit = RateLimiter(1200, 60)
        self.pending: set[str] = set()
        self.pending_lock = threading.Lock()
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.indexing = False
        self.worker: threading.Thread | None = None
        self.port = cfg.port

    async def run(self, fn, *a, **kw):
        """Run blocking service code in the pool; at most ``MAX_QUEUED`` jobs wait for it (then 503)."""
        if self.queued >= MAX_QUEUED:
            raise web.HTTPServiceUnavailable(text="the server is busy; retry shortly\n", headers={"Retry-After": "2"})
        self.queued += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, partial(fn, *a, **kw))
        finally:
            self.queued -= 1

    # one background writer: pushed files and the start-up pass are indexed here, in order
    def queue_index(self, paths) -> None:
        with self.pending_lock:
            self.pending.update(paths)
        self.wake.set()

    def _work(self) -> None:
        while not self.stop.is_set():
            self.wake.wait(0.5)
            self.wake.clear()
            with self.pending_lock:
                batch, self.pending = sorted(self.pending), set()
                self.indexing = bool(batch)
            if not batch:
                continue
            try:
                self.app.index(batch)
            except Exception:  # a bad pass is logged; the files are retried on the next push
                log.exception("indexing failed")
            finally:
                with self.pending_lock:
                    self.indexing = False

    def busy(self) -> bool:
        with self.pending_lock:
            return bool(self.pending) or self.indexing


CTX = web.AppKey("ctx", Ctx)


def ctx_of(request: web.Request) -> Ctx:
    return request.app[CTX]


# ---------------------------------------------------------------------- helpers
def page(request: web.Request, title: str, body: str, active: str = "", *, transcript: bool = False) -> web.Response:
    ctx = ctx_of(request)
    p = request.get(PRINCIPAL)
    extra = []
    if ctx.hub is not None and p is not None:
        extra.append(("/keys", "API keys"))
        if p.role == "admin":
            extra += [("/admin", "Admin"), ("/admin/audit", "Audit")]
    return web.Response(
        text=H.layout(
            title,
            body,
            active=active,
            user=p.user.username if p else None,
            csrf=request.get(CSRF),
            extra_nav=extra,
            team=ctx.hub is not None,
            transcript=transcript,
        ),
        content_type="text/html",
        charset="utf-8",
    )


def csrf_input(request: web.Request) -> str:
    return f'<input type="hidden" name="csrf" value="{H.esc(request.get(CSRF) or "")}">'


async def audit(request: web.Request, action: str, *, target: str | None = None, outcome: str = "ok", **detail) -> None:
    ctx = ctx_of(request)
    if ctx.hub is None:
        return
    p = request.get(PRINCIPAL)
    await ctx.run(
        ctx.hub.audit,
        p.name if p else "anonymous",
        action,
        target=target,
        source=client_address(request, ctx.cfg),
        outcome=outcome,
        **detail,
    )


def _int(v: Any, default: int, lo: int = 0, hi: int = 10**9) -> int:
    try:
        return min(max(int(v), lo), hi)
    except (TypeError, ValueError):
        return default


def json_response(obj: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(obj, default=str, ensure_ascii=False), status=status, content_type="application/json")
