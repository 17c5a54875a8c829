"""Unit tests of the hub and saved-view commands with a fake context (a real hub process: test_hubs.py)."""

from __future__ import annotations

import socket

import pytest
from pygls.exceptions import JsonRpcException

from sessionlens.lsp.features import hubs, sessions
from sessionlens.services import web as web_service

KEY = "slk_abcdefghij_" + "K" * 40


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_add_list_and_remove_a_hub_without_ever_answering_the_key(ls):
    url = f"http://127.0.0.1:{_closed_port()}"
    res = await hubs.add_hub.execute(ls, [{"url": url, "key": KEY, "name": "Team", "check": True}])
    assert res["hub"]["id"] == url and res["hub"]["status"] != "ok"  # nothing listens there
    listed = await hubs.hubs.execute(ls, [{}])
    assert [h["id"] for h in listed["hubs"]] == [url]
    assert KEY not in repr(res) + repr(listed) and "K" * 40 not in repr(res) + repr(listed)
    # local sessions still answer while the hub is unreachable, with a warning naming it
    rows = await sessions.sessions.execute(ls, [{}])
    assert rows["sessions"] and all(not r.get("hub") for r in rows["sessions"])
    assert (await hubs.remove_hub.execute(ls, [{"hub": url}]))["removed"] is True
    assert (await hubs.hubs.execute(ls, [{}]))["hubs"] == []


async def test_a_bad_key_or_url_is_refused_without_echoing_the_key(ls):
    for params in ({"url": "ftp://example.test", "key": KEY}, {"url": "http://127.0.0.1:1", "key": "not-a-key"}):
        with pytest.raises(JsonRpcException) as err:
            await hubs.add_hub.execute(ls, [params])
        assert params["key"] not in str(err.value)


async def test_a_saved_view_filters_the_session_list(ls):
    all_rows = (await sessions.sessions.execute(ls, [{}]))["sessions"]
    agent = all_rows[0]["agent"]
    web_service.save_view(ls.app, "mine", {"agent": agent, "findings": "1", "sort": "events", "order": "asc"})
    views = await sessions.saved_views.execute(ls, [{}])
    assert "mine" in [v["name"] for v in views["views"]]
    got = (await sessions.sessions.execute(ls, [{"view": "mine"}]))["sessions"]
    assert all(r["agent"] == agent for r in got)
    assert [r["events"] for r in got] == sorted(r["events"] for r in got)
    with_findings = {f.session_id for f in ls.app.db().findings(limit=100_000)}
    expected = [r["id"] for r in all_rows if r["agent"] == agent and r["id"] in with_findings]
    assert expected and sorted(r["id"] for r in got) == sorted(expected)
