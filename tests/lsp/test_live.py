"""Live indexing over LSP: a line appended to a running session becomes searchable and shows in the open
document; a root outside the workspace is followed (file-system events, or polling without the library); two servers (editor windows) share one store."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig

from sessionlens.samples.generator import generate_corpus
from tests.lsp.conftest import server_command, server_env, vscode_caps, wait_idle

pytestmark = pytest.mark.lsp

MARKER = "zebracornflux"


def appended_line(marker: str) -> str:
    """A new turn as Codex writes it: ``task_started``, then the user's message (the last line)."""
    start = {
        "timestamp": "2026-03-25T10:40:00.000Z",
        "type": "event_msg",
        "payload": {"type": "task_started", "turn_id": f"turn-{marker}", "model_context_window": 258400},
    }
    return (
        json.dumps(start)
        + "\n"
        + json.dumps(
            {
                "timestamp": "2026-03-25T10:40:00.010Z",
                "type": "event_msg",
                "payload": {
                    "type": "user_message",
                    "message": f"please check the {marker} module",
                    "images": [],
                    "local_images": [],
                    "text_elements": [],
                },
            }
        )
        + "\n"
    )


async def start(home: Path, ws: Path, init: dict | None = None, env: dict[str, str] | None = None):
    cfg = ClientServerConfig(server_command=server_command(), server_env={**server_env(home), **(env or {})})
    client = await cfg.start()
    await client.initialize_session(
        T.InitializeParams(
            capabilities=vscode_caps(),
            workspace_folders=[T.WorkspaceFolder(uri=ws.as_uri(), name="ws")],
            initialization_options={"storePath": str(home), "includeHomeLogs": False, **(init or {})},
        )
    )
    return client


async def stop(client):
    try:
        await asyncio.wait_for(client.shutdown_session(), 10)
    finally:
        await client.stop()


async def search(client, q: str) -> list[dict]:
    res = await client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="sessionlens.search", arguments=[{"query": q, "workspace_only": False}])
    )
    return res["hits"]


async def until(pred, timeout: float = 10.0, step: float = 0.05):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = await pred()
        if v:
            return v, time.monotonic() - t0
        await asyncio.sleep(step)
    raise AssertionError(f"condition not met within {timeout}s")


def copy_log(dest: Path) -> Path:
    """A Codex rollout from the project's generator (live indexing needs no particular real log)."""
    gen = dest.parent.parent / ".generated"
    if not gen.exists():
        generate_corpus(gen, seed=41, total_bytes=40_000, codex_share=1.0)
    src = min((gen / "codex").rglob("rollout-*.jsonl"))
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(src.read_bytes())
    return dest


async def test_append_watched_file_is_searchable_and_reflected(tmp_path):
    ws = tmp_path / "ws"
    log = copy_log(ws / "session.jsonl")
    client = await start(tmp_path / "home", ws)
    try:
        await wait_idle(client)
        client.text_document_did_open(
            T.DidOpenTextDocumentParams(
                text_document=T.TextDocumentItem(uri=log.as_uri(), language_id="jsonl", version=1, text=log.read_text())
            )
        )
        before = await client.text_document_document_symbol_async(
            T.DocumentSymbolParams(text_document=T.TextDocumentIdentifier(uri=log.as_uri()))
        )
        n_turns = len([c for c in before[0].children if c.name.startswith("Turn")])
        with log.open("a") as f:
            f.write(appended_line(MARKER))
        # the editor's file watcher reports the change
        client.workspace_did_change_watched_files(
            T.DidChangeWatchedFilesParams(changes=[T.FileEvent(uri=log.as_uri(), type=T.FileChangeType.Changed)])
        )
        hits, delay = await until(lambda: search(client, MARKER))
        assert hits[0]["path"] == str(log) and hits[0]["line"] == len(log.read_text().splitlines())
        assert delay < 5  # the benchmark measures the real latency; this only guards against a missing refresh
        after = await client.text_document_document_symbol_async(
            T.DocumentSymbolParams(text_document=T.TextDocumentIdentifier(uri=log.as_uri()))
        )
        turns = [c for c in after[0].children if c.name.startswith("Turn")]
        assert len(turns) == n_turns + 1 and MARKER in turns[-1].name
    finally:
        await stop(client)


@pytest.mark.parametrize("watcher", ["events", "polling"])
async def test_root_outside_workspace_is_followed(tmp_path, watcher):
    """The server's own watcher finds an append outside the workspace (no editor event): file-system
    events, or polling when the watcher library cannot be imported."""
    ws = tmp_path / "ws"
    ws.mkdir()
    outside = tmp_path / "agent-home" / "sessions"
    log = copy_log(outside / "2026" / "01" / "25" / "rollout-x.jsonl")
    env = None
    if watcher == "polling":
        hidden = tmp_path / "hidden" / "watchfiles"
        hidden.mkdir(parents=True)
        (hidden / "__init__.py").write_text("raise ImportError('watchfiles hidden by the test')\n")
        env = {"PYTHONPATH": os.pathsep.join([str(hidden.parent), *filter(None, [os.environ.get("PYTHONPATH")])])}
    client = await start(tmp_path / "home", ws, {"logRoots": [str(outside.parent)]}, env=env)
    try:
        await wait_idle(client)
        with log.open("a") as f:
            f.write(appended_line(MARKER + "polled"))
        hits, _ = await until(lambda: search(client, MARKER + "polled"))
        assert hits[0]["path"] == str(log)
        st = await client.workspace_execute_command_async(T.ExecuteCommandParams(command="sessionlens.status", arguments=[{}]))
        if watcher == "events":
            assert st["watch"] == "events" and st["polled"] == {}
        else:
            assert st["watch"] == "poll" and "watchfiles" in st["polled"][str(outside.parent)]
    finally:
        await stop(client)


async def test_two_servers_share_one_store(tmp_path):
    ws = tmp_path / "ws"
    log = copy_log(ws / "session.jsonl")
    home = tmp_path / "home"
    a = await start(home, ws)
    b = await start(home, ws)
    try:
        await wait_idle(a)
        await wait_idle(b)
        sa = await a.workspace_execute_command_async(T.ExecuteCommandParams(command="sessionlens.status", arguments=[{}]))
        sb = await b.workspace_execute_command_async(T.ExecuteCommandParams(command="sessionlens.status", arguments=[{}]))
        assert sa["sessions"] == sb["sessions"] == 1 and sa["events"] == sb["events"]
        with log.open("a") as f:
            f.write(appended_line(MARKER + "shared"))
        # only window A sees the file event; window B follows the shared store
        a.workspace_did_change_watched_files(
            T.DidChangeWatchedFilesParams(changes=[T.FileEvent(uri=log.as_uri(), type=T.FileChangeType.Changed)])
        )
        hits_b, _ = await until(lambda: search(b, MARKER + "shared"))
        hits_a = await search(a, MARKER + "shared")
        assert len(hits_a) == len(hits_b) == 1
        sa = await a.workspace_execute_command_async(T.ExecuteCommandParams(command="sessionlens.status", arguments=[{}]))
        assert sa["events"] == sb["events"] + 2  # task_started + the user message
    finally:
        await stop(a)
        await stop(b)
