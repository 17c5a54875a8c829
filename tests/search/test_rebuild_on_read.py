"""Searching a store whose derived index is gone rebuilds it from SQLite first (no silent empty results)."""

import shutil

from sessionlens.services.app import App
from sessionlens.services.settings import Settings


def test_search_rebuilds_missing_index(corpus, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copyfile(corpus / "claude" / "spotter" / "short.jsonl", ws / "s.jsonl")
    settings = Settings(storePath=str(tmp_path / "home"), includeHomeLogs=False)
    App(settings).index([str(ws)])
    before = App(settings).search("phoenix")["total"]
    assert before > 0
    shutil.rmtree(tmp_path / "home" / "index")
    assert App(settings).search("phoenix")["total"] == before
