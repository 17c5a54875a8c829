"""A huge session's outline stays small enough to send: past ``OUTLINE_REACHABLE_MAX`` nodes, a fold's
line ranges are leaves (the editor goes to the range) instead of holding every left-out event."""

import shutil

from sessionlens.services import outline as outline_mod
from sessionlens.services.app import App
from sessionlens.services.settings import Settings

ROLLOUT = "rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl"


def _walk(nodes):
    for n in nodes:
        yield n
        yield from _walk(n.children)


def test_past_the_reachable_bound_folds_are_line_ranges(corpus, tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copyfile(corpus / "codex" / "localpush" / ROLLOUT, ws / ROLLOUT)
    app = App(Settings(storePath=str(tmp_path / "home"), includeHomeLogs=False))
    app.index([str(ws)])
    path = str(ws / ROLLOUT)
    monkeypatch.setattr(outline_mod, "OUTLINE_TURN_CHILDREN", 3)
    reachable = list(_walk(app.outline(path)))
    events = [n for n in reachable if n.kind not in ("turn", "more", "session")]
    monkeypatch.setattr(outline_mod, "OUTLINE_REACHABLE_MAX", 10)
    app._outline_cache.clear()
    small = list(_walk(app.outline(path)))
    assert len(small) < len(reachable)
    folds = [n for n in small if n.kind == "more" and n.name.startswith("…")]
    assert folds
    for f in folds:  # one level of line ranges under each fold, each a leaf
        assert 0 < len(f.children) <= 3
        for g in f.children:
            assert g.start <= g.end and not g.children
    # every left-out event still lies in one of the ranges
    kept = {n.start for n in small if n.kind not in ("turn", "more", "session")}
    ranges = [(g.start, g.end) for f in folds for g in f.children]
    assert all(e.start in kept or any(a <= e.start <= b for a, b in ranges) for e in events)
    app.close()
