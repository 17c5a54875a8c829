"""Parser for the Go OpenCode (opencode-ai/opencode) and Charm Crush databases (pure functions, no I/O).

Both keep a project-local SQLite database (``<project>/.opencode/opencode.db``, ``<project>/.crush/crush.db``)
migrated by goose: ``sessions(id, parent_session_id, title, message_count, prompt_tokens,
completion_tokens, cost, created_at, updated_at, …)`` and ``messages(id, session_id, role, parts, model,
created_at, updated_at, finished_at[, provider])``.  ``parts`` is a JSON array of ``{type, data}``:
``text {text}``, ``reasoning {thinking}``, ``tool_call {id, name, input (JSON text), finished}``,
``tool_result {tool_call_id, name, content, metadata (JSON text), is_error}``, ``finish {reason, time,
message?, details?}``, ``binary``, ``image_url``.

Timestamps: the first schema (goose 20250513000000) stores ISO-8601 strings; later ones (and Crush)
store epoch **seconds** although the schema comments say milliseconds.  :func:`to_dt` accepts all.

Tokens exist only per session, and are not totals: after every model response the agent *overwrites*
``prompt_tokens = input + cache_creation`` and ``completion_tokens = output + cache_read`` with that
response's figures, while ``cost`` *adds up*.  sessionlens bills one record per session
(``<agent>:<session id>``) with exactly the figures the agent stored (``prompt_tokens`` as input,
``completion_tokens`` as output) and the agent's cumulative ``cost`` as the log's cost; the record has
no model so that the recorded cost is used instead of pricing the last response's tokens.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson

from sessionlens.agents.common import _construct, as_int, as_str, clip, parse_ts, scrub_data_urls
from sessionlens.agents.opencode.parser import _Builder, _cost, _tok
from sessionlens.models.session import EventKind, ParseProblem, ParseResult, Session, TokenUsage

OPENCODE_GO = "opencode-go"
CRUSH = "crush"
META = EventKind.META
SHELL_TOOLS = frozenset({"bash"})
FILE_TOOLS = frozenset({"view", "write", "edit", "patch", "multiedit"})
PATCH_TOOLS = frozenset({"write", "edit", "multiedit"})


def _dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (a hostile log may put anything anywhere)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def to_dt(value: Any) -> datetime | None:
    """ISO-8601 text, epoch seconds or epoch milliseconds -> aware UTC datetime (None if unusable)."""
    if isinstance(value, str):
        v = value.strip()
        if not v:
            return None
        if v.lstrip("-").isdigit():
            value = int(v)
        else:
            dt = parse_ts(v)
            if dt is None:
                try:
                    dt = datetime.fromisoformat(v.replace(" ", "T")).replace(tzinfo=timezone.utc)
                except ValueError:
                    return None
            return dt
    n = as_int(value)
    if n is None or n <= 0:
        return None
    if n > 10**11:  # milliseconds (year > 5138 as seconds)
        n = n // 1000
    if n > 10**11:
        return None
    try:
        return datetime.fromtimestamp(n, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _json_text(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def session_usage(row: dict[str, Any]) -> tuple[TokenUsage, float | None]:
    """The session's tokens exactly as the agent stored them, and its cumulative cost."""
    usage = _construct(
        TokenUsage,
        dict(
            input_tokens=_tok(row.get("prompt_tokens")),
            cache_read_tokens=0,
            cache_write_5m_tokens=0,
            cache_write_1h_tokens=0,
            output_tokens=_tok(row.get("completion_tokens")),
            reasoning_tokens=0,
        ),
    )
    return usage, _cost(row.get("cost"))


def parse_session(
    agent: str, session: dict[str, Any], messages: list[dict[str, Any]], path: str, project_dir: str | None = None
) -> ParseResult:
    """One Go-OpenCode / Crush session from its ``sessions`` row and its ``messages`` rows (dicts).

    ``messages`` come in insertion order (``rowid``); they are ordered by ``created_at`` keeping that
    order for equal times.  ``project_dir`` is the folder holding ``.opencode`` / ``.crush`` (the session's working directory:
    these databases are project-local and record no cwd)."""
    sid = as_str(session.get("id")) or path
    s = Session(
        id=sid,
        agent=agent,
        source_files=[path] if path else [],
        originator=agent,
        cwd=project_dir,
        parent_session_id=as_str(session.get("parent_session_id")),
        title=(as_str(session.get("title")) or "").strip()[:200] or None,
        started_at=to_dt(session.get("created_at")),
        ended_at=to_dt(session.get("updated_at")),
    )
    b = _Builder(agent, s)
    tools: dict[str, str] = {}
    starts: dict[str, datetime] = {}
    # by time, ties in the given (insertion) order: a prompt and its answer often share a second
    rows = sorted(
        (m for m in messages if isinstance(m, dict)), key=lambda m: to_dt(m.get("created_at")) or datetime.min.replace(tzinfo=timezone.utc)
    )
    for m in rows:
        try:
            _message(b, m, tools, starts)
        except Exception as exc:  # one bad row costs that row only
            b.problems.append(
                ParseProblem(
                    line=len(b.events), offset=0, severity="warning", message=f"message {m.get('id')!r}: cannot interpret: {exc!r}"
                )
            )
    usage, cost = session_usage(session)
    if usage.total_tokens or cost:
        row = {"table": "sessions", "id": sid}
        ev = b.add(
            EventKind.TOKEN_USAGE,
            "session/tokens",
            s.ended_at,
            row,
            extra={
                "prompt_tokens": usage.input_tokens,
                "completion_tokens": usage.output_tokens,
                "cost": cost,
                "note": "last response's tokens as stored by the agent; cost is cumulative",
            },
        )
        b.bill(f"{agent}:{sid}", s.ended_at, None, usage, cost, ev)
    return b.result()


def _message(b: _Builder, m: dict[str, Any], tools: dict[str, str], starts: dict[str, datetime]) -> None:
    mid = str(m.get("id") or "")
    role = as_str(m.get("role"))
    model = as_str(m.get("model")) or None
    ts = to_dt(m.get("created_at"))
    fin = to_dt(m.get("finished_at")) or to_dt(m.get("updated_at"))
    row = {"table": "messages", "id": mid}
    parts = _json_text(m.get("parts"))
    if not isinstance(parts, list):
        b.problems.append(ParseProblem(line=len(b.events), offset=0, message=f"message {mid!r}: parts is not a JSON array"))
        return
    parts = [p for p in parts if isinstance(p, dict)]
    common: dict[str, Any] = {"message_id": mid, "role": role}
    if role == "assistant":
        b.model(model)
        common["model"] = model
        extra_provider = as_str(m.get("provider"))
    else:
        extra_provider = None
    if role == "user":
        prompt = "\n".join(
            as_str((p.get("data") or {}).get("text")) or "" for p in parts if p.get("type") == "text" and isinstance(p.get("data"), dict)
        ).strip()
        if prompt:
            b.turns.open(len(b.events) + 1, ts, prompt=clip(prompt), model=None)
            if b.session.title is None or b.session.title == "New Session":
                b.session.title = prompt.splitlines()[0][:200]
    for i, p in enumerate(parts):
        t = as_str(p.get("type")) or "unknown"
        d = _dict(p.get("data"))
        prow = dict(row, part=i)
        if t == "text":
            text = as_str(d.get("text"))
            kind = EventKind.USER_MESSAGE if role == "user" else EventKind.ASSISTANT_MESSAGE
            b.add(
                kind,
                f"{role}/text",
                ts,
                prow,
                text=clip(scrub_data_urls(text)) if text else None,
                extra={"provider": extra_provider} if extra_provider else {},
                **common,
            )
        elif t == "reasoning":
            b.add(EventKind.REASONING, "reasoning", ts, prow, text=clip(as_str(d.get("thinking"))), **common)
        elif t == "tool_call":
            name, cid = as_str(d.get("name")), as_str(d.get("id"))
            if cid and name:
                tools[cid] = name
                if ts is not None:
                    starts[cid] = ts
            inp = _json_text(d.get("input"))
            inp = inp if isinstance(inp, dict) else {}
            files = []
            fp = as_str(inp.get("file_path")) or as_str(inp.get("path"))
            if name in FILE_TOOLS and fp:
                files.append(fp)
            command = as_str(inp.get("command")) if name in SHELL_TOOLS else None
            if name in PATCH_TOOLS and (isinstance(inp.get("content"), str) or isinstance(inp.get("new_string"), str)):
                diff = _patch(name, inp)
                b.add(EventKind.PATCH, "tool_call", ts, prow, tool=name, call_id=cid, files=files, text=clip(diff), **common)
            else:
                text = (
                    command or as_str(inp.get("prompt")) or (scrub_data_urls(orjson.dumps(inp).decode()) if inp else as_str(d.get("input")))
                )
                b.add(
                    EventKind.TOOL_CALL,
                    "tool_call",
                    ts,
                    prow,
                    tool=name,
                    call_id=cid,
                    command=command,
                    files=files,
                    text=clip(text),
                    **common,
                )
        elif t == "tool_result":
            cid = as_str(d.get("tool_call_id"))
            name = as_str(d.get("name")) or tools.get(cid or "")
            meta = _json_text(d.get("metadata"))
            meta = meta if isinstance(meta, dict) else {}
            dur = None
            st, en = as_int(meta.get("start_time")), as_int(meta.get("end_time"))
            if st is not None and en is not None and en >= st:
                dur = en - st
            elif cid in starts and ts is not None and ts >= starts[cid]:
                dur = int((ts - starts[cid]).total_seconds() * 1000)
            text = as_str(d.get("content"))
            is_error = d.get("is_error") is True
            code = as_int(meta.get("exit_code")) if name in SHELL_TOOLS else None
            b.add(
                EventKind.TOOL_RESULT,
                "tool_result",
                ts,
                prow,
                tool=name,
                call_id=cid,
                text=clip(scrub_data_urls(text).strip()) if text else None,
                is_error=is_error,
                exit_code=code,
                duration_ms=dur,
                **{k: v for k, v in common.items() if k != "model"},
            )
        elif t == "finish":
            reason = as_str(d.get("reason"))
            if reason == "canceled":
                b.turns.update(aborted=True)
            if reason == "error" or as_str(d.get("message")):
                details = as_str(d.get("details"))
                msg = as_str(d.get("message")) or "error"
                b.add(
                    EventKind.ERROR,
                    "finish/error",
                    fin or ts,
                    prow,
                    is_error=True,
                    text=clip(f"{msg}: {details}" if details else msg),
                    **common,
                )
            elif role == "assistant" or reason not in (None, "stop"):
                b.add(META, f"finish/{reason or 'unknown'}", fin or ts, prow, **common)
        elif t in ("binary", "image_url"):
            b.add(META, t, ts, prow, text="[image]" if t == "image_url" else as_str(d.get("path")), **common)
        else:
            b.add(EventKind.UNKNOWN, t, ts, prow, **common)
    b.turns.touch(len(b.events), fin or ts)


def _patch(name: str, inp: dict[str, Any]) -> str:
    path = as_str(inp.get("file_path")) or as_str(inp.get("path")) or "?"
    out = [f"--- {path}", f"+++ {path}"]
    if name == "write":
        out.append("@@ new file @@")
        out.extend("+" + ln for ln in (as_str(inp.get("content")) or "").splitlines())
    else:
        out.append("@@")
        out.extend("-" + ln for ln in (as_str(inp.get("old_string")) or "").splitlines())
        out.extend("+" + ln for ln in (as_str(inp.get("new_string")) or "").splitlines())
    return "\n".join(out)
