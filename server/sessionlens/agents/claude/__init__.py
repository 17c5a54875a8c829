"""Anthropic Claude Code transcripts (``~/.claude/projects/<escaped-cwd>/<session>.jsonl``)."""

from __future__ import annotations

import os
from typing import Any

from sessionlens.agents.base import AgentAdapter, EvalRunner, InstructionSpec
from sessionlens.agents.claude.parser import parse
from sessionlens.agents.common import readme_path

_TYPES = frozenset(
    {
        "user",
        "assistant",
        "system",
        "summary",
        "file-history-snapshot",
        "queue-operation",
        "progress",
        "attachment",
        "custom-title",
        "ai-title",
        "agent-name",
        "last-prompt",
        "permission-mode",
        "pr-link",
        "agent-setting",
        "bridge-session",
        "worktree-state",
    }
)
_BARE = frozenset({"summary", "file-history-snapshot", "queue-operation"})


def classify_line(obj: dict[str, Any]) -> bool:
    t = obj.get("type")
    return t in _TYPES and ("sessionId" in obj or "uuid" in obj or t in _BARE)


def roots(home: str, env) -> list[str]:
    dirs = [d.strip() for d in (env.get("CLAUDE_CONFIG_DIR") or "").split(",") if d.strip()]
    if not dirs:
        dirs = [os.path.join(home, ".claude"), os.path.join(home, ".config", "claude")]
    return [os.path.join(os.path.expanduser(d), "projects") for d in dirs]


ADAPTER = AgentAdapter(
    name="claude",
    label="Claude Code",
    source="lines",
    roots=roots,
    env_vars=("CLAUDE_CONFIG_DIR",),
    classify_line=classify_line,
    parse=parse,
    instructions=InstructionSpec(
        user=("~/.claude/CLAUDE.md",),
        project=(("CLAUDE.md",), (".claude/CLAUDE.md",), ("CLAUDE.local.md",)),
        imports=True,
        primary="CLAUDE.md",
        kinds={"CLAUDE.md": "claude", "CLAUDE.local.md": "claude-local"},
    ),
    pricing_family="anthropic",
    eval_runner=EvalRunner("claude -p {prompt}", {"CLAUDE_CONFIG_DIR": "claude"}),
    priority=60,
    readme=readme_path(__file__),
)
