from __future__ import annotations

from lsprotocol import types as T

from sessionlens.lsp.features.workspace_symbols import workspace_symbol


async def test_an_empty_query_answers_nothing(ls):
    assert await workspace_symbol(ls, T.WorkspaceSymbolParams(query="  ")) == []


async def test_a_word_of_the_corpus_finds_symbols_pointing_into_logs(ls, indexed):
    res = await workspace_symbol(ls, T.WorkspaceSymbolParams(query="test"))
    assert res, "the generated sessions run tests"
    logs = {p.as_uri() for p in indexed["logs"]}
    for s in res:
        assert s.location.uri in logs
        assert s.location.range.start.line >= 0 and s.name and " · " in s.container_name
