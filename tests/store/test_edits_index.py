"""The edits index follows its inputs: written with a log's rows, extended when the log grows, replaced
when it is rewritten, removed with it; a store written before the index gets it from its own events."""

from __future__ import annotations

import json
import shutil

from sessionlens.samples import blame_repo
from sessionlens.store import Store
from sessionlens.store import edits as edits_store
from sessionlens.store.schema import MIGRATIONS
from tests.services.helpers import index


def _rows(home) -> list[tuple]:
    st = Store(home)
    try:
        return [
            tuple(r)
            for r in st.conn.execute(
                "SELECT f.path, d.seq, d.hunk, d.repo, d.path, d.op, d.tool, d.ts, d.turn, d.line, d.nlines, d.hashes,"
                " d.base_commit, d.old_path FROM edits d JOIN files f ON f.id = d.file_id ORDER BY f.path, d.seq, d.hunk"
            )
        ]
    finally:
        st.close()


def _by_path(rows: list[tuple]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r[4]] = out.get(r[4], 0) + 1
    return out


def test_indexing_writes_the_edits_of_every_session(tmp_path):
    fx = blame_repo.build(tmp_path / "fx")
    home = tmp_path / "home"
    index(home, fx.logs)
    rows = _rows(home)
    assert _by_path(rows) == {"src/app.py": 1 + 1, "src/config.py": 2 + 1, "src/util.py": 1, "README.md": 1}
    assert {r[3] for r in rows} == {str(fx.repo)}  # relative to the repository root
    codex = [r for r in rows if r[6] == "apply_patch"]
    assert {r[12] for r in codex} == {fx.commits["c2"]}  # the commit the Codex session started from
    assert all(r[12] is None for r in rows if r[6] != "apply_patch")  # Claude logs record a branch, no commit
    assert not [r for r in rows if r[4].endswith("missing.py")]  # the rejected edit


def test_rows_follow_growth_rewrite_and_deletion(tmp_path):
    fx = blame_repo.build(tmp_path / "fx")
    home = tmp_path / "home"
    log_a = fx.sessions[blame_repo.SESSION_A]
    text = open(log_a).read().splitlines()
    # first only the first prompt and its Edit
    with open(log_a, "w") as f:
        f.write("\n".join(text[:3]) + "\n")
    index(home, fx.logs)
    before = [r for r in _rows(home) if r[0] == log_a]
    assert [(r[4], r[6]) for r in before] == [("src/app.py", "Edit")]
    # the log grows: the new edits are added, the old ones stay as they were
    with open(log_a, "w") as f:
        f.write("\n".join(text) + "\n")
    index(home, fx.logs)
    grown = [r for r in _rows(home) if r[0] == log_a]
    assert grown[0] == before[0] and [(r[4], r[6]) for r in grown] == [
        ("src/app.py", "Edit"),
        ("src/config.py", "Write"),
        ("src/config.py", "Edit"),
    ]
    # rewritten shorter (a different first line): re-parsed whole, the rows follow
    obj = json.loads(text[0])
    obj["message"]["content"] = "A different first prompt"
    with open(log_a, "w") as f:
        f.write(json.dumps(obj) + "\n" + "\n".join(text[1:3]) + "\n")
    index(home, fx.logs)
    assert [(r[4], r[6]) for r in _rows(home) if r[0] == log_a] == [("src/app.py", "Edit")]
    # a log deleted from disk keeps its session (shown as "log missing"): its edits stay with its events
    shutil.move(log_a, tmp_path / "fx" / "a-moved-away.jsonl")
    index(home, fx.logs)
    assert [(r[4], r[6]) for r in _rows(home) if r[0] == log_a] == [("src/app.py", "Edit")]
    # a source row removed (a session gone from its database, Store.delete_file): its edits go with it
    others = [r for r in _rows(home) if r[0] != log_a]
    st = Store(home)
    st.delete_file(st.file_row(log_a).id)
    n_events = st.conn.execute("SELECT count(*) FROM events e JOIN files f ON f.id=e.file_id WHERE f.path=?", (log_a,)).get
    st.close()
    assert n_events == 0
    assert [r for r in _rows(home) if r[0] == log_a] == []
    assert [r for r in _rows(home) if r[0] != log_a] == others


def test_a_store_from_before_the_index_builds_it_from_its_events(tmp_path):
    fx = blame_repo.build(tmp_path / "fx")
    home = tmp_path / "home"
    index(home, fx.logs)
    want = _rows(home)
    assert want
    # turn the store into one written before the edits index existed
    i = next(k for k, m in enumerate(MIGRATIONS) if "CREATE TABLE edits(" in m)
    st = Store(home)
    with st.conn:
        st.conn.execute("DROP TABLE edits")
        st.conn.execute("DELETE FROM meta WHERE key=?", (edits_store.META_KEY,))
        st.conn.pragma("user_version", i)
    st.close()
    assert _rows(home) == want  # opened again: migrated, then built from the stored events (no log read)
    st = Store(home)
    assert st.get_meta(edits_store.META_KEY) is not None
    st.close()


def test_the_rebuild_waits_for_a_free_writer(tmp_path):
    fx = blame_repo.build(tmp_path / "fx")
    home = tmp_path / "home"
    index(home, fx.logs)
    st = Store(home)
    holder = Store(home)
    assert holder.lock.acquire(timeout=0)
    with st.conn:
        st.conn.execute("DELETE FROM edits")
        st.conn.execute("DELETE FROM meta WHERE key=?", (edits_store.META_KEY,))
    try:
        import threading

        got: list = []
        t = threading.Thread(target=lambda: got.append(_rows(home)))  # another thread of this process: no wait
        t.start()
        t.join(5)
        assert got == [[]]  # the writer is busy: not built now, and the opening did not block
    finally:
        holder.lock.release()
        holder.close()
    assert _rows(home)  # the next opening builds it
    st.close()


def test_an_imported_session_brings_its_edits(tmp_path):
    """A teammate's export (JSON Lines) imported into another store: its edits match like indexed ones."""
    from sessionlens import cli

    fx = blame_repo.build(tmp_path / "fx")
    home = tmp_path / "home"
    index(home, fx.logs)
    want = sorted((r[4], r[5], r[6], r[10], r[11]) for r in _rows(home))
    out = tmp_path / "team.jsonl"
    assert cli.main(["export", "--all", "--format", "jsonl", "-o", str(out), "--home", str(home)]) == 0
    assert cli.main(["import", str(out), "--home", str(tmp_path / "other")]) == 0
    got = sorted((r[4], r[5], r[6], r[10], r[11]) for r in _rows(tmp_path / "other"))
    assert got == want
