"""The cost report's aggregation (``Store.usage_report``) on generated sessions: it reads the
``usage_report`` covering index only (never the table: what keeps ``sessionlens cost`` fast on a big
store), and its rows are the sums Python computes from the usage rows themselves, for every grouping,
also when a day holds both a request without a model and one of a model named "(unknown)"."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.services.helpers import make_app

_SQL_KEY = {
    "day": "day",
    "week": "day",
    "month": "substr(day, 1, 7)",
    "session": "session_id",
    "model": "COALESCE(model, '(unknown)')",
    "project": "COALESCE(project, '(none)')",
    "agent": "agent",
}


@pytest.fixture()
def store(sample_logs, tmp_path):
    app = make_app(tmp_path / "home")
    app.index([str(sample_logs)])
    yield app.db()
    app.close()


def _expected(store, by: str) -> dict[tuple, tuple]:
    """Per (key, model): input, output, cost, requests, distinct sessions, first and last time (Python sums)."""
    m = "COALESCE(model, '(unknown)')" if by in ("day", "week", "month") else "''"
    acc: dict[tuple, list] = defaultdict(lambda: [0, 0, 0.0, 0, set(), None, None])
    for k, model, inp, out, cost, sid, ts in store.conn.execute(
        f"SELECT {_SQL_KEY[by]}, {m}, input, output, cost_usd, session_id, ts FROM usage"
    ):
        a = acc[(k, model)]
        a[0] += inp
        a[1] += out
        a[2] += cost or 0
        a[3] += 1
        a[4].add(sid)
        a[5] = ts if a[5] is None or (ts is not None and ts < a[5]) else a[5]
        a[6] = ts if a[6] is None or (ts is not None and ts > a[6]) else a[6]
    return {k: (a[0], a[1], round(a[2], 4), a[3], len(a[4]), a[5], a[6]) for k, a in acc.items()}  # cost: summed in another order


def _got(rows: list) -> dict[tuple, tuple]:
    out = {}
    for r in rows:
        r = r if isinstance(r, dict) else r.model_dump()
        key = (r["key"], r["model"])
        assert key not in out, f"two rows for {key}"
        out[key] = (r["input"], r["output"], round(r["cost_usd"], 4), r["requests"], r["sessions"], r["first_ts"], r["last_ts"])
    return out


@pytest.mark.parametrize("by", ["day", "week", "month", "session", "model", "project", "agent"])
def test_every_grouping_sums_what_the_usage_rows_hold(store, by):
    rows = store.usage_report(by)
    assert len(rows) >= 2
    assert _got(rows) == _expected(store, by)
    keys = [
        ((r if isinstance(r, dict) else r.model_dump())["key"] or "", (r if isinstance(r, dict) else r.model_dump())["model"] or "")
        for r in rows
    ]
    assert keys == sorted(keys)


def test_the_report_reads_the_covering_index_only(store):
    plan = " ".join(
        str(r)
        for r in store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT day, model, sum(input), count(DISTINCT session_id), min(ts) FROM usage GROUP BY day, model"
        )
    )
    assert "COVERING INDEX usage_report" in plan, plan
    indexes = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='usage'")}
    assert "usage_report" in indexes and "usage_day" not in indexes


def test_a_missing_model_and_a_model_named_unknown_are_one_row(store):
    day, sid, fid = store.conn.execute("SELECT day, session_id, file_id FROM usage WHERE day IS NOT NULL LIMIT 1").fetchone()
    with store.conn:
        for i, model in enumerate((None, "(unknown)")):
            store.conn.execute(
                "INSERT INTO usage(key, file_id, session_id, seq, ts, day, model, agent, input, output, cost_usd, cost_known)"
                " VALUES (?, ?, ?, ?, 1.0e9, ?, ?, 'claude', 7, 3, NULL, 0)",
                (f"test-unknown-{i}", fid, sid, 10_000 + i, day, model),
            )
    for by in ("day", "week"):
        rows = store.usage_report(by)
        assert _got(rows) == _expected(store, by)  # one row for (day, "(unknown)"), both requests in it


def test_the_totals_of_every_session_are_the_totals_of_all_their_ids(store):
    """``session_totals(None)`` (what ``stats`` asks: one index scan) is ``session_totals`` of every id."""
    every, listed = store.session_totals(None).as_dict(), store.session_totals(store.all_session_ids()).as_dict()
    assert every["requests"] > 0
    assert {k: round(v, 6) if isinstance(v, float) else v for k, v in every.items()} == {
        k: round(v, 6) if isinstance(v, float) else v for k, v in listed.items()
    }


def test_stats_counts_files_from_an_index(store):
    plan = " ".join(str(r) for r in store.conn.execute("EXPLAIN QUERY PLAN SELECT count(*) FROM files WHERE status='ok'"))
    assert "COVERING INDEX files_status" in plan, plan
    assert store.conn.pragma("mmap_size") > 0  # pages of a new process's first scans come through a memory map


def test_a_report_without_spans_has_the_same_sums(store):
    """``spans=False`` (the cost report's query) leaves out sessions and times, nothing else."""
    for by in ("day", "month", "agent"):
        full, lean = store.usage_report(by), store.usage_report(by, spans=False)
        assert len(full) == len(lean)
        for f, g in zip(full, lean):
            f, g = (x if isinstance(x, dict) else x.model_dump() for x in (f, g))
            assert (g["sessions"], g["first_ts"], g["last_ts"]) == (0, None, None)
            assert {k: v for k, v in f.items() if k not in ("sessions", "first_ts", "last_ts")} == {
                k: v for k, v in g.items() if k not in ("sessions", "first_ts", "last_ts")
            }
