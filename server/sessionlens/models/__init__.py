"""The normalized event model (``session``) and coach findings (``findings``): pydantic models.

The names load on first use (PEP 562): a command that reads rows (a CLI listing) never pays for
building the models; the enums (``Agent``, ``EventKind``) come from ``models.kinds``, which needs no
pydantic (``sessionlens show`` compares kinds of plain rows).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sessionlens.models.findings import EventRef, Finding, Severity
    from sessionlens.models.kinds import Agent, EventKind
    from sessionlens.models.session import (
        Event,
        ParseProblem,
        ParseResult,
        ParserState,
        Project,
        Session,
        TokenUsage,
        Turn,
        UsageRecord,
    )

__all__ = [
    "Agent",
    "Event",
    "EventKind",
    "EventRef",
    "Finding",
    "ParseProblem",
    "ParseResult",
    "ParserState",
    "Project",
    "Session",
    "Severity",
    "TokenUsage",
    "Turn",
    "UsageRecord",
]

_HOME = {"EventRef": "findings", "Finding": "findings", "Severity": "findings", "Agent": "kinds", "EventKind": "kinds"}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    mod = importlib.import_module("sessionlens.models." + _HOME.get(name, "session"))
    value = getattr(mod, name)
    globals()[name] = value
    return value
