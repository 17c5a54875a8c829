"""sst/opencode: ``opencode.db`` (a database of many sessions) and the older JSON storage tree (a layout
variant, ``opencode-storage``), both in ``$OPENCODE_DATA_DIR`` / ``$XDG_DATA_HOME/opencode``."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from sessionlens.agents.base import AgentAdapter, EvalRunner, InstructionSpec
from sessionlens.agents.common import readme_path
from sessionlens.agents.opencode import sources
from sessionlens.models.session import ParseResult


def data_dir(home: str, env) -> str:
    """OpenCode's data folder: ``$OPENCODE_DATA_DIR`` (ccusage's override), else ``$XDG_DATA_HOME/opencode``,
    else ``~/.local/share/opencode``."""
    if (env.get("OPENCODE_DATA_DIR") or "").strip():
        return os.path.expanduser(env["OPENCODE_DATA_DIR"].strip())
    xdg = (env.get("XDG_DATA_HOME") or "").strip()
    return os.path.join(os.path.expanduser(xdg) if xdg else os.path.join(home, ".local", "share"), "opencode")


def roots(home: str, env) -> list[str]:
    """The database files themselves, not the data folder: walking it would descend into ``snapshot/``
    (OpenCode's git snapshots of every project, thousands of folders).  Channel builds' databases
    (``opencode-<channel>.db``) present at start-up are included."""
    import glob

    base = data_dir(home, env)
    found = sorted(glob.glob(os.path.join(glob.escape(base), "opencode-*.db")))
    return [os.path.join(base, "opencode.db"), *found]


def storage_roots(home: str, env) -> list[str]:
    return [os.path.join(data_dir(home, env), "storage", "session")]


def sniff_session_json(head: bytes) -> bool:
    start = head[:8192]
    return (
        start.lstrip()[:1] == b"{"
        and b'"id"' in start
        and b'"projectID"' in start
        and b'"directory"' in start
        and b'"time"' in start
        and b'"role"' not in start
    )


def tree_members(anchor: str) -> list[tuple[str, str]]:
    """The one session of a storage-tree anchor file, fingerprinted by its files' stats."""
    if sources.storage_root(anchor) is None:
        return []
    parts = []
    for f in [anchor, *sources.tree_companions(anchor)]:
        try:
            st = os.stat(f)
        except OSError:
            continue
        parts.append(f"{st.st_size}:{st.st_mtime_ns}")
    key = os.path.basename(anchor)[: -len(".json")] if anchor.endswith(".json") else os.path.basename(anchor)
    # hashlib, not hash(): str hashes change in every process (PYTHONHASHSEED), and so would the fingerprint
    digest = hashlib.blake2b("\n".join(parts).encode(), digest_size=6).hexdigest()
    return [(key, f"{len(parts)}|{digest}")]


def tree_parse_member(anchor: Any, key: str, path: str) -> ParseResult:
    return sources.tree_parse(anchor, path)


INSTRUCTIONS = InstructionSpec(
    user=("~/.config/opencode/AGENTS.md",),
    project=(("AGENTS.md", "CLAUDE.md"),),
    primary="AGENTS.md",
)
README = readme_path(__file__)

ADAPTER = AgentAdapter(
    name="opencode",
    label="OpenCode",
    source="sqlite",
    file_patterns=("opencode.db", "opencode-*.db"),
    roots=roots,
    env_vars=("OPENCODE_DATA_DIR", "XDG_DATA_HOME"),
    sniff_sqlite=sources.sniff_tables,
    members=sources.db_members,
    parse_member=sources.db_parse_member,
    instructions=INSTRUCTIONS,
    # no log_env: OpenCode has no variable of its own for its data folder, and the runner sets every
    # agent's log_env for every case -- redirecting XDG_DATA_HOME would move other tools' data too
    eval_runner=EvalRunner("opencode run {prompt}", notes="sessions land in $XDG_DATA_HOME/opencode/opencode.db (not redirected per case)"),
    priority=70,
    readme=README,
)

STORAGE = AgentAdapter(
    name="opencode-storage",
    label="OpenCode (JSON storage)",
    source="directory",
    file_patterns=("*/session/*/ses_*.json",),
    roots=storage_roots,
    env_vars=("OPENCODE_DATA_DIR", "XDG_DATA_HOME"),
    sniff_document=sniff_session_json,
    members=tree_members,
    parse_member=tree_parse_member,
    companions=sources.tree_companions,
    instructions=INSTRUCTIONS,
    priority=70,
    readme=README,
    agent="opencode",
)

ADAPTERS = (ADAPTER, STORAGE)
