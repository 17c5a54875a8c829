"""Qwen Code chat recordings (``~/.qwen/projects/<project>/chats/<session>.jsonl``)."""

from __future__ import annotations

import os
from typing import Any

from sessionlens.agents.base import AgentAdapter, EvalRunner, InstructionSpec
from sessionlens.agents.common import readme_path
from sessionlens.agents.qwen.parser import parse

_SYSTEM = frozenset({"ui_telemetry", "attribution_snapshot", "chat_compression", "slash_command"})


def classify_line(obj: dict[str, Any]) -> bool:
    if "sessionId" not in obj or "uuid" not in obj:
        return False
    msg = obj.get("message")
    if isinstance(msg, dict) and isinstance(msg.get("parts"), list):
        return True  # Gemini-style parts (Claude Code has message.content)
    return obj.get("type") == "tool_result" or obj.get("subtype") in _SYSTEM


def roots(home: str, env) -> list[str]:
    return [os.path.join(home, ".qwen", "projects"), os.path.join(home, ".qwen", "tmp")]


ADAPTER = AgentAdapter(
    name="qwen",
    label="Qwen Code",
    source="lines",
    roots=roots,
    classify_line=classify_line,
    parse=parse,
    instructions=InstructionSpec(
        user=("~/.qwen/QWEN.md",), project=(("QWEN.md",), ("AGENTS.md",)), primary="QWEN.md", kinds={"QWEN.md": "qwen"}
    ),
    pricing_family=None,
    eval_runner=EvalRunner("qwen --yolo -p {prompt}"),
    priority=30,
    readme=readme_path(__file__),
)
