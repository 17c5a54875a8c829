"""The local web UI over real HTTP on loopback: access token, Host check, headers, every page on
generated and hostile sessions, filters, deep links, search, cost, saved views, live updates."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path

import pytest

from sessionlens.services import web as svc
from sessionlens.web.security import CSP, WebConfig
from sessionlens.web.server import start
from tests.web.helpers import HOSTILE_BITS, assert_escaped, claude_turn_lines, client, indexed_app, make_logs, write_claude_session


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("webui")
    facts = make_logs(root / "logs")
    app = indexed_app(root / "home", root / "logs")
    facts.update(root=root, app=app, home=root / "home")
    return facts


@pytest.fixture
async def server(env):
    cfg = WebConfig(index_on_start=False, poll_seconds=0.2)
    runner, port = await start(env["app"], cfg)
    base = f"http://127.0.0.1:{port}"
    try:
        yield base, cfg
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def signed_in(base, cfg):
    async with client(base) as s:
        r = await s.get(f"/?token={cfg.token}", allow_redirects=False)
        assert r.status == 303 and r.headers["Location"] == "/"
        assert "HttpOnly" in r.headers["Set-Cookie"] and "SameSite=Strict" in r.headers["Set-Cookie"]
        yield s


async def test_token_is_required_and_becomes_a_cookie(server):
    base, cfg = server
    async with client(base) as s:
        r = await s.get("/")
        assert r.status == 403
        r = await s.get("/?token=wrong")
        assert r.status == 403
        r = await s.get("/api/sessions", headers={"Authorization": "token nope"})
        assert r.status == 403
        r = await s.get("/api/sessions", headers={"Authorization": f"token {cfg.token}"})
        assert r.status == 200
        r = await s.get(f"/search?q=x&token={cfg.token}", allow_redirects=False)
        assert r.status == 303 and r.headers["Location"] == "/search?q=x"  # the token leaves the address bar
        r = await s.get("/search?q=pytest")
        assert r.status == 200


async def test_host_header_is_checked_against_dns_rebinding(server):
    base, cfg = server
    async with client(base) as s:
        for host in ("evil.example", "evil.example:80", "127.0.0.1.nip.io", ""):
            r = await s.get(f"/?token={cfg.token}", headers={"Host": host}, allow_redirects=False)
            assert r.status in (400, 421), host
        port = base.rsplit(":", 1)[1]
        r = await s.get(f"/?token={cfg.token}", headers={"Host": f"localhost:{port}"}, allow_redirects=False)
        assert r.status == 303


async def test_security_headers_and_no_cors(server):
    base, cfg = server
    async with signed_in(base, cfg) as s:
        r = await s.get("/", headers={"Origin": "http://evil.example"})
        assert r.status == 200
        h = r.headers
        assert h["Content-Security-Policy"] == CSP and "'unsafe-inline'" not in CSP and "frame-ancestors 'none'" in CSP
        assert h["X-Content-Type-Options"] == "nosniff" and h["X-Frame-Options"] == "DENY" and h["Referrer-Policy"] == "same-origin"
        assert "Access-Control-Allow-Origin" not in h
        r = await s.options("/api/sessions", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"})
        assert r.status == 405 and "Access-Control-Allow-Origin" not in r.headers
        r = await s.get("/static/app.js")
        assert r.status == 200 and "EventSource" in await r.text()
        r = await s.get("/static/../../../etc/passwd")
        assert r.status in (403, 404)


async def test_sessions_page_filters_and_sorts(server, env):
    base, cfg = server
    app = env["app"]
    all_rows = app.db().list_sessions(limit=1000)
    async with signed_in(base, cfg) as s:
        html = await (await s.get("/")).text()
        assert f"of {len(all_rows)}" in html
        codex = [r for r in all_rows if r.agent == "codex"]
        r = await s.get("/api/sessions?agent=codex")
        data = await r.json()
        assert data["total"] == len(codex) > 0 and {x["agent"] for x in data["sessions"]} == {"codex"}
        html = await (await s.get("/?agent=codex")).text()
        assert html.count('class="agent a-codex"') == len(codex) and 'class="agent a-claude"' not in html
        with_findings = {r.session_id for r in app.db().findings()}
        data = await (await s.get("/api/sessions?findings=1")).json()
        assert {x["id"] for x in data["sessions"]} == with_findings
        data = await (await s.get("/api/sessions?sort=cost&order=desc")).json()
        costs = [x["cost_usd"] for x in data["sessions"]]
        assert costs == sorted(costs, reverse=True) and costs[0] > costs[-1]
        data = await (await s.get("/api/sessions?sort=cost&order=asc")).json()
        assert [x["cost_usd"] for x in data["sessions"]] == sorted(costs)
        some = next(r for r in all_rows if r.title and len(r.title) > 12 and "<" not in r.title)
        data = await (await s.get("/api/sessions", params={"q": some.title[:12]})).json()
        assert some.id in {x["id"] for x in data["sessions"]} and data["total"] < len(all_rows)
        data = await (await s.get("/api/sessions", params={"since": "2030-01-01"})).json()
        assert data["total"] == 0
        r = await s.get("/api/sessions", params={"since": "not a date"})
        assert r.status == 400
        # injection attempts in every parameter are just values
        for p in ("agent", "project", "q", "sort", "order", "since"):
            r = await s.get("/api/sessions", params={p: "' OR 1=1 --"})
            assert r.status in (200, 400)
            if r.status == 200:
                assert (await r.json())["total"] in (0, len(all_rows))  # sort/order fall back; filters match nothing


async def test_transcript_deep_links_and_sessionlens_links(server, env):
    base, cfg = server
    app = env["app"]
    s0 = next(r for r in app.db().list_sessions(limit=100) if r.events > 20 and not r.parent_session_id)
    async with signed_in(base, cfg) as s:
        html = await (await s.get(f"/s/{s0.id}")).text()
        assert 'class="sl-page"' in html and 'href="/static/transcript.css"' in html  # the reader's transcript
        anchors = sorted(int(x) for x in re.findall(r' id="e(\d+)"', html))
        assert anchors == [e.seq for e in app.db().events(s0.file_id)]  # every event, once
        assert len(anchors) >= 5
        assert re.search(r'<section class="sl-turn" id="t1"', html)
        link = app.deep_link_for(s0.id, anchors[3])
        r = await s.get("/link", params={"u": link}, allow_redirects=False)
        assert r.status == 303 and r.headers["Location"].endswith(f"#e{anchors[3]}")
        r = await s.get(f"/s/{s0.id[:13]}")  # an id prefix resolves too
        assert r.status == 200
        r = await s.get("/link", params={"u": "javascript:alert(1)"})
        assert r.status == 404
        r = await s.get("/s/does-not-exist")
        assert r.status == 404
        r = await s.get(f"/s/{s0.id}/events", params={"after": anchors[-2]})
        frag = await r.text()  # the turn that holds the last event, whole
        assert frag.startswith('<section class="sl-turn"') and frag.count('<section class="sl-turn"') == 1
        assert f'id="e{anchors[-1]}"' in frag and f'id="e{anchors[0]}"' not in frag
        assert r.headers["X-Last-Seq"] == str(anchors[-1])
        r = await s.get(f"/s/{s0.id}/events", params={"after": anchors[-1]})
        assert await r.text() == ""
        r = await s.get(f"/s/{s0.id}/export")
        assert r.status == 200 and "attachment" in r.headers["Content-Disposition"]


async def test_search_snippets_and_facets(server, env):
    base, cfg = server
    async with signed_in(base, cfg) as s:
        res = env["app"].search("pytest", limit=50, workspace_only=False)
        assert res["hits"]
        html = await (await s.get("/search?q=pytest")).text()
        assert "<mark>" in html.lower() or "pytest" in html
        assert html.count('<a class="hit"') == min(len(res["hits"]), 50)
        data = await (await s.get("/api/search?q=pytest")).json()
        kinds = dict(data["facets"]["kind"])
        assert sum(kinds.values()) == len(data["hits"])
        k = max(kinds, key=kinds.get)
        data2 = await (await s.get("/api/search", params={"q": "pytest", "kind": k})).json()
        assert {h["kind"] for h in data2["hits"]} == {k}
        r = await s.get("/api/search")
        assert r.status == 400


async def test_cost_dashboard_by_every_grouping(server, env):
    base, cfg = server
    total = env["app"].cost_report("model")["totals"]["cost_usd"]
    async with signed_in(base, cfg) as s:
        for by in ("day", "week", "month", "model", "project", "agent", "session"):
            r = await s.get("/cost", params={"by": by})
            html = await r.text()
            assert r.status == 200 and "<svg" in html and "<table" in html, by
            assert f"${total:,.2f}" in html
            data = await (await s.get("/api/cost", params={"by": by})).json()
            assert abs(data["totals"]["cost_usd"] - total) < 1e-6
        svg = (await (await s.get("/cost?by=day")).text()).split("<svg", 1)[1].split("</svg>", 1)[0]
        assert "style=" not in svg and "<script" not in svg  # the strict CSP allows no inline style or script


async def test_coach_and_evals_pages(server, env):
    base, cfg = server
    app = env["app"]
    counts = app.finding_counts()
    async with signed_in(base, cfg) as s:
        html = await (await s.get("/coach")).text()
        assert counts and all(x["rule_id"] in html for x in counts)
        rule = counts[0]["rule_id"]
        html = await (await s.get("/coach", params={"rule": rule})).text()
        assert html.count("<tr>") - 1 == min(counts[0]["findings"], 300)
        assert "Guideline compliance" in html
        run_id = app.db().add_eval_run(
            "smoke",
            None,
            1.0,
            2.0,
            "abc1234",
            None,
            {"passed": 1, "failed": 1, "regressions": 1},
            [{"check_id": "no-secret", "passed": True}, {"check_id": "tests-pass", "passed": False, "message": "<b>red</b>"}],
        )
        html = await (await s.get("/evals")).text()
        assert f'href="/evals/{run_id}"' in html and "smoke" in html
        html = await (await s.get(f"/evals/{run_id}")).text()
        assert "FAIL" in html and "tests-pass" in html and "&lt;b&gt;red&lt;/b&gt;" in html


async def test_saved_views_need_csrf_and_work_in_ui_and_cli(server, env, capsys):
    base, cfg = server
    async with signed_in(base, cfg) as s:
        r = await s.post("/views", data={"name": "codex-only", "agent": "codex"})
        assert r.status == 403
        r = await s.post(
            "/views", data={"name": "codex-only", "agent": "codex", "csrf": cfg.csrf_for_token()}, headers={"Origin": "http://evil.example"}
        )
        assert r.status == 403
        r = await s.post(
            "/views", data={"name": "codex-only", "agent": "codex", "findings": "1", "csrf": cfg.csrf_for_token()}, allow_redirects=False
        )
        assert r.status == 303 and r.headers["Location"] == "/?view=codex-only"
        html = await (await s.get("/?view=codex-only")).text()
        assert 'class="agent a-claude"' not in html and "codex-only" in html
        r = await s.post("/views", data={"name": "../../etc", "agent": "codex", "csrf": cfg.csrf_for_token()})
        assert r.status == 400
    assert svc.view(env["app"], "codex-only") == {"agent": "codex", "findings": "1"}
    from sessionlens.cli import main

    assert main(["--home", str(env["home"]), "sessions", "--view", "codex-only", "--json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    assert rows and {r["agent"] for r in rows} == {"codex"}
    assert main(["--home", str(env["home"]), "views", "--json"]) == 0
    assert "codex-only" in json.loads(capsys.readouterr().out)


async def test_live_session_updates_over_server_sent_events(server, env, tmp_path):
    base, cfg = server
    app = env["app"]
    path = tmp_path / "live" / "live.jsonl"
    from tests.web.helpers import write_claude_session

    sid = write_claude_session(path, prompt="live session")
    app.index([str(path)])
    before = app.db().get_session(sid).events
    async with signed_in(base, cfg) as s:
        async with s.get(f"/s/{sid}/live") as r:
            assert r.headers["Content-Type"].startswith("text/event-stream")
            first = await asyncio.wait_for(r.content.readuntil(b"\n\n"), 10)
            assert b"event: hello" in first
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(claude_turn_lines(sid, 1, "second turn arrives", cwd="/home/dev/projects/live"))
            msg = b""
            while b"event: grew" not in msg:
                msg = await asyncio.wait_for(r.content.readuntil(b"\n\n"), 15)
        html = await (await s.get(f"/s/{sid}/events", params={"after": before})).text()
        assert "second turn arrives" in html
    assert app.db().get_session(sid).events > before


async def test_hostile_content_is_escaped_on_every_page(server, env):
    base, cfg = server
    sid = env["hostile_id"]
    async with signed_in(base, cfg) as s:
        pages = [
            "/",
            f"/s/{sid}",
            f"/s/{sid}/events?after=0",
            "/search?q=alert",
            "/search?q=onerror",
            "/coach",
            "/cost?by=session",
            "/?q=%3Cscript%3E",
            "/search?q=%3Cscript%3Ealert(9)%3C/script%3E",
        ]
        for p in pages:
            r = await s.get(p)
            assert r.status == 200, p
            assert_escaped(await r.text())
        html = await (await s.get(f"/s/{sid}")).text()
        assert "&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;" in html  # shown, as text
        assert "https://example.com/docs?a=1&amp;b=2" in html  # a bare URL reads as text (the reader links only Markdown links)
        hrefs = re.findall(r'href="([^"]*)"', html)
        assert all(h.startswith(("/", "#", "https://", "http://")) for h in hrefs), hrefs
        assert not [h for h in hrefs if h.startswith("http")]  # no link from the hostile log leaves the page
        assert "javascript" not in "".join(hrefs).lower()
        for bit in HOSTILE_BITS:
            assert bit not in html


def test_secrets_are_masked_in_the_transcript(env, tmp_path):
    app = env["app"]
    path = tmp_path / "secret" / "s.jsonl"
    from tests.web.helpers import write_claude_session

    key = "sk-ant-api03-" + "A1b2C3d4" * 10
    sid = write_claude_session(path, prompt="deploy with key " + key, extra_text="token " + key)
    app.index([str(path)])
    v = svc.transcript(app, sid)
    html = v["body"]
    assert key not in html and "REDACTED" in html
    assert key not in (v["session"]["title"] or "")
    frag, _last = svc.transcript_turns_after(app, sid, 0)
    assert key not in frag and "REDACTED" in frag
    page = svc.sessions_page(app, {"q": "deploy with key"})
    assert page["rows"] and all(key not in (r["title"] or "") for r in page["rows"])


def test_local_ui_refuses_a_non_loopback_bind(tmp_path, capsys):
    from sessionlens.cli import main

    assert main(["--home", str(tmp_path), "serve", "--host", "0.0.0.0", "--port", "0"]) == 1
    assert "loopback" in capsys.readouterr().err


def test_web_layer_imports_only_services(tmp_path):
    import ast

    pkg = Path(__file__).resolve().parents[2] / "server" / "sessionlens" / "web"
    banned = (
        "sessionlens.store",
        "sessionlens.search",
        "sessionlens.ingest",
        "sessionlens.coach",
        "sessionlens.cost",
        "sessionlens.lsp",
        "apsw",
        "tantivy",
    )
    bad = []
    for f in pkg.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                mods = [node.module]
            bad += [f"{f.name}: {m}" for m in mods if any(m == b or m.startswith(b + ".") for b in banned)]
    assert bad == []


async def test_a_full_work_queue_answers_503_with_retry_after(server, monkeypatch):
    from sessionlens.web import common

    base, cfg = server
    async with signed_in(base, cfg) as s:
        monkeypatch.setattr(common, "MAX_QUEUED", 0)
        r = await s.get("/api/sessions")
        assert r.status == 503 and r.headers["Retry-After"] == "2"
        monkeypatch.setattr(common, "MAX_QUEUED", 256)
        assert (await s.get("/api/sessions")).status == 200


async def test_images_in_a_transcript_are_served_by_the_server(env, tmp_path):
    """A screenshot in a tool result shows as ``<img src="/s/<id>/img/<seq>/<n>">`` (not inline data, which
    the CSP would have to allow): the bytes come typed and unsniffable; a type the transcript does not
    show (SVG), an unknown index and another event answer 404."""
    import base64
    import json
    import struct
    import zlib

    def png(w: int, h: int) -> bytes:
        def chunk(t: bytes, d: bytes) -> bytes:
            return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

        raw = b"".join(b"\x00" + b"\x80\x20\x20" * w for _ in range(h))
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b"")
        )

    img = png(4, 3)
    path = tmp_path / "img" / "s.jsonl"
    sid = write_claude_session(path, prompt="take a screenshot")
    lines = path.read_text().splitlines()
    rec = json.loads(lines[3])  # the tool result
    svg = base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>').decode()
    rec["message"]["content"][0]["content"] = [
        {"type": "text", "text": "here it is"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(img).decode()}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/svg+xml", "data": svg}},
    ]
    lines[3] = json.dumps(rec)
    path.write_text("\n".join(lines) + "\n")
    app = env["app"]
    app.index([str(path)])
    cfg = WebConfig(index_on_start=False)
    runner, port = await start(app, cfg)
    try:
        async with signed_in(f"http://127.0.0.1:{port}", cfg) as s:
            html = await (await s.get(f"/s/{sid}")).text()
            assert_escaped(html)
            srcs = re.findall(r'<img [^>]*src="([^"]+)"', html)
            assert len(srcs) == 1 and re.fullmatch(rf"/s/{sid}/img/\d+/0", srcs[0]), srcs
            assert "data:image" not in html and "image/svg" not in html and "not shown]" in html  # the SVG is named, not drawn
            r = await s.get(srcs[0])
            assert r.status == 200 and r.content_type == "image/png" and await r.read() == img
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            seq = int(srcs[0].split("/")[-2])
            for bad in (
                f"/s/{sid}/img/{seq}/1",
                f"/s/{sid}/img/{seq}/7",
                f"/s/{sid}/img/{seq - 1}/0",
                f"/s/nope/img/{seq}/0",
                f"/s/{sid}/img/{seq}/-1",
                f"/s/{sid}/img/x/0",
            ):
                assert (await s.get(bad)).status == 404, bad
    finally:
        await runner.cleanup()


async def test_a_session_whose_log_was_deleted_is_marked_and_opens_from_the_store(tmp_path):
    keep, gone = tmp_path / "logs" / "keep.jsonl", tmp_path / "logs" / "gone.jsonl"
    write_claude_session(keep, prompt="this log stays")
    sid = write_claude_session(gone, prompt="this log goes away", turns=2)
    app = indexed_app(tmp_path / "home", tmp_path / "logs")
    gone.unlink()
    cfg = WebConfig(index_on_start=False)
    runner, port = await start(app, cfg)
    try:
        async with signed_in(f"http://127.0.0.1:{port}", cfg) as s:
            html = await (await s.get("/")).text()
            rows = re.findall(r"<tr>.*?</tr>", html, re.S)
            marked = [r for r in rows if "log deleted" in r]
            assert len(marked) == 1 and "this log goes away" in marked[0], rows
            page = await (await s.get(f"/s/{sid}")).text()
            assert "no longer exists" in page and 'id="t2"' in page  # the whole transcript, from the store
    finally:
        await runner.cleanup()
        app.close()
