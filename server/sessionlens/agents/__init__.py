"""Agent adapters: one package per agent (``codex/``, ``claude/``, ``gemini/``...) and the one
registry every other layer reads (see ``README.md`` here and ``base.py`` for the contract).

This package sits at the ingest level: pure parsing plus reading the agents' files; it imports
``sessionlens.models`` only.
"""

from sessionlens.agents.base import AgentAdapter, EvalRunner, InstructionSpec, Root, member_path, split_member
from sessionlens.agents.registry import (
    adapters,
    default_roots,
    detect,
    file_patterns,
    get,
    is_candidate,
    label,
    names,
    open_source,
    register,
    source_stat,
    unregister,
    watch_globs,
)

__all__ = [
    "AgentAdapter",
    "EvalRunner",
    "InstructionSpec",
    "Root",
    "adapters",
    "default_roots",
    "detect",
    "file_patterns",
    "get",
    "is_candidate",
    "label",
    "member_path",
    "names",
    "open_source",
    "register",
    "source_stat",
    "split_member",
    "unregister",
    "watch_globs",
]
