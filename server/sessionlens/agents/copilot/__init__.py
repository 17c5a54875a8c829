"""GitHub Copilot CLI: ``$COPILOT_HOME/session-state/<id>/events.jsonl`` (+ ``workspace.yaml``), the older
single-JSON sessions (a second adapter, ``copilot-legacy``, whose sessions are ``copilot``'s), and the
OpenTelemetry file export ``$COPILOT_HOME/otel/*.jsonl`` / ``$COPILOT_OTEL_FILE_EXPORTER_PATH``
(``copilot-otel``: sessions not in session-state, with exact tokens).  Format facts: ``README.md``."""

from __future__ import annotations

import os
from typing import Any

from sessionlens.agents.base import AgentAdapter, EvalRunner, InstructionSpec, env_dirs
from sessionlens.agents.common import readme_path
from sessionlens.agents.copilot import otel, parser
from sessionlens.models.session import ParseResult, ParserState

_PREFIXES = frozenset({"session", "user", "assistant", "tool", "subagent", "hook", "system", "skill", "pending_messages"})
#: bytes of ``workspace.yaml`` read at most (a flat key: value file of a few hundred bytes)
_WORKSPACE_MAX = 64 * 1024


def classify_line(obj: dict[str, Any]) -> bool:
    t = obj.get("type")
    if not isinstance(t, str) or not isinstance(obj.get("data"), dict) or "timestamp" not in obj or "id" not in obj:
        return False
    return t == "abort" or t.partition(".")[0] in _PREFIXES and "." in t


def sniff_document(head: bytes) -> bool:
    start = head[:4096]
    return (
        start.lstrip()[:1] == b"{"
        and b'"sessionId"' in start
        and b'"startTime"' in start
        and (b'"chatMessages"' in start or b'"timeline"' in start)
    )


def _home(env) -> str:
    return env_dirs(env, "COPILOT_HOME", env.get("COPILOT_CONFIG_DIR") or os.path.join("~", ".copilot"))[0]


def _base(home: str, env) -> str:
    """Copilot's data folder with ``~`` meaning ``home`` (the discovery's home, not the process's)."""
    base = _home(env)
    return base.replace("~", home, 1) if base.startswith("~") else base


def roots(home: str, env) -> list[str]:
    return [os.path.join(_base(home, env), "session-state")]


def legacy_roots(home: str, env) -> list[str]:
    return [os.path.join(_base(home, env), "history-session-state")]


def otel_roots(home: str, env) -> list[str]:
    """``$COPILOT_HOME/otel`` and the folder of ``$COPILOT_OTEL_FILE_EXPORTER_PATH`` (the export's one file)."""
    out = [os.path.join(_base(home, env), "otel")]
    single = (env.get("COPILOT_OTEL_FILE_EXPORTER_PATH") or "").strip()
    if single:
        out.append(os.path.dirname(os.path.expanduser(single)) or ".")
    return list(dict.fromkeys(out))


def read_companions(path: str) -> dict[str, Any]:
    """The ``workspace.yaml`` next to an ``events.jsonl`` (read only, bounded), for the parser's first state.

    Deliberately no ``companions``: the registry re-parses a source with companions whole on every
    change, and an ``events.jsonl`` only grows (read from its offset).  The sidecar is read when the log
    is parsed from the start; its ``summary`` usually exists by then, and a full re-parse picks up a
    newer one."""
    if os.path.basename(path) != "events.jsonl":
        return {}
    try:
        with open(os.path.join(os.path.dirname(path), "workspace.yaml"), "rb") as fh:
            return {"workspace": fh.read(_WORKSPACE_MAX).decode("utf-8", "replace")}
    except OSError:
        return {}


def parse(data: bytes, path: str, state: ParserState | None = None) -> ParseResult:
    """The pure parser; the sidecar's text arrives in ``state.data["companions"]`` (``read_companions``)."""
    comp = state.data.get("companions") if state is not None else None
    workspace = comp.get("workspace") if isinstance(comp, dict) else None
    return parser.parse(data, path, state, workspace if isinstance(workspace, str) else None)


def parse_legacy(data: bytes, path: str, state: ParserState | None = None) -> ParseResult:
    return parser.parse_document(data, path)


INSTRUCTIONS = InstructionSpec(
    user=("$COPILOT_HOME/copilot-instructions.md",),
    user_defaults={"COPILOT_HOME": "~/.copilot"},
    project=((".github/copilot-instructions.md",), ("AGENTS.md",), ("CLAUDE.md",), ("GEMINI.md",)),
    rules_dirs=(".github/instructions",),
    primary=".github/copilot-instructions.md",
    kinds={"copilot-instructions.md": "copilot"},
)
README = readme_path(__file__)

ADAPTER = AgentAdapter(
    name="copilot",
    label="Copilot CLI",
    source="lines",
    file_patterns=("events.jsonl",),
    roots=roots,
    env_vars=("COPILOT_HOME", "COPILOT_CONFIG_DIR"),
    classify_line=classify_line,
    parse=parse,
    read_companions=read_companions,
    instructions=INSTRUCTIONS,
    eval_runner=EvalRunner(
        "copilot -p {prompt} --allow-all-tools", {"COPILOT_HOME": "copilot"}, notes="sessions land in $COPILOT_HOME/session-state"
    ),
    priority=60,
    readme=README,
)

LEGACY = AgentAdapter(
    name="copilot-legacy",
    label="Copilot CLI (legacy session JSON)",
    source="document",
    file_patterns=("*/history-session-state/*.json",),
    roots=legacy_roots,
    env_vars=("COPILOT_HOME", "COPILOT_CONFIG_DIR"),
    sniff_document=sniff_document,
    parse=parse_legacy,
    instructions=INSTRUCTIONS,
    priority=60,
    readme=README,
    agent="copilot",
)

OTEL = AgentAdapter(
    name="copilot-otel",
    label="Copilot CLI (OpenTelemetry export)",
    source="directory",
    file_patterns=("*/otel/*.jsonl",),
    roots=otel_roots,
    env_vars=("COPILOT_HOME", "COPILOT_CONFIG_DIR", "COPILOT_OTEL_FILE_EXPORTER_PATH"),
    classify_line=otel.classify_line,
    members=otel.members,
    parse_member=otel.parse_member,
    companions=otel.companions,
    yields_to_logged=True,
    instructions=INSTRUCTIONS,
    priority=59,
    readme=README,
    agent="copilot",
)

ADAPTERS = (ADAPTER, LEGACY, OTEL)
