"""Hand-built sessions for coach tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sessionlens.models import Agent, Event, EventKind, Session, TokenUsage, Turn

T0 = datetime(2026, 2, 1, 12, 0, 0, tzinfo=timezone.utc)


def session(**kw: Any) -> Session:
    kw.setdefault("id", "s1")
    kw.setdefault("agent", Agent.CLAUDE)
    kw.setdefault("source_files", ["/logs/s1.jsonl"])
    return Session(**kw)


class Log:
    """Appends events with consecutive seq/line numbers."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.turns: list[Turn] = []
        self.turn: int | None = None

    def add(self, kind: EventKind, **kw: Any) -> Event:
        seq = len(self.events) + 1
        kw.setdefault("timestamp", T0 + timedelta(seconds=seq))
        kw.setdefault("turn", self.turn)
        ev = Event(seq=seq, line=seq, offset=seq * 100, kind=kind, **kw)
        self.events.append(ev)
        if self.turns and self.turn is not None:
            self.turns[-1].end_line = seq
        return ev

    def prompt(self, text: str = "do the thing", **kw: Any) -> Event:
        self.turn = 0 if self.turn is None else self.turn + 1
        ev = self.add(EventKind.USER_MESSAGE, text=text, role="user", **kw)
        self.turns.append(Turn(index=self.turn, start_line=ev.seq, end_line=ev.seq, prompt=text))
        return ev

    def say(self, text: str, **kw: Any) -> Event:
        return self.add(EventKind.ASSISTANT_MESSAGE, text=text, role="assistant", **kw)

    def shell(
        self,
        command: str,
        output: str = "",
        exit_code: int | None = 0,
        tool: str = "Bash",
        call_id: str | None = None,
        call_kw: dict | None = None,
        **result_kw: Any,
    ) -> tuple[Event, Event]:
        call_id = call_id or f"c{len(self.events) + 1}"
        call = self.add(EventKind.TOOL_CALL, tool=tool, call_id=call_id, command=command, text=command, **(call_kw or {}))
        result_kw.setdefault("is_error", exit_code not in (None, 0))
        result = self.add(EventKind.TOOL_RESULT, tool=tool, call_id=call_id, exit_code=exit_code, text=output, **result_kw)
        return call, result

    def tool(
        self, tool: str, input_text: str = "", output: str = "", is_error: bool = False, files: list[str] | None = None, **result_kw: Any
    ) -> tuple[Event, Event]:
        call_id = f"c{len(self.events) + 1}"
        call = self.add(EventKind.TOOL_CALL, tool=tool, call_id=call_id, text=input_text, files=files or [])
        result = self.add(EventKind.TOOL_RESULT, tool=tool, call_id=call_id, text=output, is_error=is_error, files=files or [], **result_kw)
        return call, result

    def usage(self, total: int, **kw: Any) -> Event:
        return self.add(
            EventKind.ASSISTANT_MESSAGE,
            text="…",
            usage=TokenUsage(input_tokens=total - 10, output_tokens=10),
            usage_key=f"k{len(self.events) + 1}",
            **kw,
        )
