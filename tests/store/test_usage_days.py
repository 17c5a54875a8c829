"""``usage_days``, the summary the cost report by day / week reads (store/schema.py, migration
"costdays"): after every write path (index, a usage row written or deleted, a re-price, a file
forgotten, an upgrade of an older store) the report is exactly what the usage rows hold, whether it
came from the summary or, while a day is dirty, from the rows themselves."""

from __future__ import annotations

import pytest

from sessionlens.store.db import _USAGE_SUMS
from sessionlens.store.schema import MIGRATIONS
from tests.services.helpers import make_app


@pytest.fixture()
def app(sample_logs, tmp_path):
    a = make_app(tmp_path / "home")
    a.index([str(sample_logs)])
    yield a
    a.close()


def _raw(store) -> list[tuple]:
    """The grouped query over every usage row, as the report computes it without the summary."""
    return store.conn.execute(
        f"""SELECT u.day, COALESCE(u.model, '(unknown)'), {_USAGE_SUMS} FROM usage u GROUP BY u.day, u.model
            ORDER BY u.day, COALESCE(u.model, '(unknown)')"""
    ).fetchall()


def _summary(store) -> list[tuple]:
    rows = store._usage_days_rows()
    assert rows is not None, "a day is still dirty"
    return [tuple(r[:11]) for r in rows]


def _report(store, by: str = "day") -> list[dict]:
    return [r if isinstance(r, dict) else r.model_dump() for r in store.usage_report(by, spans=False)]


def _dirty(store) -> set[str]:
    return {r[0] for r in store.conn.execute("SELECT day FROM usage_days_dirty")}


def _rounded(rows):
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in r) for r in rows]


def test_an_index_pass_leaves_the_summary_equal_to_the_rows(app):
    store = app.db()
    assert _dirty(store) == set()
    raw = _raw(store)
    assert len(raw) >= 2 and sum(r[-1] for r in raw) == store.conn.execute("SELECT count(*) FROM usage").fetchone()[0]
    assert _rounded(_summary(store)) == _rounded(raw)


def test_a_written_row_makes_its_day_dirty_and_the_report_stays_exact(app):
    store = app.db()
    before = _report(store)
    day, sid, fid, model = store.conn.execute("SELECT day, session_id, file_id, model FROM usage WHERE day IS NOT NULL LIMIT 1").fetchone()
    with store.conn:
        store.conn.execute(
            "INSERT INTO usage(key, file_id, session_id, seq, ts, day, model, agent, input, output, cost_usd, cost_known)"
            " VALUES ('test-extra', ?, ?, 99999, 1.0e9, ?, ?, 'claude', 1000, 7, 2.5, 1)",
            (fid, sid, day, model),
        )
    assert _dirty(store) == {day}
    assert store._usage_days_rows() is None  # never a stale figure: the report reads the rows
    during = _report(store)
    row = next(r for r in during if r["key"] == day and r["model"] == (model or "(unknown)"))
    old = next(r for r in before if r["key"] == day and r["model"] == (model or "(unknown)"))
    assert (row["input"] - old["input"], row["output"] - old["output"], row["requests"] - old["requests"]) == (1000, 7, 1)
    assert round(row["cost_usd"] - old["cost_usd"], 9) == 2.5
    assert store.refresh_usage_days() == 1 and _dirty(store) == set()
    assert _report(store) == during
    assert _rounded(_summary(store)) == _rounded(_raw(store))
    for by in ("week", "month"):
        assert sum(r["requests"] for r in _report(store, by)) == sum(r[-1] for r in _raw(store))


def test_a_reprice_refreshes_every_day(app):
    store = app.db()
    n = store.recompute_costs(lambda r: (0.125, 1))
    assert n > 0 and _dirty(store) == set()
    rows = _report(store)
    assert {r["unknown"] for r in rows} == {0}
    assert sum(r["requests"] for r in rows) == n
    assert round(sum(r["cost_usd"] for r in rows), 6) == round(0.125 * n, 6)
    assert _rounded(_summary(store)) == _rounded(_raw(store))


def test_a_day_whose_rows_are_all_gone_leaves_the_summary(app):
    store = app.db()
    days = [r[0] for r in store.conn.execute("SELECT DISTINCT day FROM usage WHERE day IS NOT NULL ORDER BY day")]
    gone = days[0]
    with store.conn:
        store.conn.execute("DELETE FROM usage WHERE day = ?", (gone,))
    assert _dirty(store) == {gone}
    store.refresh_usage_days()
    assert gone not in {r["key"] for r in _report(store)}
    assert _rounded(_summary(store)) == _rounded(_raw(store))


def test_a_forgotten_file_takes_its_requests_out(app):
    store = app.db()
    fid, n = store.conn.execute("SELECT file_id, count(*) FROM usage GROUP BY file_id ORDER BY 2 DESC LIMIT 1").fetchone()
    total = sum(r["requests"] for r in _report(store))
    store.delete_file(fid)
    store.refresh_usage_days()
    assert sum(r["requests"] for r in _report(store)) == total - n
    assert _rounded(_summary(store)) == _rounded(_raw(store))


def test_reindexing_the_same_logs_changes_no_figure(app, sample_logs):
    store = app.db()
    before = _report(store)
    app.index([str(sample_logs)])
    assert _report(store) == before and _dirty(store) == set()


def test_an_older_store_is_summarised_on_upgrade(app, tmp_path):
    """A store written before the migration: the migration fills the summary from the usage rows."""
    store = app.db()
    expected = _report(store)
    path = store.path
    with store.conn:
        for name in ("usage_days_insert", "usage_days_delete", "usage_days_update"):
            store.conn.execute(f"DROP TRIGGER {name}")
        store.conn.execute("DROP TABLE usage_days")
        store.conn.execute("DROP TABLE usage_days_dirty")
        # back to the schema before "costdays" (the migrations after it are idempotent: they run again)
        store.conn.pragma("user_version", next(i for i, m in enumerate(MIGRATIONS) if "CREATE TABLE IF NOT EXISTS usage_days(" in m))
    app.close()
    again = make_app(tmp_path / "home")
    try:
        s2 = again.db()
        assert s2.path == path and s2.conn.pragma("user_version") == len(MIGRATIONS)
        # the migration summarised every day itself: nothing dirty, the first report reads the summary
        assert _dirty(s2) == set() and s2._usage_days_rows() is not None
        assert _summary(s2) == _raw(s2)  # the migration's grouped query is the refresh's, exactly
        assert _report(s2) == expected
        # and the summary follows the next writes as before
        s2.conn.execute("UPDATE usage SET output = output + 1 WHERE rowid = (SELECT min(rowid) FROM usage)")
        assert _dirty(s2) and s2._usage_days_rows() is None
        assert s2.refresh_usage_days() == 1 and _summary(s2) == _raw(s2)
    finally:
        again.close()
