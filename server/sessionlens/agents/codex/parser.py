"""Parser for OpenAI Codex rollout files (``rollout-*.jsonl``).

Handles the three on-disk eras (see ``shared/docs/formats.md`` §1):

* **wrapped** (Sept 2025 →): ``{"timestamp", "type", "payload"[, "ordinal", "metadata"]}``;
* **transitional**: flattened lines tagged with ``record_type`` (``session_meta``/``response``/``event``/``state``);
* **legacy / bare** (≤ Sept 2025): first line ``{id, timestamp, instructions, git?}``, then bare
  ``ResponseItem`` objects and ``{"record_type": "state"}`` lines, no timestamps, no token counts.

Token usage follows §1.9: per file keep the previous ``total_token_usage``; each non-zero delta
becomes one billed :class:`UsageRecord` keyed ``codex:<session id>:<line>``.
"""

from __future__ import annotations

import os
import shlex
from datetime import datetime
from typing import Any

import orjson

from sessionlens.agents.common import (
    MAX_IMAGES,
    META,
    Agent,
    BoundedMap,
    Event,
    EventKind,
    LineParser,
    ParseProblem,
    ParseResult,
    ParserState,
    Session,
    TokenUsage,
    _construct,
    _usage_record,
    as_int,
    as_str,
    clip,
    event_with,
    image_from_data_url,
    limits,
    parse_ts,
    scrub_data_urls,
)

_INJECTED_PREFIXES = (
    "<environment_context",
    "<user_instructions",
    "<permissions",
    "# AGENTS.md",
    "<INSTRUCTIONS>",
    "<user_shell_command",
    "<turn_aborted",
    "<subagent_notification",
    "<collaboration_mode",
    "<personality",
    "<skill",
    "<developer_instructions",
    "<app-context",
)
_META_EVENT_MSGS = frozenset(
    {
        "task_started",
        "turn_started",
        "task_complete",
        "turn_complete",
        "entered_review_mode",
        "exited_review_mode",
        "thread_rolled_back",
        "undo_completed",
        "thread_name_updated",
        "item_completed",
        "injected_message",
        "image_generation_end",
        "web_search_end",
        "view_image_tool_call",
        "dynamic_tool_call_request",
        "dynamic_tool_call_response",
        "guardian_assessment",
        "session_configured",
        "plan_update",
        "background_event",
        "mcp_list_tools_response",
        "turn_diff",
        "get_history_entry_response",
        "shutdown_complete",
        "user_message_queued",
        "warning",
        "deprecation_notice",
    }
)
_META_TOP_TYPES = frozenset(
    {
        "turn_context",
        "world_state",
        "inter_agent_communication",
        "inter_agent_communication_metadata",
        "token_usage_record",
        "retained_context",
        "security_risk_score",
        "realtime_item",
    }
)
_SHELL_TOOLS = frozenset({"shell", "container.exec", "local_shell", "shell_command", "exec_command"})


def _session_id_from_path(path: str) -> str:
    name = os.path.basename(path)
    for suffix in (".jsonl.zst", ".jsonl"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if name.startswith("rollout-") and len(name) >= 36 and name[-36:].count("-") == 4:
        return name[-36:]
    return name or path


def _content_text(content: Any) -> str | None:
    """Readable text of a Responses-API content list; images become ``[image]``, encrypted parts vanish."""
    if isinstance(content, str):
        return scrub_data_urls(content)
    if not isinstance(content, list):
        return None
    parts: list[str] = []
    for item in content:
        if isinstance(item, str):
            parts.append(item)
            continue
        if not isinstance(item, dict):
            continue
        t = item.get("type")
        if t in ("input_image", "image", "output_image"):
            parts.append("[image]")
        elif t == "encrypted_content":
            continue
        else:
            text = item.get("text")
            if isinstance(text, str):
                parts.append(text)
    if not parts:
        return None
    return scrub_data_urls("\n".join(parts))


def _content_images(content: Any) -> list[dict[str, Any]]:
    """Images (``data:`` URLs only) of a content list, as kept image entries."""
    out: list[dict[str, Any]] = []
    if isinstance(content, list):
        for item in content:
            if isinstance(item, dict) and item.get("type") in ("input_image", "image", "output_image"):
                im = image_from_data_url(item.get("image_url") or item.get("url"))
                if im is not None and len(out) < MAX_IMAGES:
                    out.append(im)
    return out


def _is_injected(text: str | None) -> bool:
    if not text:
        return False
    return text.lstrip().startswith(_INJECTED_PREFIXES)


def _join_command(cmd: Any) -> str | None:
    if isinstance(cmd, str):
        return cmd
    if isinstance(cmd, list) and all(isinstance(c, str) for c in cmd):
        # show `bash -lc "<script>"` as the script: that is what the user reads
        if len(cmd) == 3 and cmd[1] in ("-lc", "-c") and os.path.basename(cmd[0]) in ("bash", "sh", "zsh"):
            return cmd[2]
        return shlex.join(cmd)
    return None


_PATCH_FILE_MARKERS = ("*** Add File: ", "*** Update File: ", "*** Delete File: ", "*** Move to: ")


def _patch_files(patch: str) -> list[str]:
    """Files named by ``*** Add/Update/Delete File:`` / ``*** Move to:`` headers, in patch order."""
    files: list[str] = []
    pos = 0
    while True:
        hit = patch.find("*** ", pos)
        if hit < 0:
            return files
        end = patch.find("\n", hit)
        header = patch[hit : end if end >= 0 else len(patch)]
        pos = hit + 4
        if hit and patch[hit - 1] != "\n":
            continue  # not at a line start
        for marker in _PATCH_FILE_MARKERS:
            if header.startswith(marker):
                name = header[len(marker) :].strip()
                if name and name not in files:
                    files.append(name)
                break


def _patch_text(command: str | None) -> str | None:
    """The ``*** Begin Patch … *** End Patch`` block inside a shell ``apply_patch`` command, if any."""
    if not command or "apply_patch" not in command:
        return None
    start = command.find("*** Begin Patch")
    if start < 0:
        return None
    end = command.find("*** End Patch", start)
    return command[start : end + len("*** End Patch")] if end >= 0 else command[start:]


_USAGE_KEYS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens")


def _valid_counts(raw: Any) -> dict[str, int] | None:
    """A token usage object's counts, or None when it is no object or one of its counts is not a
    plausible integer (``input_tokens`` must be there; a missing other count is 0)."""
    if raw.__class__ is not dict:
        return None
    out: dict[str, int] = {}
    hi = limits.MAX_TOKENS
    for k in _USAGE_KEYS:
        v = raw.get(k)
        if v is None:
            if k == "input_tokens":
                return None  # the one count a usage must have
            out[k] = 0
        elif v.__class__ is int and 0 <= v <= hi:  # not bool: orjson gives exact ints
            out[k] = v
        else:
            return None
    return out


def _normalize(raw: dict[str, int]) -> TokenUsage:
    cached = max(raw["cached_input_tokens"], 0)
    return _construct(
        TokenUsage,
        dict(
            input_tokens=max(raw["input_tokens"] - cached, 0),
            cache_read_tokens=cached,
            cache_write_5m_tokens=0,
            cache_write_1h_tokens=0,
            output_tokens=max(raw["output_tokens"], 0),
            reasoning_tokens=max(raw["reasoning_output_tokens"], 0),
        ),
    )


def _exit_code_from_text(text: str) -> int | None:
    head = text[:600]
    for marker in ("Process exited with code ", "Exit code: "):
        hit = head.find(marker)
        if hit >= 0:
            digits: list[str] = []
            for ch in head[hit + len(marker) : hit + len(marker) + 12]:
                if ch.isdigit() or (ch == "-" and not digits):
                    digits.append(ch)
                else:
                    break
            try:
                code = int("".join(digits))
            except ValueError:
                return None
            return code if limits.EXIT_MIN <= code <= limits.EXIT_MAX else None  # "Exit code: 99999999999999"
    return None


def _wall_time_ms(text: str) -> int | None:
    head = text[:300]
    hit = head.find("Wall time: ")
    if hit < 0:
        return None
    num = head[hit + 11 :].split(" ", 1)[0].strip()
    try:
        ms = float(num) * 1000
    except ValueError:
        return None
    return int(ms) if 0 <= ms <= limits.MAX_DURATION_MS else None  # NaN, inf, 1e300 are no durations


class CodexParser(LineParser):
    agent = Agent.CODEX

    def __init__(self, path: str, state: ParserState | None) -> None:
        super().__init__(path, state)
        d = self.data
        self.calls = BoundedMap(d.get("calls"))
        self.prev_total: dict[str, int] | None = d.get("prev_total")
        self.legacy: bool = bool(d.get("legacy"))
        self.wrapped: bool = bool(d.get("wrapped"))
        self.has_task_started: bool = bool(d.get("task_started"))
        self.meta_seen: bool = bool(d.get("meta_seen"))
        self.replay_until: datetime | None = parse_ts(d.get("replay_until"))
        self.prev_raw: Any = None  # the raw total of the previous token_count (fast equality check)
        self.prev_last: dict[str, int] | None = d.get("prev_last")  # the last usage of the last counted request
        self.pending_images: list[dict[str, Any]] | None = d.get("pending_images")

    def initial_session(self) -> Session:
        return Session(id=_session_id_from_path(self.path), agent=Agent.CODEX)

    # ------------------------------------------------------------------ dispatch

    def handle(self, obj: dict[str, Any], line: int, offset: int, length: int) -> Event:
        ts = self.timestamp_of(obj)
        base = (line, offset, length, ts)
        top = obj.get("type")
        payload = obj.get("payload")
        if "record_type" in obj and payload is None:
            ev = self._transitional(obj, base)
        elif isinstance(top, str) and "payload" in obj:
            self.wrapped = True
            ev = self._wrapped(top, payload if isinstance(payload, dict) else {}, base, obj)
        elif top is None and "id" in obj and not self.meta_seen:
            self.legacy = True  # bare-era header {id, timestamp, instructions, git?}
            ev = self._session_meta(obj, base, "session_meta")
        elif isinstance(top, str):
            self.legacy = self.legacy or not self.wrapped  # a stray bare item in a wrapped file changes nothing
            ev = self._response_item(obj, base, "response_item/")
        else:
            ev = self._ev(base, EventKind.UNKNOWN, None)
        self.turns.touch(line, ts)
        return ev

    def _ev(self, base: tuple, kind: EventKind, subtype: str | None, **fields: Any) -> Event:
        line, offset, length, ts = base
        return event_with(line, offset, length, kind, subtype, ts, self.turns.index, fields)

    def _transitional(self, obj: dict[str, Any], base: tuple) -> Event:
        rt = obj.get("record_type")
        body = {k: v for k, v in obj.items() if k not in ("record_type", "timestamp")}
        if rt == "session_meta":
            return self._session_meta(body, base, "session_meta")
        if rt == "response":
            return self._response_item(body, base, "response_item/")
        if rt == "event":
            return self._event_msg(body, base)
        if rt in ("state", "prev_session_meta"):
            return self._ev(base, META, str(rt))
        return self._ev(base, EventKind.UNKNOWN, f"record_type/{rt}")

    def _wrapped(self, top: str, payload: dict[str, Any], base: tuple, obj: dict[str, Any]) -> Event:
        if top == "response_item":
            ev = self._response_item(payload, base, "response_item/")
            meta = obj.get("metadata")
            if isinstance(meta, dict) and meta and not ev.extra.get("metadata"):
                small = {k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool))}
                if small:
                    ev.extra = {**ev.extra, "metadata": small}
            return ev
        if top == "event_msg":
            return self._event_msg(payload, base)
        if top == "session_meta":
            return self._session_meta(payload, base, "session_meta")
        if top == "turn_context":
            return self._turn_context(payload, base)
        if top == "compacted":
            msg = as_str(payload.get("message"))
            return self._ev(base, EventKind.COMPACTION, "compacted", text=clip(msg.strip()) if msg and msg.strip() else None)
        if top in _META_TOP_TYPES:
            return self._ev(base, META, top)
        return self._ev(base, EventKind.UNKNOWN, top)

    # ------------------------------------------------------------------ meta

    def _session_meta(self, p: dict[str, Any], base: tuple, subtype: str) -> Event:
        if self.meta_seen:
            # forks and sub-agents copy the parent's session_meta: keep the file's own (first) one
            return self._ev(base, META, subtype, extra={"copied": True})
        self.meta_seen = True
        s = self.session
        sid = as_str(p.get("id"))
        if sid:
            s.id = sid
        s.cwd = as_str(p.get("cwd")) or s.cwd
        s.cli_version = as_str(p.get("cli_version")) or s.cli_version
        s.originator = as_str(p.get("originator")) or s.originator
        start = parse_ts(p.get("timestamp"))
        if start is not None and (self.ts_min is None or start < self.ts_min):
            self.ts_min = start
        git = p.get("git")
        if isinstance(git, dict):
            s.git_branch = as_str(git.get("branch")) or s.git_branch
            s.git_commit = as_str(git.get("commit_hash")) or s.git_commit
            s.git_remote = as_str(git.get("repository_url")) or s.git_remote
        source = p.get("source")
        parent = as_str(p.get("forked_from_id")) or as_str(p.get("parent_thread_id"))
        if isinstance(source, dict):
            sub = source.get("subagent")
            if isinstance(sub, dict):
                spawn = sub.get("thread_spawn")
                if isinstance(spawn, dict):
                    parent = as_str(spawn.get("parent_thread_id")) or parent
        if parent:
            s.parent_session_id = parent
        nick = as_str(p.get("agent_nickname"))
        if nick:
            s.agent_id = nick
        if parent:
            # forked / spawned threads replay the parent's history (incl. token_counts) right away
            ts = base[3] or start
            if ts is not None:
                self.replay_until = ts.replace(microsecond=0)
        model = as_str(p.get("model"))
        if model:
            self._set_model(model)
        return self._ev(base, META, subtype, extra={"source": source} if isinstance(source, str) else {})

    def _set_model(self, model: str) -> None:
        self.model = model
        if model not in self.session.models:
            self.session.models.append(model)
        if self.turns.current is not None and self.turns.current.get("model") != model:
            self.turns.update(model=model)

    def _turn_context(self, p: dict[str, Any], base: tuple) -> Event:
        model = as_str(p.get("model"))
        if model:
            self._set_model(model)
        if self.session.cwd is None:
            self.session.cwd = as_str(p.get("cwd"))
        tid = as_str(p.get("turn_id"))
        if tid and self.turns.current is not None and self.turns.current.get("turn_id") is None:
            self.turns.update(turn_id=tid)
        return self._ev(base, META, "turn_context", model=model)

    # ------------------------------------------------------------------ response items

    def _response_item(self, p: dict[str, Any], base: tuple, prefix: str) -> Event:
        t = p.get("type")
        sub = prefix + str(t)
        mid = as_str(p.get("id"))
        if t == "message":
            return self._message(p, base, sub, mid)
        if t == "reasoning":
            text = None
            summary = p.get("summary")
            if isinstance(summary, list):
                text = _content_text(summary)
            if not text:
                text = _content_text(p.get("content"))
            return self._ev(base, EventKind.REASONING, sub, text=clip(text), model=self.model, message_id=mid)
        if t in ("function_call", "custom_tool_call", "local_shell_call"):
            return self._tool_call(p, t, base, sub, mid)
        if t in ("function_call_output", "custom_tool_call_output"):
            return self._tool_output(p, t, base, sub)
        if t == "web_search_call":
            action = a if isinstance(a := p.get("action"), dict) else {}
            text = as_str(action.get("query")) or as_str(action.get("url")) or as_str(action.get("pattern"))
            return self._ev(
                base,
                EventKind.TOOL_CALL,
                sub,
                tool="web_search",
                text=text,
                model=self.model,
                message_id=mid,
                extra={"action": as_str(action.get("type"))} if action else {},
            )
        if t == "image_generation_call":
            return self._ev(
                base,
                EventKind.TOOL_CALL,
                sub,
                tool="image_generation",
                text=clip(as_str(p.get("revised_prompt"))),
                message_id=mid,
                model=self.model,
            )
        if t == "tool_search_call":
            cid = as_str(p.get("call_id"))
            if cid:
                self.calls.set(cid, "tool_search")
            return self._ev(base, EventKind.TOOL_CALL, sub, tool="tool_search", call_id=cid, message_id=mid)
        if t == "tool_search_output":
            return self._ev(base, EventKind.TOOL_RESULT, sub, tool="tool_search", call_id=as_str(p.get("call_id")))
        if t in ("compaction", "compaction_summary", "context_compaction"):
            return self._ev(base, EventKind.COMPACTION, sub)
        if t == "ghost_snapshot":
            return self._ev(base, META, sub)
        return self._ev(base, EventKind.UNKNOWN, sub)

    def _message(self, p: dict[str, Any], base: tuple, sub: str, mid: str | None) -> Event:
        role = as_str(p.get("role"))
        text = _content_text(p.get("content"))
        extra = {"phase": p["phase"]} if isinstance(p.get("phase"), str) else {}
        if role == "assistant":
            return self._ev(
                base, EventKind.ASSISTANT_MESSAGE, sub, role=role, text=clip(text), model=self.model, message_id=mid, extra=extra
            )
        if role in ("developer", "system") or _is_injected(text):
            if self.legacy and self.session.cwd is None and text and "<cwd>" in text:
                start = text.find("<cwd>") + 5
                end = text.find("</cwd>", start)
                if end > start:
                    self.session.cwd = text[start:end].strip() or None
            return self._ev(base, EventKind.SYSTEM, sub, role=role, text=clip(text), message_id=mid, extra=extra)
        images = _content_images(p.get("content"))
        if self.legacy:
            if images:
                extra["images"] = images
            return self._user_prompt(base, sub, text, role=role or "user", message_id=mid, extra=extra)
        # wrapped era: event_msg/user_message is the primary copy of the prompt; it gets the
        # images this mirror carries (its own list is often empty, naming local files only)
        self.pending_images = images
        return self._ev(base, EventKind.USER_MESSAGE, sub, role=role, text=clip(text), duplicate=True, message_id=mid, extra=extra)

    def _user_prompt(self, base: tuple, sub: str, text: str | None, **fields: Any) -> Event:
        line, _, _, ts = base
        trimmed = text.strip() if text else None
        if not self.has_task_started or self.turns.current is None:
            self.turns.open(line, ts, prompt=clip(trimmed), model=self.model)
        elif self.turns.current.get("prompt") is None:
            self.turns.update(prompt=clip(trimmed))
        if self.session.title is None and trimmed:
            self.session.title = trimmed.splitlines()[0][:200]
        return self._ev(base, EventKind.USER_MESSAGE, sub, text=clip(text), **fields)

    def _tool_call(self, p: dict[str, Any], t: str, base: tuple, sub: str, mid: str | None) -> Event:
        cid = as_str(p.get("call_id")) or as_str(p.get("id"))
        name = as_str(p.get("name")) or ("local_shell" if t == "local_shell_call" else None)
        command: str | None = None
        text: str | None = None
        files: list[str] = []
        extra: dict[str, Any] = {}
        if t == "custom_tool_call":
            text = as_str(p.get("input"))
        elif t == "local_shell_call":
            action = a if isinstance(a := p.get("action"), dict) else {}
            command = _join_command(action.get("command"))
            wd = as_str(action.get("working_directory"))
            if wd:
                extra["workdir"] = wd
        else:
            raw_args = p.get("arguments")
            args: Any = None
            if isinstance(raw_args, str):
                text = raw_args
                if raw_args[:1] == "{":
                    try:
                        args = orjson.loads(raw_args)
                    except orjson.JSONDecodeError:
                        args = None
            elif isinstance(raw_args, dict):
                args = raw_args
                text = orjson.dumps(raw_args).decode()
            if isinstance(args, dict):
                if name in _SHELL_TOOLS or "cmd" in args:
                    command = _join_command(args.get("cmd", args.get("command")))
                wd = as_str(args.get("workdir"))
                if wd:
                    extra["workdir"] = wd
                path_arg = as_str(args.get("path"))
                if path_arg:
                    files.append(path_arg)
        patch = text if name == "apply_patch" and text else _patch_text(command)
        if patch:
            name = "apply_patch"
        if cid and name:
            self.calls.set(cid, name)
        if patch:
            return self._ev(
                base,
                EventKind.PATCH,
                sub,
                tool=name,
                call_id=cid,
                command=command,
                text=clip(patch),
                files=_patch_files(patch),
                model=self.model,
                message_id=mid,
                extra=extra,
            )
        return self._ev(
            base,
            EventKind.TOOL_CALL,
            sub,
            tool=name,
            call_id=cid,
            command=command,
            text=clip(command or (scrub_data_urls(text) if text else None)),
            files=files,
            model=self.model,
            message_id=mid,
            extra=extra,
        )

    def _tool_output(self, p: dict[str, Any], t: str, base: tuple, sub: str) -> Event:
        cid = as_str(p.get("call_id"))
        out = p.get("output")
        exit_code: int | None = None
        duration: int | None = None
        text: str | None = None
        failed = False
        if isinstance(out, dict):  # older shape: {"content": "...", "success": bool}
            text = _content_text(out.get("content"))
            failed = out.get("success") is False
        elif isinstance(out, str):
            text = out
            if out[:1] == "{" and ('"metadata"' in out[:200] or out[:10] == '{"output":'):
                try:
                    decoded = orjson.loads(out)
                except orjson.JSONDecodeError:
                    decoded = None
                if isinstance(decoded, dict):
                    meta = decoded.get("metadata")
                    if isinstance(meta, dict):
                        exit_code = as_int(meta.get("exit_code"))
                        secs = meta.get("duration_seconds")
                        if isinstance(secs, (int, float)) and not isinstance(secs, bool):
                            duration = limits.clamp_int(secs * 1000)  # the store checks the range
                    inner = decoded.get("output")
                    if isinstance(inner, str):
                        text = inner
            text = scrub_data_urls(text)
        else:
            text = _content_text(out)
        images = _content_images(out) if isinstance(out, list) else []
        if text:
            if exit_code is None:
                exit_code = _exit_code_from_text(text)
            if duration is None:
                duration = _wall_time_ms(text)
        if text is not None:
            text = text.strip() or None
        is_error = failed or (exit_code is not None and exit_code != 0)
        tool = self.calls.get(cid) or as_str(p.get("name"))
        return self._ev(
            base,
            EventKind.TOOL_RESULT,
            sub,
            tool=tool,
            call_id=cid,
            exit_code=exit_code,
            duration_ms=duration,
            is_error=is_error,
            text=clip(text),
            extra={"images": images} if images else {},
        )

    # ------------------------------------------------------------------ event_msg

    def _event_msg(self, p: dict[str, Any], base: tuple) -> Event:
        t = p.get("type")
        sub = f"event_msg/{t}"
        line, _, _, ts = base
        if t == "user_message":
            text = as_str(p.get("message"))
            extra = {}
            images = p.get("images")
            if isinstance(images, list) and images:
                extra["images"] = [image_from_data_url(u) or {"mime": None} for u in images[:MAX_IMAGES]]
            pending = self.pending_images
            if pending and not any(isinstance(x, dict) and x.get("data") for x in extra.get("images") or []):
                extra["images"] = pending
            self.pending_images = None
            return self._user_prompt(base, sub, scrub_data_urls(text) if text else None, role="user", extra=extra)
        if t == "agent_message":
            return self._ev(
                base,
                EventKind.ASSISTANT_MESSAGE,
                sub,
                role="assistant",
                duplicate=True,
                text=clip(as_str(p.get("message"))),
                model=self.model,
            )
        if t in ("agent_reasoning", "agent_reasoning_raw_content"):
            return self._ev(base, EventKind.REASONING, sub, duplicate=True, text=clip(as_str(p.get("text"))), model=self.model)
        if t == "token_count":
            return self._token_count(p, base, sub)
        if t in ("task_started", "turn_started"):
            self.has_task_started = True
            self.turns.open(line, ts, turn_id=as_str(p.get("turn_id")), model=self.model)
            return self._ev(base, META, sub)
        if t in ("task_complete", "turn_complete"):
            cur = self.turns.current
            dur = as_int(p.get("duration_ms"))
            if cur is not None:
                if dur is None and ts is not None and cur.get("started_at") is not None:
                    dur = int((ts - cur["started_at"]).total_seconds() * 1000)
                self.turns.update(duration_ms=dur)
            return self._ev(base, META, sub, duration_ms=dur)
        if t == "turn_aborted":
            self.turns.update(aborted=True)
            return self._ev(base, EventKind.ERROR, sub, text=as_str(p.get("reason")), is_error=True)
        if t == "context_compacted":
            return self._ev(base, EventKind.COMPACTION, sub)
        if t in ("error", "stream_error"):
            return self._ev(base, EventKind.ERROR, sub, is_error=True, text=clip(as_str(p.get("message"))))
        if t == "exec_command_end":
            cid = as_str(p.get("call_id"))
            code = as_int(p.get("exit_code"))
            text = as_str(p.get("aggregated_output")) or as_str(p.get("formatted_output")) or as_str(p.get("stdout"))
            dur = p.get("duration")
            duration = None
            if isinstance(dur, dict):
                duration = (as_int(dur.get("secs")) or 0) * 1000 + (as_int(dur.get("nanos")) or 0) // 1_000_000
            elif isinstance(dur, (int, float)) and not isinstance(dur, bool):
                duration = limits.clamp_int(dur * 1000)  # the store checks the range
            return self._ev(
                base,
                EventKind.TOOL_RESULT,
                sub,
                tool=self.calls.get(cid) or "exec_command",
                call_id=cid,
                exit_code=code,
                is_error=code not in (None, 0),
                duration_ms=duration,
                command=_join_command(p.get("command")),
                text=clip(scrub_data_urls(text).strip() or None) if text else None,
                duplicate=True,
            )
        if t == "patch_apply_end":
            cid = as_str(p.get("call_id"))
            ok = p.get("success")
            text = (as_str(p.get("stdout")) or "") + (as_str(p.get("stderr")) or "")
            return self._ev(
                base,
                EventKind.TOOL_RESULT,
                sub,
                tool="apply_patch",
                call_id=cid,
                is_error=ok is False,
                text=clip(text.strip() or None),
                duplicate=True,
            )
        if t == "mcp_tool_call_end":
            cid = as_str(p.get("call_id"))
            return self._ev(base, EventKind.TOOL_RESULT, sub, tool=self.calls.get(cid), call_id=cid, duplicate=True)
        if t == "thread_name_updated":
            name = as_str(p.get("thread_name")) or as_str(p.get("name"))
            if name:
                self.session.title = name
            return self._ev(base, META, sub, text=name)
        if t in _META_EVENT_MSGS:
            return self._ev(base, META, sub)
        return self._ev(base, EventKind.UNKNOWN, sub)

    def _token_count(self, p: dict[str, Any], base: tuple, sub: str) -> Event:
        line, _, _, ts = base
        info = p.get("info")
        if not isinstance(info, dict):
            return self._ev(base, EventKind.TOKEN_USAGE, sub)
        raw_total = info.get("total_token_usage")
        if raw_total is not None and raw_total == self.prev_raw:
            # an unchanged re-emitted snapshot (about half of all token_count lines)
            return self._ev(base, EventKind.TOKEN_USAGE, sub, duplicate=True, model=self.model)
        self.prev_raw = raw_total
        raw_last = info.get("last_token_usage")
        last = _valid_counts(raw_last)
        if raw_last is not None and last is None:
            self.problems.append(ParseProblem(line=line, offset=base[1], severity="warning", message="malformed last_token_usage: ignored"))
        delta: dict[str, int] | None
        total = _valid_counts(raw_total) if raw_total is not None else None
        if raw_total is not None and total is None:
            # a malformed running total must not become the base of the next delta (the whole
            # session would be counted again): ignored, this request counts by its last usage
            self.problems.append(
                ParseProblem(line=line, offset=base[1], severity="warning", message="malformed total_token_usage: ignored")
            )
            raw_total = None
        if raw_total is None and self.prev_total is not None and last is not None and last == self.prev_last:
            # a total missing where the others have one, on a re-emitted snapshot (half of all
            # token_counts are): counted already
            return self._ev(base, EventKind.TOKEN_USAGE, sub, duplicate=True, model=self.model)
        if total is not None:
            prev = self.prev_total
            if prev is None:
                delta = total
            else:
                delta = {k: total[k] - prev.get(k, 0) for k in total}
                if all(v == 0 for v in delta.values()):
                    delta = None
                elif any(v < 0 for v in delta.values()) or last is not None and any(delta[k] > last[k] for k in _USAGE_KEYS):
                    # Codex's totals grow by exactly the last usage: a total that shrank (a reset
                    # after resume or compaction) or grew by more (the previous total was off) counts
                    # by its last usage; unless that is the request counted last (a re-emitted
                    # snapshot with a corrupt total: counted already, the running total kept)
                    if last is not None and last == self.prev_last:
                        return self._ev(base, EventKind.TOKEN_USAGE, sub, duplicate=True, model=self.model)
                    delta = last
            self.prev_total = total
        else:
            delta = last
            if self.prev_total is not None and last is not None:
                # the malformed total stood for the previous one plus this request: the running total
                # goes on from there (a valid re-emission of it then adds nothing)
                self.prev_total = {k: self.prev_total.get(k, 0) + last[k] for k in _USAGE_KEYS}
        if delta is None or not any(delta.values()):
            return self._ev(base, EventKind.TOKEN_USAGE, sub, duplicate=True, model=self.model)
        if self.replay_until is not None and ts is not None:
            if (ts - self.replay_until).total_seconds() < 2:
                return self._ev(base, EventKind.TOKEN_USAGE, sub, duplicate=True, model=self.model, extra={"replay": True})
            self.replay_until = None
        self.prev_last = last
        usage = _normalize(delta)
        key = f"codex:{self.session.id}:{line}"
        self.usage[key] = _usage_record(key=key, line=line, timestamp=ts, model=self.model, usage=usage, speed=None, cost_usd=None)
        return self._ev(base, EventKind.TOKEN_USAGE, sub, usage=usage, usage_key=key, model=self.model)

    def finish(self) -> None:
        d = self.data
        d["calls"] = self.calls.dump()
        d["prev_total"] = self.prev_total
        d["prev_last"] = self.prev_last
        d["legacy"] = self.legacy
        d["wrapped"] = self.wrapped
        d["task_started"] = self.has_task_started
        d["meta_seen"] = self.meta_seen
        d["replay_until"] = self.replay_until.isoformat() if self.replay_until is not None else None
        d["pending_images"] = self.pending_images or None  # a prompt's images, until its event_msg copy


def parse(data: bytes, path: str, state: ParserState | None = None) -> ParseResult:
    """Parse Codex rollout bytes (starting at ``state.offset``; the whole file when ``state`` is None)."""
    return CodexParser(path, state).parse(data)
