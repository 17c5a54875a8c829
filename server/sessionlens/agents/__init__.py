"""Agent adapters: one package per agent (``codex/``, ``claude/``, ``gemini/``...) and the one
registry every other layer reads (see ``README.md`` here and ``base.py`` for the contract).

This package sits at the ingest level: pure parsing plus reading the agents' files; it imports
``sessionlens.models`` only.

The names below are imported on first use (PEP 562): a module that needs only
:mod:`sessionlens.agents.paths` (a session listing) imports neither the adapter contract nor the
registry with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sessionlens.models.lazy import lazy_exports

if TYPE_CHECKING:
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

#: where each name of the package is defined
_HOMES: dict[str, str] = {
    **dict.fromkeys(("AgentAdapter", "EvalRunner", "InstructionSpec", "Root", "member_path", "split_member"), "sessionlens.agents.base"),
    **dict.fromkeys(
        (
            "adapters",
            "default_roots",
            "detect",
            "file_patterns",
            "get",
            "is_candidate",
            "label",
            "names",
            "open_source",
            "register",
            "source_stat",
            "unregister",
            "watch_globs",
        ),
        "sessionlens.agents.registry",
    ),
}


__getattr__, __dir__ = lazy_exports(__name__, globals(), _HOMES)

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
