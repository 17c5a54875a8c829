"""Fixtures for the web tests: generated sample logs, a hostile session, an indexed home, servers on loopback."""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from html.parser import HTMLParser
from pathlib import Path

import aiohttp

from sessionlens.samples.generator import sample_home
from sessionlens.services.app import App
from sessionlens.services.settings import Settings

HOSTILE_TITLE = '<script>alert("title")</script> & "quotes"'
HOSTILE_BITS = [
    '<script>alert("title")</script>',
    "<img src=x onerror=alert(1)>",
    "</pre><script>alert(2)</script>",
    '<a href="javascript:alert(3)">click</a>',
    '<iframe src="//evil.example">',
    '" onmouseover="alert(4)',
]


def _line(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False) + "\n"


def write_claude_session(
    path: Path,
    *,
    session_id: str | None = None,
    prompt: str = "Fix the failing test",
    turns: int = 1,
    cwd: str = "/home/dev/projects/hostile-app",
    extra_text: str = "",
) -> str:
    """A small Claude Code session log (the real line shapes) with ``turns`` prompt/answer/tool rounds."""
    sid = session_id or str(uuid.uuid4())
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        for t in range(turns):
            fh.write(claude_turn_lines(sid, t, prompt if t == 0 else f"{prompt} (turn {t + 1})", cwd=cwd, extra_text=extra_text))
    return sid


def claude_turn_lines(sid: str, t: int, prompt: str, *, cwd: str, extra_text: str = "") -> str:
    base = {"isSidechain": False, "userType": "external", "cwd": cwd, "sessionId": sid, "version": "2.1.39", "gitBranch": "main"}
    ts = f"2026-02-11T10:{t % 60:02d}:00.000Z"
    u1, a1, a2, u2, a3 = (str(uuid.uuid4()) for _ in range(5))
    call = f"toolu_{uuid.uuid4().hex[:24]}"
    out = _line({**base, "parentUuid": None, "type": "user", "message": {"role": "user", "content": prompt}, "uuid": u1, "timestamp": ts})
    out += _line(
        {
            **base,
            "parentUuid": u1,
            "type": "assistant",
            "uuid": a1,
            "timestamp": ts,
            "requestId": f"req_{a1[:8]}",
            "message": {
                "model": "claude-opus-4-6",
                "id": f"msg_{a1[:12]}",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": "Looking at it: " + extra_text + " see https://example.com/docs?a=1&b=2"}],
                "usage": {"input_tokens": 10, "output_tokens": 20, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 0},
            },
        }
    )
    out += _line(
        {
            **base,
            "parentUuid": a1,
            "type": "assistant",
            "uuid": a2,
            "timestamp": ts,
            "requestId": f"req_{a2[:8]}",
            "message": {
                "model": "claude-opus-4-6",
                "id": f"msg_{a2[:12]}",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "tool_use", "id": call, "name": "Bash", "input": {"command": "echo '" + extra_text + "'"}}],
                "usage": {"input_tokens": 5, "output_tokens": 7, "cache_read_input_tokens": 50, "cache_creation_input_tokens": 0},
            },
        }
    )
    out += _line(
        {
            **base,
            "parentUuid": a2,
            "type": "user",
            "uuid": u2,
            "timestamp": ts,
            "message": {
                "role": "user",
                "content": [{"tool_use_id": call, "type": "tool_result", "content": "output: " + extra_text, "is_error": False}],
            },
        }
    )
    out += _line(
        {
            **base,
            "parentUuid": u2,
            "type": "assistant",
            "uuid": a3,
            "timestamp": ts,
            "requestId": f"req_{a3[:8]}",
            "message": {
                "model": "claude-opus-4-6",
                "id": f"msg_{a3[:12]}",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": f"Done with turn {t + 1}. " + extra_text}],
                "usage": {"input_tokens": 3, "output_tokens": 9, "cache_read_input_tokens": 60, "cache_creation_input_tokens": 0},
            },
        }
    )
    return out


def make_logs(root: Path) -> dict:
    """The sample corpus plus one hostile session; returns facts the tests check against."""
    sample_home(root / "samples")
    hostile = root / "hostile" / ".claude" / "projects" / "-home-dev-projects-hostile-app" / "hostile.jsonl"
    sid = write_claude_session(hostile, prompt=HOSTILE_TITLE, extra_text=" ".join(HOSTILE_BITS), turns=2)
    return {"hostile_id": sid, "hostile_path": hostile}


def indexed_app(home: Path, logs: Path) -> App:
    app = App(Settings.model_validate({"storePath": str(home), "includeHomeLogs": False}))
    app.index([str(logs)])
    return app


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def assert_escaped(html_text: str) -> None:
    """No active markup from the hostile session survives in a page: parsed as a browser would, the
    page has only our own scripts, no event-handler attributes, no frames, no images but the ones this
    server serves (``/s/<id>/img/<seq>/<n>``), no style attributes or elements, and no link whose
    scheme is not http(s) or our own paths."""
    p = _Tags()
    p.feed(html_text)
    scripts = [dict(a).get("src") for t, a in p.tags if t == "script"]
    assert scripts in ([], ["/static/app.js"], ["/static/app.js", "/static/transcript.js"]), scripts
    for tag, attrs in p.tags:
        a = dict(attrs)
        if tag == "img":
            assert re.fullmatch(r"/s/[^/?#]+/img/\d+/\d+", a.get("src") or ""), a
        assert tag not in ("iframe", "object", "embed", "base", "meta", "style") or (tag == "meta" and "http-equiv" not in a), tag
        assert "style" not in a, (tag, a)
        for k, v in attrs:
            assert not k.startswith("on"), (tag, k, v)
            if k in ("href", "src", "action", "formaction") and v:
                assert v.startswith(("/", "#", "?", "http://", "https://")), (tag, k, v)
                assert "javascript:" not in v.lower()


@contextlib.asynccontextmanager
async def client(base: str, **kw):
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=base, cookie_jar=jar, **kw) as s:
        yield s
