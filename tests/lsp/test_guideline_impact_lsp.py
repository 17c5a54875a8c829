"""The guideline loop in the editor: on a scripted git history (AGENTS.md gains a guideline at a commit,
generated sessions before and after), the lens and the hover on the guideline line show the figures."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, client_capabilities

from sessionlens.samples.guideline_history import make_guideline_history
from tests.lsp.conftest import server_command, server_env, wait_idle

pytestmark = pytest.mark.lsp


async def test_lens_and_hover_show_before_and_after(tmp_path):
    h = make_guideline_history(tmp_path / "w")
    home = tmp_path / "home"
    client = await ClientServerConfig(server_command=server_command(), server_env=server_env(home)).start()
    try:
        await client.initialize_session(
            T.InitializeParams(
                capabilities=client_capabilities("neovim"),
                workspace_folders=[T.WorkspaceFolder(uri=h.repo.as_uri(), name="repo")],
                initialization_options={"storePath": str(home), "includeHomeLogs": False, "logRoots": [str(h.logs)]},
            )
        )
        await wait_idle(client)
        uri = h.agents_md.as_uri()
        client.text_document_did_open(
            T.DidOpenTextDocumentParams(
                text_document=T.TextDocumentItem(uri=uri, language_id="markdown", version=1, text=h.agents_md.read_text())
            )
        )
        line = h.guideline_line - 1
        for _ in range(50):  # the first pass may still be writing
            lenses = await client.text_document_code_lens_async(T.CodeLensParams(text_document=T.TextDocumentIdentifier(uri=uri)))
            mine = [x for x in lenses or [] if x.range.start.line == line]
            if mine and "since added" in mine[0].command.title:
                break
            await asyncio.sleep(0.2)
        assert [x.command.title for x in mine] == [
            "since added 2026-02-03: violated in 1 of 8 sessions (was 7 of 8); edits tested 12% → 88%"
        ]
        assert mine[0].command.command == "sessionlens.guidelineReport"
        hover = await client.text_document_hover_async(
            T.HoverParams(text_document=T.TextDocumentIdentifier(uri=uri), position=T.Position(line=line, character=4))
        )
        md = hover.contents.value
        assert "**Impact since added 2026-02-03**" in md
        assert "| violated | 7 of 8 | 1 of 8 |" in md and "| tool errors per session | 2.6 | 0.0 | −100% |" in md
        assert "Fisher's exact test p=0.010" in md
        rep = await client.workspace_execute_command_async(
            T.ExecuteCommandParams(command="sessionlens.guidelineReport", arguments=[{"path": str(h.agents_md), "line": line}])
        )
        [row] = rep["impact"]
        assert row["before"]["violated"] == 7 and row["after"]["violated"] == 1 and "Impact since added" in rep["markdown"]
    finally:
        await asyncio.wait_for(client.shutdown_session(), 10)
        await client.stop()
