"""The earlier Go OpenCode (opencode-ai/opencode): a project-local ``.opencode/opencode.db``.  Found in the
workspace folders sessionlens indexes (there is no global log folder).  Format facts: ``README.md``."""

from __future__ import annotations

from sessionlens.agents.base import AgentAdapter, EvalRunner, InstructionSpec
from sessionlens.agents.common import readme_path
from sessionlens.agents.opencode_go import sources
from sessionlens.agents.opencode_go.parser import CRUSH, OPENCODE_GO


def sniff_tables(tables: frozenset[str]) -> bool:
    return sources.TABLES <= tables and "goose_db_version" in tables


def _member(agent: str):
    def parse_member(db, key: str, path: str):
        return sources.parse_member(db, key, path, agent)

    return parse_member


GO_NAMES = ("OpenCode.md", "OPENCODE.md", "opencode.md")
GO_PROJECT = (
    GO_NAMES,
    tuple(n.replace(".md", ".local.md") for n in GO_NAMES),
    ("CLAUDE.md",),
    ("CLAUDE.local.md",),
    (".github/copilot-instructions.md",),
    (".cursorrules",),
)

ADAPTER = AgentAdapter(
    name=OPENCODE_GO,
    label="OpenCode (Go)",
    source="sqlite",
    file_patterns=("opencode.db",),
    sniff_sqlite=sniff_tables,
    sniff_db=lambda db: sources.flavour(db) == OPENCODE_GO,
    members=sources.members,
    parse_member=_member(OPENCODE_GO),
    instructions=InstructionSpec(
        project=GO_PROJECT, rules_dirs=(".cursor/rules",), primary="OpenCode.md", kinds={n: "opencode" for n in GO_NAMES}
    ),
    eval_runner=EvalRunner(
        "opencode -p {prompt} -q", notes="the database is written to ./.opencode/opencode.db", workdir_logs=(".opencode/opencode.db",)
    ),
    priority=80,
    readme=readme_path(__file__),
)

__all__ = ["ADAPTER", "CRUSH", "OPENCODE_GO"]
