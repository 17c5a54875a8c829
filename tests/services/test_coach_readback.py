"""A file indexed in several chunks has its coach findings computed from the events read back
(only the kinds the rules read, plus usage and secret-bearing lines): the findings must equal
those of the same file indexed in one chunk (events handed over directly)."""

from __future__ import annotations

import json
import shutil

import apsw
import pytest

from sessionlens.services import indexer as indexer_mod
from tests.services.helpers import CLAUDE_MAIN, CLAUDE_TOOLS, CODEX_BIG, assert_same_store, index, make_app, snapshot

AWS = "AKIAQ3EGUWX7KZL4NB2P"
GH = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def _q(home, sql):
    c = apsw.Connection(str(home / "sessionlens.db"), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        return c.execute(sql).fetchall()
    finally:
        c.close()


def _workspace(corpus, root):
    root.mkdir()
    codex = root / "codex.jsonl"
    shutil.copyfile(corpus / CODEX_BIG, codex)
    with open(codex, "a") as f:  # secrets in kinds the other rules never read: a message and reasoning
        f.write(
            json.dumps(
                {
                    "timestamp": "2026-02-23T13:30:00.000Z",
                    "type": "response_item",
                    "payload": {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": f"use {AWS} for now"}]},
                }
            )
            + "\n"
        )
        f.write(
            json.dumps(
                {
                    "timestamp": "2026-02-23T13:30:01.000Z",
                    "type": "response_item",
                    "payload": {"type": "reasoning", "summary": [{"type": "summary_text", "text": f"the token {GH} works"}]},
                }
            )
            + "\n"
        )
        for i, (out, code) in enumerate([("ok line\n" * 9000, 0), ("command not found: frob\n" + "x" * 3000, 127)]):
            f.write(
                json.dumps(
                    {
                        "timestamp": "2026-02-23T13:31:00.000Z",
                        "type": "response_item",
                        "payload": {
                            "type": "function_call",
                            "name": "exec_command",
                            "arguments": json.dumps({"cmd": f"run {i}"}),
                            "call_id": f"call_big{i}",
                        },
                    }
                )
                + "\n"
            )
            f.write(
                json.dumps(
                    {
                        "timestamp": "2026-02-23T13:31:05.000Z",
                        "type": "response_item",
                        "payload": {
                            "type": "function_call_output",
                            "call_id": f"call_big{i}",
                            "output": f"Process exited with code {code}\nOutput:\n{out}",
                        },
                    }
                )
                + "\n"
            )
    shutil.copyfile(corpus / CLAUDE_TOOLS, root / "claude.jsonl")
    return root


def test_findings_read_back_equal_findings_in_memory(corpus, tmp_path, monkeypatch):
    ws = _workspace(corpus, tmp_path / "ws")
    one = tmp_path / "one"
    index(one, ws)
    monkeypatch.setattr(indexer_mod, "CHUNK_BYTES", 32 * 1024)
    monkeypatch.setattr(indexer_mod, "RULE_TEXT_CLIP", 16)  # successful outputs read back clipped hard
    many = tmp_path / "many"
    index(many, ws)
    a, b = snapshot(one), snapshot(many)
    assert_same_store(a, b)
    secrets = [r for r in a["findings"] if "secret-in-log" in repr(r)]
    assert any(AWS[:4] in repr(r) for r in secrets) and any("GitHub" in repr(r) or "ghp_" in repr(r) for r in secrets), secrets
    assert len([r for r in a["findings"] if "secret-in-log" not in repr(r)]) > 3
    assert {"huge-tool-output", "tool-error"} <= {r[3] for r in a["findings"]}


@pytest.mark.parametrize("ahead,buffer,chunk", [(1, 0, None), (3, 1 << 30, None), (2, 64 * 1024, 48 * 1024)])
def test_a_bulk_pass_with_a_worker_process_gives_the_same_store(corpus, tmp_path, monkeypatch, ahead, buffer, chunk):
    """Bulk passes prepare jobs in a worker process and in this one while this one writes: whatever
    ran where (and however files are cut into chunks), the store equals the one-process pass."""
    ws = _workspace(corpus, tmp_path / "ws")
    shutil.copyfile(corpus / CLAUDE_MAIN, ws / "main.jsonl")
    inline = tmp_path / "inline"
    index(inline, ws)
    monkeypatch.setattr(indexer_mod, "BULK_COACH_BYTES", 0)
    monkeypatch.setattr(indexer_mod, "WORKER_AHEAD", ahead)
    monkeypatch.setattr(indexer_mod, "BUFFER_BYTES", buffer)
    if chunk:
        monkeypatch.setattr(indexer_mod, "CHUNK_BYTES", chunk)
    started = []
    real_start = indexer_mod.Indexer._start_pool
    monkeypatch.setattr(indexer_mod.Indexer, "_start_pool", lambda self, n: started.append(real_start(self, n)) or started[-1])
    where = []  # per job: prepared in the worker (True) or here (False)

    class Slot(indexer_mod._Slot):
        def __init__(self, job, future=None, **kw):
            where.append((job.kind, future is not None))
            super().__init__(job, future, **kw)

    monkeypatch.setattr(indexer_mod, "_Slot", Slot)
    sent_ahead = []  # a file's next chunks handed to the worker before the one before is written
    real_ahead = indexer_mod.Indexer._send_ahead
    monkeypatch.setattr(indexer_mod.Indexer, "_send_ahead", lambda self, job: sent_ahead.append(real_ahead(self, job)) or sent_ahead[-1])
    pooled = tmp_path / "pooled"
    index(pooled, ws)
    assert started and started[0] is not None, "the pass used a worker process"
    if chunk:
        assert any(sent_ahead), "chunks of one file were parsed while the one before was written"
    assert assert_same_store(snapshot(inline), snapshot(pooled)) is None
    assert _q(pooled, "SELECT count(*) FROM files WHERE mtime_ns=0") == [(0,)]


def test_a_cancelled_bulk_pass_leaves_files_to_coach_for_the_next_pass(corpus, tmp_path, monkeypatch):
    ws = _workspace(corpus, tmp_path / "ws")
    shutil.copyfile(corpus / CLAUDE_MAIN, ws / "main.jsonl")
    inline = tmp_path / "inline"
    index(inline, ws)
    monkeypatch.setattr(indexer_mod, "BULK_COACH_BYTES", 0)
    home = tmp_path / "home"
    app = make_app(home)
    calls = []
    app.index([str(ws)], cancelled=lambda: calls.append(1) or len(calls) > 2)  # stops after two files
    app.close()
    index(home, ws)  # finishes the files, and the coach of any file the worker had not done
    assert _q(home, "SELECT count(*) FROM files WHERE mtime_ns=0") == [(0,)]
    assert_same_store(snapshot(inline), snapshot(home))


def test_a_worker_that_dies_mid_pass_loses_nothing(corpus, tmp_path, monkeypatch):
    """The worker process is killed (out of memory, say) in the middle of a bulk pass: its jobs are
    done in this process and the store equals a one-process pass."""
    ws = _workspace(corpus, tmp_path / "ws")
    shutil.copyfile(corpus / CLAUDE_MAIN, ws / "main.jsonl")
    inline = tmp_path / "inline"
    index(inline, ws)
    monkeypatch.setattr(indexer_mod, "BULK_COACH_BYTES", 0)
    monkeypatch.setattr(indexer_mod, "CHUNK_BYTES", 64 * 1024)
    killed = []
    real_complete = indexer_mod.Indexer._complete

    def complete(self, slot):
        if self._pool is not None and not killed:
            self._pool._proc.kill()
            self._pool._proc.join(5)
            killed.append(True)
        return real_complete(self, slot)

    monkeypatch.setattr(indexer_mod.Indexer, "_complete", complete)
    home = tmp_path / "home"
    index(home, ws)
    assert killed, "the pass used a worker process"
    assert_same_store(snapshot(inline), snapshot(home))
    assert _q(home, "SELECT count(*) FROM files WHERE mtime_ns=0 OR status!='ok'") == [(0,)]
