"""Parser for GitHub Copilot CLI session logs (pure functions, no I/O).

Two on-disk formats (see ``README.md`` next to this file):

* ``~/.copilot/session-state/<id>/events.jsonl`` (Copilot CLI >= 0.0.3xx / 1.0.x): one event per line,
  ``{type, data, id, timestamp, parentId}``; a ``workspace.yaml`` sidecar in the same folder holds
  cwd / git_root / repository / branch / summary.  :func:`parse` follows the JSONL contract (resumable,
  one line = one event).
* the older single JSON document ``{sessionId, startTime, chatMessages[], timeline[]}``
  (``~/.copilot/history-session-state/*.json``): :func:`parse_document`, re-read whole.

Tokens.  Copilot records per-request *output* tokens on ``assistant.message`` and full totals only in
``session.shutdown.data.modelMetrics`` -- one shutdown per run of the CLI ("segment"); a resumed session
appends ``session.resume`` and, if the CLI exits cleanly, another shutdown with that segment's own
totals (segments are not running totals).  So:

* every ``assistant.message`` with ``outputTokens`` is billed at once (``copilot:<sid>:msg:<messageId>``,
  output only);
* a ``session.shutdown`` bills, per model, the segment's prompt tokens and the output tokens its
  messages did not already bill (``copilot:<sid>:shutdown:<id>:<model>``), so a segment counts once
  and the file can grow between passes without double counting;
* a segment without a shutdown (crash, still running, resumed and never closed) contributes only its
  messages' output tokens: the session's figure is then a **lower bound**
  (``ParserState.data["usage_lower_bound"]``, and a warning problem once per such segment).

``inputTokens`` in ``modelMetrics`` is the whole prompt (OpenAI-style ``prompt_tokens``): it includes
``cacheReadTokens`` (and ``cacheWriteTokens``), so the uncached input is ``input - read - write``.
"""

from __future__ import annotations

import os
import re
from typing import Any

import orjson

from sessionlens.agents.common import (
    META,
    SYSTEM,
    BoundedMap,
    Event,
    EventKind,
    LineParser,
    ParseProblem,
    ParseResult,
    ParserState,
    Session,
    TokenUsage,
    TurnTracker,
    _construct,
    _usage_record,
    as_int,
    as_str,
    clip,
    loads,
    new_event,
    parse_ts,
    scrub_data_urls,
)

AGENT = "copilot"  # the registry name (sessions.agent)
SHELL_TOOLS = frozenset({"bash", "powershell", "shell", "read_bash", "write_bash", "read_powershell", "write_powershell"})
_COMMAND_TOOLS = frozenset({"bash", "powershell", "shell"})
FILE_TOOLS = frozenset({"view", "edit", "create", "str_replace_editor", "str_replace", "write"})
PATCH_TOOLS = frozenset({"edit", "create", "str_replace", "write"})
TASK_TOOLS = frozenset({"task"})
_EXIT_RE = re.compile(r"<exited with exit code (-?\d+)>\s*$")
_META_TYPES = frozenset(
    {
        "session.start",
        "session.resume",
        "session.model_change",
        "session.mode_changed",
        "session.auto_mode_resolved",
        "session.usage_checkpoint",
        "assistant.turn_start",
        "assistant.turn_end",
        "subagent.started",
        "subagent.completed",
        "subagent.failed",
        "subagent.selected",
        "session.context_changed",
        "session.title_changed",
        "session.handoff",
        "pending_messages.modified",
        "session.idle",
    }
)
_SYSTEM_TYPES = frozenset(
    {
        "session.info",
        "session.warning",
        "system.message",
        "system.notification",
        "hook.start",
        "hook.end",
        "skill.invoked",
        "session.task_complete",
    }
)
#: hook invocations around every tool call: bookkeeping, not something that happened in the conversation
_HOOK_TYPES = frozenset({"hook.start", "hook.end"})
_COMPACTION_TYPES = frozenset({"session.compaction_start", "session.compaction_complete", "session.truncation"})


#: a token count above this is not believable (hostile input): clamped, so sums cannot overflow SQLite
MAX_TOKENS = 10**12


def _dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (a hostile log may put anything anywhere)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def tokens(value: Any) -> int:
    """A token count from the log: an int in ``[0, MAX_TOKENS]`` (0 for anything else)."""
    n = as_int(value)
    return 0 if n is None or n < 0 else min(n, MAX_TOKENS)


def exit_code(text: str | None) -> int | None:
    """The ``<exited with exit code N>`` trailer Copilot appends to shell tool output."""
    if not text:
        return None
    m = _EXIT_RE.search(text[-64:])
    return int(m.group(1)) if m else None


def session_id_from_path(path: str) -> str:
    """``…/session-state/<id>/events.jsonl`` -> ``<id>``; else the file name without its extension."""
    name = os.path.basename(path)
    if name == "events.jsonl":
        parent = os.path.basename(os.path.dirname(path))
        if parent:
            return parent
    for suffix in (".jsonl", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)] or path
    return name or path


def parse_workspace_yaml(text: str) -> dict[str, str]:
    """The flat ``key: value`` pairs of a ``workspace.yaml`` sidecar (Copilot writes no nesting).

    A tiny reader on purpose (no YAML dependency, nothing executed): quoted values are unquoted, a
    line that is not ``key: value`` is ignored."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        if not raw or raw[0] in " \t#-":
            continue
        key, sep, value = raw.partition(":")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if key.strip() and value:
            out[key.strip()] = value
    return out


def apply_workspace(session: Session, fields: dict[str, str]) -> None:
    """Fill session fields the events did not give from the ``workspace.yaml`` sidecar."""
    if session.cwd is None and fields.get("cwd"):
        session.cwd = fields["cwd"]
    if session.git_branch is None and fields.get("branch"):
        session.git_branch = fields["branch"]
    if session.git_remote is None and fields.get("repository"):
        session.git_remote = fields["repository"]
    summary = fields.get("summary")
    if summary:
        session.title = summary[:200]
    if session.started_at is None:
        session.started_at = parse_ts(fields.get("created_at"))


def _patch_text(name: str, args: dict[str, Any]) -> str | None:
    path = as_str(args.get("path")) or "?"
    out = [f"--- {path}", f"+++ {path}"]
    if name in ("create", "write"):
        content = as_str(args.get("file_text")) or as_str(args.get("content"))
        if content is None:
            return None
        out.append("@@ new file @@")
        out.extend("+" + ln for ln in content.splitlines())
        return "\n".join(out)
    old = as_str(args.get("old_str"))
    new = as_str(args.get("new_str"))
    if old is None and new is None:
        return None
    out.append("@@")
    out.extend("-" + ln for ln in (old or "").splitlines())
    out.extend("+" + ln for ln in (new or "").splitlines())
    return "\n".join(out)


def shutdown_usage(data: dict[str, Any], current_model: str | None) -> dict[str, TokenUsage]:
    """Per-model :class:`TokenUsage` of one ``session.shutdown`` (full segment totals, normalized)."""
    out: dict[str, TokenUsage] = {}
    metrics = data.get("modelMetrics")
    if isinstance(metrics, dict):
        for model, m in metrics.items():
            if not isinstance(model, str) or not isinstance(m, dict) or not isinstance(m.get("usage"), dict):
                continue
            u = m["usage"]
            total_in = tokens(u.get("inputTokens"))
            read = tokens(u.get("cacheReadTokens"))
            write = tokens(u.get("cacheWriteTokens"))
            out[model] = _construct(
                TokenUsage,
                dict(
                    input_tokens=max(0, total_in - read - write),
                    cache_read_tokens=read,
                    cache_write_5m_tokens=write,
                    cache_write_1h_tokens=0,
                    output_tokens=tokens(u.get("outputTokens")),
                    reasoning_tokens=tokens(u.get("reasoningTokens")),
                ),
            )
    details = data.get("tokenDetails")
    if not out and isinstance(details, dict):

        def count(name: str) -> int:
            d = details.get(name)
            return tokens(d.get("tokenCount")) if isinstance(d, dict) else 0

        read, write = count("cache_read"), count("cache_write")
        if count("input") or count("output"):
            model = as_str(data.get("currentModel")) or current_model or "unknown"
            out[model] = _construct(
                TokenUsage,
                dict(
                    input_tokens=max(0, count("input") - read - write),
                    cache_read_tokens=read,
                    cache_write_5m_tokens=write,
                    cache_write_1h_tokens=0,
                    output_tokens=count("output"),
                    reasoning_tokens=0,
                ),
            )
    return out


def _sum(usages: list[TokenUsage]) -> TokenUsage:
    total = TokenUsage()
    for u in usages:
        total = total.add(u)
    return total


class CopilotParser(LineParser):
    agent = AGENT

    def __init__(self, path: str, state: ParserState | None, workspace: dict[str, str] | None = None) -> None:
        super().__init__(path, state)
        d = self.data
        self.tools = BoundedMap(d.get("tools"), limit=1024)  # toolCallId -> [name, start iso ts]
        self.subagents = BoundedMap(d.get("subagents"), limit=256)  # task toolCallId -> agentName
        self.seg_start: int = d.get("seg_start") or 0
        self.seg_out: dict[str, int] = dict(d.get("seg_out") or {})  # output billed per model by messages
        self.seg_msgs: int = d.get("seg_msgs") or 0
        self.seg_closed: bool = bool(d.get("seg_closed"))
        self.unclosed: list[int] = list(d.get("unclosed") or [])  # start lines of segments without shutdown
        self.sid_known: bool = bool(d.get("sid_known"))
        self.title_from_workspace = bool(d.get("title_ws"))
        if workspace:
            apply_workspace(self.session, workspace)
            self.title_from_workspace = bool(workspace.get("summary")) or self.title_from_workspace

    def initial_session(self) -> Session:
        return Session(id=session_id_from_path(self.path), agent=AGENT)

    # ------------------------------------------------------------------ helpers

    def _model(self, model: str | None) -> None:
        if model and model != "auto":
            self.model = model
            if model not in self.session.models:
                self.session.models.append(model)
            if self.turns.current is not None and self.turns.current.get("model") is None:
                self.turns.update(model=model)

    def _ev(self, base: tuple, kind: EventKind, subtype: str, **fields: Any) -> Event:
        line, offset, length, ts, obj, data = base
        parent = as_str(data.get("parentToolCallId"))
        if parent and "sidechain" not in fields:
            fields["sidechain"] = True
            fields["parent_call_id"] = parent
            fields.setdefault("agent_id", self.subagents.get(parent))
        uid = as_str(obj.get("id"))
        if uid:
            fields["uuid"] = uid
        return new_event(line, offset, length, kind, subtype, ts, self.turns.index, **fields)

    def _new_segment(self, line: int) -> None:
        if not self.seg_closed and self.seg_msgs:
            self.unclosed.append(self.seg_start)
        self.seg_start = line
        self.seg_out = {}
        self.seg_msgs = 0
        self.seg_closed = False

    # ------------------------------------------------------------------ dispatch

    def handle(self, obj: dict[str, Any], line: int, offset: int, length: int) -> Event:
        ts = self.timestamp_of(obj)
        t = as_str(obj.get("type")) or ""
        data = _dict(obj.get("data"))
        base = (line, offset, length, ts, obj, data)
        handler = _HANDLERS.get(t)
        if handler is not None:
            ev = handler(self, base)
        elif t in _SYSTEM_TYPES:
            ev = self._system(t, base)
        elif t in _COMPACTION_TYPES:
            ev = self._ev(
                base,
                EventKind.COMPACTION,
                t,
                text=clip(as_str(data.get("summaryContent"))),
                extra={
                    k: data[k]
                    for k in ("preCompactionTokens", "postCompactionTokens", "tokensRemovedDuringTruncation", "success")
                    if isinstance(data.get(k), (int, bool))
                },
            )
        elif t in _META_TYPES:
            ev = self._meta(t, base)
        else:
            ev = self._ev(base, EventKind.UNKNOWN, t or "unknown")
        if not ev.sidechain:
            self.turns.touch(line, ts)
        return ev

    def _start(self, base: tuple) -> Event:
        data = base[5]
        s = self.session
        sid = as_str(data.get("sessionId"))
        if sid and not self.sid_known:
            s.id = sid
            self.sid_known = True
        s.cli_version = as_str(data.get("copilotVersion")) or s.cli_version
        s.originator = as_str(data.get("producer")) or s.originator
        if s.started_at is None or (parse_ts(data.get("startTime")) or s.started_at) < s.started_at:
            s.started_at = parse_ts(data.get("startTime")) or s.started_at
        self._context(data)
        self._model(as_str(data.get("selectedModel")))
        if self.seg_start == 0:
            self.seg_start = base[0]
        return self._ev(
            base,
            META,
            "session.start",
            text=None,
            extra={k: data[k] for k in ("copilotVersion", "reasoningEffort") if isinstance(data.get(k), str)},
        )

    def _context(self, data: dict[str, Any]) -> None:
        ctx = _dict(data.get("context"))
        s = self.session
        s.cwd = as_str(ctx.get("cwd")) or s.cwd
        s.git_branch = as_str(ctx.get("branch")) or s.git_branch
        s.git_commit = as_str(ctx.get("headCommit")) or s.git_commit
        s.git_remote = as_str(ctx.get("repository")) or s.git_remote

    def _resume(self, base: tuple) -> Event:
        self._new_segment(base[0])
        self._context(base[5])
        self._model(as_str(base[5].get("selectedModel")))
        return self._ev(base, META, "session.resume")

    def _meta(self, t: str, base: tuple) -> Event:
        data = base[5]
        fields: dict[str, Any] = {}
        if t == "session.model_change":
            self._model(as_str(data.get("newModel")))
            fields["model"] = as_str(data.get("newModel"))
        elif t == "assistant.turn_start":
            self._model(as_str(data.get("model")))
        elif t == "session.auto_mode_resolved":
            self._model(as_str(data.get("chosenModel")))
        elif t in ("subagent.started", "subagent.selected"):
            cid = as_str(data.get("toolCallId"))
            name = as_str(data.get("agentName")) or as_str(data.get("agentDisplayName"))
            if cid and name:
                self.subagents.set(cid, name)
            fields.update(call_id=cid, agent_id=name, text=clip(as_str(data.get("agentDescription"))))
        elif t in ("subagent.completed", "subagent.failed"):
            fields.update(
                call_id=as_str(data.get("toolCallId")),
                duration_ms=as_int(data.get("durationMs")),
                agent_id=as_str(data.get("agentName")),
                is_error=t == "subagent.failed",
            )
            if isinstance(data.get("totalTokens"), int):
                fields["extra"] = {"total_tokens": data["totalTokens"]}
        elif t == "session.mode_changed":
            fields["text"] = as_str(data.get("newMode"))
        return self._ev(base, META, t, **fields)

    def _system(self, t: str, base: tuple) -> Event:
        data = base[5]
        text = as_str(data.get("message")) or as_str(data.get("content")) or as_str(data.get("summary"))
        extra: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        if t in ("hook.start", "hook.end"):
            extra = {k: data[k] for k in ("hookType", "hookInvocationId", "success") if isinstance(data.get(k), (str, bool))}
            inp = _dict(data.get("input"))
            fields["tool"] = as_str(inp.get("toolName"))
        elif t == "skill.invoked":
            extra = {k: data[k] for k in ("name", "path") if isinstance(data.get(k), str)}
        elif t == "system.notification":
            kind = data.get("kind")
            if isinstance(kind, dict) and isinstance(kind.get("type"), str):
                extra["kind"] = kind["type"]
        elif t in ("session.info", "session.warning"):
            for k in ("infoType", "warningType"):
                if isinstance(data.get(k), str):
                    extra[k] = data[k]
        role = "system" if t == "system.message" else None
        kind = META if t in _HOOK_TYPES and data.get("success") is not False else SYSTEM
        return self._ev(base, kind, t, text=clip(scrub_data_urls(text)) if text else None, role=role, extra=extra, **fields)

    def _error(self, base: tuple) -> Event:
        data = base[5]
        extra = {k: data[k] for k in ("errorType", "statusCode") if isinstance(data.get(k), (str, int))}
        return self._ev(base, EventKind.ERROR, "session.error", is_error=True, text=clip(as_str(data.get("message"))), extra=extra)

    def _abort(self, base: tuple) -> Event:
        if not as_str(base[5].get("parentToolCallId")):
            self.turns.update(aborted=True)
        return self._ev(base, EventKind.ERROR, "abort", is_error=True, text=as_str(base[5].get("reason")))

    # ------------------------------------------------------------------ messages

    def _user(self, base: tuple) -> Event:
        line, _, _, ts, _, data = base
        text = as_str(data.get("content"))
        sidechain = bool(as_str(data.get("parentToolCallId")))
        attachments = _list(data.get("attachments"))
        files = [a["path"] for a in attachments if isinstance(a, dict) and isinstance(a.get("path"), str)]
        if not text or not text.strip():
            # an injected continuation ("You have not yet marked the task as complete…"): the user typed nothing
            return self._ev(
                base, SYSTEM, "user.message/injected", role="user", text=clip(as_str(data.get("transformedContent"))), files=files
            )
        text = scrub_data_urls(text)
        if not sidechain:
            trimmed = text.strip()
            self.turns.open(line, ts, prompt=clip(trimmed), model=self.model)
            if not self.title_from_workspace and self.session.title is None:
                self.session.title = trimmed.splitlines()[0][:200]
        extra: dict[str, Any] = {}
        if isinstance(data.get("agentMode"), str):
            extra["mode"] = data["agentMode"]
        return self._ev(base, EventKind.USER_MESSAGE, "user.message", role="user", text=clip(text), files=files, extra=extra)

    def _assistant(self, base: tuple) -> Event:
        line, _, _, ts, obj, data = base
        self._model(as_str(data.get("model")))
        model = as_str(data.get("model")) or self.model
        text = as_str(data.get("content"))
        reasoning = as_str(data.get("reasoningText"))
        mid = as_str(data.get("messageId"))
        requests = _list(data.get("toolRequests"))
        calls = [{"call_id": as_str(r.get("toolCallId")), "tool": as_str(r.get("name"))} for r in requests if isinstance(r, dict)]
        for c in calls:
            if c["call_id"] and c["tool"] and c["call_id"] not in self.tools:
                self.tools.set(c["call_id"], [c["tool"], None])
        fields: dict[str, Any] = {"role": "assistant", "model": model, "message_id": mid, "request_id": as_str(data.get("requestId"))}
        extra: dict[str, Any] = {}
        if calls:
            extra["tool_requests"] = calls
        out = tokens(data.get("outputTokens"))
        if out > 0:
            sid = self.session.id
            key = f"copilot:{sid}:msg:{mid or line}"
            usage = _construct(
                TokenUsage,
                dict(
                    input_tokens=0,
                    cache_read_tokens=0,
                    cache_write_5m_tokens=0,
                    cache_write_1h_tokens=0,
                    output_tokens=out,
                    reasoning_tokens=0,
                ),
            )
            self.usage[key] = _usage_record(key=key, line=line, timestamp=ts, model=model, usage=usage, speed=None, cost_usd=None)
            self.seg_out[model or ""] = self.seg_out.get(model or "", 0) + out
            fields["usage"] = usage
            fields["usage_key"] = key
        if not as_str(data.get("parentToolCallId")):
            self.seg_msgs += 1
        if text and text.strip():
            if reasoning:
                extra["reasoning"] = clip(reasoning, 16 * 1024)
            return self._ev(base, EventKind.ASSISTANT_MESSAGE, "assistant.message", text=clip(scrub_data_urls(text)), extra=extra, **fields)
        if reasoning:
            return self._ev(base, EventKind.REASONING, "assistant.message/reasoning", text=clip(reasoning), extra=extra, **fields)
        # no text: the tool calls that follow carry the content; this line only bills the request
        return self._ev(
            base,
            META,
            "assistant.message/tool_requests" if calls else "assistant.message/empty",
            text=", ".join(c["tool"] for c in calls if c["tool"]) or None,
            extra=extra,
            **fields,
        )

    def _reasoning(self, base: tuple) -> Event:
        return self._ev(base, EventKind.REASONING, "assistant.reasoning", role="assistant", text=clip(as_str(base[5].get("content"))))

    # ------------------------------------------------------------------ tools

    def _tool_start(self, base: tuple) -> Event:
        line, _, _, ts, _, data = base
        name = as_str(data.get("toolName"))
        cid = as_str(data.get("toolCallId"))
        args = data.get("arguments")
        if isinstance(args, str):
            try:
                parsed = loads(args)
                args = parsed if isinstance(parsed, dict) else {"input": args}
            except Exception:
                args = {"input": args}
        if not isinstance(args, dict):
            args = {}
        if cid:
            self.tools.set(cid, [name, ts.isoformat() if ts is not None else None])
        self._model(as_str(data.get("model")))
        files: list[str] = []
        path = as_str(args.get("path"))
        if name in FILE_TOOLS and path:
            files.append(path)
        extra: dict[str, Any] = {}
        for k in ("mcpServerName", "mcpToolName"):
            if isinstance(data.get(k), str):
                extra[k] = data[k]
        desc = as_str(args.get("description"))
        if desc:
            extra["description"] = desc
        command = as_str(args.get("command")) if name in _COMMAND_TOOLS else None
        if name in PATCH_TOOLS or (name == "str_replace_editor" and args.get("command") in ("create", "str_replace")):
            diff = _patch_text("create" if args.get("command") == "create" else name, args)
            if diff is not None:
                return self._ev(
                    base, EventKind.PATCH, "tool.execution_start", tool=name, call_id=cid, files=files, text=clip(diff), extra=extra
                )
        if name in TASK_TOOLS:
            text = as_str(args.get("prompt")) or as_str(args.get("description"))
            for k in ("agent_type", "name"):
                if isinstance(args.get(k), str):
                    extra[k] = args[k]
        elif command is not None:
            text = command
        else:
            text = scrub_data_urls(orjson.dumps(args).decode()) if args else None
        return self._ev(
            base,
            EventKind.TOOL_CALL,
            "tool.execution_start",
            tool=name,
            call_id=cid,
            command=command,
            files=files,
            text=clip(text),
            extra=extra,
        )

    def _tool_complete(self, base: tuple) -> Event:
        line, _, _, ts, _, data = base
        cid = as_str(data.get("toolCallId"))
        known = self.tools.get(cid)
        name = known[0] if isinstance(known, list) and known else None
        started = parse_ts(known[1]) if isinstance(known, list) and len(known) > 1 else None
        self._model(as_str(data.get("model")))
        result = _dict(data.get("result"))
        text = as_str(result.get("content"))
        error = data.get("error")
        if text is None and isinstance(error, dict):
            text = as_str(error.get("message"))
        elif text is None and isinstance(error, str):
            text = error
        ok = data.get("success")
        is_error = ok is False
        telemetry = _dict(data.get("toolTelemetry"))
        metrics = _dict(telemetry.get("metrics"))
        dur = as_int(metrics.get("durationMs"))
        if dur is None and started is not None and ts is not None:
            dur = max(0, int((ts - started).total_seconds() * 1000))
        code = exit_code(text) if name in SHELL_TOOLS else None
        extra: dict[str, Any] = {}
        detailed = as_str(result.get("detailedContent"))
        if detailed and detailed != text and name in PATCH_TOOLS:
            extra["diff"] = clip(detailed, 16 * 1024)
        return self._ev(
            base,
            EventKind.TOOL_RESULT,
            "tool.execution_complete",
            tool=name,
            call_id=cid,
            text=clip(scrub_data_urls(text).strip()) if text else None,
            is_error=is_error,
            exit_code=code,
            duration_ms=dur,
            model=as_str(data.get("model")),
            extra=extra,
        )

    # ------------------------------------------------------------------ tokens

    def _shutdown(self, base: tuple) -> Event:
        line, _, _, ts, obj, data = base
        per_model = shutdown_usage(data, self.model)
        sid = self.session.id
        eid = as_str(obj.get("id")) or str(line)
        # subtract what this segment's messages already billed: per model first, the rest from the largest
        billed = dict(self.seg_out)
        rest: dict[str, int] = {}
        for model, u in per_model.items():
            rest[model] = max(0, u.output_tokens - billed.pop(model, 0))
        unmatched = sum(billed.values())
        for model in sorted(rest, key=lambda m: -rest[m]):
            if unmatched <= 0:
                break
            take = min(unmatched, rest[model])
            rest[model] -= take
            unmatched -= take
        first_key: str | None = None
        totals: list[TokenUsage] = []
        for model, u in per_model.items():
            self._model(model)
            key = f"copilot:{sid}:shutdown:{eid}:{model}"
            billed_usage = u.model_copy(update={"output_tokens": rest[model]})
            self.usage[key] = _usage_record(key=key, line=line, timestamp=ts, model=model, usage=billed_usage, speed=None, cost_usd=None)
            totals.append(u)
            first_key = first_key or key
        self.seg_closed = True
        current = as_str(data.get("currentModel"))
        if current:
            self._model(current)
        extra: dict[str, Any] = {
            k: data[k]
            for k in ("shutdownType", "totalPremiumRequests", "totalApiDurationMs", "currentTokens")
            if isinstance(data.get(k), (str, int, float))
        }
        changes = data.get("codeChanges")
        if isinstance(changes, dict):
            extra["code_changes"] = {k: changes[k] for k in ("linesAdded", "linesRemoved") if isinstance(changes.get(k), int)}
        extra["segment_start_line"] = self.seg_start
        fields: dict[str, Any] = {}
        if totals:
            fields["usage"] = _sum(totals)  # the segment's full totals, for the hover
            fields["usage_key"] = first_key
        return self._ev(base, EventKind.TOKEN_USAGE, "session.shutdown", extra=extra, model=current, **fields)

    def finish(self) -> None:
        d = self.data
        d["tools"] = self.tools.dump()
        d["subagents"] = self.subagents.dump()
        d["seg_start"] = self.seg_start
        d["seg_out"] = self.seg_out
        d["seg_msgs"] = self.seg_msgs
        d["seg_closed"] = self.seg_closed
        d["unclosed"] = self.unclosed
        d["sid_known"] = self.sid_known
        d["title_ws"] = self.title_from_workspace
        open_now = [self.seg_start] if self.seg_msgs and not self.seg_closed else []
        d["usage_lower_bound"] = bool(self.unclosed or open_now)
        self.session.usage_lower_bound = d["usage_lower_bound"]
        warned = set(d.get("warned") or [])
        for start in self.unclosed:
            if start not in warned:
                warned.add(start)
                self.problems.append(
                    ParseProblem(
                        line=start,
                        offset=0,
                        severity="warning",
                        message="this session segment ended without session.shutdown: only its output tokens are "
                        "known, so the session's token figures are a lower bound",
                    )
                )
        d["warned"] = sorted(warned)


_HANDLERS = {
    "session.start": CopilotParser._start,
    "session.resume": CopilotParser._resume,
    "session.shutdown": CopilotParser._shutdown,
    "session.error": CopilotParser._error,
    "abort": CopilotParser._abort,
    "user.message": CopilotParser._user,
    "assistant.message": CopilotParser._assistant,
    "assistant.reasoning": CopilotParser._reasoning,
    "tool.execution_start": CopilotParser._tool_start,
    "tool.execution_complete": CopilotParser._tool_complete,
}


def usage_lower_bound(state: ParserState) -> bool:
    """True when some segment of the session had no ``session.shutdown`` (its prompt tokens are unknown)."""
    return bool(state.data.get("usage_lower_bound"))


def parse(data: bytes, path: str, state: ParserState | None = None, workspace: str | None = None) -> ParseResult:
    """Parse ``events.jsonl`` bytes (from ``state.offset``; whole file when ``state`` is None).

    ``workspace`` is the text of the ``workspace.yaml`` sidecar when there is one."""
    fields = parse_workspace_yaml(workspace) if workspace else None
    return CopilotParser(path, state, fields).parse(data)


# ---------------------------------------------------------------------------------------------------------
# the older single-JSON session document


def _line_index(data: bytes) -> list[int]:
    """Byte offsets of every line start."""
    starts = [0]
    find = data.find
    pos = find(b"\n")
    while pos >= 0:
        starts.append(pos + 1)
        pos = find(b"\n", pos + 1)
    return starts


def _locate(data: bytes, starts: list[int], needle: bytes, after: int) -> tuple[int, int]:
    """``(line, offset)`` of the first ``needle`` at or after byte ``after`` (the line start); (0, 0) if absent."""
    import bisect

    hit = data.find(needle, after) if needle else -1
    if hit < 0:
        return 0, 0
    line = bisect.bisect_right(starts, hit)
    return line, starts[line - 1]


def is_document(obj: Any) -> bool:
    """A legacy Copilot CLI session document: ``{sessionId, startTime, timeline[] | chatMessages[]}``."""
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("sessionId"), str)
        and (isinstance(obj.get("timeline"), list) or isinstance(obj.get("chatMessages"), list))
        and "startTime" in obj
    )


def parse_document(data: bytes, path: str) -> ParseResult:
    """Parse a legacy single-JSON Copilot CLI session (re-read whole whenever it changes).

    Events follow ``timeline[]`` (``chatMessages[]`` repeats it in OpenAI form and is used only when the
    timeline is empty).  A ``tool_call_completed`` item holds both the call and its result: it becomes a
    TOOL_CALL (on the item's first line) and a TOOL_RESULT (on its ``"result"`` line).  ``seq == line``
    (the line of the event in the pretty-printed file).  This format records no model and no tokens."""
    problems: list[ParseProblem] = []
    state = ParserState()
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        doc = None
        problems.append(ParseProblem(line=1, offset=0, message=f"malformed JSON: {exc}"))
    sid = as_str(doc.get("sessionId")) if isinstance(doc, dict) else None
    session = Session(
        id=sid or session_id_from_path(path),
        agent=AGENT,
        source_files=[path] if path else [],
        originator="copilot-cli (legacy session JSON)",
        usage_lower_bound=True,
    )  # this format records no tokens: they are unknown
    events: list[Event] = []
    turns = TurnTracker(state)
    if not isinstance(doc, dict):
        return ParseResult.model_construct(agent=AGENT, session=session, events=[], turns=[], usage=[], problems=problems, state=state)
    session.started_at = parse_ts(doc.get("startTime"))
    starts = _line_index(data)
    timeline = _list(doc.get("timeline"))
    items: list[dict[str, Any]] = [t for t in timeline if isinstance(t, dict)]
    from_chat = False
    if not items and isinstance(doc.get("chatMessages"), list):
        items = [m for m in doc["chatMessages"] if isinstance(m, dict)]
        from_chat = True
    pos = data.find(b'"timeline"') if not from_chat else data.find(b'"chatMessages"')
    pos = max(pos, 0)
    seq = 0
    tools: dict[str, str] = {}
    ts_min = ts_max = session.started_at

    def add(kind: EventKind, subtype: str, line: int, offset: int, ts: Any, **fields: Any) -> None:
        # seq == the item's line (the editor opens it); an item that cannot be located gets the next number
        nonlocal seq
        seq = max(line, seq + 1)
        ev = new_event(seq, offset, 0, kind, subtype, ts, turns.index, **fields)
        events.append(ev)
        turns.touch(seq, ts)

    for i, item in enumerate(items):
        try:
            iid = as_str(item.get("id")) or as_str(item.get("callId")) or as_str(item.get("tool_call_id"))
            needle = orjson.dumps(iid) if iid else b""
            line, offset = _locate(data, starts, needle, pos)
            if line:
                pos = offset + 1
            ts = parse_ts(item.get("timestamp"))
            if ts is not None:
                ts_min = ts if ts_min is None or ts < ts_min else ts_min
                ts_max = ts if ts_max is None or ts > ts_max else ts_max
            t = as_str(item.get("type")) or as_str(item.get("role")) or ""
            text = as_str(item.get("text")) if not from_chat else as_str(item.get("content"))
            if t == "user":
                trimmed = (text or "").strip()
                turns.open(line or 1, ts, prompt=clip(trimmed) or None)
                if session.title is None and trimmed:
                    session.title = trimmed.splitlines()[0][:200]
                add(EventKind.USER_MESSAGE, "user", line, offset, ts, role="user", text=clip(text), uuid=iid)
            elif t in ("copilot", "assistant"):
                if from_chat and isinstance(item.get("tool_calls"), list):
                    for call in item["tool_calls"]:
                        if not isinstance(call, dict):
                            continue
                        fn = _dict(call.get("function"))
                        name, cid = as_str(fn.get("name")), as_str(call.get("id"))
                        if cid and name:
                            tools[cid] = name
                        add(
                            EventKind.TOOL_CALL,
                            "assistant/tool_call",
                            line,
                            offset,
                            ts,
                            tool=name,
                            call_id=cid,
                            text=clip(as_str(fn.get("arguments"))),
                        )
                if text:
                    add(EventKind.ASSISTANT_MESSAGE, t, line, offset, ts, role="assistant", text=clip(scrub_data_urls(text)), uuid=iid)
            elif t == "tool" and from_chat:
                cid = as_str(item.get("tool_call_id"))
                add(EventKind.TOOL_RESULT, "tool", line, offset, ts, tool=tools.get(cid or ""), call_id=cid, text=clip(text))
            elif t == "tool_call_completed":
                name, cid = as_str(item.get("name")), as_str(item.get("callId"))
                args = _dict(item.get("arguments"))
                files = [args["path"]] if isinstance(args.get("path"), str) else []
                command = as_str(args.get("command")) if name in _COMMAND_TOOLS else None
                extra = {"intention": item["intentionSummary"]} if isinstance(item.get("intentionSummary"), str) else {}
                sub = as_str(args.get("command")) if name == "str_replace_editor" else None
                diff = _patch_text("create" if sub == "create" else "edit", args) if sub in ("create", "str_replace") else None
                if diff is not None:
                    add(
                        EventKind.PATCH,
                        "tool_call_completed/call",
                        line,
                        offset,
                        ts,
                        tool=name,
                        call_id=cid,
                        files=files,
                        extra=extra,
                        text=clip(diff),
                    )
                else:
                    add(
                        EventKind.TOOL_CALL,
                        "tool_call_completed/call",
                        line,
                        offset,
                        ts,
                        tool=name,
                        call_id=cid,
                        command=command,
                        files=files,
                        extra=extra,
                        text=clip(command or (scrub_data_urls(orjson.dumps(args).decode()) if args else None)),
                    )
                result = _dict(item.get("result"))
                if line:  # the result's own line: where its "result" key is, inside this item
                    rline, roffset = _locate(data, starts, b'"result"', offset)
                    if rline:
                        line, offset = rline, roffset
                        pos = max(pos, offset + 1)
                rtype = as_str(result.get("type"))
                log = as_str(result.get("log"))
                add(
                    EventKind.TOOL_RESULT,
                    "tool_call_completed/result",
                    line,
                    offset,
                    ts,
                    tool=name,
                    call_id=cid,
                    files=files,
                    is_error=rtype not in (None, "success"),
                    exit_code=exit_code(log) if name in SHELL_TOOLS else None,
                    text=clip(scrub_data_urls(log).strip()) if log else None,
                    extra={"result_type": rtype} if rtype else {},
                )
            elif t == "info":
                add(SYSTEM, "info", line, offset, ts, text=clip(text), uuid=iid)
            elif t == "error":
                add(EventKind.ERROR, "error", line, offset, ts, text=clip(text), is_error=True, uuid=iid)
            else:
                add(EventKind.UNKNOWN, t or "unknown", line, offset, ts, text=clip(text), uuid=iid)
        except Exception as exc:  # one bad item costs that item only
            problems.append(ParseProblem(line=1, offset=0, severity="warning", message=f"cannot interpret timeline item {i}: {exc!r}"))
    session.started_at = ts_min
    session.ended_at = ts_max
    state.offset = len(data)
    state.line = len(starts) if data.endswith(b"\n") else len(starts)
    state.session = session
    turns.save(state)
    return ParseResult.model_construct(
        agent=AGENT, session=session.model_copy(deep=True), events=events, turns=turns.turns(), usage=[], problems=problems, state=state
    )
