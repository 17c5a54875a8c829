"""pytest-lsp: guideline violations in session logs, lenses/hovers/diagnostics on AGENTS.md, conversation commands."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient

from sessionlens.samples.guideline_history import write_session
from tests.lsp.conftest import log_sources, make_workspace, server_command, vscode_caps, wait_idle

pytestmark = pytest.mark.lsp

IMAGES = "codex/agentlogs/images.jsonl"
CRUD = "codex/agentlogs/crud.jsonl"
LOCALPUSH = "codex/localpush/rollout-2026-02-23T12-41-04-019c8a4d-8f45-7010-8b5d-7fad920aa6f9.jsonl"
AGENTS_MD = """# Rules

- Never commit. <!-- sessionlens: id=no-commit must-not-run=/\\bgit\\s+commit\\b/ -->
- Use `rg` instead of `grep`.
- Only deploy from CI. <!-- sessionlens: must-not-run=/\\bkubectl\\s+apply\\b/ -->
- Broken <!-- sessionlens: must-run=/(/ -->
"""
_STATE: dict = {}


def _generated_workspace(root: Path) -> Path:
    """Three generated Codex sessions in the corpus files' roles: one commits (IMAGES), one searches
    with ``rg`` (CRUD), one only edits and lists the folder (LOCALPUSH)."""
    ws = root / "ws"
    (ws / "logs").mkdir(parents=True)
    start = datetime(2026, 2, 20, 9, 0, tzinfo=timezone.utc)
    for i, (rel, cmd) in enumerate(((IMAGES, "git commit -am wip"), (CRUD, "rg greeting app.py"), (LOCALPUSH, "ls -la"))):
        path = ws / "logs" / rel.replace("/", "__")
        write_session(
            path, sid=f"00000000-0000-4000-8000-00000000c{i:03d}", start=start + timedelta(hours=i), cwd=str(ws), test_after_edit=False
        )
        path.write_text(path.read_text().replace("git status --short", cmd))
    return ws


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=server_command(), server_env=None), params=log_sources())
async def client(lsp_client: LanguageClient, tmp_path_factory, request):
    root = tmp_path_factory.mktemp("lspc")
    corpus = request.param == "corpus"
    ws = make_workspace(root, files=(IMAGES, CRUD, LOCALPUSH), source="corpus") if corpus else _generated_workspace(root)
    (ws / "AGENTS.md").write_text(AGENTS_MD)
    _STATE["ws"] = ws
    # the event that committed: the corpus log's line 87; the generated log's line that runs it
    _STATE["commit_seq"] = (
        87
        if corpus
        else 1 + next(i for i, ln in enumerate(_log(IMAGES).read_text().split("\n")) if "git commit" in ln and "function_call" in ln)
    )
    lsp_client.set_configuration({"logRoots": [], "includeHomeLogs": False}, section="sessionlens")
    await lsp_client.initialize_session(
        T.InitializeParams(
            capabilities=vscode_caps(),
            workspace_folders=[T.WorkspaceFolder(uri=ws.as_uri(), name="ws")],
            initialization_options={"storePath": str(root / "home"), "includeHomeLogs": False},
        )
    )
    await wait_idle(lsp_client)
    yield
    await asyncio.wait_for(lsp_client.shutdown_session(), 10)


def _log(rel: str):
    return _STATE["ws"] / "logs" / rel.replace("/", "__")


async def _open(client: LanguageClient, path) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        T.DidOpenTextDocumentParams(
            text_document=T.TextDocumentItem(
                uri=uri, language_id="markdown" if path.suffix == ".md" else "jsonl", version=1, text=path.read_text()
            )
        )
    )
    for _ in range(100):
        if uri in client.diagnostics:
            return uri
        await asyncio.sleep(0.1)
    raise AssertionError(f"no diagnostics for {uri}")


@pytest.mark.asyncio(loop_scope="module")
async def test_violation_diagnostic_points_at_the_guideline(client: LanguageClient):
    uri = await _open(client, _log(IMAGES))
    diags = [d for d in client.diagnostics[uri] if d.code == "guideline-violation"]
    assert len(diags) == 1, [d.code for d in client.diagnostics[uri]]
    d = diags[0]
    assert "git commit" in _log(IMAGES).read_text().split("\n")[d.range.start.line]
    rel = d.related_information[0]
    assert rel.location.uri == (_STATE["ws"] / "AGENTS.md").as_uri() and rel.location.range.start.line == 2
    assert "AGENTS.md:3" in rel.message


@pytest.mark.asyncio(loop_scope="module")
async def test_lenses_hover_and_diagnostics_on_agents_md(client: LanguageClient):
    uri = await _open(client, _STATE["ws"] / "AGENTS.md")
    lenses = await client.text_document_code_lens_async(T.CodeLensParams(text_document=T.TextDocumentIdentifier(uri=uri)))
    by_line = {lens.range.start.line: lens.command.title for lens in lenses}
    assert by_line[2] == "followed in 0 of 1 recent session · 1 violation"
    assert by_line[3] == "followed in 1 of 1 recent session"
    assert by_line[4] == "never relevant in the last 3 sessions"
    assert 5 not in by_line  # the broken annotation is not checkable
    hover = await client.text_document_hover_async(
        T.HoverParams(text_document=T.TextDocumentIdentifier(uri=uri), position=T.Position(line=2, character=4))
    )
    assert "Violating sessions" in hover.contents.value and "sessionlens://session/" in hover.contents.value
    assert f"?event={_STATE['commit_seq']}" in hover.contents.value
    diags = client.diagnostics[uri]
    retire = [d for d in diags if d.code == "guideline-never-relevant"]
    assert [d.range.start.line for d in retire] == [4] and "retire it?" in retire[0].message
    assert retire[0].severity == T.DiagnosticSeverity.Information
    broken = [d for d in diags if d.code == "guideline-annotation"]
    assert [d.range.start.line for d in broken] == [5] and broken[0].severity == T.DiagnosticSeverity.Error
    actions = await client.text_document_code_action_async(
        T.CodeActionParams(
            text_document=T.TextDocumentIdentifier(uri=uri), range=retire[0].range, context=T.CodeActionContext(diagnostics=retire)
        )
    )
    assert any(a.title.startswith("Remove this guideline") for a in actions)
    syms = await client.text_document_document_symbol_async(T.DocumentSymbolParams(text_document=T.TextDocumentIdentifier(uri=uri)))
    assert [s.name for s in syms][:2] == ["Never commit.", "Use `rg` instead of `grep`."]


@pytest.mark.asyncio(loop_scope="module")
async def test_conversation_commands_without_a_key(client: LanguageClient):
    res = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="sessionlens.askCoach", arguments=[{"uri": _log(IMAGES).as_uri(), "question": "Why commit?"}])
    )
    assert res["error"] and "API key" in res["error"]
    conv = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="sessionlens.conversation", arguments=[{"uri": _log(IMAGES).as_uri()}])
    )
    assert conv["messages"] == []
    cleared = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="sessionlens.clearConversation", arguments=[{"session_id": conv["session_id"]}])
    )
    assert cleared["ok"] is True
    rep = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="sessionlens.guidelineReport", arguments=[{"path": str(_STATE["ws"] / "AGENTS.md"), "line": 2}])
    )
    assert rep["sessions"] == 3 and rep["rows"][0]["violated"] == 1
