"""The SQLite store on disk: migrations, refusing foreign or newer files, the writer lock across
processes, and WAL readers seeing only committed passes."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import apsw
import pytest

from sessionlens.store import Store, StoreError, WriterLock
from sessionlens.store.db import APPLICATION_ID
from sessionlens.store.schema import MIGRATIONS


def test_new_store_is_migrated_to_the_latest_schema(tmp_path):
    s = Store(tmp_path)
    assert s.conn.pragma("user_version") == len(MIGRATIONS)
    assert s.conn.pragma("application_id") == APPLICATION_ID
    assert s.conn.pragma("journal_mode") == "wal"
    tables = {r[0] for r in s.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"files", "sessions", "events", "turns", "usage", "problems", "findings", "search_queue"} <= tables
    s.close()
    again = Store(tmp_path)  # reopening is a no-op
    assert again.conn.pragma("user_version") == len(MIGRATIONS)


def test_an_older_store_is_upgraded_step_by_step(tmp_path):
    c = apsw.Connection(str(tmp_path / "sessionlens.db"))
    with c:
        c.execute(MIGRATIONS[0])
        c.pragma("user_version", 1)
    c.execute("INSERT INTO files(path) VALUES('/x.jsonl')")
    c.close()
    s = Store(tmp_path)
    assert s.conn.pragma("user_version") == len(MIGRATIONS)
    assert s.file_row("/x.jsonl") is not None  # data kept


def test_a_store_from_a_newer_sessionlens_is_refused(tmp_path):
    c = apsw.Connection(str(tmp_path / "sessionlens.db"))
    c.pragma("user_version", len(MIGRATIONS) + 5)
    c.close()
    with pytest.raises(StoreError, match="newer sessionlens"):
        Store(tmp_path)


def test_a_store_whose_schema_this_release_never_wrote_is_refused_with_a_message(tmp_path):
    """A development build's store (its migrations in another order) gets a message, not a crash."""
    s = Store(tmp_path)
    s.close()
    # a store that claims to stand before a migration creating a table it already has
    step = next(
        i for i, m in enumerate(MIGRATIONS) if i > 0 and m.lstrip().startswith("CREATE TABLE ") and "IF NOT EXISTS" not in m.split("(")[0]
    )
    assert step > 0
    c = apsw.Connection(str(tmp_path / "sessionlens.db"))
    c.pragma("user_version", step)
    c.close()
    with pytest.raises(StoreError, match="cannot be upgraded.*another build of sessionlens"):
        Store(tmp_path)
    c = apsw.Connection(str(tmp_path / "sessionlens.db"))
    assert c.pragma("user_version") == step  # nothing half-applied
    c.close()


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    (tmp_path / "sessionlens.db").write_bytes(b"not a database " * 200)
    with pytest.raises(StoreError, match="not a sessionlens store"):
        Store(tmp_path)


def test_meta_roundtrip(tmp_path):
    s = Store(tmp_path)
    assert s.get_meta("k") is None
    s.set_meta("k", "1")
    s.set_meta("k", "2")
    assert s.get_meta("k") == "2"


_HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from sessionlens.store import WriterLock
    lock = WriterLock(Path(sys.argv[1]))
    ok = lock.acquire(timeout=float(sys.argv[2]))
    print("acquired" if ok else "busy", flush=True)
    if ok:
        sys.stdin.readline()  # hold until told
        lock.release()
""")


def _other_process(path, timeout: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path), str(timeout)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def test_writer_lock_excludes_other_processes_and_is_reentrant(tmp_path):
    path = tmp_path / "writer.lock"
    lock = WriterLock(path)
    assert lock.acquire(timeout=0)
    assert lock.acquire(timeout=0)  # reentrant in this process
    assert lock.holder() == f"pid {__import__('os').getpid()}"
    p = _other_process(path, 0)
    assert p.communicate(timeout=30)[0].strip() == "busy"
    lock.release()
    p = _other_process(path, 0)
    assert p.communicate(timeout=30)[0].strip() == "busy"  # still held once
    lock.release()
    p = _other_process(path, 0)
    try:
        assert p.stdout.readline().strip() == "acquired"
        waits: list = []
        assert not lock.acquire(timeout=0.2, on_wait=waits.append)
        assert waits and waits[0].startswith("pid ")  # told who holds it
    finally:
        p.communicate("\n", timeout=30)
    assert lock.acquire(timeout=5)
    lock.release()


def test_readers_see_only_committed_passes(tmp_path):
    writer = Store(tmp_path)
    reader = Store(tmp_path)
    with writer.conn:
        fid = writer.ensure_file("/a.jsonl")
    writer.conn.execute("BEGIN IMMEDIATE")
    writer.conn.execute("UPDATE files SET lines=42 WHERE id=?", (fid,))
    assert reader.file_row("/a.jsonl").lines == 0  # not yet committed, and the reader is not blocked
    writer.conn.execute("COMMIT")
    assert reader.file_row("/a.jsonl").lines == 42


def test_writer_lock_makes_other_threads_wait(tmp_path):
    import threading

    lock = WriterLock(tmp_path / "writer.lock")
    assert lock.acquire(timeout=0)
    got: list[bool] = []
    t = threading.Thread(target=lambda: got.append(lock.acquire(timeout=0.1)))
    t.start()
    t.join()
    assert got == [False]
    lock.release()
    t = threading.Thread(target=lambda: (got.append(lock.acquire(timeout=5)), lock.release()))
    t.start()
    t.join()
    assert got == [False, True]


def test_compact_events_equal_ordinary_ones_in_less_memory(tmp_path):
    """The coach's read-back of a huge file builds its events compact (shared-key attributes,
    interned names): every field equal to the ordinary event of the same row, in less memory."""
    import copy
    import pickle
    import random
    import sys as _sys

    from sessionlens.models import Event
    from sessionlens.models.construct import construct_shared
    from sessionlens.samples.generator import DEFAULT_START, generate_codex_session
    from sessionlens.store.db import EVENT_COLS, row_to_event
    from tests.services.helpers import make_app

    logs = tmp_path / "logs"
    logs.mkdir()
    generate_codex_session(
        random.Random(7),
        path=logs / "rollout-2026-01-05T08-30-00-c.jsonl",
        start=DEFAULT_START,
        turns=6,
        cwd=str(tmp_path / "proj"),
        problems=("repeat_failure",),
    )
    app = make_app(tmp_path / "home")
    try:
        app.index([str(logs)])
        rows = list(app.db().conn.execute(f"SELECT {EVENT_COLS} FROM events e ORDER BY e.file_id, e.seq"))
        assert len(rows) > 20
        pickle.loads(pickle.dumps(row_to_event(rows[0])))  # copying or unpickling events first changes nothing
        copy.copy(row_to_event(rows[1]))
        for r in rows:
            plain, compact = row_to_event(r), row_to_event(r, compact=True)
            assert compact.model_dump() == plain.model_dump()
            assert compact == plain
        sizes = [(_sys.getsizeof(row_to_event(r).__dict__), _sys.getsizeof(row_to_event(r, compact=True).__dict__)) for r in rows]
        assert all(c < p for p, c in sizes), sizes[:3]
    finally:
        app.close()
    with pytest.raises(ValueError, match="values for"):
        construct_shared(Event, (1, 2))


def test_only_one_shot_read_commands_read_through_a_memory_map(tmp_path, monkeypatch):
    """The indexer, the language server and the hub keep mapped pages out of their resident memory;
    a read command (``use_mmap``) maps the store."""
    from sessionlens.store import db as store_db

    monkeypatch.setattr(store_db.Store, "mmap_size", 0)
    s = Store(tmp_path)
    assert s.conn.pragma("mmap_size") == 0
    s.close()
    store_db.use_mmap()
    s = Store(tmp_path)
    assert s.conn.pragma("mmap_size") > 0
    s.close()


def test_the_cli_maps_the_store_for_read_commands_only(tmp_path, monkeypatch, capsys):
    from sessionlens import cli
    from sessionlens.store import db as store_db

    monkeypatch.setenv("SESSIONLENS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(store_db.Store, "mmap_size", 0)
    cli.main(["doctor", "--json"])
    assert store_db.Store.mmap_size == 0
    cli.main(["stats", "--json"])
    assert store_db.Store.mmap_size > 0
    capsys.readouterr()
