"""Charm Crush (the Go OpenCode's successor): a project-local ``.crush/crush.db`` with the Go OpenCode's
schema plus ``messages.provider``.  The parser is the Go OpenCode's (``agents/opencode_go``)."""

from __future__ import annotations

from sessionlens.agents.base import AgentAdapter, EvalRunner, InstructionSpec
from sessionlens.agents.common import readme_path
from sessionlens.agents.opencode_go import GO_PROJECT, sniff_tables, sources
from sessionlens.agents.opencode_go.parser import CRUSH

CRUSH_NAMES = ("CRUSH.md", "crush.md", "Crush.md")


def parse_member(db, key: str, path: str):
    return sources.parse_member(db, key, path, CRUSH)


ADAPTER = AgentAdapter(
    name=CRUSH,
    label="Crush",
    source="sqlite",
    file_patterns=("crush.db",),
    sniff_sqlite=sniff_tables,
    sniff_db=lambda db: sources.flavour(db) == CRUSH,
    members=sources.members,
    parse_member=parse_member,
    instructions=InstructionSpec(
        project=(CRUSH_NAMES, tuple(n.replace(".md", ".local.md") for n in CRUSH_NAMES), ("AGENTS.md",), *GO_PROJECT),
        rules_dirs=(".cursor/rules",),
        primary="CRUSH.md",
        kinds={n: "crush" for n in CRUSH_NAMES},
    ),
    eval_runner=EvalRunner("crush run {prompt}", notes="the database is written to ./.crush/crush.db", workdir_logs=(".crush/crush.db",)),
    priority=80,
    readme=readme_path(__file__),
)
