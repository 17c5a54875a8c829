"""The web UI in headless Chromium (DevTools protocol): open the printed URL, filter sessions,
save a view, open a transcript at a deep link, watch it update live, search, the cost dashboard,
coach and evals; then the team hub: sign in, admin, keys, audit.  Screenshots of every main page
go to ``$SESSIONLENS_ARTIFACTS/web`` (default ``artifacts/web``).  No page may log a CSP violation
or a script error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sessionlens.services.hub import Hub
from sessionlens.web.security import WebConfig
from sessionlens.web.server import start
from tests.web import cdp
from tests.web.helpers import claude_turn_lines, indexed_app, make_logs, write_claude_session

pytestmark = pytest.mark.skipif(not cdp.available(), reason="headless Chromium is not installed (apt-get install chromium)")

OUT = Path(os.environ.get("SESSIONLENS_ARTIFACTS") or Path(__file__).resolve().parents[2] / "artifacts") / "web"
PW = "correct horse battery staple"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    facts = make_logs(root / "logs")
    live = root / "logs" / "live" / "live.jsonl"
    facts["live_id"] = write_claude_session(live, prompt="a session being written", cwd="/home/dev/projects/live-demo")
    facts["live_path"] = live
    facts["app"] = indexed_app(root / "home", root / "logs")
    facts["app"].db().add_eval_run(
        "guidelines",
        None,
        1.7e9,
        1.7e9 + 60,
        "4f1b44f",
        None,
        {"passed": 11, "failed": 2, "regressions": 1},
        [{"check_id": "tests-pass", "passed": False, "message": "pytest failed"}],
    )
    return facts


async def test_local_ui_in_chromium(env):
    app = env["app"]
    cfg = WebConfig(index_on_start=False, poll_seconds=0.3)
    runner, port = await start(app, cfg)
    base = f"http://127.0.0.1:{port}"
    try:
        async with cdp.Browser() as b:
            await b.goto(f"{base}/?token={cfg.token}")
            assert await b.js("location.search") == ""  # the token left the address bar; a cookie holds it
            n_all = await b.js("document.querySelectorAll('table.grid tbody tr').length")
            assert n_all == len(app.db().list_sessions(limit=50))
            await b.screenshot(OUT / "sessions.png")
            # filter: agent = codex, with findings
            await b.submit(
                "document.querySelector('select[name=agent]').value='codex';"
                "document.querySelector('input[name=findings]').checked=true;"
                "document.querySelector('form.filters').submit()"
            )
            agents = await b.js("[...document.querySelectorAll('td .agent')].map(e => e.textContent)")
            expected = [s for s in app.db().list_sessions(limit=1000) if s.agent == "codex" and app.db().findings(session_id=s.id)]
            assert agents == ["codex"] * len(expected) and expected
            # save the filter as a view, then it is offered on the page
            await b.submit(
                "document.querySelector('.views input[name=name]').value='codex findings';document.querySelector('.views form').submit()"
            )
            assert await b.js("decodeURIComponent(location.search)") == "?view=codex findings", await b.js(
                "location.href + ' ' + document.body.textContent.slice(0, 300)"
            )
            assert await b.js("[...document.querySelectorAll('.views a.chip')].map(e => e.textContent)") == ["codex findings"]
            assert await b.js("document.querySelectorAll('td .agent').length") == len(expected)
            await b.screenshot(OUT / "sessions-view.png")
            # a transcript at a deep link
            s0 = next(s for s in app.db().list_sessions(limit=100) if s.events > 40 and not s.parent_session_id)
            html_seqs = [e.seq for e in app.db().events(s0.file_id) if e.kind.value in ("assistant_message", "tool_call")]
            seq = html_seqs[len(html_seqs) // 2]
            await b.goto(f"{base}/s/{s0.id}#e{seq}")
            assert await b.js("document.querySelector(':target') && document.querySelector(':target').id") == f"e{seq}"
            assert await b.js(
                f"(() => {{ const r = document.getElementById('e{seq}').getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }})()"
            )
            assert await b.js("!!document.querySelector('#transcript .sl-page .sl-turns')")  # the reader's transcript
            # the reader's stylesheet applies (a static file under the strict CSP): the toolbar sticks under the header
            assert await b.js("getComputedStyle(document.querySelector('.sl-toolbar')).position") == "sticky"
            # the deep-linked call was unfolded to show it
            assert await b.js(f"(() => {{ const d = document.getElementById('e{seq}').closest('details'); return !d || d.open; }})()")
            # kind filter hides tool output (the reader's script, a static file too)
            assert await b.js("document.querySelectorAll('[data-kind=output]').length") > 0
            await b.js(
                "const box = document.querySelector('.sl-filter[data-filter=output]'); box.checked = false; box.dispatchEvent(new Event('change'))"
            )
            hidden = await b.js("[...document.querySelectorAll('[data-kind=output]')].every(e => e.offsetParent === null)")
            assert hidden
            # a tool call folds and unfolds
            await b.js("document.querySelector('details.sl-call:not([open]) > summary').click()")
            assert await b.js("document.querySelectorAll('details.sl-call[open]').length") >= 1
            await b.screenshot(OUT / "transcript-deeplink.png")
            await b.goto(f"{base}/s/{s0.id}")
            await b.screenshot(OUT / "transcript.png")
            # live: a session being written grows in the page
            await b.goto(f"{base}/s/{env['live_id']}")
            await b.wait_for("document.getElementById('live').classList.contains('on')")
            before = await b.js("document.querySelectorAll('section.sl-turn').length")
            with open(env["live_path"], "a", encoding="utf-8") as fh:
                fh.write(claude_turn_lines(env["live_id"], 1, "the second turn arrives live", cwd="/home/dev/projects/live-demo"))
            await b.wait_for(f"document.querySelectorAll('section.sl-turn').length > {before}")
            assert "the second turn arrives live" in await b.js("document.querySelector('#transcript .sl-turns').textContent")
            assert await b.js(
                "new Set([...document.querySelectorAll('[id]')].map(e => e.id)).size === document.querySelectorAll('[id]').length"
            )
            toc = await b.js("[...document.querySelectorAll('.sl-toc a')].map(a => a.textContent)")
            assert toc[-1].startswith("2. the second turn arrives live"), toc  # the new turn in the list, named like the others
            await b.screenshot(OUT / "transcript-live.png")
            # search, cost, coach, evals
            await b.goto(f"{base}/search?q=pytest")
            assert await b.js("document.querySelectorAll('ol.hits li').length") > 0
            assert await b.js("document.querySelectorAll('.snippet mark').length") > 0
            await b.screenshot(OUT / "search.png")
            await b.submit("document.querySelector('.facet a.chip').click()")
            assert "&" in await b.js("location.search")  # a facet narrows the search
            for page, name in (
                ("/cost", "cost-day"),
                ("/cost?by=model", "cost-model"),
                ("/cost?by=project", "cost-project"),
                ("/coach", "coach"),
                ("/evals", "evals"),
            ):
                await b.goto(base + page)
                assert await b.js("document.querySelector('main h1').textContent")
                await b.screenshot(OUT / f"{name}.png")
            assert await b.js("document.querySelectorAll('table.grid tbody tr').length") == 1
            # hostile session: nothing ran (an alert would have thrown in headless mode) and the title reads as text
            await b.goto(f"{base}/s/{env['hostile_id']}")
            assert '<script>alert("title")</script>' in await b.js("document.querySelector('.sl-head h1').textContent")
            assert await b.js("[...document.scripts].map(s => s.getAttribute('src'))") == ["/static/app.js", "/static/transcript.js"]
            await b.screenshot(OUT / "hostile.png")
            errors = b.errors()
            assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    finally:
        await runner.cleanup()


async def test_team_hub_in_chromium(env, tmp_path):
    from sessionlens.services.app import App
    from sessionlens.services.settings import Settings

    hub_app = App(Settings.model_validate({"storePath": str(tmp_path / "hub"), "includeHomeLogs": False}))
    hub = Hub(hub_app)
    hub.create_user("alice", PW, "admin")
    bob = hub.create_user("bob", PW, "member", ["inventory-api"])
    hub.create_key(bob, "laptop", ["ingest"], project="inventory-api")
    cfg = WebConfig(team=True, index_on_start=False)
    runner, port = await start(hub_app, cfg, hub)
    base = f"http://127.0.0.1:{port}"
    try:
        async with cdp.Browser() as b:
            await b.goto(f"{base}/admin")
            assert await b.js("location.pathname") == "/login"
            await b.screenshot(OUT / "hub-login.png")
            await b.submit(
                "document.querySelector('input[name=username]').value='alice';"
                "document.querySelector('input[name=password]').value='wrong password';"
                "document.querySelector('form.login').submit()"
            )
            assert "Wrong user name" in await b.js("document.body.textContent")
            await b.submit(
                "document.querySelector('input[name=username]').value='alice';"
                f"document.querySelector('input[name=password]').value='{PW}';"
                "document.querySelector('form.login').submit()"
            )
            assert await b.js("location.pathname") == "/admin"
            assert await b.js("document.cookie") == ""  # the session cookie is HttpOnly
            await b.screenshot(OUT / "hub-admin.png")
            await b.goto(f"{base}/keys")
            await b.submit(
                "document.querySelector('input[name=name]').value='ci reader';document.querySelector('form[action=\"/keys\"]').submit()"
            )
            key = await b.js("document.querySelector('.secret').textContent")
            assert key.startswith("slk_")
            await b.screenshot(OUT / "hub-keys.png")
            await b.goto(f"{base}/admin/audit")
            actions = await b.js("[...document.querySelectorAll('table.grid tbody tr td:nth-child(4)')].map(e => e.textContent)")
            assert {"signin", "key.create"} <= set(actions)
            assert "chain intact" in await b.js("document.body.textContent")
            await b.screenshot(OUT / "hub-audit.png")
            await b.submit("document.querySelector('form.who').submit()")
            assert await b.js("location.pathname") == "/login"
    finally:
        await runner.cleanup()


async def test_corpus_transcripts_in_chromium(corpus, tmp_path):
    """A real Claude Code and a real Codex session from the corpus, read in the browser: the reader's
    transcript, a deep link landing on its event, an image served by the server; screenshots kept."""
    import shutil

    logs = tmp_path / "logs"
    for agent in ("claude", "codex"):
        shutil.copytree(corpus / agent, logs / agent, ignore=shutil.ignore_patterns("*.md"))
    app = indexed_app(tmp_path / "home", logs)
    cfg = WebConfig(index_on_start=False)
    runner, port = await start(app, cfg)
    base = f"http://127.0.0.1:{port}"
    try:
        async with cdp.Browser() as b:
            await b.goto(f"{base}/?token={cfg.token}")
            for agent in ("claude", "codex"):
                sessions = [
                    s
                    for s in app.db().list_sessions(limit=1000)
                    if s.agent == agent and not s.parent_session_id and not (s.title or "").startswith("[REDACTED")
                ]  # a corpus log whose text was redacted at the source reads as nothing
                assert sessions, agent
                s0 = max(sessions, key=lambda s: s.events)
                evs = app.db().events(s0.file_id)
                calls = [e for e in evs if e.kind.value in ("tool_call", "patch") and not e.duplicate]
                target = calls[len(calls) // 2]
                await b.goto(f"{base}/s/{s0.id}#e{target.seq}")
                await b.wait_for(f"document.getElementById('e{target.seq}') && document.getElementById('e{target.seq}').open === true")
                top = await b.js(f"document.getElementById('e{target.seq}').getBoundingClientRect().top")
                toolbar = await b.js("document.querySelector('.sl-toolbar').getBoundingClientRect().bottom")
                assert toolbar <= top < 900, (top, toolbar)  # on screen, below the sticky header and toolbar
                await b.screenshot(OUT / f"corpus-{agent}-deeplink.png")
                await b.goto(f"{base}/s/{s0.id}")
                await b.screenshot(OUT / f"corpus-{agent}.png")
            # a session with a screenshot in a tool result: the image loads from this server
            from sessionlens.services import web as svc

            with_img = next(s for s in app.db().list_sessions(limit=1000) if "<img " in svc.transcript(app, s.id)["body"])
            await b.goto(f"{base}/s/{with_img.id}")
            await b.js(
                "document.querySelectorAll('img.sl-thumb').forEach(i => { i.loading = 'eager'; const d = i.closest('details'); if (d) d.open = true; })"
            )
            await b.wait_for("[...document.querySelectorAll('img.sl-thumb')].every(i => i.complete && i.naturalWidth > 0)")
            assert (await b.js("document.querySelector('img.sl-thumb').getAttribute('src')")).startswith(f"/s/{with_img.id}/img/")
            await b.js("document.querySelector('img.sl-thumb').scrollIntoView({block: 'center'})")
            await b.screenshot(OUT / "corpus-image.png")
            errors = b.errors()
            assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    finally:
        await runner.cleanup()
