"""The real server over stdio opens one session of each of Copilot CLI (events.jsonl and the legacy JSON),
OpenCode, OpenCode (Go) and Crush from a workspace of generated sessions (and of corpus copies too when
the corpus is present): outline and hover on the files, the
transcript, coach, search and cost for the database sessions (their transcript is the view)."""

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
ENGRAM = "copilot-cli/softwaresalt+agent-engram/.copilot/session-state/07c40cd0-ff51-4d6e-bdcd-ac2f90877203"
LEGACY = "copilot-cli/Mai0313+VibeCodingTracker@bcec23fa1e/examples/test_conversation_copilot.json"
OPENCODE = "opencode/Burdis28+burdis28.github.io/.local/share/opencode"
GO = "opencode-go/kashifkhan0771+utils/.opencode"
CRUSH = "crush/dbos-inc+dbos-transact-golang/.crush"


#: what the corpus copies hold (the generated sessions' facts come from their writers)
CORPUS_FACTS = {
    "copilot_ids": ["07c40cd0-ff51-4d6e-bdcd-ac2f90877203", "0b2a81da-02cf-4cbb-ae14-07c597b84f4e"],
    "copilot_title": "Break Down Feature 007",  # the workspace.yaml summary
    "opencode_ids": ["ses_10b137345ffe03355Ew4fC8LWW"],
    "counts": {"opencode-go": 7, "crush": 2},
    "search": {"opencode": "readme", "opencode-go": "conversion", "crush": "CRUSH.md"},
    "crush_cost": 3.2218513,  # the costs Crush recorded
    "copilot_output": 22185,  # output tokens only: 07c40cd0 has no session.shutdown
}


def _workspace(root: Path, source: str) -> tuple[Path, dict]:
    ws = root / "ws"
    state = ws / "copilot" / "session-state" / "07c40cd0"
    legacy = ws / "copilot" / "history-session-state" / "0b2a81da.json"
    if source == "corpus":
        src = corpus_root()
        shutil.copytree(src / ENGRAM, state)
        legacy.parent.mkdir(parents=True)
        shutil.copyfile(src / LEGACY, legacy)
        shutil.copytree(src / OPENCODE, ws / "opencode-data")
        shutil.copytree(src / GO, ws / "goproject" / ".opencode")
        shutil.copytree(src / CRUSH, ws / "crushproject" / ".crush")
        return ws, CORPUS_FACTS
    # the project's own fixture writers (sessionlens.samples.agents), in the same places
    cop = agents.write_copilot_session_state(state)
    old = agents.write_copilot_legacy(legacy)
    oc = agents.write_opencode_storage(ws / "opencode-data")
    oc_db = agents.write_opencode_db(ws / "opencode-data" / "opencode.db")
    go = agents.write_goose_db(ws / "goproject" / ".opencode" / "opencode.db", topic="conversion")
    crush = agents.write_goose_db(ws / "crushproject" / ".crush" / "crush.db", crush=True, topic="CRUSH.md")
    return ws, {
        "copilot_ids": sorted([cop["session_id"], old["session_id"]]),
        "copilot_title": cop["title"],
        "opencode_ids": sorted([oc["session_id"], oc_db["session_id"]]),
        "counts": {"opencode-go": go["sessions"], "crush": crush["sessions"]},
        "search": {"opencode": oc["search"], "opencode-go": go["search"], "crush": crush["search"]},
        "crush_cost": crush["cost"],
        "copilot_output": cop["output"],
    }


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=server_command()), params=log_sources())
async def client(lsp_client: LanguageClient, tmp_path_factory, request):
    root = tmp_path_factory.mktemp("others")
    ws, facts = _workspace(root, request.param)
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


async def cmd(client: LanguageClient, name: str, arg: dict):
    return await client.workspace_execute_command_async(T.ExecuteCommandParams(command=name, arguments=[arg]))


async def _sessions(client: LanguageClient, agent: str) -> list[dict]:
    res = await cmd(client, "sessionlens.sessions", {"agent": agent, "workspace_only": False})
    return res["sessions"]


@pytest.mark.asyncio(loop_scope="module")
async def test_every_agent_has_its_sessions(client: LanguageClient):
    got = {a: sorted(s["id"] for s in await _sessions(client, a)) for a in ("copilot", "opencode", "opencode-go", "crush")}
    facts = _S["facts"]
    assert got["copilot"] == facts["copilot_ids"]
    assert got["opencode"] == facts["opencode_ids"]
    assert {a: len(got[a]) for a in ("opencode-go", "crush")} == facts["counts"]


@pytest.mark.asyncio(loop_scope="module")
async def test_copilot_events_jsonl_outline_and_hover(client: LanguageClient):
    path = _S["ws"] / "copilot" / "session-state" / "07c40cd0" / "events.jsonl"
    doc = T.TextDocumentIdentifier(uri=path.as_uri())
    syms = await client.text_document_document_symbol_async(T.DocumentSymbolParams(text_document=doc))
    assert syms and syms[0].name == _S["facts"]["copilot_title"]  # the workspace.yaml summary
    lines = path.read_text(encoding="utf-8").split("\n")
    idx = next(i for i, ln in enumerate(lines) if '"tool.execution_complete"' in ln and "powershell" not in ln)
    hover = await client.text_document_hover_async(T.HoverParams(text_document=doc, position=T.Position(line=idx, character=2)))
    assert hover is not None and "Tool result" in hover.contents.value


@pytest.mark.asyncio(loop_scope="module")
async def test_copilot_legacy_document_outline_and_hover_on_its_lines(client: LanguageClient):
    path = _S["ws"] / "copilot" / "history-session-state" / "0b2a81da.json"
    doc = T.TextDocumentIdentifier(uri=path.as_uri())
    syms = await client.text_document_document_symbol_async(T.DocumentSymbolParams(text_document=doc))
    assert syms
    lines = path.read_text(encoding="utf-8").split("\n")
    idx = next(i for i, ln in enumerate(lines) if ln.strip().startswith('"result"'))
    hover = await client.text_document_hover_async(T.HoverParams(text_document=doc, position=T.Position(line=idx, character=4)))
    assert hover is not None and "Tool result" in hover.contents.value


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("agent", ["opencode", "opencode-go", "crush"])
async def test_database_sessions_transcript_coach_and_search(client: LanguageClient, agent: str):
    needle = _S["facts"]["search"][agent]
    sessions = await _sessions(client, agent)
    sid = max(sessions, key=lambda s: s["events"])["id"]
    res = await cmd(client, "sessionlens.renderSession", {"session_id": sid})
    assert res["title"] and needle.lower() in res["markdown"].lower()
    coach = await cmd(client, "sessionlens.coachSession", {"session_id": sid})
    assert coach["markdown"]
    hits = await cmd(client, "sessionlens.search", {"query": needle, "agent": agent})
    assert hits["total"] > 0 and {h["agent"] for h in hits["hits"]} == {agent}


@pytest.mark.asyncio(loop_scope="module")
async def test_cost_by_agent(client: LanguageClient):
    res = await cmd(client, "sessionlens.costReport", {"by": "agent"})
    rows = {r["agent"]: r for r in res["rows"]}
    assert rows["crush"]["cost_usd"] == pytest.approx(_S["facts"]["crush_cost"], abs=1e-6)  # the costs Crush recorded
    assert rows["copilot"]["output"] == _S["facts"]["copilot_output"]  # output tokens only: no session.shutdown
