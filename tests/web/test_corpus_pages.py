"""Every real session of the corpus (every agent) renders on every page of the web UI, sanitized,
through the reader's renderer with an anchor for every event (the corpus adds coverage on top of
the generated logs), and every image a transcript shows is served."""

from __future__ import annotations

import re

from sessionlens.services.app import App
from sessionlens.services.settings import Settings
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
            images = 0
            for sess in sessions:
                r = await s.get(f"/s/{sess.id}")
                assert r.status == 200, sess.id
                page = await r.text()
                assert_escaped(page)
                assert 'class="sl-page"' in page  # the reader's transcript
                seqs = [int(x) for x in re.findall(r' id="e(\d+)"', page)]
                assert sorted(seqs) == [e.seq for e in app.db().events(sess.file_id)], sess.id  # each event once
                for src in re.findall(r'<img [^>]*src="([^"]+)"', page):
                    r = await s.get(src)
                    assert r.status == 200 and r.content_type.startswith("image/"), src
                    images += 1
            assert images > 0  # the corpus has screenshots in tool results
            for p in ("/search?q=error", "/cost", "/cost?by=model", "/coach", "/evals"):
                r = await s.get(p)
                assert r.status == 200, p
                assert_escaped(await r.text())
    finally:
        await runner.cleanup()
