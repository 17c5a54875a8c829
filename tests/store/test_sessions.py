"""The one session-query builder (``store/sessions.py``) on a store of generated sessions: every filter,
sort and page checked against the rows computed in Python from the whole listing, and
``Store.list_sessions`` (CLI, LSP) and the web's page reading the same rows."""

from __future__ import annotations

from collections import Counter

import pytest

from sessionlens.models.listing import SESSION_SORTS, SessionFilter, SessionSummary
from sessionlens.store import sessions as q
from tests.services.helpers import make_app


@pytest.fixture(scope="module")
def store(sample_logs, tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("sessq") / "home")
    app.index([str(sample_logs)])
    yield app.db()
    app.close()


def _all(store) -> list[SessionSummary]:
    rows = q.query(store, SessionFilter(limit=100_000))
    assert len(rows) == q.count(store, SessionFilter()) > 10
    return rows


def test_rows_are_models_with_priced_usage_and_findings(store):
    rows = _all(store)
    assert all(isinstance(r, SessionSummary) for r in rows)
    with_findings = {f.session_id for f in store.findings(limit=1_000_000)}
    assert with_findings and {r.id for r in rows if r.findings} == with_findings
    for r in rows[:20]:
        assert r.path and r.file_id and r.agent
        tot = store.session_totals([r.id])
        assert r.cost_usd == pytest.approx(tot.cost_usd)
        if r.tokens is not None:
            assert r.tokens == tot.input + tot.cache_read + tot.cache_write_5m + tot.cache_write_1h + tot.output


def test_every_filter_selects_what_python_selects(store):
    rows = _all(store)
    agent = Counter(r.agent for r in rows).most_common()[-1][0]
    assert [r.id for r in q.query(store, SessionFilter(agent=agent, limit=1000))] == [r.id for r in rows if r.agent == agent]
    assert [r.id for r in q.query(store, SessionFilter(has_findings=True, limit=1000))] == [r.id for r in rows if r.findings]
    assert [r.id for r in q.query(store, SessionFilter(include_subagents=False, limit=1000))] == [
        r.id for r in rows if not r.parent_session_id
    ]
    proj = next(r.project for r in rows if r.project)
    name = proj.rsplit("/", 1)[-1]
    assert [r.id for r in q.query(store, SessionFilter(project=name, limit=1000))] == [
        r.id for r in rows if r.project == proj or (r.project or "").endswith("/" + name) or r.cwd == name
    ]
    dated = sorted(r.started_at for r in rows if r.started_at)
    mid = dated[len(dated) // 2]
    assert [r.id for r in q.query(store, SessionFilter(until=mid, limit=1000))] == [
        r.id for r in rows if r.started_at is not None and r.started_at < mid
    ]
    assert [r.id for r in q.query(store, SessionFilter(since=mid, limit=1000))] == [
        r.id
        for r in rows
        if (r.ended_at if r.ended_at is not None else r.started_at) is not None
        and (r.ended_at if r.ended_at is not None else r.started_at) >= mid
    ]
    title = next(r.title for r in rows if r.title and len(r.title) > 12)
    word = title[3:11]
    assert [r.id for r in q.query(store, SessionFilter(text=word.upper(), limit=1000))] == [  # LIKE: ASCII case-insensitive
        r.id for r in rows if any(word.lower() in (x or "").lower() for x in (r.title, r.id, r.project, r.path))
    ]
    # the text is literal: LIKE wildcards in it match themselves only
    assert q.query(store, SessionFilter(text="%", limit=1000)) == [r for r in rows if "%" in (r.title or "") + r.path]
    assert q.query(store, SessionFilter(text="_", limit=1000)) == [
        r for r in rows if "_" in (r.title or "") + r.id + (r.project or "") + r.path
    ]


def test_scopes_workspace_and_path_prefixes(store):
    rows = _all(store)
    prefix = rows[0].path.rsplit("/", 2)[0] + "/"
    under = [r.id for r in rows if r.path.startswith(prefix)]
    assert 0 < len(under) < len(rows)
    assert [r.id for r in q.query(store, SessionFilter(path_prefixes=(prefix,), limit=1000))] == under
    assert q.ids(store, SessionFilter(path_prefixes=(prefix,))) == set(under)
    assert q.query(store, SessionFilter(path_prefixes=())) == []  # an empty scope sees nothing
    assert q.count(store, SessionFilter(path_prefixes=())) == 0
    assert [r.id for r in q.query(store, SessionFilter(projects_under=(prefix.rstrip("/"),), limit=1000))] == [
        r.id
        for r in rows
        if r.path.startswith(prefix) or (r.cwd or "").startswith(prefix) or r.cwd == prefix.rstrip("/") or r.project == prefix.rstrip("/")
    ]


@pytest.mark.parametrize("sort", SESSION_SORTS)
def test_sorting_and_paging(store, sort):
    rows = _all(store)
    key = {
        "started": lambda r: r.started_at or 0,
        "ended": lambda r: r.ended_at or r.started_at or 0,
        "cost": lambda r: r.cost_usd,
        "tokens": lambda r: r.tokens or 0,
        "events": lambda r: r.events,
        "turns": lambda r: r.turns,
        "findings": lambda r: r.findings,
        "agent": lambda r: r.agent,
        "title": lambda r: (r.title or "").lower(),
    }[sort]
    for desc in (True, False):
        got = q.query(store, SessionFilter(sort=sort, descending=desc, limit=1000))  # type: ignore[arg-type]
        vals = [key(r) for r in got]
        assert vals == sorted(vals, reverse=desc), sort
        assert sorted(r.id for r in got) == sorted(r.id for r in rows)
        pages = [q.query(store, SessionFilter(sort=sort, descending=desc, limit=7, offset=o)) for o in range(0, len(rows), 7)]  # type: ignore[arg-type]
        assert [r.id for p in pages for r in p] == [r.id for r in got]  # pages are stable: ties broken by id
        # a page's per-session sums (computed for its rows only, store/sessions.py) are the full listing's
        assert [r.model_dump() for p in pages for r in p] == [r.model_dump() for r in got]


def test_page_facets_and_the_two_callers_agree(store):
    f = SessionFilter(has_findings=True, limit=5)
    pg = q.page(store, f)
    sel = q.query(store, f.model_copy(update={"limit": 10_000}))
    assert pg.total == len(sel) and pg.rows == sel[:5]
    assert dict(pg.facets["agent"]) == dict(Counter(r.agent for r in sel))
    assert dict(pg.facets["project"]) == dict(Counter(r.project for r in sel if r.project))
    # Store.list_sessions (CLI, LSP) is the same builder: the same rows
    assert store.list_sessions(limit=10_000, has_findings=True) == sel
    assert [r.id for r in store.list_sessions(limit=5, sort="cost", descending=False)] == [
        r.id for r in q.query(store, SessionFilter(sort="cost", descending=False, limit=5))
    ]
