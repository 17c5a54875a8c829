"""Building a ParseResult from a whole document or a database row set (``document``, ``sqlite`` and
``directory`` sources): events numbered in order (``seq``), each with the editor location it came
from (``line`` and ``extra["end_line"]`` for files, ``extra["row"]`` for databases).  Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sessionlens.agents.common import (
    Event,
    EventKind,
    ParseProblem,
    ParseResult,
    ParserState,
    Session,
    TokenUsage,
    Turn,
    UsageRecord,
    _usage_record,
    clip,
    new_event,
)


class DocBuilder:
    """Collects events, turns, usage and problems of one session parsed whole."""

    def __init__(self, agent: str, session: Session, *, size: int = 0, line_offsets: list[int] | None = None):
        self.agent = agent
        self.session = session
        self.events: list[Event] = []
        self.turns: list[dict[str, Any]] = []
        self.usage: dict[str, UsageRecord] = {}
        self.problems: list[ParseProblem] = []
        self.size = size
        self.offsets = line_offsets or []
        self.models: list[str] = list(session.models)
        self.ts_min: datetime | None = None
        self.ts_max: datetime | None = None

    # ------------------------------------------------------------------ locations
    def _offset(self, line: int) -> tuple[int, int]:
        offs = self.offsets
        if not offs or line < 1 or line > len(offs):
            return 0, 0
        start = offs[line - 1]
        end = offs[line] - 1 if line < len(offs) else self.size
        return start, max(end - start, 0)

    # ------------------------------------------------------------------ building
    @property
    def turn(self) -> int | None:
        return self.turns[-1]["index"] if self.turns else None

    def open_turn(self, line: int, ts: datetime | None, prompt: str | None, model: str | None = None) -> int:
        idx = len(self.turns)
        self.turns.append(
            {
                "index": idx,
                "start_line": line,
                "end_line": line,
                "started_at": ts,
                "ended_at": ts,
                "prompt": clip(prompt, 2000) if prompt else None,
                "model": model,
                "turn_id": None,
                "aborted": False,
                "duration_ms": None,
            }
        )
        return idx

    def add(
        self,
        kind: EventKind,
        subtype: str | None,
        *,
        line: int = 0,
        end_line: int | None = None,
        ts: datetime | None = None,
        row: Any = None,
        text: str | None = None,
        **fields: Any,
    ) -> Event:
        seq = len(self.events) + 1
        offset, length = self._offset(line)
        extra = fields.pop("extra", None) or {}
        if line:
            extra["line"] = line
            if end_line and end_line != line:
                extra["end_line"] = end_line
        if row is not None:
            extra["row"] = row
        ev = new_event(seq, offset, length, kind, subtype, ts, self.turn, text=clip(text), **fields)
        ev.line = line or seq
        ev.extra = extra
        if ts is not None:
            if self.ts_min is None or ts < self.ts_min:
                self.ts_min = ts
            if self.ts_max is None or ts > self.ts_max:
                self.ts_max = ts
        if self.turns:
            t = self.turns[-1]
            t["end_line"] = max(t["end_line"], end_line or line or 0)
            if ts is not None:
                t["ended_at"] = ts
        model = fields.get("model")
        if model and model not in self.models:
            self.models.append(model)
        self.events.append(ev)
        return ev

    def bill(self, ev: Event, key: str, usage: TokenUsage, model: str | None, cost_usd: float | None = None) -> None:
        """Attach a billed request's usage to ``ev`` (deduplicated by ``key`` across the store)."""
        ev.usage = usage
        ev.usage_key = key
        self.usage[key] = _usage_record(
            key=key, line=ev.seq, timestamp=ev.timestamp, model=model, usage=usage, speed=None, cost_usd=cost_usd
        )

    def _seq_by_line(self) -> None:
        """When every event sits on a line of its own (a pretty-printed document, a text transcript),
        ``seq`` becomes that line, as for JSONL: editors address events by line.  Otherwise (several
        events on one line, database rows) ``seq`` stays the running number."""
        lines = [e.extra.get("line") for e in self.events]
        if not lines or not all(lines) or len(set(lines)) != len(lines):
            return
        remap = {}
        for e in self.events:
            remap[e.seq] = e.extra["line"]
            e.seq = e.extra.pop("line")
        self.events.sort(key=lambda e: e.seq)
        for u in self.usage.values():
            u.line = remap.get(u.line, u.line)

    def problem(self, line: int, message: str, severity: str = "warning") -> None:
        offset, _ = self._offset(line)
        self.problems.append(ParseProblem(line=max(line, 1), offset=offset, message=message, severity=severity))

    def result(self, *, consumed: int) -> ParseResult:
        s = self.session
        if self.ts_min is not None and (s.started_at is None or self.ts_min < s.started_at):
            s.started_at = self.ts_min
        if self.ts_max is not None and (s.ended_at is None or self.ts_max > s.ended_at):
            s.ended_at = self.ts_max
        s.models = self.models
        if s.title is None:
            first = next((t["prompt"] for t in self.turns if t.get("prompt")), None)
            if first:
                s.title = " ".join(first.split())[:200]
        self._seq_by_line()
        state = ParserState(offset=consumed, line=0, session=s, turns=len(self.turns))
        return ParseResult.model_construct(
            agent=self.agent,
            session=s.model_copy(deep=True),
            events=self.events,
            turns=[Turn.model_construct(**t) for t in self.turns],
            usage=list(self.usage.values()),
            problems=self.problems,
            state=state,
        )


def line_offsets(data: bytes) -> list[int]:
    """Byte offset of the start of every line (1-based line n starts at ``offsets[n-1]``)."""
    offs = [0]
    find = data.find
    pos = find(b"\n")
    while pos >= 0:
        offs.append(pos + 1)
        pos = find(b"\n", pos + 1)
    if offs[-1] == len(data) and len(offs) > 1:
        offs.pop()
    return offs


def text_of(content: Any) -> str | None:
    """Text of a content value: a string, or a list of ``{text}`` parts (others ignored)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        parts += [p for p in content if isinstance(p, str)]
        return "\n".join(parts) if parts else None
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return content["text"]
    return None
