"""Map a stored session to OpenTelemetry spans following the GenAI semantic conventions.

Pinned to **OpenTelemetry semantic conventions v1.44.0** (the ``gen_ai.*`` registry as shipped in
``opentelemetry-semantic-conventions==0.66b2``; GenAI is at *Development* stability, so names can still
move: :data:`SEMCONV_VERSION` is what a backend sees in the scope's schema URL).

A session is an ``invoke_agent`` span; each billed model request a ``chat`` span; each tool call an
``execute_tool {name}`` span; a sub-agent a nested ``invoke_agent`` span under the tool call that started it;
coach findings are span events; errors are span status.  Trace and span ids are derived from the session
and event ids, so exporting the same session twice produces the same ids (backends that de-duplicate by id
keep one copy), and an interrupted export can simply be repeated.

Pure: no I/O, no OpenTelemetry import.  Content (prompts, tool arguments and results) is only included
when ``content=True`` and always passes through ``redact`` first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence

from sessionlens.models.session import Event, EventKind

SEMCONV_VERSION = "1.44.0"
SCHEMA_URL = f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"
SCOPE_NAME = "sessionlens"

#: OTLP span kinds (the protobuf enum's values).
SPAN_KIND_INTERNAL = 1
SPAN_KIND_CLIENT = 3
#: OTLP status codes.
STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2

#: gen_ai.provider.name per agent (the provider of the models the agent calls by default).
PROVIDERS = {
    "claude": "anthropic",
    "codex": "openai",
    "gemini": "gcp.gemini",
    "copilot": "github_copilot",
    "pi": "pi",
    "cursor": "cursor",
    "opencode": "opencode",
    "crush": "crush",
    "qwen": "qwen",
}
AGENT_NAMES = {
    "claude": "Claude Code",
    "codex": "Codex CLI",
    "gemini": "Gemini CLI",
    "copilot": "GitHub Copilot CLI",
    "opencode": "OpenCode",
    "cursor": "Cursor",
    "pi": "Pi",
    "crush": "Crush",
    "qwen": "Qwen Code",
}

Attr = str | bool | int | float | Sequence[str]


@dataclass
class SpanEvent:
    name: str
    time_ns: int
    attributes: dict[str, Attr] = field(default_factory=dict)


@dataclass
class SpanRecord:
    trace_id: bytes  # 16 bytes
    span_id: bytes  # 8 bytes
    parent_span_id: bytes | None
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: dict[str, Attr] = field(default_factory=dict)
    events: list[SpanEvent] = field(default_factory=list)
    status_code: int = STATUS_UNSET
    status_message: str = ""


@dataclass
class UsageRow:
    """One billed model request as the store keeps it (``usage`` table)."""

    key: str
    seq: int
    ts: float | None
    model: str | None
    input: int = 0  # uncached prompt tokens
    cache_read: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    output: int = 0  # includes reasoning (OpenAI semantics)
    reasoning: int = 0
    cost_usd: float | None = None

    @property
    def prompt_tokens(self) -> int:
        return self.input + self.cache_read + self.cache_write_5m + self.cache_write_1h


@dataclass
class SessionView:
    """Everything the mapping reads of one session (built by the services layer from the store)."""

    session: dict[str, Any]  # the store's session dict: id, agent, started_at/ended_at (epoch s), models, title…
    events: list[Event]
    usage: list[UsageRow]
    findings: list[dict[str, Any]] = field(default_factory=list)
    children: list["SessionView"] = field(default_factory=list)  # sub-agent sessions (own files)
    #: when the log records no time at all (Cursor transcripts): e.g. the log file's mtime
    fallback_ns: int | None = None


def _digest(*parts: str, size: int) -> bytes:
    h = hashlib.blake2b(digest_size=size, person=b"sessionlens-otel")
    h.update("\x1f".join(parts).encode("utf-8", "surrogatepass"))
    d = h.digest()
    return d if any(d) else b"\x01" + d[1:]  # an all-zero id is invalid in OTLP


def trace_id_for(root_session_id: str) -> bytes:
    return _digest("trace", root_session_id, size=16)


def span_id_for(session_id: str, key: str) -> bytes:
    return _digest("span", session_id, key, size=8)


def _ns(x: datetime | float | None) -> int | None:
    if x is None:
        return None
    if isinstance(x, datetime):
        return int(x.timestamp() * 1_000_000_000)
    return int(x * 1_000_000_000)


def _clip(text: str | None, limit: int) -> str:
    if not text:
        return ""
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters]"


@dataclass
class Options:
    content: bool = False  # include prompts, tool arguments and results (redacted)
    openinference: bool = True  # also emit the OpenInference attributes Phoenix's UI reads
    content_limit: int = 4000
    redact: Callable[[str], str] = lambda s: s


def session_spans(
    view: SessionView, opts: Options | None = None, *, trace_id: bytes | None = None, parent_span_id: bytes | None = None
) -> list[SpanRecord]:
    """The spans of one session (and, nested, its sub-agents), parents before children."""
    opts = opts or Options()
    s = view.session
    sid = str(s["id"])
    agent = str(s.get("agent") or "")
    trace_id = trace_id or trace_id_for(sid)
    root_id = span_id_for(sid, "session")
    red = opts.redact

    times = [t for t in (_ns(e.timestamp) for e in view.events) if t is not None]
    start = min([t for t in (_ns(s.get("started_at")), *times[:1]) if t is not None], default=None)
    end = max([t for t in (_ns(s.get("ended_at")), *times[-1:]) if t is not None], default=None)
    if start is None:
        start = end = view.fallback_ns or 1_000_000_000
    end = max(end or start, start)

    models = [m for m in (s.get("models") or []) if m]
    root_attrs: dict[str, Attr] = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": AGENT_NAMES.get(agent, agent or "agent"),
        "gen_ai.conversation.id": sid,
        "gen_ai.provider.name": PROVIDERS.get(agent, agent or "unknown"),
    }
    if s.get("agent_id"):
        root_attrs["gen_ai.agent.id"] = str(s["agent_id"])
    if models:
        root_attrs["gen_ai.request.model"] = models[0]
    for k_src, k_dst in (
        ("project", "sessionlens.project"),
        ("git_branch", "vcs.ref.head.name"),
        ("git_commit", "vcs.ref.head.revision"),
        ("cli_version", "sessionlens.agent.version"),
    ):
        if s.get(k_src):
            root_attrs[k_dst] = str(s[k_src])
    if s.get("title"):
        root_attrs["sessionlens.title"] = _clip(red(str(s["title"])), 200)
    if opts.openinference:
        root_attrs["openinference.span.kind"] = "AGENT"
        root_attrs["session.id"] = sid
    name = f"invoke_agent {root_attrs['gen_ai.agent.name']}"
    root = SpanRecord(trace_id, root_id, parent_span_id, name, SPAN_KIND_INTERNAL, start, end, root_attrs)
    spans = [root]

    by_seq = {e.seq: e for e in view.events}
    # -------- sub-agent conversations inline in this file (Claude's isSidechain lines): one nested agent span each
    inline_roots: dict[str, bytes] = {}
    call_spans: dict[str, bytes] = {}

    def parent_for(e: Event | None) -> bytes:
        if e is not None and e.sidechain and e.agent_id:
            return inline_roots.get(e.agent_id, root_id)
        return root_id

    # tool calls first (so sub-agents can hang under the call that started them)
    results: dict[str, Event] = {}
    for e in view.events:
        if e.kind == EventKind.TOOL_RESULT and e.call_id and not e.duplicate:
            results.setdefault(e.call_id, e)
    calls = [e for e in view.events if e.kind in (EventKind.TOOL_CALL, EventKind.PATCH) and not e.duplicate]
    own = {str(s.get("agent_id") or "")} | {str(c.session.get("agent_id") or "") for c in view.children}
    sidechain_agents: dict[str, list[Event]] = {}
    agent_call: dict[str, str] = {}  # sub-agent id -> the tool call (Task/Agent) that started it
    for e in view.events:
        if e.sidechain and e.agent_id and e.agent_id not in own:
            sidechain_agents.setdefault(e.agent_id, []).append(e)
        if e.agent_id and (e.parent_call_id or (e.kind == EventKind.TOOL_RESULT and e.call_id)):
            agent_call.setdefault(e.agent_id, e.parent_call_id or e.call_id or "")

    tool_spans: list[SpanRecord] = []
    for e in calls:
        key = f"tool:{e.call_id or e.seq}"
        sp_id = span_id_for(sid, key)
        if e.call_id:
            call_spans[e.call_id] = sp_id
        r = results.get(e.call_id) if e.call_id else None
        t0 = _ns(e.timestamp) or start
        t1 = _ns(r.timestamp) if r is not None and r.timestamp else None
        if t1 is None and e.duration_ms:
            t1 = t0 + e.duration_ms * 1_000_000
        t1 = max(t1 or t0, t0)
        tool = e.tool or ("apply_patch" if e.kind == EventKind.PATCH else "tool")
        attrs: dict[str, Attr] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": tool,
            "gen_ai.tool.type": "function",
            "sessionlens.line": e.line,
        }
        if e.call_id:
            attrs["gen_ai.tool.call.id"] = e.call_id
        exit_code = r.exit_code if r is not None and r.exit_code is not None else e.exit_code
        if exit_code is not None:
            attrs["process.exit.code"] = exit_code
        if opts.content:
            args = e.command or e.text
            if args:
                attrs["gen_ai.tool.call.arguments"] = _clip(red(args), opts.content_limit)
            if r is not None and r.text:
                attrs["gen_ai.tool.call.result"] = _clip(red(r.text), opts.content_limit)
        if opts.openinference:
            attrs["openinference.span.kind"] = "TOOL"
            attrs["tool.name"] = tool
            if opts.content and "gen_ai.tool.call.arguments" in attrs:
                attrs["input.value"] = attrs["gen_ai.tool.call.arguments"]
            if opts.content and "gen_ai.tool.call.result" in attrs:
                attrs["output.value"] = attrs["gen_ai.tool.call.result"]
        failed = (r is not None and (r.is_error or (r.exit_code not in (None, 0)))) or e.is_error
        sp = SpanRecord(trace_id, sp_id, None, f"execute_tool {tool}", SPAN_KIND_INTERNAL, t0, t1, attrs)
        if failed:
            sp.status_code = STATUS_ERROR
            sp.status_message = _clip(red(_first_line(r.text if r is not None else e.text)), 200)
            attrs["error.type"] = f"exit_code_{exit_code}" if exit_code not in (None, 0) else "tool_error"
        tool_spans.append(sp)
        sp._event = e  # type: ignore[attr-defined]

    for agent_id, evs in sidechain_agents.items():
        first = evs[0]
        ts = [t for t in (_ns(x.timestamp) for x in evs) if t is not None]
        a0, a1 = (min(ts), max(ts)) if ts else (start, start)
        parent = call_spans.get(first.parent_call_id or agent_call.get(agent_id, ""), root_id)
        sp_id = span_id_for(sid, f"agent:{agent_id}")
        inline_roots[agent_id] = sp_id
        attrs = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "sub-agent",
            "gen_ai.agent.id": agent_id,
            "gen_ai.conversation.id": sid,
            "gen_ai.provider.name": PROVIDERS.get(agent, agent or "unknown"),
        }
        if opts.openinference:
            attrs["openinference.span.kind"] = "AGENT"
            attrs["session.id"] = sid
        spans.append(SpanRecord(trace_id, sp_id, parent, f"invoke_agent {agent_id}", SPAN_KIND_INTERNAL, a0, a1, attrs))

    for sp in tool_spans:
        sp.parent_span_id = parent_for(sp._event)  # type: ignore[attr-defined]
        del sp._event  # type: ignore[attr-defined]
    spans.extend(tool_spans)

    # -------- one chat span per billed request; it starts at the previous event's time
    ordered = sorted(view.events, key=lambda e: e.seq)
    prev_ts: dict[int, int] = {}
    last = start
    for e in ordered:
        prev_ts[e.seq] = last
        t = _ns(e.timestamp)
        if t is not None:
            last = t
    prompts = {e.turn: e for e in ordered if e.kind == EventKind.USER_MESSAGE and not e.duplicate}
    for u in view.usage:
        e = by_seq.get(u.seq)  # type: ignore[assignment]  # (an earlier loop's Event-typed name)
        t1 = _ns(u.ts) or (_ns(e.timestamp) if e is not None else None) or start
        t0 = min(prev_ts.get(u.seq, t1), t1)
        model = u.model or (e.model if e is not None else None) or (models[0] if models else "unknown")
        attrs = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": PROVIDERS.get(agent, agent or "unknown"),
            "gen_ai.request.model": model,
            "gen_ai.response.model": model,
            "gen_ai.conversation.id": sid,
            "gen_ai.usage.input_tokens": u.prompt_tokens,  # includes cached input (semconv 1.44)
            "gen_ai.usage.output_tokens": u.output,
            "gen_ai.usage.cache_read.input_tokens": u.cache_read,
            "gen_ai.usage.cache_creation.input_tokens": u.cache_write_5m + u.cache_write_1h,
            "gen_ai.usage.reasoning.output_tokens": u.reasoning,
            "sessionlens.line": u.seq,
        }
        if u.cost_usd is not None:
            attrs["sessionlens.cost_usd"] = float(u.cost_usd)
        if e is not None and e.message_id:
            attrs["gen_ai.response.id"] = e.message_id
        if opts.content:
            turn_prompt = prompts.get(e.turn) if e is not None else None
            if turn_prompt is not None and turn_prompt.text:
                attrs["sessionlens.prompt"] = _clip(red(turn_prompt.text), opts.content_limit)
            if e is not None and e.kind == EventKind.ASSISTANT_MESSAGE and e.text:
                attrs["sessionlens.completion"] = _clip(red(e.text), opts.content_limit)
        if opts.openinference:
            attrs.update(
                {
                    "openinference.span.kind": "LLM",
                    "llm.model_name": model,
                    "llm.provider": str(attrs["gen_ai.provider.name"]),
                    "llm.token_count.prompt": u.prompt_tokens,
                    "llm.token_count.completion": u.output,
                    "llm.token_count.total": u.prompt_tokens + u.output,
                    "llm.token_count.prompt_details.cache_read": u.cache_read,
                    "llm.token_count.prompt_details.cache_write": u.cache_write_5m + u.cache_write_1h,
                    "llm.token_count.completion_details.reasoning": u.reasoning,
                    "session.id": sid,
                }
            )
            if "sessionlens.prompt" in attrs:
                attrs["input.value"] = attrs["sessionlens.prompt"]
            if "sessionlens.completion" in attrs:
                attrs["output.value"] = attrs["sessionlens.completion"]
        spans.append(
            SpanRecord(trace_id, span_id_for(sid, f"chat:{u.key}"), parent_for(e), f"chat {model}", SPAN_KIND_CLIENT, t0, t1, attrs)
        )

    # -------- errors and findings
    for e in view.events:
        if e.kind == EventKind.ERROR and not e.duplicate:
            root.events.append(
                SpanEvent(
                    "exception",
                    _ns(e.timestamp) or start,
                    {
                        "exception.type": e.subtype or "error",
                        "exception.message": _clip(red(e.text or ""), 500),
                        "sessionlens.line": e.line,
                    },
                )
            )
    if any(e.kind == EventKind.ERROR and not e.duplicate for e in view.events):
        root.status_code = STATUS_ERROR
        root.status_message = "the session logged errors"
    for f in view.findings:
        fe = by_seq.get(int(f.get("seq") or 0))
        root.events.append(
            SpanEvent(
                "sessionlens.coach.finding",
                (_ns(fe.timestamp) if fe is not None else None) or start,
                {
                    "sessionlens.rule": str(f.get("rule_id")),
                    "sessionlens.severity": str(f.get("severity")),
                    "sessionlens.message": _clip(red(str(f.get("message") or "")), 500),
                    "sessionlens.line": int(f.get("seq") or 0),
                },
            )
        )

    # -------- sub-agent sessions from their own files, nested under the call that started them
    for child in view.children:
        pc = agent_call.get(str(child.session.get("agent_id") or "")) or _parent_call_of(child)
        parent = call_spans.get(pc or "", root_id)
        spans.extend(session_spans(child, opts, trace_id=trace_id, parent_span_id=parent))
    _break_cycles(spans, root_id)
    return spans


def _break_cycles(spans: list[SpanRecord], root_id: bytes) -> None:
    """Logs can name a call as its own sub-agent's parent (a Copilot fixture does): a span whose chain of
    parents loops hangs under the session's root instead (backends walk the chain: Phoenix's ingestion
    stops for good on a loop).  A parent outside this list (a sub-agent's call in its parent session) is
    where the chain leaves it."""
    by_id = {sp.span_id: sp for sp in spans}
    for sp in spans:
        seen = {sp.span_id}
        cur = sp.parent_span_id
        while cur is not None and cur != root_id and cur in by_id:
            if cur in seen:
                sp.parent_span_id = root_id
                break
            seen.add(cur)
            cur = by_id[cur].parent_span_id


def _parent_call_of(view: SessionView) -> str | None:
    for e in view.events:
        if e.parent_call_id:
            return e.parent_call_id
    return None


def _first_line(text: str | None) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return "error"


def evaluation_spans(session_id: str, results: Iterable[dict[str, Any]], *, time_ns: int) -> list[SpanRecord]:
    """Eval results as ``gen_ai.evaluation.result``-style spans under the session's root span."""
    trace_id = trace_id_for(session_id)
    root = span_id_for(session_id, "session")
    out = []
    for r in results:
        name = str(r.get("check_id"))
        attrs: dict[str, Attr] = {
            "gen_ai.operation.name": "evaluation",
            "gen_ai.evaluation.name": name,
            "gen_ai.evaluation.score.label": "pass" if r.get("passed") else "fail",
            "gen_ai.evaluation.score.value": 1.0 if r.get("passed") else 0.0,
            "gen_ai.conversation.id": session_id,
        }
        if r.get("message"):
            attrs["gen_ai.evaluation.explanation"] = str(r["message"])[:500]
        key = f"eval:{r.get('run_id')}:{r.get('case_id')}:{name}"
        out.append(
            SpanRecord(
                trace_id,
                span_id_for(session_id, key),
                root,
                f"evaluation {name}",
                SPAN_KIND_INTERNAL,
                time_ns,
                time_ns,
                attrs,
                status_code=STATUS_OK if r.get("passed") else STATUS_ERROR,
            )
        )
    return out
