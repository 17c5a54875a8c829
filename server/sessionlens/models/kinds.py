"""The enums of the event model (``Agent``, ``EventKind``), without pydantic.

``models.session`` re-exports them (the same objects: ``is`` and equality hold everywhere), so a read
command that only compares kinds - ``sessionlens show``'s timeline of plain rows
(``models.store.StoredEvent``) - never imports pydantic (~90 ms of a 150 ms budget).
"""

from __future__ import annotations

from enum import Enum


class Agent(str, Enum):
    """The two agents sessionlens started with.  Every agent (these included) is named by a plain
    string from the agent registry (:mod:`sessionlens.agents`); ``Session.agent`` is that string."""

    CODEX = "codex"
    CLAUDE = "claude"


class EventKind(str, Enum):
    USER_MESSAGE = "user_message"
    ASSISTANT_MESSAGE = "assistant_message"
    REASONING = "reasoning"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    PATCH = "patch"
    TOKEN_USAGE = "token_usage"
    COMPACTION = "compaction"
    SYSTEM = "system"  # injected context, local commands, hooks, informational lines
    ERROR = "error"  # API errors, aborted turns, error events
    META = "meta"  # bookkeeping lines: session_meta, turn_context, snapshots, progress, queue ops
    UNKNOWN = "unknown"  # a line type this version of sessionlens does not know
