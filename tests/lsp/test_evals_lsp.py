"""Eval suites in the editor (pytest-lsp): schema diagnostics, run command with progress, lens, check diagnostics."""

from __future__ import annotations

import asyncio
import json

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.lsp.conftest import CLAUDE_SHORT, CODEX_CRUD, FACTS, log_sources, make_workspace, server_command, vscode_caps, wait_idle

pytestmark = pytest.mark.lsp
_STATE: dict = {}


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=server_command(), server_env=None), params=log_sources())
async def client(lsp_client: LanguageClient, tmp_path_factory, request):
    root = tmp_path_factory.mktemp("lsp-evals")
    ws = make_workspace(root, files=(CODEX_CRUD, CLAUDE_SHORT), source=request.param)
    # every session within the turn limit (the corpus sessions are short; generated ones say how long they are)
    turns = 5 if request.param == "corpus" else max(FACTS[ws / "logs" / r.replace("/", "__")]["turns"] for r in (CODEX_CRUD, CLAUDE_SHORT))
    suite = ws / "quality.eval.json"
    suite.write_text(
        json.dumps(
            {
                "name": "quality",
                "sessions": {"path": "**/logs/*.jsonl"},
                "checks": [{"kind": "no_rejected_tool_use"}, {"kind": "limit", "metric": "turns", "max": turns}],
            },
            indent=2,
        )
        + "\n"
    )
    _STATE.update(ws=ws, suite=suite)

    @lsp_client.feature(T.WORKSPACE_CODE_LENS_REFRESH)
    def _refresh(params):  # the server asks editors to re-query lenses after a run
        _STATE["refreshed"] = _STATE.get("refreshed", 0) + 1

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


async def _diags(client: LanguageClient, uri: str, text: str, version: int):
    client.diagnostics.pop(uri, None)
    if version == 1:
        client.text_document_did_open(
            T.DidOpenTextDocumentParams(text_document=T.TextDocumentItem(uri=uri, language_id="json", version=1, text=text))
        )
    else:
        client.text_document_did_change(
            T.DidChangeTextDocumentParams(
                text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[T.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
    for _ in range(100):
        if uri in client.diagnostics:
            return client.diagnostics[uri]
        await asyncio.sleep(0.05)
    raise AssertionError("no diagnostics published")


@pytest.mark.asyncio(loop_scope="module")
async def test_schema_errors_are_diagnostics(client: LanguageClient):
    uri = _STATE["suite"].as_uri()
    bad = '{\n  "name": "quality",\n  "checks": [\n    {"kind": "limit", "metric": "turns", "max": "lots"}\n  ]\n}\n'
    diags = await _diags(client, uri, bad, 1)
    assert len(diags) == 1 and diags[0].source == "sessionlens-evals" and diags[0].range.start.line == 3
    assert "max" in diags[0].message
    diags = await _diags(client, uri, _STATE["suite"].read_text(), 2)
    assert list(diags) == []


@pytest.mark.asyncio(loop_scope="module")
async def test_run_command_progress_lens_and_check_diagnostics(client: LanguageClient):
    uri = _STATE["suite"].as_uri()
    lens = await client.text_document_code_lens_async(T.CodeLensParams(text_document=T.TextDocumentIdentifier(uri=uri)))
    assert lens[0].command.title == "Run · never run" and lens[0].command.command == "sessionlens.runEvals"
    res = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="sessionlens.runEvals", arguments=[{"file": str(_STATE["suite"])}])
    )
    assert not res["cancelled"]
    run = res["suites"][0]
    assert run["summary"]["total"] == 2 and run["summary"]["passed"] == 1
    assert "quality: 1/2 passed" in res["markdown"]
    # progress: begin ... end
    reports = [
        r for r in client.progress_reports.values() if r and isinstance(r[0], T.WorkDoneProgressBegin) and r[0].title == "Running evals"
    ]
    assert reports and isinstance(reports[-1][-1], T.WorkDoneProgressEnd) and reports[-1][0].cancellable
    assert any(isinstance(x, T.WorkDoneProgressReport) and "sessions" in (x.message or "") for x in reports[-1])
    lens = await client.text_document_code_lens_async(T.CodeLensParams(text_document=T.TextDocumentIdentifier(uri=uri)))
    assert _STATE.get("refreshed")
    assert lens[0].command.title == "Run · last run 1/2 passed"
    assert any(l.command.title == "✗ 1/2 passed" for l in lens[1:])
    # the failing check is a diagnostic on its entry, linked to the rejected tool use in the log
    diags = await _diags(client, uri, _STATE["suite"].read_text(), 3)
    failed = [d for d in diags if d.code == "check-failed"]
    assert len(failed) == 1 and failed[0].message.startswith("no_rejected_tool_use: failed in 1 of 2")
    text = _STATE["suite"].read_text().split("\n")
    assert "no_rejected_tool_use" in text[failed[0].range.start.line]
    rel = failed[0].related_information[0].location
    assert rel.uri.endswith(CLAUDE_SHORT.replace("/", "__"))
    raw = (_STATE["ws"] / "logs" / CLAUDE_SHORT.replace("/", "__")).read_text().split("\n")[rel.range.start.line].lower()
    assert "rejected" in raw or "doesn't want to proceed" in raw


@pytest.mark.asyncio(loop_scope="module")
async def test_run_without_file_runs_workspace_suites_and_bad_file_errors(client: LanguageClient):
    res = await client.workspace_execute_command_async(T.ExecuteCommandParams(command="sessionlens.runEvals", arguments=[{}]))
    assert [s["suite"] for s in res["suites"]] == ["quality"]
    with pytest.raises(Exception, match="no such suite file"):
        await client.workspace_execute_command_async(
            T.ExecuteCommandParams(command="sessionlens.runEvals", arguments=[{"file": str(_STATE["ws"] / "missing.eval.json")}])
        )
