"""The real server over stdio on logs from the project's own generator (no corpus needed): outline,
coach diagnostics, search, an AGENTS.md lens, an eval-suite diagnostic, the declared documents, error codes."""

from __future__ import annotations

import asyncio
import json

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient

from sessionlens.samples.generator import generate_corpus
from tests.lsp.conftest import server_command, vscode_caps, wait_idle

pytestmark = pytest.mark.lsp
_STATE: dict = {}
AGENTS_MD = "# Rules\n\n- Never push. <!-- sessionlens: id=no-push must-not-run=/\\bgit\\s+push\\b/ -->\n- Be kind.\n"


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=server_command(), server_env=None))
async def client(lsp_client: LanguageClient, tmp_path_factory):
    root = tmp_path_factory.mktemp("lsp-hermetic")
    ws = root / "ws"
    generate_corpus(ws / "logs", seed=5, total_bytes=200_000)
    (ws / "AGENTS.md").write_text(AGENTS_MD)
    (ws / "broken.eval.json").write_text(
        json.dumps({"name": "b", "sessions": {"path": "**/*.jsonl"}, "checks": [{"kind": "no_such_check"}]})
    )
    logs = sorted(p for p in (ws / "logs").rglob("*.jsonl") if "subagents" not in p.parts)
    _STATE.update(ws=ws, logs=logs)
    lsp_client.set_configuration({"logRoots": [str(ws / "logs")], "includeHomeLogs": False, "homeLogsScope": "all"}, section="sessionlens")
    await lsp_client.initialize_session(
        T.InitializeParams(
            capabilities=vscode_caps(),
            workspace_folders=[T.WorkspaceFolder(uri=ws.as_uri(), name="ws")],
            initialization_options={
                "storePath": str(root / "home"),
                "includeHomeLogs": False,
                "logRoots": [str(ws / "logs")],
                "homeLogsScope": "all",
            },
        )
    )
    await wait_idle(lsp_client, 60)
    yield
    await asyncio.wait_for(lsp_client.shutdown_session(), 10)


async def _open(client: LanguageClient, path, language: str) -> list[T.Diagnostic]:
    uri = path.as_uri()
    client.text_document_did_open(
        T.DidOpenTextDocumentParams(text_document=T.TextDocumentItem(uri=uri, language_id=language, version=1, text=path.read_text()))
    )
    for _ in range(200):
        if uri in client.diagnostics:
            return client.diagnostics[uri]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no diagnostics for {uri}")


async def _command(client: LanguageClient, name: str, arg: dict):
    return await client.workspace_execute_command_async(T.ExecuteCommandParams(command=name, arguments=[arg]))


@pytest.mark.asyncio(loop_scope="module")
async def test_a_generated_log_has_an_outline_and_coach_diagnostics(client: LanguageClient):
    diags = []
    for log in _STATE["logs"]:
        diags += await _open(client, log, "jsonl")
    assert any(d.source == "sessionlens-coach" for d in diags), [d.source for d in diags]
    syms = await client.text_document_document_symbol_async(
        T.DocumentSymbolParams(text_document=T.TextDocumentIdentifier(uri=_STATE["logs"][0].as_uri()))
    )
    assert syms and syms[0].kind == T.SymbolKind.Module and syms[0].children


@pytest.mark.asyncio(loop_scope="module")
async def test_search_finds_generated_events_with_links(client: LanguageClient):
    res = await _command(client, "sessionlens.search", {"query": "test", "limit": 5})
    assert res["hits"] and all(h["link"].startswith("sessionlens://session/") for h in res["hits"])


@pytest.mark.asyncio(loop_scope="module")
async def test_agents_md_has_a_lens_and_a_broken_suite_a_diagnostic(client: LanguageClient):
    ws = _STATE["ws"]
    await _open(client, ws / "AGENTS.md", "markdown")
    lenses = await client.text_document_code_lens_async(
        T.CodeLensParams(text_document=T.TextDocumentIdentifier(uri=(ws / "AGENTS.md").as_uri()))
    )
    assert [lens.range.start.line for lens in lenses] == [2]
    assert lenses[0].command.command == "sessionlens.guidelineReport"
    diags = await _open(client, ws / "broken.eval.json", "json")
    assert any(d.source == "sessionlens-evals" and "no_such_check" in d.message for d in diags)


@pytest.mark.asyncio(loop_scope="module")
async def test_the_server_declares_the_documents_it_serves(client: LanguageClient):
    res = await _command(client, "sessionlens.documents", {})
    assert "**/*.jsonl" in res["logs"] and "**/AGENTS.md" in res["instructions"] and "**/*.eval.json" in res["evals"]


@pytest.mark.asyncio(loop_scope="module")
async def test_error_codes_tell_bad_arguments_from_unknown_ids(client: LanguageClient):
    with pytest.raises(Exception) as bad:
        await _command(client, "sessionlens.costReport", {"by": "colour"})
    with pytest.raises(Exception) as unknown:
        await _command(client, "sessionlens.renderSession", {"session_id": "no-such-session"})
    assert "by" in str(bad.value) and "no indexed session" in str(unknown.value)
    assert getattr(bad.value, "code", None) == -32602 and getattr(unknown.value, "code", None) == -32001
