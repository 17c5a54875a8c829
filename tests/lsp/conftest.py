"""pytest-lsp fixtures: the real server over stdio, on a temporary store and a workspace of corpus copies."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import pytest
from lsprotocol import types as T
from pytest_lsp import LanguageClient, client_capabilities

from tests.conftest import corpus_root

CODEX_BIG = "codex/localpush/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl"
CODEX_CRUD = "codex/agentlogs/crud.jsonl"
CLAUDE_SHORT = "claude/spotter/short.jsonl"
CLAUDE_SUB = "claude/agentlogs/subagent.jsonl"
CLAUDE_CRUD = "claude/agentlogs/crud.jsonl"


def make_workspace(root: Path, files=(CODEX_CRUD, CLAUDE_SHORT, CLAUDE_SUB, CLAUDE_CRUD, CODEX_BIG)) -> Path:
    src = corpus_root()
    if not src.is_dir():
        pytest.skip(f"SESSIONLENS_CORPUS not found: {src}")
    ws = root / "ws"
    (ws / "logs").mkdir(parents=True, exist_ok=True)
    for rel in files:
        dest = ws / "logs" / rel.replace("/", "__")
        shutil.copyfile(src / rel, dest)
    return ws


def server_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["SESSIONLENS_HOME"] = str(home)
    env["HOME"] = str(home / "userhome")  # no real agent homes leak into tests
    env.pop("ANTHROPIC_API_KEY", None)
    env["SESSIONLENS_LOG"] = "WARNING"
    (home / "userhome").mkdir(parents=True, exist_ok=True)
    return env


def server_command() -> list[str]:
    return [sys.executable, "-m", "sessionlens", "lsp"]


async def wait_idle(client: LanguageClient, timeout: float = 30.0) -> None:
    """Wait until the server has reported an idle status after indexing."""
    async def loop():
        while True:
            res = await client.workspace_execute_command_async(T.ExecuteCommandParams(command="sessionlens.status", arguments=[{}]))
            if not res["indexing"] and res["sessions"] > 0:
                return res
            await asyncio.sleep(0.1)
    return await asyncio.wait_for(loop(), timeout)


def vscode_caps() -> T.ClientCapabilities:
    """VS Code's capabilities plus what the sessionlens extension declares (it renders `sessionlens/stream`)."""
    caps = client_capabilities("visual-studio-code")
    exp = caps.experimental if isinstance(caps.experimental, dict) else {}
    caps.experimental = {**exp, "sessionlens": {"stream": True}}
    return caps


def code_actions_as_sent(client) -> None:
    """lsprotocol's client-side hook turns every code action that carries a ``command`` into a bare
    ``Command`` (dropping its edit); read them as the server sent them (a command *string* = a Command)."""
    conv = client.protocol._converter

    def hook(obj, _):
        if isinstance(obj.get("command"), str):
            return conv.structure(obj, T.Command)
        return conv.structure(obj, T.CodeAction)

    conv.register_structure_hook(T.Command | T.CodeAction, hook)
