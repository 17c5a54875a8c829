"""A loopback fake of the Anthropic Messages API for tests (no network).

Usage (pytest): request the ``fake_anthropic`` fixture from ``tests/coach/conftest.py`` (import
it into another conftest with ``from tests.coach.conftest import fake_anthropic``), or directly::

    from tests.coach.fake_anthropic import FakeAnthropic
    async with FakeAnthropic() as fake:
        fake.reply("hello", chunks=["hel", "lo"])
        client = anthropic.AsyncAnthropic(api_key=fake.api_key, base_url=fake.base_url, max_retries=0)

Responses are served from a FIFO of scripted replies (``reply``/``fail``/``hang``) and fall back
to ``default`` when it is empty.  Every request is recorded in ``requests`` (``body`` parsed JSON,
``headers``, ``raw`` bytes).  Both ``Authorization: Bearer`` (SDK 2.x) and ``x-api-key`` are accepted.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

FAKE_MODEL = "fake-coach-model"
FAKE_API_KEY = "sk-fake-test-key"

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass
class ScriptedResponse:
    """One scripted answer. ``status != 200`` gives an error body; ``delay`` waits before answering."""

    text: str = "Fake coach answer."
    chunks: list[str] | None = None  # streaming text deltas (default: the text split in words)
    status: int = 200
    error_message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    input_tokens: int = 12
    output_tokens: int = 7


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    raw: bytes
    body: Any


class FakeAnthropic:
    def __init__(self, api_key: str | None = FAKE_API_KEY):
        """``api_key`` None accepts any key; otherwise other keys get a 401."""
        self.api_key = api_key or FAKE_API_KEY
        self._check_key = api_key is not None
        self.requests: list[RecordedRequest] = []
        self.responses: deque[ScriptedResponse] = deque()
        self.default = ScriptedResponse()
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self.port: int | None = None

    # -- scripting ---------------------------------------------------------------------
    def reply(self, text: str, chunks: list[str] | None = None, **kw: Any) -> ScriptedResponse:
        resp = ScriptedResponse(text=text, chunks=chunks, **kw)
        self.responses.append(resp)
        return resp

    def fail(self, status: int, message: str | None = None, retry_after: float | None = None) -> ScriptedResponse:
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
        resp = ScriptedResponse(status=status, error_message=message, headers=headers)
        self.responses.append(resp)
        return resp

    def hang(self, delay: float = 30.0) -> ScriptedResponse:
        """The next request waits ``delay`` seconds (or until the server closes) before answering."""
        resp = ScriptedResponse(delay=delay)
        self.responses.append(resp)
        return resp

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeAnthropic is not started")
        return f"http://127.0.0.1:{self.port}"

    def sent_text(self) -> str:
        """All recorded request bodies, concatenated (for "was X ever sent?" asserts)."""
        return "\n".join(r.raw.decode("utf-8", "replace") for r in self.requests)

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> "FakeAnthropic":
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))  # a random free loopback port
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeAnthropic":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- handler -----------------------------------------------------------------------
    def _authorized(self, request: web.Request) -> bool:
        auth = request.headers.get("authorization", "")
        key = auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("x-api-key", "")
        return bool(key) and (not self._check_key or key == self.api_key)

    @staticmethod
    def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
        body = {"type": "error", "error": {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}}
        return web.json_response(body, status=status, headers=headers or {})

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        self.requests.append(RecordedRequest(request.path, dict(request.headers), raw, body))
        if not self._authorized(request):
            return self._error(401, "invalid x-api-key")
        if not isinstance(body, dict) or "messages" not in body or "max_tokens" not in body:
            return self._error(400, "messages and max_tokens are required")
        script = self.responses.popleft() if self.responses else self.default
        if script.delay:
            try:
                await asyncio.wait_for(self._closing.wait(), script.delay)
            except TimeoutError:
                pass
        if script.status != 200:
            return self._error(script.status, script.error_message or f"scripted error {script.status}", script.headers)
        model = body.get("model", FAKE_MODEL)
        if body.get("stream"):
            return await self._stream(request, script, model)
        return web.json_response(
            {
                "id": f"msg_fake_{len(self.requests)}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": script.text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": script.input_tokens, "output_tokens": script.output_tokens},
            },
            headers=script.headers,
        )

    async def _stream(self, request: web.Request, script: ScriptedResponse, model: str) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache", **script.headers})
        await resp.prepare(request)

        async def send(event: str, data: dict[str, Any]) -> None:
            await resp.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())

        chunks = script.chunks if script.chunks is not None else [w + " " for w in script.text.split(" ")]
        await send(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": f"msg_fake_{len(self.requests)}",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": script.input_tokens, "output_tokens": 1},
                },
            },
        )
        await send("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
        await send("ping", {"type": "ping"})
        for chunk in chunks:
            await send("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": chunk}})
        await send("content_block_stop", {"type": "content_block_stop", "index": 0})
        await send(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": script.output_tokens},
            },
        )
        await send("message_stop", {"type": "message_stop"})
        await resp.write_eof()
        return resp
