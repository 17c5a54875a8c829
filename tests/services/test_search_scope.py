"""Search under workspace scope: the total counts the workspace's matches, hits carry their session title."""

from __future__ import annotations

from sessionlens.samples.generator import generate_corpus
from tests.services.helpers import make_app


def test_scoped_total_counts_only_the_workspace(tmp_path):
    inside, outside = tmp_path / "ws", tmp_path / "elsewhere"
    generate_corpus(inside, seed=21, total_bytes=60_000)
    generate_corpus(outside, seed=22, total_bytes=60_000)
    app = make_app(tmp_path / "home")
    try:
        app.index([str(inside), str(outside)])
        app.workspace_folders = [str(inside)]
        everywhere = app.search("test", limit=1000, workspace_only=False)
        mine = [h for h in everywhere["hits"] if h["path"].startswith(str(inside))]
        assert mine and len(mine) < everywhere["total"], "the query matches in both folders"
        scoped = app.search("test", limit=5, workspace_only=True)
        assert scoped["total"] == len(mine)
        assert len(scoped["hits"]) == min(5, len(mine)) and all(h["path"].startswith(str(inside)) for h in scoped["hits"])
        titles = {h["session_id"]: h["title"] for h in everywhere["hits"]}
        assert all(titles[h["session_id"]] == h["title"] for h in scoped["hits"])
    finally:
        app.close()
