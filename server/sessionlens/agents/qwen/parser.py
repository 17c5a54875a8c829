"""Parser for Qwen Code chat recordings (JSONL, Gemini-style parts; see README.md here).

Records ``{uuid, parentUuid, sessionId, timestamp, type, cwd, version, message{role, parts[]}}`` with
``type`` user / assistant / tool_result / system (``ui_telemetry``, ``attribution_snapshot``).
Billing: the ``usageMetadata`` of ``assistant`` records only (``ui_telemetry`` api_response events
repeat the same figures): ``promptTokenCount`` includes ``cachedContentTokenCount``, thoughts are
output.  Key ``qwen:<uuid>``.
"""

from __future__ import annotations

from typing import Any

import orjson

from sessionlens.agents.common import MultiEventParser, _usage_record, as_int, as_str, clip, scrub_data_urls
from sessionlens.models.session import Event, EventKind, ParseResult, ParserState, Session, TokenUsage

AGENT = "qwen"


def usage_of(u: Any) -> TokenUsage | None:
    if not isinstance(u, dict):
        return None
    prompt = max(as_int(u.get("promptTokenCount")) or 0, 0)
    cached = min(max(as_int(u.get("cachedContentTokenCount")) or 0, 0), prompt)
    out = max(as_int(u.get("candidatesTokenCount")) or 0, 0)
    thoughts = max(as_int(u.get("thoughtsTokenCount")) or 0, 0)
    if not (prompt or out or thoughts):
        return None
    return TokenUsage(input_tokens=prompt - cached, cache_read_tokens=cached, output_tokens=out + thoughts, reasoning_tokens=thoughts)


class QwenParser(MultiEventParser):
    agent = AGENT

    def initial_session(self) -> Session:
        import os

        name = os.path.basename(self.path)
        return Session(id=name[:-6] if name.endswith(".jsonl") else name or self.path, agent=AGENT)

    def handle(self, obj: dict[str, Any], line: int, offset: int, length: int) -> list[Event]:
        s = self.session
        ts = self.timestamp_of(obj)
        sid = as_str(obj.get("sessionId"))
        if sid and not self.data.get("sid"):
            s.id = sid
            self.data["sid"] = True
        s.cwd = s.cwd or as_str(obj.get("cwd"))
        s.cli_version = s.cli_version or as_str(obj.get("version"))
        t = obj.get("type")
        base: tuple[int, int, int] = (line, offset, length)
        msg: dict[str, Any] = obj["message"] if isinstance(obj.get("message"), dict) else {}
        parts = [p for p in msg.get("parts") or [] if isinstance(p, dict)]
        texts = [p["text"] for p in parts if isinstance(p.get("text"), str) and not p.get("thought")]
        thoughts = [p["text"] for p in parts if isinstance(p.get("text"), str) and p.get("thought")]
        uuid = as_str(obj.get("uuid"))
        if t == "user":
            text = "\n".join(texts) or None
            opened = self.turns.open(line, ts, prompt=clip(text, 2000), model=self.model)
            if s.title is None and text:
                s.title = " ".join(text.split())[:200]
            return [
                self.next_event(
                    *base,
                    EventKind.USER_MESSAGE,
                    "user",
                    ts,
                    opened,
                    role="user",
                    uuid=uuid,
                    text=clip(scrub_data_urls(text)) if text else None,
                )
            ]
        self.turns.touch(line, ts)
        turn: int | None = self.turns.index
        if t == "assistant":
            model = as_str(obj.get("model")) or self.model
            if model:
                self.model = model
                if model not in s.models:
                    s.models.append(model)
            out: list[Event] = []
            if thoughts:
                out.append(
                    self.next_event(
                        *base,
                        EventKind.REASONING,
                        "thought",
                        ts,
                        turn,
                        role="assistant",
                        model=model,
                        text=clip("\n".join(thoughts)),
                        uuid=uuid,
                    )
                )
            if texts:
                out.append(
                    self.next_event(
                        *base,
                        EventKind.ASSISTANT_MESSAGE,
                        "assistant",
                        ts,
                        turn,
                        role="assistant",
                        model=model,
                        text=clip(scrub_data_urls("\n".join(texts))),
                        uuid=uuid,
                    )
                )
            for j, p in enumerate(parts):
                fc = p.get("functionCall")
                if isinstance(fc, dict):
                    name = as_str(fc.get("name")) or "tool"
                    args: dict[str, Any] = fc["args"] if isinstance(fc.get("args"), dict) else {}
                    command = as_str(args.get("command")) if name in ("run_shell_command", "shell") else None
                    files = [args[k] for k in ("file_path", "absolute_path", "path") if isinstance(args.get(k), str)]
                    out.append(
                        self.next_event(
                            *base,
                            EventKind.TOOL_CALL,
                            name,
                            ts,
                            turn,
                            tool=name,
                            model=model,
                            call_id=as_str(fc.get("id")) or f"{uuid}:{j}",
                            command=command,
                            text=command or clip(orjson.dumps(args).decode()),
                            files=files,
                        )
                    )
            if not out:
                out.append(
                    self.next_event(*base, EventKind.ASSISTANT_MESSAGE, "assistant", ts, turn, role="assistant", model=model, uuid=uuid)
                )
            usage = usage_of(obj.get("usageMetadata"))
            if usage is not None and uuid:
                key = f"qwen:{uuid}"
                out[0].usage, out[0].usage_key = usage, key
                self.usage[key] = _usage_record(key=key, line=out[0].seq, timestamp=ts, model=model, usage=usage, speed=None, cost_usd=None)
            return out
        if t == "tool_result":
            out = []
            res: dict[str, Any] = obj["toolCallResult"] if isinstance(obj.get("toolCallResult"), dict) else {}
            for p in parts:
                fr = p.get("functionResponse")
                if not isinstance(fr, dict):
                    continue
                resp = fr.get("response")
                text = None
                err = False
                if isinstance(resp, dict):
                    text = as_str(resp.get("output"))
                    if resp.get("error") is not None:
                        err = True
                        text = text or str(resp.get("error"))
                rname = as_str(fr.get("name"))
                out.append(
                    self.next_event(
                        *base,
                        EventKind.TOOL_RESULT,
                        rname,
                        ts,
                        turn,
                        tool=rname,
                        call_id=as_str(fr.get("id")) or as_str(res.get("callId")),
                        is_error=err or res.get("status") == "error",
                        text=clip(text or as_str(res.get("resultDisplay"))),
                    )
                )
            return out or [self.next_event(*base, EventKind.TOOL_RESULT, None, ts, turn, call_id=as_str(res.get("callId")))]
        if t == "system":
            sub = as_str(obj.get("subtype"))
            return [self.next_event(*base, EventKind.META, f"system/{sub}" if sub else "system", ts, turn)]
        return [self.next_event(*base, EventKind.UNKNOWN, str(t) if t is not None else None, ts, turn)]


def parse(data: bytes, path: str, state: ParserState | None = None) -> ParseResult:
    return QwenParser(path, state).parse(data)
