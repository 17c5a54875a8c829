"""Every real session of the corpus (every agent) renders on every page of the web UI,
escaped, with one anchor per shown event (the corpus adds coverage on top of the generated logs)."""

from __future__ import annotations

import re

from sessionlens.services.app import App
from sessionlens.services.settings import Settings
from sessionlens.web.html import SKIP_KINDS
from sessionlens.web.security import WebConfig
from sessionlens.web.server import start
from tests.web.helpers import assert_escaped, client


async def test_corpus_sessions_render_on_every_page(corpus, tmp_path):
    import shutil

    logs = tmp_path / "corpus"  # a copy: SQLite sources in the corpus are never opened in place
    shutil.copytree(corpus, logs, ignore=shutil.ignore_patterns("*.md"))
    app = App(Settings.model_validate({"storePath": str(tmp_path / "home"), "includeHomeLogs": False}))
    app.index([str(logs)])
    sessions = app.db().list_sessions(limit=10_000)
    assert len(sessions) >= 5
    cfg = WebConfig(index_on_start=False)
    runner, port = await start(app, cfg)
    try:
        async with client(f"http://127.0.0.1:{port}") as s:
            await s.get(f"/?token={cfg.token}")
            html = await (await s.get("/")).text()
            assert f"of {len(sessions)}" in html
            assert_escaped(html)
            for sess in sessions:
                r = await s.get(f"/s/{sess['id']}")
                assert r.status == 200, sess["id"]
                page = await r.text()
                assert_escaped(page)
                shown = [e.seq for e in app.db().events(sess["file_id"]) if not e.duplicate and e.kind.value not in SKIP_KINDS]
                assert [int(x) for x in re.findall(r'<article class="ev[^"]*" id="e(\d+)"', page)] == shown
            for p in ("/search?q=error", "/cost", "/cost?by=model", "/coach", "/evals"):
                r = await s.get(p)
                assert r.status == 200, p
                assert_escaped(await r.text())
    finally:
        await runner.cleanup()
