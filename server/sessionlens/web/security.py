"""The web surface's guards: Host-header validation (DNS rebinding), the per-start access token,
CSRF tokens, security headers (strict CSP, no CORS), rate limits and request limits."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

PRINCIPAL = web.RequestKey("principal", object)
SCOPE = web.RequestKey("scope", object)
CSRF = web.RequestKey("csrf", str)
COOKIE_AUTH = web.RequestKey("cookie_auth", bool)

TOKEN_COOKIE = "sessionlens_token"
SESSION_COOKIE = "sessionlens_session"


@dataclass
class WebConfig:
    host: str = "127.0.0.1"
    port: int = 0
    team: bool = False
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    allowed_hosts: set[str] = field(default_factory=set)  # extra "host[:port]" values (a reverse proxy's name)
    tls: bool = False  # served over https (directly or behind a TLS proxy): Secure cookies, HSTS
    trust_proxy: bool = False  # take the client address from X-Forwarded-For (behind your own proxy only)
    max_body: int = 64 * 1024
    max_push_body: int = 8 * 1024 * 1024
    index_on_start: bool = True
    poll_seconds: float = 1.0
    auth_attempts: int = 10  # sign-in attempts per address (and per user name) ...
    auth_window: float = 60.0  # ... per this many seconds

    def host_ok(self, host_header: str | None, bound_port: int) -> bool:
        if not host_header:
            return False
        h = host_header.strip().lower()
        if h in self.allowed_hosts:
            return True
        loop = {f"127.0.0.1:{bound_port}", f"localhost:{bound_port}", f"[::1]:{bound_port}"}
        if self.host not in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "::"):
            loop.add(f"{self.host.lower()}:{bound_port}")
        return h in loop

    def csrf_for_token(self) -> str:
        return hmac.new(self.token.encode(), b"csrf", hashlib.sha256).hexdigest()


class RateLimiter:
    """Token buckets keyed by address or API key: ``rate`` requests per ``per`` seconds, bounded memory."""

    def __init__(self, rate: float, per: float, max_keys: int = 10_000):
        self.rate, self.per, self.max_keys = rate, per, max_keys
        self._b: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def hit(self, key: str, cost: float = 1.0) -> float:
        """0 when allowed, else the seconds to wait."""
        now = time.monotonic()
        tokens, last = self._b.pop(key, (self.rate, now))
        tokens = min(self.rate, tokens + (now - last) * self.rate / self.per)
        if tokens >= cost:
            self._b[key] = (tokens - cost, now)
            wait = 0.0
        else:
            self._b[key] = (tokens, now)
            wait = (cost - tokens) * self.per / self.rate
        while len(self._b) > self.max_keys:
            self._b.popitem(last=False)
        return wait


def too_many(wait: float) -> web.HTTPTooManyRequests:
    return web.HTTPTooManyRequests(text="too many requests; slow down\n", headers={"Retry-After": str(max(1, math.ceil(wait)))})


def client_address(request: web.Request, cfg: WebConfig) -> str:
    if cfg.trust_proxy:
        fwd = request.headers.get("X-Forwarded-For", "")
        if fwd:
            return fwd.split(",")[-1].strip()[:64]
    return (request.remote or "?")[:64]


def same_origin(request: web.Request) -> bool:
    """A state-changing request must come from our own pages: Origin (or Referer) naming this host, when sent."""
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if not origin:
        return True  # non-browser clients; the CSRF token still applies to forms
    if origin == "null":
        return False
    return urlsplit(origin).netloc.lower() == (request.host or "").lower()


def security_headers(resp: web.StreamResponse, cfg: WebConfig) -> None:
    h = resp.headers
    h["Content-Security-Policy"] = CSP
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "same-origin"  # no-referrer would make browsers send "Origin: null" on our own forms
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Cross-Origin-Resource-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    h.setdefault("Cache-Control", "no-store")
    h.popall("Access-Control-Allow-Origin", None)
    if cfg.tls:
        h["Strict-Transport-Security"] = "max-age=31536000"


def cookie_kw(cfg: WebConfig, *, max_age: int | None = None) -> dict:
    kw: dict[str, Any] = {"httponly": True, "samesite": "Strict" if not cfg.team else "Lax", "path": "/", "secure": cfg.tls}
    if max_age is not None:
        kw["max_age"] = max_age
    return kw


def token_ok(presented: str | None, cfg: WebConfig) -> bool:
    return presented is not None and bool(presented) and hmac.compare_digest(presented.encode(), cfg.token.encode())
