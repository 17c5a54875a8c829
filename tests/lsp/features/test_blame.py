"""Unit tests of the blame feature's handlers with a fake context (the stdio tests: tests/lsp/test_blame_lsp.py)."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest
from lsprotocol import types as T

from sessionlens.lsp.features import blame as feature
from sessionlens.models.api import BlameParams
from sessionlens.samples import blame_repo
from sessionlens.store import NotFound
from tests.lsp.fakes import FakeServer, make_app

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def fx(tmp_path_factory) -> blame_repo.Fixture:
    root = tmp_path_factory.mktemp("blame-unit")
    fx = blame_repo.build(root / "fx")
    app = make_app(root / "home", workspace=[fx.repo])
    app.index([str(fx.logs)])
    app.close()
    return fx


@pytest.fixture
def ls(fx):
    srv = FakeServer(make_app(fx.root.parent / "home", workspace=[fx.repo]))
    yield srv
    srv.close()
    srv.app.close()


async def test_hover_names_the_writer_of_each_line_and_nothing_for_the_rest(ls, fx):
    rel = "src/config.py"
    path = fx.repo / rel
    ls.open(path)
    for line0, writer in enumerate(fx.expected[rel]):
        hover = await feature.PROVIDER.hover(ls, str(path), T.Position(line=line0, character=0))
        if writer is None:
            assert hover is None, f"{rel}:{line0 + 1} must not be attributed"
            continue
        assert hover is not None, f"{rel}:{line0 + 1} was written by session {writer}"
        md = hover.contents.value
        assert "sessionlens://" in md and "command:" not in md  # not the extension: the plain link
        assert hover.range.start.line == line0


async def test_the_extension_gets_its_open_link_command(ls, fx):
    ls.client_capabilities = T.ClientCapabilities(experimental={"sessionlens": {}})
    rel = next(r for r, ws in fx.expected.items() if any(ws))
    line0 = next(i for i, w in enumerate(fx.expected[rel]) if w)
    ls.open(fx.repo / rel)
    hover = await feature.PROVIDER.hover(ls, str(fx.repo / rel), T.Position(line=line0, character=0))
    assert hover is not None
    md = hover.contents.value
    target = md.split(f"command:{feature.OPEN_LINK_COMMAND}?", 1)[1].split(")", 1)[0]
    assert json.loads(unquote(target))[0].startswith("sessionlens://")


async def test_lens_counts_the_sessions_and_a_file_outside_the_workspace_has_none(ls, fx, tmp_path):
    rel = next(r for r, ws in fx.expected.items() if len({w for w in ws if w}) >= 2)
    lenses = await feature.PROVIDER.code_lens(ls, str(fx.repo / rel))
    assert lenses and len(lenses) == 1
    assert lenses[0].command.title.startswith("edited in ") and "agent session" in lenses[0].command.title
    outside = tmp_path / "elsewhere.py"
    outside.write_text("x = 1\n")
    assert await feature.PROVIDER.code_lens(ls, str(outside)) is None
    assert await feature.PROVIDER.hover(ls, str(outside), T.Position(line=0, character=0)) is None


async def test_session_logs_are_not_source_files(fx):
    log = next(iter(fx.sessions.values()))
    assert not feature.PROVIDER.matches(log)
    assert feature.PROVIDER.matches(str(fx.repo / "src" / "config.py"))


async def test_blame_command_reports_lines_and_refuses_a_missing_file(ls, fx):
    rel = "src/config.py"
    res = await feature.blame_command(ls, BlameParams(uri=(fx.repo / rel).as_uri()))
    got = [None if i is None else res.sessions[i].session_id for i in res.writers]
    assert got == fx.expected[rel] and res.attributed == sum(1 for w in fx.expected[rel] if w)
    with pytest.raises(NotFound):
        await feature.blame_command(ls, BlameParams(uri=(fx.repo / "no-such.py").as_uri()))
