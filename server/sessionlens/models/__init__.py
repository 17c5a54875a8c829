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
    "Agent", "Event", "EventKind", "EventRef", "Finding", "ParseProblem", "ParseResult", "ParserState",
    "Project", "Session", "Severity", "TokenUsage", "Turn", "UsageRecord",
]
