"""Parser for Pi coding-agent sessions (``~/.pi/agent/sessions/--<cwd>--/<ts>_<id>.jsonl``).

Line 1 is the header ``{type: "session", id, timestamp, cwd, provider?, modelId?, version?,
branchedFrom?}``; then entries ``message`` (``message.role`` user / assistant / toolResult /
bashExecution), ``model_change``, ``thinking_level_change``, ``compaction``; v3 entries carry
``id``/``parentId``.  An assistant message is one line with all its content blocks (text,
thinking, toolCall): a line can give several events (``MultiEventParser``).

Usage per assistant message: ``{input, output, cacheRead, cacheWrite, totalTokens?, cost{...}}``;
``input`` excludes cached tokens, ``cacheWrite`` are (5-minute) cache writes; the recorded
``cost.total`` is kept as the log's own cost.  Usage key ``pi:<session>:<line>`` (the file is
append-only, each assistant line is one request).
"""

from __future__ import annotations

import os
from typing import Any

from sessionlens.agents.common import (
    MultiEventParser,
    _usage_record,
    as_int,
    as_str,
    clip,
    parse_ts,
    scrub_data_urls,
)
from sessionlens.agents.docparse import text_of
from sessionlens.models.session import Event, EventKind, ParseResult, ParserState, Session, TokenUsage

AGENT = "pi"
_SHELL = frozenset({"bash"})
_PATCH = frozenset({"edit", "write"})
_FILE_ARGS = ("path", "file_path")


def usage_of(u: Any) -> TokenUsage | None:
    if not isinstance(u, dict):
        return None
    inp = max(as_int(u.get("input")) or 0, 0)
    out = max(as_int(u.get("output")) or 0, 0)
    cr = max(as_int(u.get("cacheRead")) or 0, 0)
    cw = max(as_int(u.get("cacheWrite")) or 0, 0)
    if not (inp or out or cr or cw):
        return None
    return TokenUsage(input_tokens=inp, cache_read_tokens=cr, cache_write_5m_tokens=cw, output_tokens=out)


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


class PiParser(MultiEventParser):
    agent = AGENT

    def initial_session(self) -> Session:
        name = os.path.basename(self.path)
        if name.endswith(".jsonl"):
            name = name[:-6]
        sid = name.rsplit("_", 1)[-1] if "_" in name else name
        return Session(id=sid or self.path, agent=AGENT)

    def _ts(self, obj: dict[str, Any]) -> Any:
        return self.timestamp_of(obj)

    def handle(self, obj: dict[str, Any], line: int, offset: int, length: int) -> list[Event]:
        t = obj.get("type")
        s = self.session
        base: tuple[int, int, int] = (line, offset, length)
        if t == "session":
            ts = parse_ts(obj.get("timestamp"))  # a branched session's header can be later than its messages
            sid = as_str(obj.get("id"))
            if sid:
                s.id = sid
            s.cwd = as_str(obj.get("cwd")) or s.cwd
            if s.started_at is None:
                self.data["header_ts"] = obj.get("timestamp")
            model = as_str(obj.get("modelId"))
            if model:
                self.model = model
            branched = as_str(obj.get("branchedFrom"))
            if branched:
                s.parent_session_id = os.path.basename(branched)[:-6].rsplit("_", 1)[-1] if branched.endswith(".jsonl") else None
            s.originator = as_str(obj.get("provider")) or s.originator
            return [self.next_event(*base, EventKind.META, "session", ts, self.turns.index, model=model)]
        ts = self._ts(obj)
        if t == "model_change":
            self.model = as_str(obj.get("modelId")) or self.model
            return [self.next_event(*base, EventKind.META, "model_change", ts, self.turns.index, model=self.model, text=self.model)]
        if t == "thinking_level_change":
            return [
                self.next_event(*base, EventKind.META, "thinking_level_change", ts, self.turns.index, text=as_str(obj.get("thinkingLevel")))
            ]
        if t == "compaction":
            self.turns.touch(line, ts)
            return [
                self.next_event(
                    *base,
                    EventKind.COMPACTION,
                    "compaction",
                    ts,
                    self.turns.index,
                    text=clip(as_str(obj.get("summary"))),
                    extra={"tokens_before": as_int(obj.get("tokensBefore"))},
                )
            ]
        if t != "message" or not isinstance(obj.get("message"), dict):
            return [self.next_event(*base, EventKind.UNKNOWN, str(t) if t is not None else None, ts, self.turns.index)]
        m = obj["message"]
        role = m.get("role")
        if role == "user":
            text = text_of(m.get("content"))
            turn = self.turns.open(line, ts, prompt=clip(text, 2000), model=self.model)
            return [
                self.next_event(
                    *base,
                    EventKind.USER_MESSAGE,
                    "user",
                    ts,
                    turn,
                    role="user",
                    text=clip(scrub_data_urls(text)) if text else None,
                    uuid=as_str(obj.get("id")),
                )
            ]
        self.turns.touch(line, ts)
        if role == "assistant":
            return self._assistant(obj, m, base, ts)
        if role == "toolResult":
            text = text_of(m.get("content"))
            name = as_str(m.get("toolName"))
            return [
                self.next_event(
                    *base,
                    EventKind.TOOL_RESULT,
                    name,
                    ts,
                    self.turns.index,
                    tool=name,
                    call_id=as_str(m.get("toolCallId")),
                    is_error=m.get("isError") is True,
                    text=clip(scrub_data_urls(text)) if text else None,
                )
            ]
        if role == "bashExecution":  # a command the user ran with `!`
            code = as_int(m.get("exitCode"))
            cid = f"bash:{base[0]}"
            return [
                self.next_event(
                    *base,
                    EventKind.TOOL_CALL,
                    "bashExecution",
                    ts,
                    self.turns.index,
                    tool="bash",
                    call_id=cid,
                    command=as_str(m.get("command")),
                    text=as_str(m.get("command")),
                ),
                self.next_event(
                    *base,
                    EventKind.TOOL_RESULT,
                    "bashExecution",
                    ts,
                    self.turns.index,
                    tool="bash",
                    call_id=cid,
                    exit_code=code,
                    is_error=code not in (None, 0),
                    text=clip(as_str(m.get("output"))),
                ),
            ]
        return [self.next_event(*base, EventKind.UNKNOWN, f"message/{role}", ts, self.turns.index)]

    def _assistant(self, obj: dict[str, Any], m: dict[str, Any], base: tuple[int, int, int], ts: Any) -> list[Event]:
        line = base[0]
        model = as_str(m.get("model")) or self.model
        if model:
            self.model = model
            if model not in self.session.models:
                self.session.models.append(model)
        turn = self.turns.index
        out: list[Event] = []
        texts: list[str] = []
        thinking: list[str] = []
        calls: list[dict[str, Any]] = []
        for b in _blocks(m.get("content")):
            bt = b.get("type")
            if bt == "text" and isinstance(b.get("text"), str):
                texts.append(b["text"])
            elif bt == "thinking" and isinstance(b.get("thinking"), str) and b["thinking"]:
                thinking.append(b["thinking"])
            elif bt == "toolCall":
                calls.append(b)
        if thinking:
            out.append(
                self.next_event(
                    *base, EventKind.REASONING, "thinking", ts, turn, role="assistant", model=model, text=clip("\n\n".join(thinking))
                )
            )
        stop = as_str(m.get("stopReason"))
        if texts or not (thinking or calls):
            kind = EventKind.ERROR if stop == "error" else EventKind.ASSISTANT_MESSAGE
            text = "\n".join(texts) or as_str(m.get("errorMessage"))
            out.append(
                self.next_event(
                    *base,
                    kind,
                    "assistant",
                    ts,
                    turn,
                    role="assistant",
                    model=model,
                    text=clip(scrub_data_urls(text)) if text else None,
                    is_error=stop == "error",
                )
            )
        for c in calls:
            name = as_str(c.get("name")) or "tool"
            args: dict[str, Any] = c["arguments"] if isinstance(c.get("arguments"), dict) else {}
            files = [args[k] for k in _FILE_ARGS if isinstance(args.get(k), str)]
            command = as_str(args.get("command")) if name in _SHELL else None
            kind = EventKind.PATCH if name in _PATCH else EventKind.TOOL_CALL
            body = command or as_str(args.get("newText")) or as_str(args.get("content"))
            if body is None and args:
                import orjson

                body = orjson.dumps(args).decode()
            out.append(
                self.next_event(
                    *base,
                    kind,
                    name,
                    ts,
                    turn,
                    tool=name,
                    call_id=as_str(c.get("id")),
                    command=command,
                    text=clip(body),
                    files=files,
                    model=model,
                )
            )
        usage = usage_of(m.get("usage"))
        if usage is not None and out:
            key = f"pi:{self.session.id}:{line}"
            cost = m["usage"].get("cost") if isinstance(m.get("usage"), dict) else None
            total = cost.get("total") if isinstance(cost, dict) else None
            ev = out[0]
            ev.usage, ev.usage_key = usage, key
            self.usage[key] = _usage_record(
                key=key,
                line=ev.seq,
                timestamp=ts,
                model=model,
                usage=usage,
                speed=None,
                cost_usd=float(total) if isinstance(total, (int, float)) else None,
            )
        return out

    def finish(self) -> None:
        s = self.session
        if self.ts_min is None and self.data.get("header_ts"):
            self.ts_min = parse_ts(self.data["header_ts"])
        if s.title is None:
            first = next((t["prompt"] for t in self.turns.changed.values() if t.get("prompt")), None)
            if first:
                s.title = " ".join(first.split())[:200]


def parse(data: bytes, path: str, state: ParserState | None = None) -> ParseResult:
    return PiParser(path, state).parse(data)
