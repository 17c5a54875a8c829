"""A log of more than ``OUTLINE_HUGE_EVENTS`` events gets its outline from SQL (a few queries per
turn or block of turns, ``store/outline.py``): the same shape as the outline built from every event
(blocks of turns, the most notable events of each, a fold of line ranges covering the rest), the same
notable events where both keep them all, and counts that add up to the file's events."""

from sessionlens.samples.generator import generate_corpus
from sessionlens.services import outline as outline_mod
from sessionlens.services.app import App
from sessionlens.services.settings import Settings


def _walk(nodes):
    for n in nodes:
        yield n
        yield from _walk(n.children)


def _outlines(tmp_path, monkeypatch, **bounds):
    ws = tmp_path / "ws"
    generate_corpus(ws, seed=11, total_bytes=400_000, big_file_bytes=300_000)
    app = App(Settings(storePath=str(tmp_path / "home"), includeHomeLogs=False))
    app.index([str(ws)])
    path = str(max(ws.rglob("rollout-*.jsonl"), key=lambda p: p.stat().st_size))
    for k, v in bounds.items():
        monkeypatch.setattr(outline_mod, k, v)
    old = app.outline(path)[0]
    monkeypatch.setattr(outline_mod, "OUTLINE_HUGE_EVENTS", 10)
    app._outline_cache.clear()
    new = app.outline(path)[0]
    return app, path, old, new


def _notable(host):
    return [(n.name, n.start, n.detail) for n in host.children if n.kind != "more" and (n.detail.startswith("✗") or n.kind == "error")]


def test_sql_outline_keeps_the_same_notable_events(tmp_path, monkeypatch):
    app, path, old, new = _outlines(tmp_path, monkeypatch, OUTLINE_TURN_CHILDREN=10**6, OUTLINE_BUDGET=10**9)
    assert (new.name, new.detail, new.start, new.end) == (old.name, old.detail, old.start, old.end)
    old_turns = [n for n in old.children if n.name.startswith("Turn ")]
    new_turns = [n for n in new.children if n.name.startswith("Turn ")]
    assert [(n.name, n.start, n.detail) for n in new_turns] == [(n.name, n.start, n.detail) for n in old_turns]
    # nothing capped: every error and failing call of a turn is there, as the full outline names it
    assert sum(len(_notable(n)) for n in old_turns) > 0
    assert [_notable(n) for n in new_turns] == [_notable(n) for n in old_turns]
    # the fold's line ranges count every event of the host's lines; its name, those not shown
    db = app.db()
    row = db.file_row(path)
    total = db.conn.execute("SELECT count(*) FROM events WHERE file_id=?", (row.id,)).fetchone()[0]
    in_ranges = 0
    for host in new.children:
        shown = sum(1 for n in host.children if n.kind != "more")
        for fold in (f for f in host.children if f.kind == "more"):
            counted = sum(int(r.name.rsplit("(", 1)[1].split()[0].replace(",", "")) for r in fold.children)
            assert fold.name == f"… {counted - shown:,} more events"
            in_ranges += counted
    assert in_ranges == total - min(n.start for n in new.children)  # the lines before the first turn hold nothing to show


def test_sql_outline_of_many_turns_is_bounded(tmp_path, monkeypatch):
    app, path, old, new = _outlines(tmp_path, monkeypatch, OUTLINE_MAX_TURNS=2, OUTLINE_TURN_CHILDREN=3)
    assert [n.name for n in new.children] == [n.name for n in old.children]
    assert all(n.detail.endswith(" turns") for n in new.children if n.name.startswith("Turns "))
    for host in new.children:
        kids = [n for n in host.children if n.kind != "more"]
        assert len(kids) <= 3
        assert [n.start for n in kids] == sorted(n.start for n in kids)
        for fold in (n for n in host.children if n.kind == "more"):
            assert fold.name.startswith("… ") and fold.name.endswith(" more events")
            assert 0 < len(fold.children) <= outline_mod.OUTLINE_FOLD_RANGES
            assert all(r.kind == "more" and not r.children and host.start <= r.start <= r.end <= host.end for r in fold.children)
