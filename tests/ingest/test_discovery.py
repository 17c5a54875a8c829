"""Log roots and the directory walker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sessionlens.ingest.discovery import Root, default_roots, discover
from sessionlens.models.session import Agent

_AGENT_ENV = (
    "CODEX_HOME",
    "CLAUDE_CONFIG_DIR",
    "GEMINI_CLI_HOME",
    "PI_CODING_AGENT_DIR",
    "CURSOR_CONFIG_DIR",
    "CURSOR_USER_DIR",
    "XDG_CONFIG_HOME",
    "COPILOT_HOME",
    "COPILOT_CONFIG_DIR",
    "OPENCODE_DATA_DIR",
    "XDG_DATA_HOME",
)


def test_default_roots_from_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in _AGENT_ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_roots() == [
        Root(str(tmp_path / ".codex" / "sessions"), Agent.CODEX),
        Root(str(tmp_path / ".codex" / "archived_sessions"), Agent.CODEX),
        Root(str(tmp_path / ".claude" / "projects"), Agent.CLAUDE),
        Root(str(tmp_path / ".config" / "claude" / "projects"), Agent.CLAUDE),
        Root(str(tmp_path / ".qwen" / "projects"), "qwen"),
        Root(str(tmp_path / ".qwen" / "tmp"), "qwen"),
        Root(str(tmp_path / ".gemini" / "tmp"), "gemini"),
        Root(str(tmp_path / ".pi" / "agent" / "sessions"), "pi"),
        Root(str(tmp_path / ".cursor" / "projects"), "cursor"),
        Root(str(tmp_path / ".config" / "Cursor" / "User" / "workspaceStorage"), "cursor"),
        Root(str(tmp_path / ".copilot" / "session-state"), "copilot"),
        Root(str(tmp_path / ".copilot" / "history-session-state"), "copilot"),
        Root(str(tmp_path / ".copilot" / "otel"), "copilot"),
        Root(str(tmp_path / ".local" / "share" / "opencode" / "opencode.db"), "opencode"),
        Root(str(tmp_path / ".local" / "share" / "opencode" / "storage" / "session"), "opencode"),
    ]
    assert not default_roots()[0].exists


def test_default_roots_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in _AGENT_ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "cx"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{tmp_path / 'a'}, {tmp_path / 'b'} ,")
    monkeypatch.setenv("GEMINI_CLI_HOME", str(tmp_path / "g"))
    monkeypatch.setenv("PI_CODING_AGENT_DIR", str(tmp_path / "pi"))
    monkeypatch.setenv("CURSOR_CONFIG_DIR", str(tmp_path / "cur"))
    monkeypatch.setenv("CURSOR_USER_DIR", str(tmp_path / "curuser"))
    monkeypatch.setenv("COPILOT_HOME", str(tmp_path / "cop"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    (tmp_path / "cx" / "sessions").mkdir(parents=True)
    roots = default_roots()
    assert [r.path for r in roots] == [
        str(tmp_path / "cx" / "sessions"),
        str(tmp_path / "cx" / "archived_sessions"),
        str(tmp_path / "a" / "projects"),
        str(tmp_path / "b" / "projects"),
        str(tmp_path / "home" / ".qwen" / "projects"),
        str(tmp_path / "home" / ".qwen" / "tmp"),
        str(tmp_path / "g" / ".gemini" / "tmp"),
        str(tmp_path / "pi" / "sessions"),
        str(tmp_path / "cur" / "projects"),
        str(tmp_path / "curuser" / "workspaceStorage"),
        str(tmp_path / "cop" / "session-state"),
        str(tmp_path / "cop" / "history-session-state"),
        str(tmp_path / "cop" / "otel"),
        str(tmp_path / "xdg" / "opencode" / "opencode.db"),
        str(tmp_path / "xdg" / "opencode" / "storage" / "session"),
    ]
    assert [r.agent for r in roots][10:] == ["copilot", "copilot", "copilot", "opencode", "opencode"]
    assert [r.agent for r in roots][:10] == [
        Agent.CODEX,
        Agent.CODEX,
        Agent.CLAUDE,
        Agent.CLAUDE,
        "qwen",
        "qwen",
        "gemini",
        "pi",
        "cursor",
        "cursor",
    ]
    assert roots[0].exists


def _touch(p: Path) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"{}\n")


def test_discover(tmp_path: Path) -> None:
    files = [
        "codex/2026/01/25/rollout-a.jsonl",
        "codex/2026/01/25/rollout-a.jsonl.zst",  # the plain file wins
        "codex/2026/01/26/rollout-b.jsonl.zst",
        "codex/history.jsonl",
        "claude/-p/s1.jsonl",
        "claude/-p/s1/subagents/agent-x.jsonl",
        "claude/-p/s1/tool-results/t.jsonl",
        "claude/-p/notes.txt",
        "claude/-p/node_modules/pkg/x.jsonl",
        "claude/-p/.git/x.jsonl",
    ]
    for f in files:
        _touch(tmp_path / f)
    os.symlink(tmp_path / "codex", tmp_path / "claude" / "loop")  # symlinked dirs are not followed
    found = list(
        discover([str(tmp_path / "codex"), str(tmp_path / "claude"), str(tmp_path / "missing"), str(tmp_path / "claude/-p/s1.jsonl")])
    )
    rel = [str(Path(f).relative_to(tmp_path)) for f in found]
    assert rel == [
        "codex/2026/01/25/rollout-a.jsonl",
        "codex/2026/01/26/rollout-b.jsonl.zst",
        "claude/-p/s1.jsonl",
        "claude/-p/s1/subagents/agent-x.jsonl",
    ]


def test_discover_corpus(corpus: Path) -> None:
    found = sorted(str(Path(f).relative_to(corpus)) for f in discover([str(corpus)]))
    cc = [f for f in found if f.split("/", 1)[0] in ("claude", "codex")]
    assert len(cc) == 15 and all(f.endswith(".jsonl") for f in cc)
    assert len(found) > len(cc)  # other agents' files are discovered too; content decides what they are
    exts = {os.path.splitext(f)[1] for f in found}
    assert {".jsonl", ".txt", ".vscdb"} <= exts  # Cursor's .txt transcripts and state.vscdb
    assert not any(f.endswith((".md", "-wal", "-shm", ".yaml")) for f in found)
    assert all("agent-transcripts/" in f for f in found if f.endswith(".txt"))
