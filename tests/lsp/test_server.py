"""End-to-end tests of the language server over stdio (pytest-lsp), on generated logs and, when it is
present, on corpus logs."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.lsp.conftest import (
    CLAUDE_SHORT,
    CODEX_BIG,
    CODEX_CRUD,
    FACTS,
    log_sources,
    make_workspace,
    server_command,
    vscode_caps,
    wait_idle,
)

pytestmark = pytest.mark.lsp

_STATE: dict = {}


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(server_command=server_command(), server_env=None),
    params=log_sources(),
)
async def client(lsp_client: LanguageClient, tmp_path_factory, request):
    root = tmp_path_factory.mktemp("lsp")
    ws = make_workspace(root, source=request.param)
    _STATE["ws"] = ws
    _STATE["corpus"] = request.param == "corpus"
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


def log_uri(rel: str) -> str:
    return (_STATE["ws"] / "logs" / rel.replace("/", "__")).as_uri()


def log_path(rel: str) -> Path:
    return _STATE["ws"] / "logs" / rel.replace("/", "__")


def first_command(rel: str) -> str:
    """The first Bash command of a generated Claude log (its first two words)."""
    for line in log_path(rel).read_text().split("\n"):
        m = re.search(r'"name":"Bash","input":\{"command":"([^"\\]+)', line)
        if m:
            return " ".join(m.group(1).split()[:2])
    raise AssertionError(f"no Bash command in {rel}")


@pytest.mark.asyncio(loop_scope="module")
async def test_document_symbols_outline_turns(client: LanguageClient):
    res = await client.text_document_document_symbol_async(
        T.DocumentSymbolParams(text_document=T.TextDocumentIdentifier(uri=log_uri(CODEX_BIG)))
    )
    assert res and len(res) == 1
    session = res[0]
    turns = [c for c in session.children if c.name.startswith("Turn ")]
    assert len(turns) == (33 if _STATE["corpus"] else FACTS[log_path(CODEX_BIG)]["turns"])
    lines = log_path(CODEX_BIG).read_bytes().split(b"\n")
    # every turn starts on a task_started line and contains tool calls on the right lines
    for t in turns:
        assert b'"task_started"' in lines[t.range.start.line]
        for c in t.children or []:
            assert t.range.start.line <= c.range.start.line <= t.range.end.line
            if c.kind == T.SymbolKind.Function:
                raw = lines[c.range.start.line]
                assert b'"function_call"' in raw or b'"web_search_call"' in raw or b'"custom_tool_call"' in raw
    patches = [c for t in turns for c in (t.children or []) if c.kind == T.SymbolKind.File]
    assert patches, "apply_patch calls appear as patch symbols"


@pytest.mark.asyncio(loop_scope="module")
async def test_hover_renders_tool_call(client: LanguageClient):
    lines = log_path(CODEX_CRUD).read_text().split("\n")
    idx = next(i for i, l in enumerate(lines) if '"function_call"' in l and "exec_command" in l)
    res = await client.text_document_hover_async(
        T.HoverParams(text_document=T.TextDocumentIdentifier(uri=log_uri(CODEX_CRUD)), position=T.Position(line=idx, character=5))
    )
    assert res is not None
    md = res.contents.value
    assert "Tool call" in md and "exec_command" in md
    assert "exit 0" in md or "exit" in md
    assert not re.search(r"(?<![\w])command:", md.lower().replace("**command**", ""))  # no command: URI (exec_command: is a name)


@pytest.mark.asyncio(loop_scope="module")
async def test_diagnostics_on_open(client: LanguageClient):
    uri = log_uri(CLAUDE_SHORT)
    client.text_document_did_open(
        T.DidOpenTextDocumentParams(
            text_document=T.TextDocumentItem(uri=uri, language_id="jsonl", version=1, text=log_path(CLAUDE_SHORT).read_text())
        )
    )
    await asyncio.wait_for(client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 10)
    diags = client.diagnostics[uri]
    rejected = [d for d in diags if d.code == "rejected-tool-use"]
    assert rejected, [d.code for d in diags]
    line = log_path(CLAUDE_SHORT).read_text().split("\n")[rejected[0].range.start.line]
    assert "rejected" in line.lower() or "doesn't want to proceed" in line


@pytest.mark.asyncio(loop_scope="module")
async def test_search_command_and_workspace_symbol(client: LanguageClient):
    query, word = ("phoenix server", "phoenix") if _STATE["corpus"] else ("pytest", "pytest")
    res = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="sessionlens.search", arguments=[{"query": query, "limit": 5}])
    )
    assert res["hits"], res
    hit = res["hits"][0]
    raw = Path(hit["path"]).read_text().split("\n")[hit["line"] - 1].lower()
    assert word in raw
    syms = await client.workspace_symbol_async(T.WorkspaceSymbolParams(query=word))
    assert syms and all(s.location.uri.startswith("file://") for s in syms)


@pytest.mark.asyncio(loop_scope="module")
async def test_render_and_links(client: LanguageClient):
    sessions = await client.workspace_execute_command_async(T.ExecuteCommandParams(command="sessionlens.sessions", arguments=[{}]))
    ids = [s["id"] for s in sessions["sessions"]]
    assert len(ids) >= 5
    r = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="sessionlens.renderSession", arguments=[{"uri": log_uri(CLAUDE_SHORT)}])
    )
    assert ("mix phx.server" if _STATE["corpus"] else first_command(CLAUDE_SHORT)) in r["markdown"]
    link = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="sessionlens.deepLink", arguments=[{"uri": log_uri(CLAUDE_SHORT), "line": 5}])
    )
    assert link["link"].startswith("sessionlens://session/")
    loc = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="sessionlens.resolveLink", arguments=[{"link": link["link"]}])
    )
    assert loc["uri"] == log_uri(CLAUDE_SHORT) and loc["line"] == loc["seq"] == 6
