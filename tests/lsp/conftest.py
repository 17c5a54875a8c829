"""pytest-lsp fixtures: the real server over stdio, on a temporary store and a workspace of corpus copies."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types as T
from pytest_lsp import LanguageClient, client_capabilities

from sessionlens.samples.generator import GeneratedInfo, generate_corpus
from tests.conftest import corpus_root, log_sources  # noqa: F401 (log_sources: for the modules)

CODEX_BIG = "codex/localpush/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl"
CODEX_CRUD = "codex/agentlogs/crud.jsonl"
CLAUDE_SHORT = "claude/spotter/short.jsonl"
CLAUDE_SUB = "claude/agentlogs/subagent.jsonl"
CLAUDE_CRUD = "claude/agentlogs/crud.jsonl"


#: what the tests know about each workspace file, keyed by its path in the workspace (set by make_workspace)
FACTS: dict[Path, dict[str, Any]] = {}

_REJECTED = "The tool use was rejected"
_GENERATED: dict[str, Any] = {}


def _generated_roles(tmp: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Generated logs (the project's own generator, fixed seed) standing in for the corpus files the
    LSP tests name: each role gets a session with what the tests look for in the corpus file."""
    if _GENERATED:
        return _GENERATED["roles"]
    info = generate_corpus(tmp / "generated", seed=11, total_bytes=1_000_000)
    text = {s.path: s.path.read_text() for s in info.sessions}
    claude = [s for s in info.sessions if s.agent == "claude"]
    codex = [s for s in info.sessions if s.agent == "codex"]
    taken: set[Path] = set()

    def pick(cands: list[GeneratedInfo], what: str) -> GeneratedInfo:
        for s in cands:
            if s.path not in taken:
                taken.add(s.path)
                return s
        raise AssertionError(f"the generated corpus has no {what}")

    short = pick([s for s in claude if _REJECTED in text[s.path] and not s.subagent_files], "rejected Claude tool use")
    sub = pick([s for s in claude if s.subagent_files], "Claude session with sub-agents")
    crud = pick([s for s in claude if '"name":"Edit"' in text[s.path] and not s.subagent_files], "Claude Edit")
    big = pick(sorted((s for s in codex if '"apply_patch"' in text[s.path]), key=lambda s: -s.bytes), "Codex patch")
    small = pick([s for s in codex if "exec_command" in text[s.path]] or [big], "Codex exec_command")
    roles = {CLAUDE_SHORT: short, CLAUDE_SUB: sub, CLAUDE_CRUD: crud, CODEX_BIG: big, CODEX_CRUD: small}
    out = {}
    for rel, s in roles.items():
        cwd = f"/home/dev/projects/{s.project}"
        out[rel] = (s.path, {"session_id": s.session_id, "turns": s.turns, "cwd": cwd, "subagents": s.subagent_files, "agent": s.agent})
    _GENERATED["roles"] = out
    return out


def make_workspace(root: Path, files=(CODEX_CRUD, CLAUDE_SHORT, CLAUDE_SUB, CLAUDE_CRUD, CODEX_BIG), *, source: str = "generated") -> Path:
    """A workspace holding copies of ``files`` under ``ws/logs`` (named after the corpus paths):
    the corpus files themselves (``source="corpus"``), or generated sessions in their roles."""
    ws = root / "ws"
    (ws / "logs").mkdir(parents=True, exist_ok=True)
    if source == "corpus":
        src = corpus_root()
        for rel in files:
            dest = ws / "logs" / rel.replace("/", "__")
            shutil.copyfile(src / rel, dest)
            FACTS[dest] = {"source": "corpus"}
        return ws
    roles = _generated_roles(root.parent)
    for rel in files:
        path, facts = roles[rel]
        dest = ws / "logs" / rel.replace("/", "__")
        shutil.copyfile(path, dest)
        for sub in facts["subagents"]:  # <sid>/subagents/agent-*.jsonl next to the session, as Claude Code writes them
            (dest.parent / path.stem / "subagents").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sub, dest.parent / path.stem / "subagents" / sub.name)
        FACTS[dest] = {"source": "generated", **facts}
    return ws


def rejected_call(log: Path) -> str:
    """The start of what the rejected tool call of a Claude log ran or edited (its command, its file)."""
    import json

    recs = [json.loads(x) for x in log.read_text().split("\n") if x.strip()]
    blocks = [b for r in recs if isinstance((r.get("message") or {}).get("content"), list) for b in r["message"]["content"]]
    rejected = next(b["tool_use_id"] for b in blocks if b.get("type") == "tool_result" and _REJECTED in str(b.get("content")))
    call = next(b for b in blocks if b.get("type") == "tool_use" and b.get("id") == rejected)
    what = call["input"].get("command") or call["input"].get("file_path") or ""
    return " ".join(what.split()[:2])


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
