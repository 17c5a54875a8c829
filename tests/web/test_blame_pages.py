"""The local web UI's transcript links back to the files its session edited (agent blame), over real HTTP."""

from __future__ import annotations

import json
import re

import pytest

from sessionlens.samples import blame_repo
from sessionlens.web.security import WebConfig
from sessionlens.web.server import start
from tests.web.helpers import assert_escaped, client, indexed_app


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("webblame")
    fx = blame_repo.build(root / "fx")
    # a hostile session: claims a cwd of /etc and an edit of passwd (no file outside a repository is shown)
    evil = fx.claude_dir / "projects" / "-etc" / "e0000000-0000-4000-8000-000000000666.jsonl"
    evil.parent.mkdir(parents=True)
    evil.write_text(
        json.dumps(
            {
                "type": "assistant",
                "sessionId": "e0000000-0000-4000-8000-000000000666",
                "uuid": "u1",
                "parentUuid": None,
                "cwd": "/etc",
                "timestamp": "2026-02-10T10:00:00.000Z",
                "message": {
                    "id": "m1",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5",
                    "content": [
                        {"type": "tool_use", "id": "t1", "name": "Write", "input": {"file_path": "/etc/passwd", "content": "root:x"}}
                    ],
                    "usage": {"input_tokens": 1, "output_tokens": 1},
                },
            }
        )
        + "\n"
    )
    app = indexed_app(root / "home", fx.logs)
    return fx, app


@pytest.fixture
async def server(env):
    cfg = WebConfig(index_on_start=False, poll_seconds=0.2)
    runner, port = await start(env[1], cfg)
    try:
        yield f"http://127.0.0.1:{port}", cfg
    finally:
        await runner.cleanup()


async def test_transcript_links_to_the_blame_of_each_edited_file(server, env):
    base, cfg = server
    fx, _ = env
    async with client(base) as s:
        await s.get(f"/?token={cfg.token}")
        r = await s.get(f"/s/{blame_repo.SESSION_A}")
        page = await r.text()
        assert r.status == 200
        links = dict((text, href) for href, text in re.findall(r'<a class="sl-blame-file" href="(/blame/\d+/\d+/\d+)">([^<]+)</a>', page))
        assert sorted(links) == ["src/app.py", "src/config.py"]
        r = await s.get(links["src/config.py"])
        html = await r.text()
        assert r.status == 200
        assert_escaped(html)
        assert "<h1>src/config.py</h1>" in html and "edited in 2 agent sessions" in html
        rows = re.findall(r'<tr class="(sl-agent|sl-human)"><td class="sl-blame-who">(.*?)</td><td class="sl-blame-n">(\d+)</td>', html)
        want = fx.expected["src/config.py"]
        assert [(c == "sl-agent") for c, _, _ in rows] == [w is not None for w in want]
        # each attributed line links to the edit in its session's transcript
        sid_of = {i: re.search(r'href="/s/([^"#]+)#e(\d+)"', g) for i, (_, g, _) in enumerate(rows)}
        for i, w in enumerate(want):
            if w is not None:
                assert sid_of[i] is not None and sid_of[i].group(1) == w
        r = await s.get(f"/s/{blame_repo.SESSION_B}")
        # B's util.py was renamed: the file is not there under the name B edited, no link to it
        assert re.findall(r'class="sl-blame-file" href="[^"]+">([^<]+)<', await r.text()) == ["src/app.py"]


async def test_no_file_outside_its_repository_is_ever_shown(server, env):
    base, cfg = server
    async with client(base) as s:
        await s.get(f"/?token={cfg.token}")
        page = await (await s.get("/s/e0000000-0000-4000-8000-000000000666")).text()
        assert "sl-blame-file" not in page
        st = env[1].db()
        fid = st.conn.execute("SELECT file_id FROM sessions WHERE id=?", ("e0000000-0000-4000-8000-000000000666",)).get
        r = await s.get(f"/blame/{fid}/1/0")
        assert r.status == 404 and "root:" not in await r.text()
        assert (await s.get("/blame/999999/1/0")).status == 404
