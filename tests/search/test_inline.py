"""Search documents indexed while a pass writes its rows (``InlineWriter``) are the documents a sync
from the store makes: the same deletes and documents per write, hostile texts included; files it
cannot mirror are redone from the store; a pass stopped early leaves the queue to the next sync."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sessionlens.samples.generator import generate_corpus
from sessionlens.services import indexer as indexer_module
from tests.services.helpers import assert_same_store, index, make_app, search_docs, snapshot


def _hostile_claude(path: Path) -> None:
    """A Claude session whose texts need care: a NUL, a long tool output, a long command echoed as
    its text, non-BMP characters around the clip points."""
    sid = "0badc0de-0000-4000-8000-000000000001"
    long_out = ("é" * 999) + "🙂" + ("x" * 5000) + "🙂tail"
    cmd = "echo " + "y" * 7000
    lines = [
        {
            "type": "user",
            "sessionId": sid,
            "uuid": "u1",
            "timestamp": "2026-01-02T03:04:05Z",
            "cwd": "/tmp/p",
            "message": {"role": "user", "content": "find the bug\u0000 in here"},
        },
        {
            "type": "assistant",
            "sessionId": sid,
            "uuid": "a1",
            "timestamp": "2026-01-02T03:04:06Z",
            "cwd": "/tmp/p",
            "message": {
                "id": "m1",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": cmd}}],
                "usage": {"input_tokens": 3, "output_tokens": 4},
            },
        },
        {
            "type": "user",
            "sessionId": sid,
            "uuid": "u2",
            "timestamp": "2026-01-02T03:04:07Z",
            "cwd": "/tmp/p",
            "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": long_out}]},
        },
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("inline") / "logs"
    generate_corpus(root, seed=23, total_bytes=3_000_000, big_file_bytes=1_500_000)
    _hostile_claude(root / "claude" / "projects" / "-tmp-p" / "0badc0de-0000-4000-8000-000000000001.jsonl")
    return root


def _rebuilt(home: Path, tmp_path: Path) -> Path:
    """A copy of ``home`` whose search index is rebuilt from the store alone."""
    copy = tmp_path / "rebuilt"
    shutil.copytree(home, copy)
    shutil.rmtree(copy / "index")
    app = make_app(copy)
    try:
        app.search("test")  # rebuilds the derived index from the store
    finally:
        app.close()
    return copy


def test_documents_written_inline_equal_a_rebuild_from_the_store(logs, tmp_path, monkeypatch):
    monkeypatch.setattr(indexer_module, "INLINE_SEARCH_BYTES", 0)
    monkeypatch.setattr(indexer_module, "CHUNK_BYTES", 256 * 1024)  # the big file in several writes
    home = tmp_path / "home"
    stats = index(home, logs)
    assert not stats.errors and stats.search_docs > 500
    docs = search_docs(home)
    assert len(docs) == stats.search_docs
    assert any("\x00" in (d[-1] or "") for d in docs)  # the NUL text went through the store (redone)
    assert search_docs(_rebuilt(home, tmp_path)) == docs


def test_inline_and_classic_passes_make_the_same_store(logs, tmp_path, monkeypatch):
    monkeypatch.setattr(indexer_module, "CHUNK_BYTES", 256 * 1024)
    monkeypatch.setattr(indexer_module, "INLINE_SEARCH_BYTES", 0)
    inline = tmp_path / "inline"
    index(inline, logs)
    monkeypatch.setattr(indexer_module, "INLINE_SEARCH_BYTES", 1 << 60)
    classic = tmp_path / "classic"
    index(classic, logs)
    assert_same_store(snapshot(inline), snapshot(classic))


def test_appends_keep_counts_and_documents_right(logs, tmp_path, monkeypatch):
    """A file growing over passes (and written in several chunks per pass): its session's event count
    and time span, kept from what was written before, equal the table's; its documents too."""
    monkeypatch.setattr(indexer_module, "INLINE_SEARCH_BYTES", 0)
    monkeypatch.setattr(indexer_module, "CHUNK_BYTES", 128 * 1024)
    big = max(logs.rglob("*.jsonl"), key=lambda p: p.stat().st_size)
    data = big.read_bytes()
    grow = tmp_path / "logs" / big.relative_to(logs)
    grow.parent.mkdir(parents=True)
    cuts = [data.rfind(b"\n", 0, len(data) * k // 3) + 1 for k in (1, 2)] + [len(data)]
    home = tmp_path / "home"
    done = 0
    for cut in cuts:
        with grow.open("ab") as f:
            f.write(data[done:cut])
        done = cut
        index(home, grow.parent)
    app = make_app(home)
    try:
        db = app.db()
        row = db.conn.execute(
            "SELECT s.events, s.ended_at, s.started_at, (SELECT count(*) FROM events e WHERE e.file_id=s.file_id),"
            " (SELECT max(ts) FROM events e WHERE e.file_id=s.file_id) FROM sessions s"
        ).fetchone()
    finally:
        app.close()
    assert row[0] == row[3] > 100 and row[1] == row[4]
    cold = tmp_path / "cold"
    index(cold, grow.parent)
    assert_same_store(snapshot(home), snapshot(cold))
