"""Gemini CLI chat recordings (``~/.gemini/tmp/<project-hash>/chats/session-*.json`` / ``.jsonl``)."""

from __future__ import annotations

import os
import re
from typing import Any

from sessionlens.agents.base import AgentAdapter, EvalRunner, InstructionSpec
from sessionlens.agents.common import readme_path
from sessionlens.agents.gemini.parser import parse

_GEMINI_TYPE = re.compile(rb'"type"\s*:\s*"gemini"')


def classify_line(obj: dict[str, Any]) -> bool:
    if "sessionId" in obj and "projectHash" in obj:
        return True  # the JSONL metadata line, or a whole document on one line
    if "$set" in obj or "$rewindTo" in obj:
        return True
    return obj.get("type") == "gemini" and "id" in obj and "uuid" not in obj


def sniff_document(head: bytes) -> bool:
    s = head.lstrip()
    if not s.startswith(b"{") or b'"messages"' not in s:
        return False
    return b'"projectHash"' in s or b'"sessionId"' in s or _GEMINI_TYPE.search(s) is not None


def home_dir(home: str, env) -> str:
    """``$GEMINI_CLI_HOME/.gemini`` when set (Gemini CLI's home override), else ``~/.gemini``."""
    base = env.get("GEMINI_CLI_HOME") or home
    return os.path.join(os.path.expanduser(base), ".gemini")


def roots(home: str, env) -> list[str]:
    return [os.path.join(home_dir(home, env), "tmp")]


ADAPTER = AgentAdapter(
    name="gemini",
    label="Gemini CLI",
    source="document",
    file_patterns=("*.jsonl", "*/chats/session-*.json", "session-*.json"),
    roots=roots,
    env_vars=("GEMINI_CLI_HOME",),
    classify_line=classify_line,
    sniff_document=sniff_document,
    parse=parse,
    instructions=InstructionSpec(
        user=("$GEMINI_CLI_HOME/.gemini/GEMINI.md",),
        user_defaults={"GEMINI_CLI_HOME": "~"},
        project=(("GEMINI.md",),),
        primary="GEMINI.md",
        kinds={"GEMINI.md": "gemini"},
    ),
    pricing_family="google",
    eval_runner=EvalRunner("gemini --yolo -p {prompt}", {"GEMINI_CLI_HOME": "gemini"}),
    priority=45,
    readme=readme_path(__file__),
)
