"""The session commands through their contract (``execute``: validation, error codes, result model)."""

from __future__ import annotations

import pytest
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from sessionlens.lsp.commands import CommandNotFound
from sessionlens.lsp.features import sessions
from sessionlens.models.api import NOT_FOUND


async def test_search_validates_and_answers_hits_with_links(ls):
    res = await sessions.search.execute(ls, [{"query": "test", "limit": 5}])
    assert 0 < len(res["hits"]) <= 5 and res["total"] >= len(res["hits"])
    assert all(h["link"].startswith("sessionlens://session/") for h in res["hits"])
    with pytest.raises(JsonRpcInvalidParams, match="limit"):
        await sessions.search.execute(ls, [{"query": "x", "limit": "many"}])
    with pytest.raises(JsonRpcInvalidParams, match="one object"):
        await sessions.search.execute(ls, ["x", "y"])


async def test_sessions_lists_every_indexed_main_session(ls, indexed):
    res = await sessions.sessions.execute(ls, [])
    ids = {s["id"] for s in res["sessions"]}
    assert len([s for s in ids if ":agent-" not in s]) == len(indexed["corpus"].sessions)


async def test_render_resolve_and_deep_link_round_trip(ls, log_path):
    link = (await sessions.deep_link.execute(ls, [{"uri": log_path.as_uri(), "line": 4}]))["link"]
    assert link.endswith("?event=5")
    target = await sessions.resolve_link.execute(ls, [{"link": link}])
    assert target["path"] == str(log_path) and target["line"] == 5 and target["seq"] == 5
    page = await sessions.render_session.execute(ls, [{"uri": log_path.as_uri()}])
    assert page["title"] and page["markdown"].startswith("#")


async def test_unknown_ids_answer_not_found_and_missing_refs_invalid_params(ls):
    with pytest.raises(CommandNotFound) as exc:
        await sessions.render_session.execute(ls, [{"session_id": "no-such-session"}])
    assert exc.value.code == NOT_FOUND
    with pytest.raises(JsonRpcException) as exc2:
        await sessions.resolve_link.execute(ls, [{"link": "https://example.com"}])
    assert exc2.value.code == NOT_FOUND and "not a sessionlens link" in exc2.value.message
    with pytest.raises(JsonRpcInvalidParams, match="session_id"):
        await sessions.render_session.execute(ls, [{}])


async def test_cost_report_follows_the_grouping_and_rejects_unknown_ones(ls):
    rep = await sessions.cost_report.execute(ls, [{"by": "model"}])
    assert rep["by"] == "model" and rep["rows"] and all("model" in r for r in rep["rows"])
    assert rep["svg"].startswith("<svg") and "|" in rep["markdown"]
    with pytest.raises(JsonRpcInvalidParams, match="by"):
        await sessions.cost_report.execute(ls, [{"by": "colour"}])
