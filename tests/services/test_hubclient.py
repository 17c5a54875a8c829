"""The editor's client of a team hub: URLs and keys checked, the key never shown or logged, a hostile
hub's answers (bad ids, broken events, markup, secrets, huge or non-JSON bodies) turned into safe rows,
a safe transcript or a message."""

from __future__ import annotations

import json
import logging

import pytest
from aiohttp import web

from sessionlens.services import hubclient as HC
from sessionlens.services import views
from sessionlens.store import NotFound

KEY = "slk_ab12cd34ef_" + "S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3t"
SECRET = KEY.split("_", 2)[2]
ANTHROPIC = "sk-ant-api03-" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tV9wX1yZ3" * 2
GITHUB = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"


@pytest.mark.parametrize(
    "url, want",
    [
        ("HTTPS://Hub.Example.com:443/", "https://hub.example.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://hub.example:80/team/../team/", "http://hub.example/team"),
        ("https://[::1]:9000/x", "https://[::1]:9000/x"),
    ],
)
def test_hub_urls_are_normalized(url, want):
    assert HC.normalize_url(url) == want


@pytest.mark.parametrize(
    "url, words",
    [
        ("ftp://hub.example", "http(s)"),
        ("hub.example", "http(s)"),
        ("https://user:pw@hub.example", "not in the URL"),
        ("https://hub.example/?key=x", "no ?query"),
        ("https://hub.example:99999", "port"),
    ],
)
def test_bad_hub_urls_are_refused(url, words):
    with pytest.raises(ValueError, match=words.replace("?", r"\?").replace("(", r"\(").replace(")", r"\)")):
        HC.normalize_url(url)


def test_plain_http_to_another_machine_is_flagged():
    assert "unencrypted" in HC.insecure_note("http://hub.example")
    assert HC.insecure_note("https://hub.example") == HC.insecure_note("http://127.0.0.1:8765") == ""


def test_the_key_is_never_shown():
    hubs = HC.TeamHubs()
    h = hubs.add("https://hub.example/", KEY, "team")
    assert SECRET not in repr(h) and SECRET not in json.dumps(h.info())
    assert h.info()["key_hint"] == "slk_ab12cd34ef_…"
    with pytest.raises(ValueError, match="not a sessionlens hub API key") as exc:
        hubs.add("https://hub.example/", "hunter2hunter2")
    assert "hunter2" not in str(exc.value)
    assert hubs.get("team") is h and hubs.get("https://HUB.example") is h
    assert hubs.remove("https://hub.example") and not hubs.remove("team")
    with pytest.raises(NotFound):
        hubs.get("team")


def _hub() -> HC.TeamHub:
    return HC.TeamHubs().add("https://hub.example", KEY, "team")


def test_hostile_session_rows_and_hits_are_dropped_or_cleaned():
    h = _hub()
    assert HC.TeamHubs.session_row(h, {"id": "../../etc/passwd"}) is None
    assert HC.TeamHubs.session_row(h, {"id": "a\nb"}) is None
    assert HC.TeamHubs.session_row(h, "nope") is None
    row = HC.TeamHubs.session_row(
        h,
        {
            "id": "s1",
            "title": "deploy with " + ANTHROPIC + " \u202egnp.exe",
            "project": "/src/alpha",
            "events": -3,
            "turns": True,
            "models": ["m", 3],
            "cost_usd": "1",
        },
    )
    assert row is not None and "sk-ant-api03" not in row["title"] and "\u202e" not in row["title"]
    assert row["project_name"] == "alpha" and row["events"] is None and row["turns"] is None and row["models"] == ["m"]
    assert row["cost_usd"] is None and row["hub"] == h.id and row["path"] == "" and row["uri"] is None
    assert HC.TeamHubs.search_hit(h, {"session_id": "s1"}) is None  # no seq
    hit = HC.TeamHubs.search_hit(h, {"session_id": "s1", "seq": 4, "snippet": "token " + GITHUB})
    assert hit is not None and GITHUB not in hit["snippet"] and hit["line"] == 4 and hit["link"] == ""


def test_a_hostile_payload_renders_safely():
    h = _hub()
    good = {
        "seq": 1,
        "line": 1,
        "offset": 0,
        "kind": "user_message",
        "role": "user",
        "turn": 0,
        "text": "<script>alert(1)</script><img src=x onerror=alert(2)> key " + ANTHROPIC,
    }
    payload = {
        "session": {"id": "s1", "title": "<b>t</b>", "agent": "claude", "models": "not a list"},
        "events": [good, {"seq": "x"}, "junk", {**good, "seq": 2, "line": 2, "kind": "no-such-kind"}],
        "turns": [{"index": 0, "start_line": 1, "end_line": 1, "prompt": "hi"}, {"index": "?"}],
        "turn_usage": {"0": {"input": 5, "evil": "<x>"}, "zero": {}},
        "totals": {"cost_usd": 0.5, "x": "<y>"},
        "findings": [{"seq": 1, "rule_id": "<r>", "message": "<m>"}, {"seq": "bad"}],
        "subagents": [{"id": "../x"}, {"id": "sub1", "title": "<s>"}],
    }
    d = HC.session_data(h, payload)
    assert [e.seq for e in d.events] == [1] and len(d.turns) == 1 and list(d.turn_usage) == [0]
    assert (
        d.totals["cost_usd"] == 0.5
        and "x" not in d.totals
        and d.totals["input"] == 0
        and len(d.findings) == 1
        and [x["id"] for x in d.subagents] == ["sub1"]
    )
    parts = HC.render_parts(h, payload)
    body = parts["body"]
    assert "<script" not in body and "<img" not in body and "onerror=alert" not in body.replace("onerror=alert(2)&gt;", "")
    assert "&lt;script&gt;" in body and "sk-ant-api03" not in body
    assert parts["title"] == "<b>t</b> · team" and parts["path"] is None and parts["hub"] == h.id
    title, md = HC.render_markdown(h, payload)
    outside_fences = md.split("```")[0::2]  # markup from the log only inside code fences, as for a local log
    assert "sk-ant-api03" not in md and "<script>" in md and not any("<script>" in part for part in outside_fences)


@pytest.fixture
async def fake_hub():
    """A loopback server answering what a test puts in ``answers[path]`` (status, body)."""
    answers: dict[str, tuple[int, bytes]] = {}
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        status, body = answers.get(request.path, (404, b"not found"))
        return web.Response(status=status, body=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", answers, seen
    finally:
        await runner.cleanup()


async def test_refusals_and_junk_answers_become_messages_and_the_key_is_never_logged(fake_hub, caplog):
    url, answers, seen = fake_hub
    caplog.set_level(logging.DEBUG)
    hubs = HC.TeamHubs(timeout=3)
    h = hubs.add(url, KEY, "fake")
    cases = [
        ((401, b"this API key was revoked\n"), "unauthorized", "revoked"),
        ((403, b"this key has no read scope\n"), "forbidden", "read scope"),
        ((200, b"<html>not json"), "error", "not a sessionlens hub"),
        ((200, b'{"sessions": "nope"}'), "error", "not a sessionlens hub"),
        ((503, b"busy"), "error", "busy"),
        ((302, b""), "error", "redirect"),
    ]
    for (status, body), want, words in cases:
        answers["/api/sessions"] = (status, body)
        h = hubs.add(url, KEY, "fake")  # added again: asked again
        rows, warnings = await hubs.sessions(limit=10)
        assert rows == [] and h.status == want and words in warnings[0], (status, warnings)
    # a refused key is not presented again on every keystroke (each refusal is an audit entry on the hub)
    answers["/api/sessions"] = (401, b"this API key was revoked\n")
    h = hubs.add(url, KEY, "fake")
    await hubs.sessions(limit=10)
    asked = len(seen)
    rows, warnings = await hubs.sessions(limit=10)
    hits, _, warnings2 = await hubs.search("x")
    assert len(seen) == asked and "revoked" in warnings[0] and "revoked" in warnings2[0]
    await hubs.check_all()  # an explicit check asks again
    assert len(seen) == asked + 1 and h.status == "unauthorized"
    h = hubs.add(url, KEY, "fake")
    answers["/api/sessions"] = (200, json.dumps({"total": 2, "sessions": [{"id": "s1", "title": "one"}, {"id": "../bad"}]}).encode())
    rows, warnings = await hubs.sessions(limit=10)
    assert [r["id"] for r in rows] == ["s1"] and warnings == [] and h.status == "ok" and h.sessions == 2
    answers["/api/s/s1"] = (404, b"not found")
    with pytest.raises(NotFound):
        await hubs.session("fake", "s1")
    with pytest.raises(NotFound):
        await hubs.session("fake", "../../admin")
    assert seen and all(s == f"Bearer {KEY}" for s in seen), "the key goes to the hub, in the header"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET not in logged


async def test_an_oversized_answer_is_refused(fake_hub, monkeypatch):
    url, answers, _ = fake_hub
    monkeypatch.setattr(HC, "MAX_LIST_BYTES", 1000)
    hubs = HC.TeamHubs(timeout=3)
    h = hubs.add(url, KEY)
    answers["/api/search"] = (200, json.dumps({"total": 1, "hits": [{"session_id": "s", "seq": 1, "snippet": "x" * 5000}]}).encode())
    hits, total, warnings = await hubs.search("x")
    assert hits == [] and total == 0 and "larger than" in warnings[0] and h.status == "error"


def test_saved_view_sorting_and_arguments():
    rows = [
        {"id": "a", "started_at": "2026-01-02", "cost_usd": 1.0},
        {"id": "b", "started_at": None, "cost_usd": 3.0},
        {"id": "c", "started_at": "2026-01-03", "cost_usd": None},
    ]
    assert [r["id"] for r in views.sort_rows(rows, None, None)] == ["c", "a", "b"]
    assert [r["id"] for r in views.sort_rows(rows, "cost", "asc")] == ["a", "b", "c"]
    kw = views.session_kwargs({"agent": "codex", "q": "fix", "project": "api"}, {"project": "web", "agent": None})
    assert kw == {"agent": "codex", "project": "web", "since": None, "until": None, "query": "fix"}


async def test_a_large_answer_arrives_whole(fake_hub):
    url, answers, _ = fake_hub
    hubs = HC.TeamHubs(timeout=10)
    hubs.add(url, KEY)
    many = [{"id": f"s{i}", "title": f"session {i} " + "words " * 300} for i in range(1500)]  # ~2.7 MB, many chunks
    answers["/api/sessions"] = (200, json.dumps({"total": len(many), "sessions": many}).encode())
    rows, warnings = await hubs.sessions(limit=500)
    assert warnings == [] and [r["id"] for r in rows] == [x["id"] for x in many]
