"""One session of every new agent through the real server over stdio (the project's generated sessions,
and the corpus files too when the corpus is present): outline, hover, search, cost,
coach and the transcript work on Gemini CLI (a JSON document and a JSONL recording), Pi, Cursor (a
.txt transcript and the IDE database) and Qwen Code."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient

from sessionlens.samples import agents
from tests.conftest import corpus_root, log_sources
from tests.lsp.conftest import server_command, vscode_caps, wait_idle

pytestmark = pytest.mark.lsp
_S: dict = {}

SOURCES = {  # corpus file -> its place in the workspace (the agents' own file names)
    "gemini/Mai0313+VibeCodingTracker@894772f767/examples/test_conversation_gemini.json": "gemini/chats/session-2026-03-27T10-19-8a20078e.json",
    "gemini/Mai0313+VibeCodingTracker/tests/fixtures/sessions/gemini.jsonl": "gemini/chats/session-2026-04-23T12-52-0ab84937.jsonl",
    "pi/kenn-io+agentsview/internal/parser/testdata/pi/session.jsonl": "pi/--Users-alice-code-my-project--/2025-01-01T10-00-00-000Z_pi-test-session-uuid.jsonl",
    "cursor/abhimehro+personal-config/.cursor/projects/Users-speedybee-Documents-dev-personal-config/agent-transcripts/10ce04b3-ba6a-44fd-b074-b6ef12daade4.txt": "cursor/projects/p/agent-transcripts/10ce04b3-ba6a-44fd-b074-b6ef12daade4.txt",
    "cursor/slevin48+cursor-history/state.vscdb": "cursor/workspaceStorage/abc/state.vscdb",
    "qwen-code/Piebald-AI+splitrail/src/analyzers/tests/source_data/qwen_code.jsonl": "qwen/chats/69f0814a.jsonl",
}
GEMINI_DOC, GEMINI_JSONL, PI, CURSOR_TXT, CURSOR_DB, QWEN = SOURCES.values()


#: what each corpus file holds (the generated sessions' facts come from their writers)
CORPUS_FACTS = {
    "sessions": {"gemini": 2, "pi": 1, "cursor": 1 + 31, "qwen": 1},
    "gemini_tokens": {97289, 206879},
    "search": {"gemini": "README", "pi": "login", "cursor": "gitconfig", "qwen": "files"},
    "db_needle": "sidebar",
}


def _generated(ws: Path) -> dict:
    """The same workspace of the project's own fixture writers (sessionlens.samples.agents)."""
    facts = {
        GEMINI_DOC: agents.write_gemini_document(ws / GEMINI_DOC),
        GEMINI_JSONL: agents.write_gemini_jsonl(ws / GEMINI_JSONL),
        PI: agents.write_pi(ws / PI),
        CURSOR_TXT: agents.write_cursor_txt(ws / CURSOR_TXT),
        CURSOR_DB: agents.write_cursor_vscdb(ws / CURSOR_DB),
        QWEN: agents.write_qwen(ws / QWEN),
    }
    return {
        "sessions": {"gemini": 2, "pi": 1, "cursor": 1 + facts[CURSOR_DB]["sessions"], "qwen": 1},
        "gemini_tokens": {facts[GEMINI_DOC]["tokens"], facts[GEMINI_JSONL]["tokens"]},
        "search": {f["agent"]: f["search"] for f in facts.values()},
        "db_needle": facts[CURSOR_DB]["search"],
        "files": facts,
    }


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=server_command()), params=log_sources())
async def client(lsp_client: LanguageClient, tmp_path_factory, request):
    root = tmp_path_factory.mktemp("agents")
    ws = root / "ws"
    if request.param == "corpus":
        src = corpus_root()
        for rel, dest in SOURCES.items():
            (ws / dest).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / rel, ws / dest)
        facts = CORPUS_FACTS
    else:
        facts = _generated(ws)
    _S.clear()
    _S.update(ws=ws, facts=facts)
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


def uri(dest: str) -> str:
    return (_S["ws"] / dest).as_uri()


async def cmd(client: LanguageClient, name: str, arg: dict):
    return await client.workspace_execute_command_async(T.ExecuteCommandParams(command=name, arguments=[arg]))


@pytest.mark.asyncio(loop_scope="module")
async def test_every_agent_has_its_sessions(client: LanguageClient):
    res = await cmd(client, "sessionlens.sessions", {"limit": 200})
    by_agent: dict[str, int] = {}
    for s in res["sessions"]:
        by_agent[s["agent"]] = by_agent.get(s["agent"], 0) + 1
    assert by_agent == _S["facts"]["sessions"]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("dest", [GEMINI_DOC, GEMINI_JSONL, PI, CURSOR_TXT, QWEN])
async def test_outline_points_at_lines_of_the_file(client: LanguageClient, dest: str):
    res = await client.text_document_document_symbol_async(T.DocumentSymbolParams(text_document=T.TextDocumentIdentifier(uri=uri(dest))))
    assert res and len(res) == 1
    turns = [c for c in res[0].children if c.name.startswith("Turn ")]
    assert turns
    n_lines = (_S["ws"] / dest).read_bytes().count(b"\n") + 1
    tools = [c for t in turns for c in (t.children or []) if c.kind in (T.SymbolKind.Function, T.SymbolKind.File)]
    written = _S["facts"].get("files", {}).get(dest)
    if written:  # a generated session: its turns and tool calls are the ones its writer wrote
        assert (len(turns), len(tools)) == (written["turns"], written["tools"])
        assert written["tool"] in {c.name for c in tools} or any(written["tool"] in c.name for c in tools)
    for t in turns:
        assert 0 <= t.range.start.line <= t.range.end.line < n_lines
    if dest != QWEN or tools:
        assert all(0 <= c.range.start.line < n_lines for c in tools)
    if dest in (GEMINI_DOC, CURSOR_TXT):  # a tool symbol sits on its call's line
        lines = (_S["ws"] / dest).read_text().split("\n")
        for c in tools[:5]:
            raw = lines[c.range.start.line]
            assert ('"args"' in raw) if dest == GEMINI_DOC else raw.startswith("[Tool call]")


@pytest.mark.asyncio(loop_scope="module")
async def test_hover_on_a_tool_call_shows_the_call_and_its_result(client: LanguageClient):
    lines = (_S["ws"] / CURSOR_TXT).read_text().split("\n")
    idx = next(i for i, l in enumerate(lines) if l.startswith("[Tool call] Read"))
    res = await client.text_document_hover_async(
        T.HoverParams(text_document=T.TextDocumentIdentifier(uri=uri(CURSOR_TXT)), position=T.Position(line=idx, character=3))
    )
    assert res is not None and "Read" in res.contents.value
    lines = (_S["ws"] / PI).read_text().split("\n")
    idx = next(i for i, l in enumerate(lines) if '"toolCall"' in l)  # a line with thinking, text and a tool call
    res = await client.text_document_hover_async(
        T.HoverParams(text_document=T.TextDocumentIdentifier(uri=uri(PI)), position=T.Position(line=idx, character=3))
    )
    assert res is not None and res.contents.value.strip()


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("agent", ["gemini", "pi", "cursor", "qwen"])
async def test_search_finds_each_agent(client: LanguageClient, agent: str):
    term = _S["facts"]["search"][agent]
    res = await cmd(client, "sessionlens.search", {"query": term, "agent": agent, "limit": 20})
    assert res["hits"] and all(h["agent"] == agent for h in res["hits"])


@pytest.mark.asyncio(loop_scope="module")
async def test_cost_by_agent_and_unknown_for_cursor(client: LanguageClient):
    res = await cmd(client, "sessionlens.costReport", {"by": "agent"})
    rows = {r["key"] if "key" in r else r.get("agent"): r for r in res["rows"]}
    assert {"gemini", "pi", "qwen"} <= set(rows)
    sessions = (await cmd(client, "sessionlens.sessions", {"agent": "gemini", "limit": 10}))["sessions"]
    assert {s["tokens"] for s in sessions} == _S["facts"]["gemini_tokens"] and all(s["cost_known"] for s in sessions)
    cursor = (await cmd(client, "sessionlens.sessions", {"agent": "cursor", "limit": 100}))["sessions"]
    assert cursor and all(s["tokens"] is None and not s["cost_known"] for s in cursor)


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("dest", [GEMINI_DOC, PI, CURSOR_TXT, QWEN])
async def test_coach_and_transcript(client: LanguageClient, dest: str):
    res = await cmd(client, "sessionlens.coachSession", {"uri": uri(dest)})
    assert res["markdown"].strip()
    r = await cmd(client, "sessionlens.renderSession", {"uri": uri(dest)})
    assert r["markdown"].count("\n") > 5


@pytest.mark.asyncio(loop_scope="module")
async def test_a_database_session_renders_by_id(client: LanguageClient):
    cursor = (await cmd(client, "sessionlens.sessions", {"agent": "cursor", "limit": 100}))["sessions"]
    ide = next(s for s in cursor if s["id"].startswith("cursor-chat-") and s["events"] > 10)
    r = await cmd(client, "sessionlens.renderSession", {"session_id": ide["id"]})
    assert _S["facts"]["db_needle"] in r["markdown"].lower()


@pytest.mark.asyncio(loop_scope="module")
async def test_status_names_the_agents_and_their_globs(client: LanguageClient):
    res = await cmd(client, "sessionlens.status", {})
    assert {"codex", "claude", "gemini", "pi", "cursor", "qwen"} <= set(res["agents"])
    assert {"**/*.jsonl", "**/chats/session-*.json", "**/agent-transcripts/*.txt", "**/*.vscdb"} <= set(res["globs"])
