"""Copilot CLI's OpenTelemetry file export (``~/.copilot/otel/*.jsonl``, or the one file named by
``COPILOT_OTEL_FILE_EXPORTER_PATH``): a source of several sessions (format facts: ``README.md``).

Each line is one exported record, ``{"type": "span" | "metric", ...}``.  Spans follow the OTel GenAI
semantic conventions: ``invoke_agent`` (one agent turn), ``chat <model>`` (one model request, with
``gen_ai.usage.*`` token counts) and ``execute_tool <name>``; ``gen_ai.conversation.id`` names the
session.  Times are ``[seconds, nanoseconds]``.  Without content capture (the default) no prompt or
answer text is in the file: the sessions carry turns, model requests, tool calls and exact tokens.

Token rules: ``gen_ai.usage.input_tokens`` counts the whole prompt, cache reads
(``gen_ai.usage.cache_read.input_tokens``) and cache writes (``...cache_creation.input_tokens``)
included, so the uncached input is the remainder; reasoning tokens are part of the output.  Only
``chat`` spans are billed (``invoke_agent`` repeats the turn's totals).

One session, one record of its tokens: a conversation whose ``session-state/<id>/`` folder exists
(next to the ``otel`` folder, or in ``$COPILOT_HOME`` / ``~/.copilot``) is Copilot's own session log,
read by the ``copilot`` adapter; the export's copy of it is left out (those folders are the
source's companions, so one appearing later takes the copy out).  Pure apart from reading the file
and ``stat``-ing those folders; never writes.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import orjson

from sessionlens.agents.common import as_int, as_str, iter_lines
from sessionlens.agents.docparse import DocBuilder, line_offsets
from sessionlens.models.session import EventKind, ParseResult, Session, TokenUsage

AGENT = "copilot"
#: bytes of an export read at most (a bigger file is read up to here; the rest waits for rotation)
MAX_BYTES = 512 * 1024 * 1024
_CACHE: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}
_ERROR = 2  # OTel status code ERROR


def classify_line(obj: dict[str, Any]) -> bool:
    """A record of an OTel JSON-lines export that carries GenAI / Copilot attributes."""
    t = obj.get("type")
    if t == "span":
        attrs = obj.get("attributes")
        return (
            isinstance(obj.get("traceId"), str)
            and isinstance(obj.get("spanId"), str)
            and isinstance(attrs, dict)
            and any(isinstance(k, str) and k.startswith(("gen_ai.", "github.copilot.")) for k in attrs)
        )
    if t == "metric":
        name = obj.get("name")
        return isinstance(name, str) and name.startswith(("gen_ai.", "github.copilot."))
    return False


def _time(v: Any) -> float | None:
    """Seconds since the epoch from an OTel HrTime ``[s, ns]`` (or a number of ms / ns)."""
    if isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v):
        return float(v[0]) + float(v[1]) / 1e9
    if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
        return v / 1e9 if v > 1e14 else v / 1e3 if v > 1e11 else float(v)
    return None


def usage_of(attrs: dict[str, Any]) -> TokenUsage | None:
    inp = max(as_int(attrs.get("gen_ai.usage.input_tokens")) or 0, 0)
    out = max(as_int(attrs.get("gen_ai.usage.output_tokens")) or 0, 0)
    read = max(as_int(attrs.get("gen_ai.usage.cache_read.input_tokens")) or 0, 0)
    write = max(as_int(attrs.get("gen_ai.usage.cache_creation.input_tokens")) or 0, 0)
    reasoning = max(as_int(attrs.get("gen_ai.usage.reasoning.output_tokens") or attrs.get("gen_ai.usage.reasoning_tokens")) or 0, 0)
    if not (inp or out):
        return None
    read = min(read, inp)
    write = min(write, inp - read)
    return TokenUsage(
        input_tokens=inp - read - write,
        cache_read_tokens=read,
        cache_write_5m_tokens=write,
        output_tokens=out,
        reasoning_tokens=min(reasoning, out),
    )


class _Span:
    __slots__ = ("line", "obj", "attrs", "start", "end", "op", "trace", "sid", "parent")

    def __init__(self, line: int, obj: dict[str, Any]):
        self.line = line
        self.obj = obj
        self.attrs: dict[str, Any] = obj["attributes"]
        self.start = _time(obj.get("startTime"))
        self.end = _time(obj.get("endTime"))
        name = as_str(obj.get("name")) or ""
        self.op = as_str(self.attrs.get("gen_ai.operation.name")) or name.partition(" ")[0]
        self.trace = obj["traceId"]
        self.sid = obj["spanId"]
        self.parent = as_str(obj.get("parentSpanId")) or as_str(obj.get("parentId"))


def _read(path: str) -> dict[str, Any]:
    """``{"spans": {conversation: [_Span]}, "offsets", "size", "bad": [(line, msg)]}`` of an export,
    cached by its stat (members, companions and every member parse read it once)."""
    st = os.stat(path)
    key = (st.st_size, st.st_mtime_ns)
    hit = _CACHE.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    with open(path, "rb") as fh:
        data = fh.read(MAX_BYTES)
    end = data.rfind(b"\n") + 1  # a last line being written waits for the next pass
    data = data[:end]
    by_conv: dict[str, list[_Span]] = {}
    raw_by_conv: dict[str, list[bytes]] = {}
    bad: list[tuple[int, str]] = []
    for line_no, _off, raw, _term in iter_lines(data):
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            bad.append((line_no, f"malformed JSON: {exc}"))
            continue
        if not isinstance(obj, dict) or obj.get("type") != "span":
            continue  # metrics: aggregates of what the spans already say
        if not (isinstance(obj.get("attributes"), dict) and isinstance(obj.get("traceId"), str) and isinstance(obj.get("spanId"), str)):
            bad.append((line_no, "span without traceId / spanId / attributes"))
            continue
        conv = as_str(obj["attributes"].get("gen_ai.conversation.id"))
        if not conv:
            continue  # not part of a conversation (start-up spans)
        by_conv.setdefault(conv, []).append(_Span(line_no, obj))
        raw_by_conv.setdefault(conv, []).append(raw)
    fps = {c: hashlib.blake2b(b"\n".join(r), digest_size=12).hexdigest() for c, r in raw_by_conv.items()}
    out = {"spans": by_conv, "fingerprints": fps, "offsets": line_offsets(data), "size": len(data), "bad": bad}
    if len(_CACHE) > 16:
        _CACHE.clear()
    _CACHE[path] = (key, out)
    return out


def _state_dirs(path: str, conv: str) -> list[str]:
    """Where Copilot's own log of conversation ``conv`` would be."""
    homes = [os.path.dirname(os.path.dirname(os.path.abspath(path)))]
    env_home = os.environ.get("COPILOT_HOME")
    if env_home:
        homes.append(os.path.expanduser(env_home))
    homes.append(os.path.join(os.path.expanduser("~"), ".copilot"))
    safe = os.path.basename(conv)  # an id from the log never walks out of session-state/
    return list(dict.fromkeys(os.path.join(h, "session-state", safe) for h in homes if safe and safe == conv))


def _covered(path: str, conv: str) -> bool:
    return any(os.path.isfile(os.path.join(d, "events.jsonl")) for d in _state_dirs(path, conv))


def companions(path: str) -> list[str]:
    """The ``events.jsonl`` Copilot would write for each conversation of the export (whether or not
    they exist yet): one appearing changes the source, and its conversation leaves the export's sessions."""
    try:
        convs = _read(path)["spans"]
    except OSError:
        return []
    return [os.path.join(d, "events.jsonl") for c in convs for d in _state_dirs(path, c)]


def members(path: str) -> list[tuple[str, str]]:
    """``[(conversation id, fingerprint)]`` of the conversations not covered by a session-state log."""
    rec = _read(path)
    return [(c, fp) for c, fp in rec["fingerprints"].items() if not _covered(path, c)]


def parse_member(path: str, key: str, mpath: str) -> ParseResult:
    """One conversation of the export as a session: a turn per trace (``invoke_agent``), a model
    request per ``chat`` span (billed), a call and its result per ``execute_tool`` span."""
    rec = _read(path)
    spans = sorted(rec["spans"].get(key, []), key=lambda s: (s.start or s.end or 0.0, s.line))
    session = Session(id=key, agent=AGENT, originator="copilot-otel", source_files=[mpath])
    b = DocBuilder(AGENT, session, size=rec["size"], line_offsets=rec["offsets"])
    traces: list[str] = []
    for s in spans:
        if s.trace not in traces:
            traces.append(s.trace)
    by_trace = {t: [s for s in spans if s.trace == t] for t in traces}
    for t in traces:
        group = by_trace[t]
        root = next((s for s in group if s.op == "invoke_agent" and not s.parent), None) or group[0]
        first = min((s.start for s in group if s.start), default=root.start)
        b.open_turn(root.line, _dt(first), None)
        for s in group:
            try:
                _span(b, s, t)
            except Exception as exc:  # one bad span costs that span only
                b.problem(s.line, f"cannot interpret span: {exc!r}")
    for line, msg in rec["bad"]:
        b.problem(line, msg)
    # no prompt text without content capture: the title says what the session is
    models = sorted(
        {
            m
            for s in spans
            if s.op == "chat"
            for m in [as_str(s.attrs.get("gen_ai.response.model")) or as_str(s.attrs.get("gen_ai.request.model"))]
            if m
        }
    )
    session.title = " · ".join(
        p
        for p in (f"Copilot CLI session ({len(traces)} turn{'s' if len(traces) != 1 else ''}, OpenTelemetry export)", ", ".join(models))
        if p
    )
    return b.result(consumed=rec["size"])


def _dt(t: float | None):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(t, tz=timezone.utc) if t else None


def _span(b: DocBuilder, s: _Span, trace: str) -> None:
    a = s.attrs
    ts = _dt(s.start or s.end)
    dur = int((s.end - s.start) * 1000) if s.start and s.end and s.end >= s.start else None
    raw_status = s.obj.get("status")
    status: dict[str, Any] = raw_status if isinstance(raw_status, dict) else {}
    failed = as_int(status.get("code")) == _ERROR or bool(a.get("error.type"))
    if s.op == "chat":
        model = as_str(a.get("gen_ai.response.model")) or as_str(a.get("gen_ai.request.model"))
        ev = b.add(
            EventKind.ASSISTANT_MESSAGE,
            "chat",
            line=s.line,
            ts=ts,
            role="assistant",
            model=model,
            text=_content(a.get("gen_ai.output.messages")),
            duration_ms=dur,
            message_id=s.sid,
        )
        usage = usage_of(a)
        if usage is not None:
            b.bill(ev, f"copilot-otel:{trace}:{s.sid}", usage, model)
    elif s.op == "execute_tool":
        name = as_str(a.get("gen_ai.tool.name")) or (as_str(s.obj.get("name")) or "tool").partition(" ")[2] or "tool"
        cid = as_str(a.get("gen_ai.tool.call.id")) or s.sid
        args = a.get("gen_ai.tool.call.arguments")
        b.add(EventKind.TOOL_CALL, name, line=s.line, ts=ts, tool=name, call_id=cid, text=args if isinstance(args, str) else None)
        result = a.get("gen_ai.tool.call.result")
        msg = as_str(status.get("message"))
        b.add(
            EventKind.TOOL_RESULT,
            name,
            line=s.line,
            ts=_dt(s.end) or ts,
            tool=name,
            call_id=cid,
            text=result if isinstance(result, str) else msg,
            is_error=failed,
            duration_ms=dur,
        )
    elif s.op == "invoke_agent":
        agent = as_str(a.get("gen_ai.agent.name"))
        if s.parent:  # a sub-agent run inside the turn
            b.add(EventKind.SYSTEM, "subagent", line=s.line, ts=ts, text=f"sub-agent {agent or ''}".strip(), duration_ms=dur)
    elif failed:
        b.add(EventKind.ERROR, s.op or "span", line=s.line, ts=ts, text=as_str(status.get("message")), is_error=True)


def _content(v: Any) -> str | None:
    """Answer text when content capture was on (``gen_ai.output.messages``: JSON of role/parts)."""
    if isinstance(v, str):
        try:
            v = orjson.loads(v)
        except orjson.JSONDecodeError:
            return v
    if not isinstance(v, list):
        return None
    texts = []
    for m in v:
        for p in (m.get("parts") or []) if isinstance(m, dict) else []:
            if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("content"), str):
                texts.append(p["content"])
    return "\n".join(texts) or None
