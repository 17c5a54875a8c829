"""A huge session's outline stays bounded: turns fold into blocks, each keeps its most notable
events and one "… K more events" child covering the rest; outlines are cached until re-indexing."""

import shutil

from sessionlens.services import outline as outline_mod
from sessionlens.services.app import App
from sessionlens.services.settings import Settings

ROLLOUT = "rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl"


def _walk(nodes):
    for n in nodes:
        yield n
        yield from _walk(n.children)


def _setup(corpus, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copyfile(corpus / "codex" / "localpush" / ROLLOUT, ws / ROLLOUT)
    app = App(Settings(storePath=str(tmp_path / "home"), includeHomeLogs=False))
    app.index([str(ws)])
    return app, str(ws / ROLLOUT)


def test_bounded_outline_keeps_notable_events_and_covers_the_rest(corpus, tmp_path, monkeypatch):
    app, path = _setup(corpus, tmp_path)
    monkeypatch.setattr(outline_mod, "OUTLINE_TURN_CHILDREN", 10**6)
    monkeypatch.setattr(outline_mod, "OUTLINE_BUDGET", 10**9)
    full = app.outline(path)[0]
    turns = [n for n in full.children if n.name.startswith("Turn ")]
    events = [n for n in _walk(full.children) if n.kind not in ("turn",)]
    assert len(turns) >= 2 and len(events) > 6
    monkeypatch.setattr(outline_mod, "OUTLINE_MAX_TURNS", 1)
    monkeypatch.setattr(outline_mod, "OUTLINE_TURN_CHILDREN", 3)
    app._outline_cache.clear()
    small = app.outline(path)[0]
    assert small.start == full.start and small.end == full.end
    blocks = [n for n in small.children if n.kind == "turn" and n.name.startswith("Turn")]
    assert len(blocks) == 1 and blocks[0].name.startswith(f"Turns 1–{len(turns)}")
    block = blocks[0]
    assert len(block.children) == 4 and block.children[-1].kind == "more"
    kept, more = block.children[:3], block.children[-1]
    n_total = sum(len(t.children) for t in turns)
    assert more.name == f"… {n_total - 3} more events"
    assert [k.start for k in kept] == sorted(k.start for k in kept)
    # errors and failing calls come first; the "more" child spans the left-out lines
    ranks = sorted(outline_mod._rank(c) for t in turns for c in t.children)
    assert sorted(outline_mod._rank(k) for k in kept) == ranks[:3]
    left_out = [c for t in turns for c in t.children if c.start not in {k.start for k in kept}]
    assert more.start == min(c.start for c in left_out) and more.end == max(c.end for c in left_out)


def test_outline_is_cached_until_the_file_changes(corpus, tmp_path):
    app, path = _setup(corpus, tmp_path)
    first = app.outline(path)
    assert app.outline(path) is first
    with open(path, "ab") as f:
        f.write(
            b'{"timestamp":"2026-02-23T13:00:00.000Z","type":"response_item","payload":{"type":"message",'
            b'"role":"assistant","content":[{"type":"output_text","text":"appended marker"}]}}\n'
        )
    app.index([path])
    again = app.outline(path)
    assert again is not first
    assert any(n.name.startswith("appended marker") for n in _walk(again))
