"""Incremental indexing against real logs: growth, partial lines, re-scans, truncation, rewrites,
malformed lines, and the token-accounting pitfalls end to end (SQLite + Tantivy on disk)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import apsw
import pytest

from tests.services.helpers import (
    CLAUDE_MAIN,
    CLAUDE_TOOLS,
    CODEX_BIG,
    CODEX_SMALL,
    assert_same_store,
    index,
    lines_of,
    make_app,
    snapshot,
)


def _q(home: Path, sql: str, args=()) -> list[tuple]:
    c = apsw.Connection(str(home / "sessionlens.db"), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def _cut_points(data: bytes) -> tuple[int, int]:
    """(a byte offset just after a newline near the middle, an offset in the middle of the next line)."""
    mid = len(data) // 2
    boundary = data.index(b"\n", mid) + 1
    nxt = data.index(b"\n", boundary)
    assert nxt - boundary > 4, "the line after the cut is too short to split"
    return boundary, boundary + (nxt - boundary) // 2


@pytest.mark.parametrize("rel", [CODEX_SMALL, CLAUDE_MAIN], ids=["codex", "claude"])
@pytest.mark.parametrize("cut", ["line", "mid-line"])
def test_append_in_two_steps_equals_one_pass(corpus, tmp_path, rel, cut):
    data = (corpus / rel).read_bytes()
    log = tmp_path / "logs" / Path(rel).name
    log.parent.mkdir()
    log.write_bytes(data)
    one = index(tmp_path / "one", log)
    assert one.files_changed == 1 and not one.errors
    expected = snapshot(tmp_path / "one")
    assert expected["events"] and expected["search_docs"] and expected["usage"]

    at_line, mid_line = _cut_points(data)
    split = at_line if cut == "line" else mid_line
    log.write_bytes(data[:split])
    first = index(tmp_path / "inc", log)
    assert first.files_changed == 1
    partial = snapshot(tmp_path / "inc")
    assert len(partial["events"]) == len(lines_of(log))  # the partial last line is not indexed yet
    with log.open("ab") as f:
        f.write(data[split:])
    second = index(tmp_path / "inc", log)
    assert second.files_changed == 1
    assert second.bytes_parsed == len(data) - at_line  # grew from the last complete line, not from 0
    assert_same_store(snapshot(tmp_path / "inc"), expected)


def test_unchanged_rescan_touches_nothing(corpus, tmp_path):
    home = tmp_path / "home"
    first = index(home, corpus)
    assert first.files_seen > 10 and first.files_changed > 10
    assert first.files_changed + first.not_sessions == first.files_seen
    before = snapshot(home)
    max_ids = _q(home, "SELECT (SELECT max(id) FROM events), (SELECT max(id) FROM findings), (SELECT max(rowid) FROM usage)")
    again = index(home, corpus)
    assert again.files_changed == 0
    assert again.files_skipped == first.files_seen
    assert again.events == 0 and again.bytes_parsed == 0 and again.search_docs == 0
    assert _q(home, "SELECT (SELECT max(id) FROM events), (SELECT max(id) FROM findings), (SELECT max(rowid) FROM usage)") == max_ids
    assert_same_store(snapshot(home), before)


def test_truncated_file_is_reindexed_from_scratch(corpus, tmp_path):
    data = (corpus / CLAUDE_MAIN).read_bytes()
    log = tmp_path / "logs" / "s.jsonl"
    log.parent.mkdir()
    log.write_bytes(data)
    index(tmp_path / "home", log)
    full = snapshot(tmp_path / "home")
    keep = data[: data.index(b"\n", len(data) // 3) + 1]
    log.write_bytes(keep)
    st = index(tmp_path / "home", log)
    assert st.files_changed == 1
    after = snapshot(tmp_path / "home")
    assert len(after["events"]) == len(lines_of(log)) < len(full["events"])
    assert len(after["usage"]) < len(full["usage"])
    # identical to indexing the truncated file in a fresh store: nothing stale, nothing doubled
    index(tmp_path / "fresh", log)
    assert_same_store(after, snapshot(tmp_path / "fresh"))


def test_rewrite_with_same_size_replaces_the_old_session(corpus, tmp_path):
    old = (corpus / CLAUDE_TOOLS).read_bytes()
    other = (corpus / CODEX_BIG).read_bytes()
    new = other[: other.rindex(b"\n", 0, len(old)) + 1]
    new += b"\n" * (len(old) - len(new))  # same size, different agent, different session
    assert len(new) == len(old) and new != old
    log = tmp_path / "logs" / "s.jsonl"
    log.parent.mkdir()
    log.write_bytes(old)
    home = tmp_path / "home"
    index(home, log)
    old_sid = _q(home, "SELECT session_id FROM files")[0][0]
    stat = log.stat()
    log.write_bytes(new)
    os.utime(log, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a later write, whatever the clock
    st = index(home, log)
    assert st.files_changed == 1
    new_sid = _q(home, "SELECT session_id FROM files")[0][0]
    assert new_sid != old_sid
    for table in ("events", "usage", "turns", "findings", "sessions"):
        col = "id" if table == "sessions" else "session_id"
        assert _q(home, f"SELECT count(*) FROM {table} WHERE {col}=?", (old_sid,)) == [(0,)], table
    snap = snapshot(home)
    assert {d[2] for d in snap["search_docs"]} == {new_sid}
    assert {e[6] for e in snap["events"]} and all(e[2] == new_sid for e in snap["events"])
    index(tmp_path / "fresh", log)
    assert_same_store(snap, snapshot(tmp_path / "fresh"))


def test_malformed_line_is_a_problem_and_the_rest_is_indexed(corpus, tmp_path, capsys):
    from sessionlens import cli

    lines = (corpus / CLAUDE_TOOLS).read_bytes().split(b"\n")
    bad_line = len(lines) // 2  # 0-based index; 1-based line number bad_line + 1
    lines[bad_line] = b'{"type": "user", "message": {"content": "unterminated'
    log = tmp_path / "logs" / "broken.jsonl"
    log.parent.mkdir()
    log.write_bytes(b"\n".join(lines))
    home = tmp_path / "home"
    st = index(home, log)
    assert st.problems == 1 and not st.errors
    assert _q(home, "SELECT line FROM problems") == [(bad_line + 1,)]
    seqs = [r[0] for r in _q(home, "SELECT seq FROM events ORDER BY seq")]
    expected = [i + 1 for i, ln in enumerate(lines) if ln.strip() and i != bad_line]
    assert seqs == expected

    sid = _q(home, "SELECT session_id FROM files")[0][0]
    rc = cli.main(["show", sid, "--home", str(home), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert [p["line"] for p in out["problems"]] == [bad_line + 1]
    assert out["problems"][0]["message"]
    diags = make_app(home).diagnostics(str(log))
    assert [(d.line, d.code) for d in diags if d.source == "sessionlens"] == [(bad_line, "parse-error")]


def test_codex_usage_counts_cached_input_once(corpus, tmp_path):
    home = tmp_path / "home"
    index(home, corpus / CODEX_BIG)
    sid = "019c8a59-e9dd-71f0-9ae3-4079fe9726a9"
    assert _q(home, "SELECT sum(input + cache_read) FROM usage WHERE session_id=?", (sid,)) == [(33_810_485,)]


def _claude_request_pairs(path: Path) -> set[tuple[str, str | None]]:
    pairs = set()
    for ln in lines_of(path):
        obj = json.loads(ln)
        msg = obj.get("message") if isinstance(obj.get("message"), dict) else {}
        if obj.get("type") == "assistant" and msg.get("id") and msg.get("usage"):
            pairs.add((msg["id"], obj.get("requestId")))
    return pairs


def test_claude_usage_is_one_row_per_request_and_copies_are_not_double_counted(corpus, tmp_path):
    src = corpus / CLAUDE_MAIN
    pairs = _claude_request_pairs(src)
    assert len(pairs) > 50
    home = tmp_path / "home"
    index(home, src)
    sid = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"
    assert _q(home, "SELECT count(*) FROM usage WHERE session_id=?", (sid,)) == [(len(pairs),)]
    totals = _q(home, "SELECT count(*), sum(input), sum(cache_read), sum(cache_write_5m + cache_write_1h), sum(output) FROM usage")

    # a "resumed" copy of the same transcript under another project directory
    copies = tmp_path / "logs"
    (copies / "a").mkdir(parents=True)
    (copies / "b").mkdir()
    shutil.copy(src, copies / "a" / src.name)
    shutil.copy(src, copies / "b" / src.name)
    home2 = tmp_path / "home2"
    st = index(home2, copies)
    assert st.files_changed == 2
    assert _q(home2, "SELECT count(*) FROM sessions") == [(2,)]  # both files stay visible
    assert _q(home2, "SELECT count(*), sum(input), sum(cache_read), sum(cache_write_5m + cache_write_1h), sum(output) FROM usage") == totals


def test_usage_survives_when_the_copy_that_owns_it_is_cleared(corpus, tmp_path):
    src = corpus / CLAUDE_MAIN
    logs = tmp_path / "logs"
    (logs / "a").mkdir(parents=True)
    (logs / "b").mkdir()
    shutil.copy(src, logs / "a" / src.name)
    shutil.copy(src, logs / "b" / src.name)
    home = tmp_path / "home"
    index(home, logs)
    totals = _q(home, "SELECT count(*), sum(input), sum(cache_read), sum(output) FROM usage")
    (logs / "a" / src.name).write_bytes(b"")  # the first copy (the owner of every usage row) is emptied
    st = index(home, logs)
    assert st.files_changed == 0 and not st.errors
    assert _q(home, "SELECT count(*), sum(input), sum(cache_read), sum(output) FROM usage") == totals
    owner = _q(home, "SELECT DISTINCT f.path FROM usage u JOIN files f ON f.id = u.file_id")
    assert owner == [(str(logs / "b" / src.name),)]
    sessions = _q(home, "SELECT DISTINCT u.session_id = s.id FROM usage u JOIN sessions s ON s.file_id = u.file_id")
    assert sessions == [(1,)]


class _Killed(BaseException):
    """Stands in for SIGKILL: not an Exception, so the indexer's per-file guard does not catch it."""


@pytest.mark.parametrize("chunked", [False, True])
def test_run_killed_before_the_coach_step_gets_its_findings_on_resume(corpus, tmp_path, monkeypatch, chunked):
    """A file parsed in one chunk is coached before anything is written (events and findings commit
    together); a file parsed in several chunks is coached once all are written, so a run killed in
    between leaves its events without findings, and the next run coaches it."""
    from sessionlens.services import indexer as indexer_mod
    from sessionlens.services.indexer import Indexer

    log = tmp_path / "logs" / Path(CLAUDE_MAIN).name
    log.parent.mkdir()
    shutil.copy(corpus / CLAUDE_MAIN, log)
    index(tmp_path / "clean", log)
    clean = snapshot(tmp_path / "clean")
    assert clean["findings"]

    def killed(self, *args):
        raise _Killed

    with monkeypatch.context() as m:
        if chunked:
            m.setattr(indexer_mod, "CHUNK_BYTES", 64 * 1024)
        m.setattr(Indexer, "_coach", killed)
        with pytest.raises(_Killed):
            index(tmp_path / "home", log)
    assert _q(tmp_path / "home", "SELECT count(*) FROM findings") == [(0,)]
    assert _q(tmp_path / "home", "SELECT count(*) FROM events") == [(len(clean["events"]) if chunked else 0,)]
    index(tmp_path / "home", log)
    assert_same_store(snapshot(tmp_path / "home"), clean)


def test_the_indexer_drives_transactions_only_through_store_transaction():
    """#13: one way to open a transaction (``Store.transaction()``): the indexer never touches the raw
    connection (no ``store.conn``, no hand-made ``__enter__``/``__exit__``)."""
    import ast

    import sessionlens.services.indexer as indexer_module

    tree = ast.parse(Path(indexer_module.__file__).read_text())
    raw = [
        f"line {node.lineno}: .{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ("conn", "__enter__", "__exit__")
    ]
    assert raw == []
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "transaction"]
    assert len(calls) >= 5  # every write of the indexer goes through it
