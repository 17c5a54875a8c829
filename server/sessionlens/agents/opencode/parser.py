"""Parser for sst/opencode sessions (pure functions, no I/O).

OpenCode keeps a session as one ``session`` record, its ``message`` records and their ``part`` records,
each a JSON object -- in the SQLite database ``opencode.db`` (tables ``session``, ``message``, ``part``
with a JSON ``data`` column, OpenCode >= 1.2) or, in older versions, in the JSON storage tree
``storage/session/<project>/<ses>.json``, ``storage/message/<ses>/<msg>.json``,
``storage/part/<msg>/<prt>.json``.  Both are normalized by the reader into plain dicts and handed to
:func:`parse_session`, so the two layouts parse identically.

Events.  One event per part, in message order (``time_created`` then id, ids are time-ordered);
a ``tool`` part holds the call *and* its result (``state``), so it becomes a TOOL_CALL and, once its
status is ``completed`` / ``error``, a TOOL_RESULT.  ``seq`` numbers events from 1; ``line`` equals
``seq`` (the transcript is the view of a database row); ``extra["row"]`` names the row.

Tokens.  Every ``step-finish`` part is one model request and carries that request's ``tokens``
(``input`` uncached, ``output`` *without* reasoning, ``reasoning``, ``cache.read``, ``cache.write``): one
:class:`UsageRecord` per step-finish part (``opencode:<part id>``).  ``message.tokens`` is overwritten
by each step (it is the *last* step's tokens, while ``message.cost`` adds up), so it is used only for
a message that has no step-finish parts (``opencode:<message id>``).  ``output_tokens`` here include
reasoning (sessionlens' OpenAI semantics).  The cost OpenCode recorded is kept as the log's cost.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson

from sessionlens.agents.common import (
    META,
    Event,
    EventKind,
    ParseProblem,
    ParseResult,
    ParserState,
    Session,
    TokenUsage,
    TurnTracker,
    UsageRecord,
    _construct,
    _usage_record,
    as_int,
    as_str,
    clip,
    edit_diff,
    new_event,
    scrub_data_urls,
)

AGENT = "opencode"  # the registry name (sessions.agent)
FILE_TOOLS = frozenset({"read", "write", "edit", "patch", "multiedit", "apply_patch"})
PATCH_TOOLS = frozenset({"write", "edit", "multiedit", "patch", "apply_patch"})
SHELL_TOOLS = frozenset({"bash"})


def _dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (a hostile log may put anything anywhere)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def ms_to_dt(value: Any) -> datetime | None:
    """Epoch milliseconds -> aware UTC datetime (None when absent or absurd)."""
    n = as_int(value)
    if n is None or n <= 0 or n > 10**14:
        return None
    try:
        return datetime.fromtimestamp(n / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


#: a token count above this is not believable (hostile input): clamped, so sums cannot overflow SQLite
MAX_TOKENS = 10**12


def _tok(value: Any) -> int:
    n = as_int(value)
    return 0 if n is None or n < 0 else min(n, MAX_TOKENS)


def tokens_usage(tokens: Any) -> TokenUsage | None:
    """OpenCode ``tokens`` -> :class:`TokenUsage` (None when absent); output gains the reasoning tokens."""
    if not isinstance(tokens, dict):
        return None
    cache = _dict(tokens.get("cache"))
    reasoning = _tok(tokens.get("reasoning"))
    return _construct(
        TokenUsage,
        dict(
            input_tokens=_tok(tokens.get("input")),
            cache_read_tokens=_tok(cache.get("read")),
            cache_write_5m_tokens=_tok(cache.get("write")),
            cache_write_1h_tokens=0,
            output_tokens=_tok(tokens.get("output")) + reasoning,
            reasoning_tokens=reasoning,
        ),
    )


def _cost(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and value == value and 0 <= value < 1e9:
        return float(value)
    return None


def _order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def key(r: dict[str, Any]) -> tuple:
        data = _dict(r.get("data"))
        t = as_int(r.get("time_created"))
        if t is None:
            tm = _dict(data.get("time"))
            t = as_int(tm.get("created")) or as_int(tm.get("start"))
        return (t or 0, str(r.get("id") or ""))

    return sorted(rows, key=key)


def _patch_text(tool: str, inp: dict[str, Any]) -> str | None:
    path = as_str(inp.get("filePath")) or as_str(inp.get("path"))
    if tool == "write":
        content = as_str(inp.get("content"))
        return None if content is None else edit_diff(path, new_file=content)
    if tool == "edit":
        old, new = as_str(inp.get("oldString")), as_str(inp.get("newString"))
        return None if old is None and new is None else edit_diff(path, [(old, new)])
    text = as_str(inp.get("patchText")) or as_str(inp.get("patch"))
    return text


class _Builder:
    """Collects the events, turns and usage of one session."""

    def __init__(self, agent: str, session: Session) -> None:
        self.agent = agent
        self.session = session
        self.state = ParserState()
        self.turns = TurnTracker(self.state)
        self.events: list[Event] = []
        self.usage: dict[str, UsageRecord] = {}
        self.problems: list[ParseProblem] = []
        self.ts_min: datetime | None = None
        self.ts_max: datetime | None = None

    def add(self, kind: EventKind, subtype: str, ts: datetime | None, row: dict[str, Any], **fields: Any) -> Event:
        seq = len(self.events) + 1
        if ts is not None:
            self.ts_min = ts if self.ts_min is None or ts < self.ts_min else self.ts_min
            self.ts_max = ts if self.ts_max is None or ts > self.ts_max else self.ts_max
        extra = fields.pop("extra", None) or {}
        extra["row"] = row
        ev = new_event(seq, 0, 0, kind, subtype, ts, self.turns.index, extra=extra, **fields)
        self.events.append(ev)
        self.turns.touch(seq, ts)
        return ev

    def model(self, model: str | None) -> None:
        if model and model not in self.session.models:
            self.session.models.append(model)
        if model and self.turns.current is not None and self.turns.current.get("model") is None:
            self.turns.update(model=model)

    def bill(self, key: str, ts: datetime | None, model: str | None, usage: TokenUsage, cost: float | None, ev: Event) -> None:
        if usage.total_tokens == 0 and not cost:
            return  # an aborted or failed request billed nothing (OpenCode writes zero tokens)
        self.usage[key] = _usage_record(key=key, line=ev.line, timestamp=ts, model=model, usage=usage, speed=None, cost_usd=cost)
        ev.usage = usage
        ev.usage_key = key

    def result(self) -> ParseResult:
        s = self.session
        if self.ts_min is not None and (s.started_at is None or self.ts_min < s.started_at):
            s.started_at = self.ts_min
        if self.ts_max is not None and (s.ended_at is None or self.ts_max > s.ended_at):
            s.ended_at = self.ts_max
        st = self.state
        st.line = len(self.events)
        st.session = s
        self.turns.save(st)
        return ParseResult.model_construct(
            agent=self.agent,
            session=s.model_copy(deep=True),
            events=self.events,
            turns=self.turns.turns(),
            usage=list(self.usage.values()),
            problems=self.problems,
            state=st,
        )


def session_from_record(rec: dict[str, Any], path: str) -> Session:
    """A :class:`Session` from a normalized session record (db row or storage JSON, see :func:`parse_session`)."""
    sid = as_str(rec.get("id")) or path
    s = Session(id=sid, agent=AGENT, source_files=[path] if path else [], originator="opencode")
    s.cwd = as_str(rec.get("directory"))
    s.title = (as_str(rec.get("title")) or "").strip()[:200] or None
    s.cli_version = as_str(rec.get("version"))
    s.parent_session_id = as_str(rec.get("parent_id"))
    s.started_at = ms_to_dt(rec.get("time_created"))
    s.ended_at = ms_to_dt(rec.get("time_updated"))
    return s


def parse_session(session: dict[str, Any], messages: list[dict[str, Any]], parts: list[dict[str, Any]], path: str) -> ParseResult:
    """One OpenCode session from normalized records.

    ``session``: ``{id, parent_id, title, directory, version, time_created, time_updated}`` (epoch ms);
    ``messages``: ``[{id, time_created, data: {role, time, modelID, providerID, tokens, cost, error, …}}]``;
    ``parts``: ``[{id, message_id, time_created, data: {type, …}}]`` in their stored order (database rows
    by id, which OpenCode makes ascending in time; storage files by name).  A record whose ``data`` is
    not an object becomes a problem; the rest is parsed."""
    b = _Builder(AGENT, session_from_record(session, path))
    by_message: dict[str, list[dict[str, Any]]] = {}
    for p in parts:
        if not isinstance(p.get("data"), dict):
            b.problems.append(ParseProblem(line=0, offset=0, message=f"part {p.get('id')!r}: data is not a JSON object"))
            continue
        by_message.setdefault(str(p.get("message_id") or p["data"].get("messageID") or ""), []).append(p)
    for m in _order([m for m in messages if isinstance(m, dict)]):
        if not isinstance(m.get("data"), dict):
            b.problems.append(ParseProblem(line=0, offset=0, message=f"message {m.get('id')!r}: data is not a JSON object"))
            continue
        try:
            _message(b, m, by_message.get(str(m.get("id")), []))
        except Exception as exc:  # one bad record costs that record only
            b.problems.append(
                ParseProblem(
                    line=len(b.events), offset=0, severity="warning", message=f"message {m.get('id')!r}: cannot interpret: {exc!r}"
                )
            )
    return b.result()


def _message(b: _Builder, m: dict[str, Any], parts: list[dict[str, Any]]) -> None:
    data = m["data"]
    mid = str(m.get("id") or data.get("id") or "")
    role = as_str(data.get("role"))
    tm = _dict(data.get("time"))
    ts = ms_to_dt(tm.get("created")) or ms_to_dt(m.get("time_created"))
    row = {"table": "message", "id": mid}
    model = as_str(data.get("modelID"))
    if model is None and isinstance(data.get("model"), dict):
        model = as_str(data["model"].get("modelID"))
    path = data.get("path")
    if isinstance(path, dict) and b.session.cwd is None:
        b.session.cwd = as_str(path.get("cwd"))
    if role == "user":
        texts = [p for p in parts if p["data"].get("type") == "text" and not p["data"].get("synthetic")]
        prompt = "\n".join(as_str(p["data"].get("text")) or "" for p in texts).strip()
        if prompt:
            b.turns.open(len(b.events) + 1, ts, prompt=clip(prompt), model=model)
            if b.session.title is None or b.session.title.startswith("New session - "):
                b.session.title = prompt.splitlines()[0][:200]
        elif not parts:
            summary = _dict(data.get("summary"))
            text = as_str(summary.get("body")) or as_str(summary.get("title"))
            if text:
                b.turns.open(len(b.events) + 1, ts, prompt=clip(text), model=model)
                b.add(EventKind.USER_MESSAGE, "user", ts, row, role="user", text=clip(text), message_id=mid)
                return
    elif role == "assistant":
        b.model(model)
    steps = 0
    for p in parts:
        steps += _part(b, p, mid, role, model, ts)
    if role == "assistant":
        err = data.get("error")
        if isinstance(err, dict):
            ed = _dict(err.get("data"))
            name = as_str(err.get("name"))
            if name == "MessageAbortedError":
                b.turns.update(aborted=True)
            b.add(
                EventKind.ERROR,
                f"message/error/{name or 'unknown'}",
                ms_to_dt(tm.get("completed")) or ts,
                row,
                is_error=True,
                text=clip(as_str(ed.get("message")) or name),
                message_id=mid,
                model=model,
            )
        if data.get("summary") is True:
            b.add(EventKind.COMPACTION, "message/summary", ts, row, role="assistant", message_id=mid, model=model)
        if not steps:
            usage = tokens_usage(data.get("tokens"))
            cost = _cost(data.get("cost"))
            if usage is not None:
                ev = (
                    b.events[-1]
                    if b.events and b.events[-1].message_id == mid
                    else b.add(META, "message/assistant", ts, row, role="assistant", message_id=mid, model=model)
                )
                b.bill(f"opencode:{mid}", ts, model, usage, cost, ev)
    b.turns.touch(len(b.events), ms_to_dt(tm.get("completed")) or ts)


def _part(b: _Builder, p: dict[str, Any], mid: str, role: str | None, model: str | None, msg_ts: datetime | None) -> int:
    """Add the events of one part; returns 1 for a step-finish part (a billed request), else 0."""
    d = p["data"]
    pid = str(p.get("id") or d.get("id") or "")
    t = as_str(d.get("type")) or "unknown"
    tm = _dict(d.get("time"))
    ts = ms_to_dt(tm.get("start")) or ms_to_dt(p.get("time_created")) or msg_ts
    row = {"table": "part", "id": pid, "message_id": mid}
    common: dict[str, Any] = {"message_id": mid, "role": role}
    if role == "assistant":
        common["model"] = model
    if t == "text":
        text = as_str(d.get("text"))
        if role == "user":
            kind = EventKind.SYSTEM if d.get("synthetic") else EventKind.USER_MESSAGE
            b.add(
                kind,
                "user/text" if kind is EventKind.USER_MESSAGE else "user/synthetic",
                ts,
                row,
                text=clip(scrub_data_urls(text)) if text else None,
                **common,
            )
        else:
            b.add(
                EventKind.ASSISTANT_MESSAGE,
                "assistant/text",
                ts,
                row,
                text=clip(scrub_data_urls(text)) if text else None,
                extra={"synthetic": True} if d.get("synthetic") else {},
                **common,
            )
    elif t == "reasoning":
        b.add(EventKind.REASONING, "reasoning", ts, row, text=clip(as_str(d.get("text"))), **common)
    elif t == "tool":
        _tool(b, d, row, ts, common)
    elif t == "step-finish":
        usage = tokens_usage(d.get("tokens"))
        cost = _cost(d.get("cost"))
        ev = b.add(
            EventKind.TOKEN_USAGE,
            "step-finish",
            ms_to_dt(p.get("time_created")) or ts,
            row,
            extra={"reason": d["reason"]} if isinstance(d.get("reason"), str) else {},
            **common,
        )
        if usage is not None:
            b.bill(f"opencode:{pid}", ev.timestamp, model, usage, cost, ev)
        return 1
    elif t == "compaction":
        b.add(EventKind.COMPACTION, "compaction", ts, row, extra={"auto": d["auto"]} if isinstance(d.get("auto"), bool) else {}, **common)
    elif t == "patch":
        files = [f for f in d.get("files") or [] if isinstance(f, str)] if isinstance(d.get("files"), list) else []
        b.add(META, "patch", ts, row, files=files[:200], extra={"files": len(files)}, **common)
    elif t == "file":
        name = as_str(d.get("filename")) or as_str(d.get("url"))
        b.add(META, "file", ts, row, text=name, files=[name] if name and not name.startswith("data:") else [], **common)
    elif t == "retry":
        err = _dict(d.get("error"))
        ed = _dict(err.get("data"))
        b.add(EventKind.ERROR, "retry", ts, row, is_error=True, text=clip(as_str(ed.get("message"))), **common)
    elif t in ("subtask", "agent"):
        text = as_str(d.get("prompt")) or as_str(d.get("description")) or as_str(d.get("name"))
        b.add(META, t, ts, row, text=clip(text), agent_id=as_str(d.get("agent")) or as_str(d.get("name")), **common)
    elif t in ("step-start", "snapshot"):
        b.add(META, t, ts, row, **common)
    else:
        b.add(EventKind.UNKNOWN, t, ts, row, **common)
    return 0


def _tool(b: _Builder, d: dict[str, Any], row: dict[str, Any], ts: datetime | None, common: dict[str, Any]) -> None:
    tool = as_str(d.get("tool"))
    cid = as_str(d.get("callID"))
    state = _dict(d.get("state"))
    inp = _dict(state.get("input"))
    st_time = _dict(state.get("time"))
    start, end = ms_to_dt(st_time.get("start")), ms_to_dt(st_time.get("end"))
    files: list[str] = []
    fp = as_str(inp.get("filePath")) or (as_str(inp.get("path")) if tool in FILE_TOOLS else None)
    if tool in FILE_TOOLS and fp:
        files.append(fp)
    command = as_str(inp.get("command")) if tool in SHELL_TOOLS else None
    extra: dict[str, Any] = {}
    desc = as_str(inp.get("description"))
    if desc:
        extra["description"] = desc
    metadata = _dict(state.get("metadata"))
    child = as_str(metadata.get("sessionId")) or as_str(metadata.get("sessionID"))
    if tool == "task":
        for k in ("subagent_type",):
            if isinstance(inp.get(k), str):
                extra[k] = inp[k]
        if child:
            extra["child_session"] = child
    diff = _patch_text(tool, inp) if tool in PATCH_TOOLS else None
    if diff is not None:
        b.add(
            EventKind.PATCH,
            "tool",
            start or ts,
            dict(row, side="call"),
            tool=tool,
            call_id=cid,
            files=files,
            text=clip(diff),
            extra=extra,
            **common,
        )
    else:
        text = command or (as_str(inp.get("prompt")) if tool == "task" else None)
        if text is None and inp:
            text = scrub_data_urls(orjson.dumps(inp).decode())
        b.add(
            EventKind.TOOL_CALL,
            "tool",
            start or ts,
            dict(row, side="call"),
            tool=tool,
            call_id=cid,
            command=command,
            files=files,
            text=clip(text),
            extra=extra,
            **common,
        )
    status = as_str(state.get("status"))
    if status not in ("completed", "error"):
        return
    is_error = status == "error"
    out = as_str(state.get("error")) if is_error else as_str(state.get("output"))
    code = as_int(metadata.get("exit")) if tool in SHELL_TOOLS else None
    dur = int((end - start).total_seconds() * 1000) if start is not None and end is not None and end >= start else None
    rextra: dict[str, Any] = {}
    title = as_str(state.get("title"))
    if title:
        rextra["title"] = title
    if child:
        rextra["child_session"] = child
    b.add(
        EventKind.TOOL_RESULT,
        "tool/result",
        end or start or ts,
        dict(row, side="result"),
        tool=tool,
        call_id=cid,
        files=files,
        text=clip(scrub_data_urls(out).strip()) if out else None,
        is_error=is_error,
        exit_code=code,
        duration_ms=dur,
        extra=rextra,
        **common,
    )


# ---------------------------------------------------------------------------------------------------------
# normalizing the two storage layouts


def record_from_db_row(row: dict[str, Any]) -> dict[str, Any]:
    """A ``message`` / ``part`` row (``data`` as JSON text) -> a normalized record (``data`` decoded)."""
    out = dict(row)
    raw = row.get("data")
    try:
        out["data"] = orjson.loads(raw) if isinstance(raw, (str, bytes)) else raw
    except orjson.JSONDecodeError:
        out["data"] = None
    return out


def session_from_storage(obj: dict[str, Any]) -> dict[str, Any]:
    """``storage/session/<project>/<ses>.json`` -> the normalized session record."""
    tm = _dict(obj.get("time"))
    return {
        "id": obj.get("id"),
        "parent_id": obj.get("parentID"),
        "title": obj.get("title"),
        "directory": obj.get("directory"),
        "version": obj.get("version"),
        "time_created": tm.get("created"),
        "time_updated": tm.get("updated"),
    }


def message_from_storage(obj: dict[str, Any]) -> dict[str, Any]:
    tm = _dict(obj.get("time"))
    return {"id": obj.get("id"), "time_created": tm.get("created"), "data": obj}


def part_from_storage(obj: dict[str, Any], message_id: str | None = None) -> dict[str, Any]:
    tm = _dict(obj.get("time"))
    return {"id": obj.get("id"), "message_id": obj.get("messageID") or message_id, "time_created": tm.get("start"), "data": obj}
