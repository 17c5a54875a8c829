"""The normalized event model (``session``) and coach findings (``findings``): pydantic models.

The names load on first use (PEP 562): a command that reads rows (a CLI listing) never pays for
building the models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sessionlens.models.findings import EventRef, Finding, Severity
    from sessionlens.models.session import (
        Agent,
        Event,
        EventKind,
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

_FINDINGS = frozenset({"EventRef", "Finding", "Severity"})


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    mod = importlib.import_module("sessionlens.models.findings" if name in _FINDINGS else "sessionlens.models.session")
    value = getattr(mod, name)
    globals()[name] = value
    return value
