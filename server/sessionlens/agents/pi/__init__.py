"""Pi coding agent sessions (``~/.pi/agent/sessions/--<cwd>--/*.jsonl``)."""

from __future__ import annotations

import os
from typing import Any

from sessionlens.agents.base import AgentAdapter, EvalRunner, InstructionSpec
from sessionlens.agents.common import readme_path
from sessionlens.agents.pi.parser import parse

_ENTRY_TYPES = frozenset({"model_change", "thinking_level_change", "compaction", "branch_summary", "custom", "label", "session_info"})
_ROLES = frozenset({"user", "assistant", "toolResult", "bashExecution"})


def classify_line(obj: dict[str, Any]) -> bool:
    t = obj.get("type")
    if "uuid" in obj or "sessionId" in obj:
        return False
    if t == "session":
        return "id" in obj and ("cwd" in obj or "version" in obj)
    if t == "message":
        m = obj.get("message")
        return isinstance(m, dict) and m.get("role") in _ROLES
    return t in _ENTRY_TYPES and ("modelId" in obj or "thinkingLevel" in obj or "tokensBefore" in obj)


def agent_dir(home: str, env) -> str:
    """``$PI_CODING_AGENT_DIR`` when set, else ``~/.pi/agent``."""
    return os.path.expanduser(env.get("PI_CODING_AGENT_DIR") or os.path.join(home, ".pi", "agent"))


def roots(home: str, env) -> list[str]:
    return [os.path.join(agent_dir(home, env), "sessions")]


ADAPTER = AgentAdapter(
    name="pi",
    label="Pi",
    source="lines",
    roots=roots,
    env_vars=("PI_CODING_AGENT_DIR",),
    classify_line=classify_line,
    parse=parse,
    instructions=InstructionSpec(
        user=("$PI_CODING_AGENT_DIR/AGENTS.md",),
        user_defaults={"PI_CODING_AGENT_DIR": "~/.pi/agent"},
        project=(("AGENTS.md", "CLAUDE.md"),),
        primary="AGENTS.md",
        kinds={"CLAUDE.md": "claude"},
    ),
    pricing_family=None,  # Pi talks to many providers: the model decides
    eval_runner=EvalRunner("pi -p {prompt}", {"PI_CODING_AGENT_DIR": "pi"}),
    priority=40,
    readme=readme_path(__file__),
)
