"""What a tool call did, in words: names for outlines, trees and transcript headers, and the
structured views of a few well-known inputs (todo lists / plans as checklists).

Works on the normalized event model only: a tool call carries its ``tool`` name, a shell
``command`` when it ran one, ``files`` it touched and ``text`` — the call's input, as JSON for
structured tools (every adapter writes it so).  Nothing here ever returns raw JSON object text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from sessionlens.models.kinds import EventKind

if TYPE_CHECKING:  # an event is the pydantic model or its plain row (``sessionlens show`` imports no pydantic)
    from sessionlens.models.store import AnyEvent

NAME_LIMIT = 90

KIND_LABEL = {
    EventKind.USER_MESSAGE: "User",
    EventKind.ASSISTANT_MESSAGE: "Assistant",
    EventKind.REASONING: "Reasoning",
    EventKind.TOOL_CALL: "Tool call",
    EventKind.TOOL_RESULT: "Tool result",
    EventKind.PATCH: "Patch",
    EventKind.TOKEN_USAGE: "Token usage",
    EventKind.COMPACTION: "Compaction",
    EventKind.SYSTEM: "System",
    EventKind.ERROR: "Error",
    EventKind.META: "Meta",
    EventKind.UNKNOWN: "Unknown line",
}

#: argument keys that say best what a call was about, best first
_KEYS = (
    "file_path",
    "notebook_path",
    "path",
    "pattern",
    "query",
    "url",
    "command",
    "cmd",
    "description",
    "prompt",
    "skill",
    "name",
    "subject",
    "title",
    "question",
    "bash_id",
    "shell_id",
    "task_id",
)

#: input fields worth naming per tool (lowercase tool name -> (label, keys ...))
_BY_TOOL: dict[str, tuple[str, ...]] = {
    "read": ("file_path", "path"),
    "view": ("path", "file_path"),
    "read_file": ("path", "file_path"),
    "write": ("file_path", "path"),
    "edit": ("file_path", "path"),
    "multiedit": ("file_path",),
    "notebookedit": ("notebook_path",),
    "notebookread": ("notebook_path",),
    "glob": ("pattern",),
    "grep": ("pattern",),
    "ls": ("path",),
    "list_dir": ("path",),
    "webfetch": ("url",),
    "websearch": ("query",),
    "web_search": ("query",),
    "task": ("description", "subagent_type"),
    "agent": ("description", "subagent_type"),
    "skill": ("skill", "command"),
    "slashcommand": ("command",),
    "view_image": ("path",),
    "bashoutput": ("bash_id",),
    "killshell": ("shell_id",),
    "killbash": ("shell_id",),
}

_TODO_TOOLS = {"todowrite", "update_plan", "todo_write", "write_todos", "todo"}


@dataclass
class TodoItem:
    text: str
    status: str  # pending | in_progress | completed

    @property
    def done(self) -> bool:
        return self.status == "completed"


def tool_input(ev: AnyEvent | None) -> dict[str, Any] | None:
    """The call's input as a dict, when its text is a JSON object (None otherwise, or when cut)."""
    if ev is None:
        return None
    return input_of(ev.text)


def input_of(text: str | None) -> dict[str, Any] | None:
    if not text or text[:1] != "{":
        return None
    try:
        v = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return v if isinstance(v, dict) else None


def todo_items(tool: str | None, inp: dict[str, Any] | None) -> list[TodoItem] | None:
    """A todo list / plan as checklist items (Claude ``TodoWrite``, Codex ``update_plan`` ...)."""
    if not inp or (tool or "").lower() not in _TODO_TOOLS:
        return None
    items = inp.get("todos") if isinstance(inp.get("todos"), list) else inp.get("plan")
    if not isinstance(items, list):
        return None
    out = []
    for it in items:
        if not isinstance(it, dict):
            continue
        text = it.get("content") or it.get("step") or it.get("text") or it.get("title") or it.get("activeForm")
        status = str(it.get("status") or "pending").lower().replace("-", "_")
        if status in ("done", "complete", "finished"):
            status = "completed"
        if isinstance(text, str):
            out.append(TodoItem(" ".join(text.split()), status))
    return out


def short_path(p: str, cwd: str | None = None) -> str:
    if cwd:
        base = cwd.rstrip("/") + "/"
        if p.startswith(base):
            return p[len(base) :] or p
    return p


def _one(s: str, limit: int = NAME_LIMIT) -> str:
    s = " ".join(str(s).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


_QUOTED = re.compile(r'"(file_path|notebook_path|path|pattern|query|url|command|cmd|description|prompt)"\s*:\s*"((?:[^"\\]|\\.)*)')


def call_name(
    tool: str | None,
    *,
    command: str | None = None,
    text: str | None = None,
    files: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    cwd: str | None = None,
    kind: str = "tool_call",
    limit: int = NAME_LIMIT,
) -> str:
    """``Read lib/x.ex``, ``Glob priv/**/*.exs``, ``TodoWrite: 3 of 5 done``, ``Bash: mix test``."""
    name = tool or ("patch" if kind == "patch" else "tool")
    low = name.lower()
    extra = extra or {}
    if kind == "patch":
        fl = [short_path(f, cwd) for f in (files or [])]
        if fl:
            more = f" (+{len(fl) - 2} more)" if len(fl) > 2 else ""
            return _one(f"{name} {', '.join(fl[:2])}{more}", limit)
        return name
    if low in ("task", "agent") and isinstance(extra.get("description"), str) and extra["description"].strip():
        kind_ = extra.get("subagent_type")
        return _one(f"{name}: {extra['description']}" + (f" ({kind_})" if isinstance(kind_, str) else ""), limit)
    if command:
        desc = extra.get("description") if isinstance(extra.get("description"), str) else None
        return _one(f"{name}: {command}", limit) if not desc or len(command) <= 60 else _one(f"{name}: {desc}", limit)
    inp = input_of(text)
    if inp is not None:
        todos = todo_items(name, inp)
        if todos is not None:
            done = sum(1 for t in todos if t.done)
            active = next((t.text for t in todos if t.status == "in_progress"), None)
            s = f"{name}: {done} of {len(todos)} done"
            return _one(s + (f" · {active}" if active else ""), limit)
        keys = _BY_TOOL.get(low) or _KEYS
        vals = [inp[k] for k in keys if isinstance(inp.get(k), str) and inp[k].strip()]
        if not vals:
            vals = [v for k in _KEYS if isinstance(v := inp.get(k), str) and v.strip()]
        if vals:
            main = vals[0]
            if any(k in ("file_path", "notebook_path", "path") for k in keys[:1]) or main.startswith("/"):
                main = short_path(main, cwd)
            s = f"{name} {main}"
            if low in ("grep", "glob") and isinstance(inp.get("path"), str):
                s += f" in {short_path(inp['path'], cwd)}"
            if low == "read" and isinstance(inp.get("offset"), int):
                lim = inp.get("limit")
                s += f" (lines {inp['offset']}–{inp['offset'] + lim})" if isinstance(lim, int) else f" (from line {inp['offset']})"
            if low in ("task", "agent") and len(vals) > 1:
                s += f" ({vals[1]})"
            return _one(s, limit)
        strs = [v for v in inp.values() if isinstance(v, str) and v.strip()]
        if strs:
            return _one(f"{name} {strs[0]}", limit)
        return f"{name} ({len(inp)} argument{'s' if len(inp) != 1 else ''})" if inp else name
    if files:
        return _one(f"{name} {short_path(files[0], cwd)}", limit)
    if text:
        if text[:1] in "{[":  # a cut JSON input: pick a known field, never show the JSON
            m = _QUOTED.search(text)
            if m:
                v = m.group(2).replace('\\"', '"').replace("\\\\", "\\")
                return _one(f"{name} {short_path(v, cwd)}", limit)
            return name
        return f"{name}: {prompt_name(text, max(limit - len(name) - 2, 10))}"  # JSON inside shows as {…}
    return name


_MESSAGE = re.compile(r'"(?:message|error_message|detail)"\s*:\s*"((?:[^"\\]|\\.)*)')
_ETYPE = re.compile(r'"type"\s*:\s*"([a-z_]*error[a-z_]*)"')


def error_name(text: str | None, limit: int = NAME_LIMIT) -> str:
    """An error by its words: an API error's JSON body becomes ``400 invalid_request_error: <message>``."""
    s = " ".join((text or "").split())
    i = s.find("{")
    if i < 0:
        return _one(s, limit)
    head = s[:i].strip()
    body = s[i:]
    msg = None
    try:
        v = orjson.loads(body)
        while isinstance(v, dict):
            if isinstance(v.get("message"), str):
                msg = v["message"]
                break
            v = v.get("error")
        if isinstance(v, str):
            msg = v
    except orjson.JSONDecodeError:
        m = _MESSAGE.search(body)
        msg = m.group(1).replace('\\"', '"') if m else None
    kinds = [k for k in _ETYPE.findall(body) if k != "error"]  # the specific one (invalid_request_error ...)
    parts = [p for p in (head, kinds[0] if kinds else None) if p]
    words = " ".join(parts) + (": " if parts and msg else "") + (msg or "")
    return _one(words or head or "error", limit)


_JSON_START = re.compile(r"""[{\[]\s*["{\[]""")


def prompt_name(prompt: str | None, limit: int = 80) -> str:
    """A prompt on one line for a turn's name; JSON pasted into it shows as ``{…}``."""
    s = " ".join((prompt or "").split())
    m = _JSON_START.search(s)
    if m:
        s = s[: m.start()].rstrip() + (" {…}" if s[m.start()] == "{" else " […]")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def event_name(ev: AnyEvent, cwd: str | None = None, limit: int = NAME_LIMIT) -> str:
    """A short label for any event (outline, tree, timeline, transcript header)."""
    k = ev.kind
    if k in (EventKind.TOOL_CALL, EventKind.PATCH):
        return call_name(ev.tool, command=ev.command, text=ev.text, files=ev.files, extra=ev.extra, cwd=cwd, kind=k.value, limit=limit)
    if k == EventKind.META and ev.subtype and ev.subtype.startswith("progress/"):
        return progress_label(ev, limit)
    if k == EventKind.ERROR and ev.text:
        return error_name(ev.text, limit)
    s = ev.text or ev.tool or ev.subtype or k.value
    return _one(s, limit)


def progress_label(ev: AnyEvent, limit: int = NAME_LIMIT) -> str:
    """What a Claude-style progress line is about (hook runs, live command output, sub-agent steps)."""
    sub = (ev.subtype or "").split("/", 1)[-1]
    x = ev.extra or {}
    if sub == "hook_progress":
        hook = x.get("hook_name") or x.get("hook_event") or "hook"
        cmd = x.get("hook_command")
        return _one(f"hook {hook}" + (f": {cmd}" if cmd else ""), limit)
    if sub == "bash_progress":
        n = len((ev.text or "").splitlines())
        return f"live command output ({n} line{'s' if n != 1 else ''})"
    if sub == "agent_progress":
        return _one(f"sub-agent {ev.agent_id or ''} step".replace("  ", " "), limit)
    if sub in ("mcp_progress", "query_update", "search_results_received", "waiting_for_task"):
        return _one(sub.replace("_", " "), limit)
    return _one(sub.replace("_", " ") or "progress", limit)


def one_line(ev: AnyEvent, limit: int = 100, cwd: str | None = None) -> str:
    """A short label for outlines and terminal timelines (what a call did, never its raw JSON)."""
    return event_name(ev, cwd, limit=limit)
