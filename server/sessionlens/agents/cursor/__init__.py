"""Cursor: agent transcripts (``~/.cursor/projects/<p>/agent-transcripts/``) and ``state.vscdb``."""

from __future__ import annotations

import os
import sys
from typing import Any

from sessionlens.agents.base import AgentAdapter, EvalRunner, InstructionSpec
from sessionlens.agents.common import readme_path
from sessionlens.agents.cursor.parser import parse_jsonl, parse_txt, parse_vscdb_member, vscdb_members


def classify_line(obj: dict[str, Any]) -> bool:
    return (
        "role" in obj
        and isinstance(obj.get("message"), dict)
        and "type" not in obj
        and obj.get("role") in ("user", "assistant", "system", "tool")
    )


def sniff_txt(head: bytes) -> bool:
    """A transcript starts with a line that is exactly ``user:`` (the first message can be longer than
    the head, so nothing after it is required)."""
    first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].rstrip(b"\r")
    return first == b"user:"


def txt_twin(path: str) -> str | None:
    """A ``.jsonl`` transcript whose ``.txt`` twin exists is read from the twin (tool calls, thinking)."""
    if path.endswith(".jsonl") and os.path.isfile(path[:-6] + ".txt"):
        return "its .txt twin holds the same conversation with tool calls and thinking"
    return None


def cursor_home(home: str, env) -> str:
    return os.path.expanduser(env.get("CURSOR_CONFIG_DIR") or os.path.join(home, ".cursor"))


def transcript_roots(home: str, env) -> list[str]:
    return [os.path.join(cursor_home(home, env), "projects")]


def ide_roots(home: str, env) -> list[str]:
    """Cursor's workspace storage (one ``state.vscdb`` per workspace), per platform."""
    if env.get("CURSOR_USER_DIR"):
        base = env["CURSOR_USER_DIR"]
    elif sys.platform == "darwin":
        base = os.path.join(home, "Library", "Application Support", "Cursor", "User")
    elif sys.platform.startswith("win"):
        base = os.path.join(env.get("APPDATA") or os.path.join(home, "AppData", "Roaming"), "Cursor", "User")
    else:
        base = os.path.join(env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), "Cursor", "User")
    return [os.path.join(os.path.expanduser(base), "workspaceStorage")]


_INSTRUCTIONS = InstructionSpec(
    project=(("AGENTS.md",), (".cursorrules",)),
    rules_dirs=(".cursor/rules",),
    primary="AGENTS.md",
    kinds={".cursorrules": "rules"},
)

#: Cursor agent transcripts (``.jsonl`` role/content lines)
ADAPTER = AgentAdapter(
    name="cursor",
    label="Cursor",
    source="lines",
    file_patterns=("*.jsonl",),
    roots=transcript_roots,
    env_vars=("CURSOR_CONFIG_DIR",),
    classify_line=classify_line,
    skip_if=txt_twin,
    parse=parse_jsonl,
    instructions=_INSTRUCTIONS,
    pricing_family=None,
    eval_runner=EvalRunner("cursor-agent -p --force {prompt}", {"CURSOR_CONFIG_DIR": "cursor"}),
    priority=70,
    records_tokens=False,
    readme=readme_path(__file__),
)

#: the ``.txt`` twin of a transcript (``[Thinking]``, ``[Tool call]``, ``[Tool result]``)
TXT_ADAPTER = AgentAdapter(
    name="cursor-txt",
    label="Cursor",
    agent="cursor",
    source="document",
    file_patterns=("*/agent-transcripts/*.txt", "*/agent-transcripts/*/*.txt"),
    sniff_document=sniff_txt,
    parse=parse_txt,
    instructions=_INSTRUCTIONS,
    priority=71,
    records_tokens=False,
)

#: the IDE's per-workspace ``state.vscdb`` (chat tabs and composers)
VSCDB_ADAPTER = AgentAdapter(
    name="cursor-ide",
    label="Cursor (IDE)",
    agent="cursor",
    source="sqlite",
    file_patterns=("*.vscdb",),
    roots=ide_roots,
    env_vars=("CURSOR_USER_DIR",),
    sniff_sqlite=lambda tables: "ItemTable" in tables or "cursorDiskKV" in tables,
    members=vscdb_members,
    parse_member=parse_vscdb_member,
    instructions=_INSTRUCTIONS,
    priority=72,
    records_tokens=False,
)

ADAPTERS = (ADAPTER, TXT_ADAPTER, VSCDB_ADAPTER)
