"""OpenAI Codex CLI / Codex Desktop rollout files (``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl``)."""

from __future__ import annotations

import os
from typing import Any

from sessionlens.agents.base import AgentAdapter, EvalRunner, InstructionSpec, env_dirs
from sessionlens.agents.codex.parser import parse
from sessionlens.agents.common import readme_path

_TOP_TYPES = frozenset({"session_meta", "response_item", "event_msg", "turn_context", "compacted"})
_BARE_TYPES = frozenset({"message", "function_call", "function_call_output", "local_shell_call", "reasoning"})


def classify_line(obj: dict[str, Any]) -> bool:
    t = obj.get("type")
    if "payload" in obj and t in _TOP_TYPES:
        return True
    if "record_type" in obj:
        return True  # the 2025 record format
    if t is None and "id" in obj and "instructions" in obj:
        return True  # legacy first line
    return t in _BARE_TYPES and "uuid" not in obj and "sessionId" not in obj and "message" not in obj


def roots(home: str, env) -> list[str]:
    codex_home = env_dirs(env, "CODEX_HOME", os.path.join(home, ".codex"))[0]
    return [os.path.join(codex_home, "sessions"), os.path.join(codex_home, "archived_sessions")]


ADAPTER = AgentAdapter(
    name="codex",
    label="Codex",
    source="lines",
    roots=roots,
    env_vars=("CODEX_HOME",),
    classify_line=classify_line,
    parse=parse,
    instructions=InstructionSpec(
        user=("$CODEX_HOME/AGENTS.override.md", "$CODEX_HOME/AGENTS.md"),
        user_defaults={"CODEX_HOME": "~/.codex"},
        project=(("AGENTS.override.md", "AGENTS.md"),),
        primary="AGENTS.md",
    ),
    pricing_family="openai",
    eval_runner=EvalRunner("codex exec {prompt}", {"CODEX_HOME": "codex"}),
    priority=50,
    readme=readme_path(__file__),
)
