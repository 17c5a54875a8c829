"""The enums of the event model (``Agent``, ``EventKind``) and the token arithmetic its usage
classes share (``TokenFigures``), without pydantic.

``models.session`` re-exports them (the same objects: ``is`` and equality hold everywhere), so a read
command that only compares kinds - ``sessionlens show``'s timeline of plain rows
(``models.store.StoredEvent``) - never imports pydantic (~90 ms of a 150 ms budget).
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING


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


class TokenFigures:
    """The derived token counts of ``models.session.TokenUsage`` and its plain row
    ``models.store.StoredTokenUsage`` (one definition for both: a mixin over their six fields)."""

    __slots__ = ()
    if TYPE_CHECKING:  # the fields of the classes it is mixed into (declared there, not here)
        input_tokens: int
        cache_read_tokens: int
        cache_write_5m_tokens: int
        cache_write_1h_tokens: int
        output_tokens: int

    @property
    def prompt_tokens(self) -> int:
        """All prompt-side tokens: uncached + cache reads + cache writes."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_5m_tokens + self.cache_write_1h_tokens

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.output_tokens
