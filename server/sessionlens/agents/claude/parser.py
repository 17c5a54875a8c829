"""Parser for Claude Code transcripts (``~/.claude/projects/<escaped-cwd>/<sessionId>.jsonl``).

See ``shared/docs/formats.md`` §2.  Sub-agent files (``<sid>/subagents/agent-<id>.jsonl``) are
sessions of their own (id ``<sid>:agent-<id>``).  Usage: one :class:`UsageRecord` per
``(message.id, requestId)``; only ``assistant`` lines are billed (never ``toolUseResult.usage``
nor ``progress`` payloads); ``<synthetic>`` / API-error lines are not billed.
"""

from __future__ import annotations

import os
import re
from collections import deque
from typing import Any

import orjson

from sessionlens.agents.common import (
    MAX_IMAGES,
    META,
    SYSTEM,
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
    as_dict,
    as_int,
    as_str,
    clip,
    edit_diff,
    event_with,
    image_entry,
    limits,
    scrub_data_urls,
)

SYNTHETIC_MODEL = "<synthetic>"
_TASK_TOOLS = frozenset({"Task", "Agent"})
_TOOL_USE_TYPES = ("tool_use", "server_tool_use")
_HOOK_FIELDS = (("hookEvent", "hook_event"), ("hookName", "hook_name"), ("command", "hook_command"))
_FILE_TOOLS = frozenset({"Read", "Edit", "Write", "MultiEdit", "NotebookEdit"})
_PATCH_TOOLS = frozenset({"Edit", "Write", "MultiEdit"})
_SYSTEM_PREFIXES = (
    "<local-command-stdout>",
    "<local-command-stderr>",
    "<local-command-caveat>",
    "Caveat: The messages below",
    "<system-reminder>",
    "<user-prompt-submit-hook>",
    "<bash-stdout>",
    "<bash-stderr>",
)
_COMMAND_PREFIXES = ("<command-name>", "<command-message>", "<bash-input>")
_META_TYPES = frozenset(
    {
        "file-history-snapshot",
        "queue-operation",
        "attachment",
        "pr-link",
        "agent-name",
        "custom-title",
        "last-prompt",
        "permission-mode",
        "ai-title",
        "agent-setting",
        "bridge-session",
        "worktree-state",
    }
)
_RECENT_KEYS = 256
#: a record wrapped in a hyphenated tag (<task-notification>, <system-reminder>, <command-name> ...)
#: is context Claude Code injected in the user's role, not a human prompt
_INJECTED_TAG = re.compile(r"\s*<([a-z]+(?:-[a-z]+)+)[\s>]")
_PENDING_SUMMARIES = 64


def _injected_tag(text: str | None) -> str | None:
    if not text:
        return None
    m = _INJECTED_TAG.match(text)
    return m.group(1) if m else None


def _images(blocks: Any) -> list[dict[str, Any]]:
    """Inline base64 images of a content list (Claude ``{"type": "image", "source": {...}}``)."""
    out: list[dict[str, Any]] = []
    if not isinstance(blocks, list):
        return out
    for b in blocks:
        if isinstance(b, dict) and b.get("type") == "image" and len(out) < MAX_IMAGES:
            src = as_dict(b.get("source"))
            if src.get("type") == "base64":
                out.append(image_entry(src.get("media_type"), src.get("data")))
            else:  # a URL or file reference: never fetched
                out.append({"mime": as_str(src.get("media_type"))})
    return out


def _structured_patch(sp: Any) -> str | None:
    """A tool result's ``structuredPatch`` (hunks with the edited file's line numbers) as unified-diff text."""
    if not isinstance(sp, list) or not sp:
        return None
    out: list[str] = []
    for h in sp[:200]:
        if not isinstance(h, dict):
            continue
        os_, ol, ns, nl = (as_int(h.get(k)) for k in ("oldStart", "oldLines", "newStart", "newLines"))
        lines = h.get("lines")
        if os_ is None or ns is None or not isinstance(lines, list):
            continue
        out.append(f"@@ -{os_},{ol or 0} +{ns},{nl or 0} @@")
        out.extend(x for x in lines if isinstance(x, str))
    return "\n".join(out) if out else None


def _project_dir_name(path: str) -> str | None:
    """The ``~/.claude/projects/<escaped launch dir>`` folder name a transcript lives in."""
    d = os.path.dirname(path)
    if os.path.basename(d) == "subagents":
        d = os.path.dirname(os.path.dirname(d))
    name = os.path.basename(d)
    return name if name.startswith("-") else None


def project_from_dir(cwd: str, dirname: str | None) -> str | None:
    """The ancestor of ``cwd`` (or ``cwd``) whose escaped form is the project folder name: Claude
    Code names a project's folder by the directory it was started in, with every character that
    is not a letter or digit replaced by ``-``."""
    if not dirname or not cwd.startswith("/"):
        return None
    cand = cwd.rstrip("/")
    while cand:
        if re.sub(r"[^A-Za-z0-9]", "-", cand) == dirname:
            return cand
        cand = cand.rsplit("/", 1)[0]
    return None


def _subagent_from_path(path: str) -> tuple[str | None, str | None]:
    """``(parent session id, agent id)`` for ``…/<sid>/subagents/agent-<id>.jsonl`` (or ``agent-<id>.jsonl``)."""
    name = os.path.basename(path)
    for suffix in (".jsonl.zst", ".jsonl"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if not name.startswith("agent-"):
        return None, None
    agent_id = name[len("agent-") :]
    parent_dir = os.path.dirname(path)
    sid = None
    if os.path.basename(parent_dir) == "subagents":
        sid = os.path.basename(os.path.dirname(parent_dir)) or None
    return sid, agent_id or None


def _blocks_text(blocks: list[Any]) -> str | None:
    parts: list[str] = []
    for b in blocks:
        if isinstance(b, str):
            parts.append(b)
        elif isinstance(b, dict):
            t = b.get("type")
            if t == "text" and isinstance(b.get("text"), str) and b["text"].strip():
                parts.append(b["text"])
            elif t == "image":
                parts.append("[image]")
    return scrub_data_urls("\n".join(parts)) if parts else None


def _human_text(blocks: list[Any]) -> tuple[str | None, list[str]]:
    """The human part of a user content list and the tags of the injected blocks left out."""
    parts: list[str] = []
    tags: list[str] = []
    for b in blocks:
        t = b if isinstance(b, str) else b.get("text") if isinstance(b, dict) and b.get("type") == "text" else None
        if isinstance(t, str) and t.strip():
            tag = _injected_tag(t)
            if tag:
                tags.append(tag)
            else:
                parts.append(t)
        elif isinstance(b, dict) and b.get("type") == "image":
            parts.append("[image]")
    return (scrub_data_urls("\n".join(parts)) if parts else None), tags


def _result_text(content: Any) -> str | None:
    if isinstance(content, str):
        return scrub_data_urls(content)
    if isinstance(content, list):
        parts: list[str] = []
        for b in content:
            if isinstance(b, dict):
                t = b.get("type")
                if t == "text" and isinstance(b.get("text"), str):
                    parts.append(b["text"])
                elif t == "image":
                    parts.append("[image]")
                elif t == "tool_reference" and isinstance(b.get("tool_name"), str):
                    parts.append(b["tool_name"])
        return scrub_data_urls("\n".join(parts)) if parts else None
    return None


def _exit_code(text: str | None) -> int | None:
    if not text:
        return None
    head = text[:80]
    hit = head.find("Exit code ")
    if hit < 0 or hit > 8:
        return None
    digits = ""
    for ch in head[hit + 10 :]:
        if "0" <= ch <= "9":  # ASCII only ("²".isdigit() is True, int("²") fails)
            digits += ch
        else:
            break
    if not digits:
        return None
    code = int(digits)
    return code if code <= limits.EXIT_MAX else None  # "Exit code 99999999999999999999" is no exit code


def _edit_diff(name: str, inp: dict[str, Any]) -> str | None:
    """A unified-diff-like rendering of an Edit/Write/MultiEdit input."""
    path = as_str(inp.get("file_path"))
    if name == "Write":
        content = as_str(inp.get("content"))
        return None if content is None else edit_diff(path, new_file=content)
    edits = inp.get("edits") if name == "MultiEdit" else [inp]
    if not isinstance(edits, list):
        return None
    return edit_diff(path, [(as_str(e.get("old_string")), as_str(e.get("new_string"))) for e in edits if isinstance(e, dict)])


_TOKEN_FIELDS = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens")


def _tok(value: Any) -> int:
    """``limits.tokens`` with the common case (a plain int in range) first."""
    if value.__class__ is int and 0 <= value <= limits.MAX_TOKENS:
        return value
    return limits.tokens(value)


def _usage(raw: dict[str, Any]) -> TokenUsage:
    """Tokens of one request, each within ``[0, MAX_TOKENS]`` (a negative count is no count)."""
    tok = _tok
    creation = tok(raw.get("cache_creation_input_tokens"))
    w5 = w1 = 0
    cc = raw.get("cache_creation")
    if isinstance(cc, dict):
        w5 = tok(cc.get("ephemeral_5m_input_tokens"))
        w1 = tok(cc.get("ephemeral_1h_input_tokens"))
    if w5 + w1 < creation:
        w5 += creation - w5 - w1  # no (or partial) TTL breakdown: the default TTL is 5 minutes
    return _construct(
        TokenUsage,
        dict(
            input_tokens=tok(raw.get("input_tokens")),
            cache_read_tokens=tok(raw.get("cache_read_input_tokens")),
            cache_write_5m_tokens=w5,
            cache_write_1h_tokens=w1,
            output_tokens=tok(raw.get("output_tokens")),
            reasoning_tokens=0,
        ),
    )


def _usage_out_of_range(raw: dict[str, Any]) -> list[str]:
    """The token fields that are not ``limits.int_ok`` (orjson gives exact ints: ``bool`` is the
    only int subclass it makes, and it is no count)."""
    hi = limits.MAX_TOKENS
    bad: list[str] = []
    for k in _TOKEN_FIELDS:
        v = raw.get(k)
        if v is not None and not (v.__class__ is int and 0 <= v <= hi):
            bad.append(k)
    return bad


class ClaudeParser(LineParser):
    agent = Agent.CLAUDE

    def __init__(self, path: str, state: ParserState | None) -> None:
        super().__init__(path, state)
        d = self.data
        self.tools = BoundedMap(d.get("tools"), limit=512)
        self.agent_calls = BoundedMap(d.get("agent_calls"), limit=256)  # agentId -> Task tool_use id
        self.open_tasks: list[str] = list(d.get("open_tasks") or [])
        self.recent_keys: list[str] = list(d.get("recent_keys") or [])
        self.recent_set = set(self.recent_keys)
        self.title_from_summary: bool = bool(d.get("title_from_summary"))
        self.in_subagent_file = self.session.agent_id is not None
        self.session_id_known: bool = bool(d.get("sid_known"))
        self.pending_command: str | None = d.get("pending_command")
        # summary lines name the session holding their leafUuid: kept until that line shows up
        self.summaries: dict[str, str] = dict(d.get("summaries") or {})
        self.recent_uuids: deque[str] = deque(d.get("recent_uuids") or [], maxlen=_RECENT_KEYS)  # for a summary after its leaf

    def initial_session(self) -> Session:
        parent, agent_id = _subagent_from_path(self.path)
        if agent_id is not None and parent is not None:
            return Session(id=f"{parent}:agent-{agent_id}", agent=Agent.CLAUDE, parent_session_id=parent, agent_id=agent_id)
        name = os.path.basename(self.path)
        for suffix in (".jsonl.zst", ".jsonl"):
            if name.endswith(suffix):
                name = name[: -len(suffix)]
        s = Session(id=name or self.path, agent=Agent.CLAUDE)
        if agent_id is not None:  # old layout: agent-<id>.jsonl next to the session file
            s.agent_id = agent_id
        return s

    # ------------------------------------------------------------------ dispatch

    def handle(self, obj: dict[str, Any], line: int, offset: int, length: int) -> Event:
        ts = self.timestamp_of(obj)
        s = self.session
        t = obj.get("type")
        if t in ("user", "assistant", "system", "progress"):
            self._common(obj)
        base = (line, offset, length, ts, obj)
        if t == "user":
            ev = self._user(obj, base)
        elif t == "assistant":
            ev = self._assistant(obj, base)
        elif t == "system":
            ev = self._system(obj, base)
        elif t == "progress":
            ev = self._progress(obj, base)
        elif t == "summary":
            text = as_str(obj.get("summary"))
            leaf = as_str(obj.get("leafUuid"))
            if text and text.strip() and leaf:
                if leaf in self.recent_uuids:
                    s.title = text.strip()[:200]
                    self.title_from_summary = True
                else:
                    self.summaries[leaf] = text.strip()[:200]
                    while len(self.summaries) > _PENDING_SUMMARIES:
                        self.summaries.pop(next(iter(self.summaries)))
            ev = self._ev(base, META, "summary", text=clip(text))
        elif t in _META_TYPES or t == "attachment":
            ev = self._ev(base, META, str(t), text=clip(as_str(obj.get("content"))) if t == "queue-operation" else None)
        else:
            ev = self._ev(base, EventKind.UNKNOWN, str(t) if t is not None else None)
        if ev.uuid:
            if self.summaries and ev.uuid in self.summaries:
                s.title = self.summaries.pop(ev.uuid)
                self.title_from_summary = True
            self.recent_uuids.append(ev.uuid)  # (a deque of the last _RECENT_KEYS)
        if not ev.sidechain or self.in_subagent_file:
            self.turns.touch(line, ts)
        return ev

    def _common(self, obj: dict[str, Any]) -> None:
        s = self.session
        if not self.session_id_known:
            sid = as_str(obj.get("sessionId"))
            if sid:
                self.session_id_known = True
                if s.agent_id is None:
                    s.id = sid
                elif s.parent_session_id is None:  # old layout agent-<id>.jsonl: the parent id is in the lines
                    s.parent_session_id = sid
                    s.id = f"{sid}:agent-{s.agent_id}"
        # (a value is set only when there is one: a pydantic attribute write per line is not free)
        if s.cwd is None:
            cwd = obj.get("cwd")
            if cwd.__class__ is str:
                s.cwd = cwd
                if cwd and s.project is None:
                    s.project = project_from_dir(cwd, _project_dir_name(self.path))
        if s.git_branch is None:
            branch = obj.get("gitBranch")
            if branch.__class__ is str and branch:
                s.git_branch = branch
        if s.cli_version is None:
            v = obj.get("version")
            if v.__class__ is str:
                s.cli_version = v
        if s.originator is None:
            v = obj.get("entrypoint")
            if v.__class__ is str:
                s.originator = v

    def _ev(self, base: tuple, kind: EventKind, subtype: str | None, **fields: Any) -> Event:
        return self._evd(base, kind, subtype, fields)

    def _evd(self, base: tuple, kind: EventKind, subtype: str | None, fields: dict[str, Any]) -> Event:
        """``_ev`` with the fields as a dict of the caller's own (changed here)."""
        line, offset, length, ts, obj = base
        if obj.get("isSidechain") is True and "sidechain" not in fields:
            fields["sidechain"] = True
            agent_id = as_str(obj.get("agentId"))
            fields.setdefault("agent_id", agent_id)
            if not self.in_subagent_file and "parent_call_id" not in fields:
                parent = self.agent_calls.get(agent_id) if agent_id else None
                if parent is None and self.open_tasks:
                    parent = self.open_tasks[-1]
                fields["parent_call_id"] = parent
        elif self.in_subagent_file:
            fields.setdefault("agent_id", self.session.agent_id)
        uuid = obj.get("uuid")
        if uuid.__class__ is str and uuid:
            fields["uuid"] = uuid
        return event_with(line, offset, length, kind, subtype, ts, self.turns.index, fields)

    def _opens_turn(self, obj: dict[str, Any]) -> bool:
        return obj.get("isSidechain") is not True or self.in_subagent_file

    def _prompt(self, base: tuple, text: str | None, obj: dict[str, Any]) -> None:
        line, _, _, ts, _ = base
        trimmed = text.strip() if text else None
        if self._opens_turn(obj):
            self.turns.open(line, ts, prompt=clip(trimmed), model=self.model)
            if not self.title_from_summary and self.session.title is None and trimmed:
                self.session.title = trimmed.splitlines()[0][:200]

    # ------------------------------------------------------------------ user

    def _user(self, obj: dict[str, Any], base: tuple) -> Event:
        msg = as_dict(obj.get("message"))
        content = msg.get("content")
        if isinstance(content, list):
            for b in content:
                if isinstance(b, dict) and b.get("type") == "tool_result":
                    return self._tool_result(obj, content, base)
        injected: list[str] = []
        text: str | None
        if isinstance(content, str):
            text = scrub_data_urls(content)
        elif isinstance(content, list):
            text, injected = _human_text(content)
            if text is None and injected:
                text = _blocks_text(content)
        else:
            text = None
        if obj.get("isCompactSummary") is True:
            return self._ev(base, EventKind.COMPACTION, "user/compact_summary", role="user", text=clip(text))
        pending = self.pending_command
        self.pending_command = None
        if obj.get("isMeta") is True:
            if pending:
                # a custom slash command / skill expanded into a prompt: that starts a turn
                self._prompt(base, pending, obj)
            return self._ev(base, SYSTEM, "user/meta", role="user", text=clip(text))
        stripped = text.lstrip() if text else ""
        if stripped.startswith("[Request interrupted by user"):
            if self._opens_turn(obj):
                self.turns.update(aborted=True)
            return self._ev(base, EventKind.ERROR, "user/interrupted", role="user", text=stripped, is_error=True)
        if stripped.startswith(_COMMAND_PREFIXES):
            command = self._command(stripped)
            # built-in commands (/clear, /model…) are followed by their output; a custom command is
            # followed by its expansion (an isMeta line), which opens the turn
            self.pending_command = command or stripped
            return self._ev(base, SYSTEM, "user/command", role="user", text=clip(text), extra={"command": command} if command else {})
        if stripped.startswith(_SYSTEM_PREFIXES):
            return self._ev(base, SYSTEM, "user/local_command", role="user", text=clip(text))
        tag = _injected_tag(stripped)
        if tag or (not stripped and injected):
            # <task-notification>, <system-reminder> ...: context inside the turn, not a prompt
            return self._ev(base, SYSTEM, "user/injected", role="user", text=clip(text), extra={"tag": tag or injected[0]})
        if not stripped:
            return self._ev(base, SYSTEM, "user/empty", role="user")
        self._prompt(base, text, obj)
        extra: dict[str, Any] = {}
        images = _images(content)
        if images:
            extra["images"] = images
        if injected:
            extra["injected"] = injected
        return self._ev(base, EventKind.USER_MESSAGE, "user", role="user", text=clip(text), extra=extra)

    @staticmethod
    def _command(text: str) -> str | None:
        def tag(name: str) -> str | None:
            start = text.find(f"<{name}>")
            if start < 0:
                return None
            end = text.find(f"</{name}>", start)
            return text[start + len(name) + 2 : end].strip() if end > 0 else None

        name = tag("command-name") or tag("bash-input")
        if not name:
            return None
        args = tag("command-args")
        return f"{name} {args}" if args else name

    def _tool_result(self, obj: dict[str, Any], content: list[Any], base: tuple) -> Event:
        results = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
        first = results[0]
        cid = as_str(first.get("tool_use_id"))
        text = _result_text(first.get("content"))
        is_error = first.get("is_error") is True
        tool = self.tools.get(cid)
        extra: dict[str, Any] = {}
        images = _images(first.get("content"))
        if images:
            extra["images"] = images
        if len(results) > 1:
            extra["call_ids"] = [as_str(b.get("tool_use_id")) for b in results[1:]]
        files: list[str] = []
        fields: dict[str, Any] = {}
        tur = obj.get("toolUseResult")
        if isinstance(tur, str):
            if "rejected" in tur.lower():
                is_error = True
                extra["rejected"] = True
        elif isinstance(tur, dict):
            if tur.get("interrupted") is True:
                extra["interrupted"] = True
            stderr = as_str(tur.get("stderr"))
            if stderr:
                extra["stderr"] = clip(stderr, 4096)
            fp = as_str(tur.get("filePath"))
            if fp is None and isinstance(tur.get("file"), dict):
                fp = as_str(tur["file"].get("filePath"))
            if fp:
                files.append(fp)
            agent_id = as_str(tur.get("agentId"))
            if agent_id:
                fields["agent_id"] = agent_id
                if cid:
                    self.agent_calls.set(agent_id, cid)
            dur = as_int(tur.get("totalDurationMs")) or as_int(tur.get("durationMs"))
            if dur is not None:
                fields["duration_ms"] = dur
            if as_int(tur.get("totalTokens")) is not None:
                extra["total_tokens"] = tur["totalTokens"]
            if tur.get("userModified") is True:
                extra["user_modified"] = True
            patch = _structured_patch(tur.get("structuredPatch"))
            if patch:
                extra["patch"] = clip(patch, 32 * 1024)
        code = _exit_code(text) if is_error else None
        if tool == "Bash" and code is None and not is_error:
            code = 0
        if cid in self.open_tasks:
            self.open_tasks.remove(cid)
        return self._ev(
            base,
            EventKind.TOOL_RESULT,
            "user/tool_result",
            role="user",
            call_id=cid,
            tool=tool,
            text=clip(text.strip() if text else None),
            is_error=is_error,
            exit_code=code,
            files=files,
            extra=extra,
            **fields,
        )

    # ------------------------------------------------------------------ assistant

    def _assistant(self, obj: dict[str, Any], base: tuple) -> Event:
        self.pending_command = None
        msg = as_dict(obj.get("message"))
        model = as_str(msg.get("model"))
        mid = as_str(msg.get("id"))
        rid = as_str(obj.get("requestId"))
        content = msg.get("content")
        blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
        common: dict[str, Any] = {"role": "assistant", "message_id": mid, "request_id": rid}
        synthetic = model == SYNTHETIC_MODEL or obj.get("isApiErrorMessage") is True
        if synthetic:
            text = _blocks_text(blocks) if blocks else as_str(content)
            return self._ev(
                base,
                EventKind.ERROR,
                "assistant/api_error",
                is_error=True,
                text=clip(text),
                model=None if model == SYNTHETIC_MODEL else model,
                extra={k: obj[k] for k in ("error", "apiErrorStatus") if isinstance(obj.get(k), (str, int))},
                **common,
            )
        if model:
            self.model = model
            if model not in self.session.models:
                self.session.models.append(model)
            if self._opens_turn(obj) and self.turns.current is not None and self.turns.current.get("model") is None:
                self.turns.update(model=model)
        common["model"] = model
        raw_usage = msg.get("usage")
        if isinstance(raw_usage, dict) and (mid or rid):
            key = f"claude:{mid or ''}:{rid or ''}"
            usage = _usage(raw_usage)
            bad = _usage_out_of_range(raw_usage)
            if bad:
                self.problems.append(
                    ParseProblem(
                        line=base[0],
                        offset=base[1],
                        severity="warning",
                        message=f"token counts out of range ({', '.join(bad)}): counted as 0",
                    )
                )
            prev = self.usage.get(key)
            if prev is None or usage.output_tokens > prev.usage.output_tokens:
                cost = obj.get("costUSD")
                self.usage[key] = _usage_record(
                    key=key,
                    line=base[0] if prev is None else prev.line,
                    timestamp=base[3] if prev is None else prev.timestamp,
                    model=model,
                    usage=usage,
                    speed=as_str(raw_usage.get("speed")),
                    cost_usd=float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None,
                )
            if key not in self.recent_set:
                self._remember(key)
                common["usage"] = usage
                common["usage_key"] = key
        tool_use = None
        for b in blocks:
            if b.get("type") in _TOOL_USE_TYPES:
                tool_use = b
                break
        if tool_use is not None:
            return self._tool_use(tool_use, blocks, base, common)
        texts = [b["text"] for b in blocks if b.get("type") == "text" and isinstance(b.get("text"), str) and b["text"].strip()]
        if texts:
            return self._ev(base, EventKind.ASSISTANT_MESSAGE, "assistant/text", text=clip("\n".join(texts)), **common)
        thinking = [b for b in blocks if b.get("type") in ("thinking", "redacted_thinking")]
        if thinking:
            parts = [b["thinking"] for b in thinking if isinstance(b.get("thinking"), str)]
            sub = "assistant/thinking" if parts or thinking[0].get("type") == "thinking" else "assistant/redacted_thinking"
            return self._ev(base, EventKind.REASONING, sub, text=clip("\n".join(parts)) if parts else None, **common)
        if isinstance(content, str):
            return self._ev(base, EventKind.ASSISTANT_MESSAGE, "assistant/text", text=clip(content), **common)
        first_type = blocks[0].get("type") if blocks else None
        return self._ev(base, EventKind.ASSISTANT_MESSAGE, f"assistant/{first_type or 'empty'}", **common)

    def _remember(self, key: str) -> None:
        self.recent_keys.append(key)
        self.recent_set.add(key)
        if len(self.recent_keys) > _RECENT_KEYS:
            old = self.recent_keys.pop(0)
            self.recent_set.discard(old)

    def _tool_use(self, block: dict[str, Any], blocks: list[dict[str, Any]], base: tuple, common: dict[str, Any]) -> Event:
        name = as_str(block.get("name"))
        cid = as_str(block.get("id"))
        inp = as_dict(block.get("input"))
        if cid and name:
            self.tools.set(cid, name)
        if name in _TASK_TOOLS and cid and not (base[4].get("isSidechain") is True and not self.in_subagent_file):
            self.open_tasks.append(cid)
            del self.open_tasks[:-64]
        extra: dict[str, Any] = {}
        if len([b for b in blocks if b.get("type") in ("tool_use", "server_tool_use")]) > 1:
            extra["call_ids"] = [b.get("id") for b in blocks if b.get("type") in ("tool_use", "server_tool_use")][1:]
        files: list[str] = []
        command = None
        text: str | None = None
        if name in _FILE_TOOLS:
            fp = as_str(inp.get("file_path")) or as_str(inp.get("notebook_path"))
            if fp:
                files.append(fp)
        if name == "Bash":
            command = as_str(inp.get("command"))
            text = command
            desc = as_str(inp.get("description"))
            if desc:
                extra["description"] = desc
        elif name in _TASK_TOOLS:
            text = as_str(inp.get("prompt"))
            for k in ("description", "subagent_type"):
                if isinstance(inp.get(k), str):
                    extra[k] = inp[k]
        if name in _PATCH_TOOLS:
            diff = _edit_diff(name, inp)
            return self._ev(
                base, EventKind.PATCH, "assistant/tool_use", tool=name, call_id=cid, files=files, text=clip(diff), extra=extra, **common
            )
        if text is None and inp:
            text = scrub_data_urls(orjson.dumps(inp).decode())
        return self._ev(
            base,
            EventKind.TOOL_CALL,
            f"assistant/{block.get('type')}",
            tool=name,
            call_id=cid,
            command=command,
            files=files,
            text=clip(text),
            extra=extra,
            **common,
        )

    # ------------------------------------------------------------------ system / progress

    def _system(self, obj: dict[str, Any], base: tuple) -> Event:
        st = as_str(obj.get("subtype")) or ""
        sub = f"system/{st}" if st else "system"
        text = as_str(obj.get("content"))
        if st in ("compact_boundary", "microcompact_boundary"):
            cm = as_dict(obj.get("compactMetadata"))
            extra = {k: cm[k] for k in ("trigger", "preTokens") if k in cm}
            return self._ev(base, EventKind.COMPACTION, sub, text=text, extra=extra)
        if st == "api_error":
            err = obj.get("error")
            msg = text
            if msg is None and err is not None:
                msg = err if isinstance(err, str) else orjson.dumps(err).decode()
            return self._ev(
                base,
                EventKind.ERROR,
                sub,
                is_error=True,
                text=clip(msg),
                extra={k: obj[k] for k in ("retryAttempt", "maxRetries", "retryInMs") if k in obj},
            )
        if st == "turn_duration":
            dur = as_int(obj.get("durationMs"))
            if dur is not None and self._opens_turn(obj):
                self.turns.update(duration_ms=dur)
            return self._ev(base, META, sub, duration_ms=dur)
        level = as_str(obj.get("level"))
        is_error = level == "error"
        return self._ev(base, EventKind.ERROR if is_error else SYSTEM, sub, text=clip(text), is_error=is_error)

    def _progress(self, obj: dict[str, Any], base: tuple) -> Event:
        data = as_dict(obj.get("data"))
        dt = as_str(data.get("type")) or "unknown"
        parent = as_str(obj.get("parentToolUseID"))
        agent_id = as_str(data.get("agentId"))
        if agent_id and parent:
            self.agent_calls.set(agent_id, parent)
        fields: dict[str, Any] = {"parent_call_id": parent, "call_id": as_str(obj.get("toolUseID"))}
        if agent_id:
            fields["agent_id"] = agent_id
        if dt == "bash_progress":
            fields["text"] = clip(as_str(data.get("output")), 4096)
        elif dt == "hook_progress":
            extra: dict[str, Any] = {}
            for k, k2 in _HOOK_FIELDS:
                v = data.get(k)
                if v.__class__ is str and v:
                    extra[k2] = clip(v, 300)
            fields["extra"] = extra
        return self._evd(base, META, f"progress/{dt}", fields)

    def finish(self) -> None:
        d = self.data
        d["tools"] = self.tools.dump()
        d["agent_calls"] = self.agent_calls.dump()
        d["open_tasks"] = self.open_tasks
        d["recent_keys"] = self.recent_keys
        d["title_from_summary"] = self.title_from_summary
        d["sid_known"] = self.session_id_known
        d["pending_command"] = self.pending_command
        d["summaries"] = self.summaries
        d["recent_uuids"] = list(self.recent_uuids)


def parse(data: bytes, path: str, state: ParserState | None = None) -> ParseResult:
    """Parse Claude Code transcript bytes (starting at ``state.offset``; whole file when ``state`` is None)."""
    return ClaudeParser(path, state).parse(data)
