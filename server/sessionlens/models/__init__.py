"""The normalized event model (``session``) and coach findings (``findings``): pydantic models.

The names load on first use (PEP 562): a command that reads rows (a CLI listing) never pays for
building the models; the enums (``Agent``, ``EventKind``) come from ``models.kinds``, which needs no
pydantic (``sessionlens show`` compares kinds of plain rows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sessionlens.models.lazy import lazy_exports

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

_HOME = {
    n: "sessionlens.models."
    + {"EventRef": "findings", "Finding": "findings", "Severity": "findings", "Agent": "kinds", "EventKind": "kinds"}.get(n, "session")
    for n in __all__
}

__getattr__, __dir__ = lazy_exports(__name__, globals(), _HOME)
