"""Parsers for Cursor (see README.md here): agent transcripts (``.jsonl`` and the ``.txt`` twin) and
the IDE's ``state.vscdb``.  Cursor records no token counts anywhere: sessions have no usage rows and
their totals are unknown (the adapter says ``records_tokens=False``), never 0.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime, timezone
from typing import Any

import orjson

from sessionlens.agents.common import MultiEventParser, as_int, as_str, clip, scrub_data_urls
from sessionlens.agents.docparse import DocBuilder, line_offsets, text_of
from sessionlens.models.session import Event, EventKind, ParseResult, ParserState, Session

AGENT = "cursor"
_QUERY = re.compile(r"<user_query>\s*(.*?)\s*</user_query>", re.S)
_TASK_TOOLS = frozenset({"Task", "Agent"})
_SHELL_TOOLS = frozenset({"Shell", "run_terminal_cmd", "Bash"})
_PATCH_TOOLS = frozenset({"StrReplace", "Write", "ApplyPatch", "edit_file", "search_replace", "MultiEdit", "Edit"})
_FILE_ARGS = ("path", "target_file", "file_path", "target_directory")


def prompt_of(text: str | None) -> str | None:
    """The user's own words: the ``<user_query>`` inside Cursor's wrapper when there is one."""
    if not text:
        return text
    m = _QUERY.search(text)
    return m.group(1) if m else text


def _ids_from_path(path: str) -> tuple[str, str | None]:
    """(session id, parent id) from ``agent-transcripts/<id>.jsonl`` / ``<id>/<id>.jsonl`` /
    ``<parent>/subagents/<id>.jsonl``."""
    name = os.path.basename(path)
    for suf in (".jsonl", ".txt"):
        if name.endswith(suf):
            name = name[: -len(suf)]
    d = os.path.dirname(path)
    parent = os.path.basename(os.path.dirname(d)) if os.path.basename(d) == "subagents" else None
    return name or path, parent


def _project_from_path(path: str) -> str | None:
    """The project slug of ``~/.cursor/projects/<slug>/agent-transcripts/...`` (a dashed cwd)."""
    parts = path.replace("\\", "/").split("/")
    if "agent-transcripts" in parts:
        i = parts.index("agent-transcripts")
        if i >= 1:
            return parts[i - 1] or None
    return None


# ---------------------------------------------------------------------------------------- .jsonl
class CursorJsonlParser(MultiEventParser):
    """``{role, message: {content: [...]}}`` per line; no ids, timestamps, model or tokens."""

    agent = AGENT

    def initial_session(self) -> Session:
        sid, parent = _ids_from_path(self.path)
        s = Session(
            id=sid if parent is None else f"{parent}:{sid}", agent=AGENT, parent_session_id=parent, agent_id=sid if parent else None
        )
        slug = _project_from_path(self.path)
        if slug:
            s.originator = f"cursor project {slug}"
        return s

    def handle(self, obj: dict[str, Any], line: int, offset: int, length: int) -> list[Event]:
        role = as_str(obj.get("role"))
        msg: dict[str, Any] = obj["message"] if isinstance(obj.get("message"), dict) else {}
        content = msg.get("content")
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}] if isinstance(content, str) else []
        text = text_of([b for b in blocks if isinstance(b, dict) and b.get("type") == "text"])
        base: tuple[int, int, int] = (line, offset, length)
        if role == "user":
            prompt = prompt_of(text)
            turn = self.turns.open(line, None, prompt=clip(prompt, 2000))
            if self.session.title is None and prompt:
                self.session.title = " ".join(prompt.split())[:200]
            return [
                self.next_event(
                    *base, EventKind.USER_MESSAGE, "user", None, turn, role="user", text=clip(scrub_data_urls(text)) if text else None
                )
            ]
        self.turns.touch(line, None)
        out: list[Event] = []
        if text or role != "assistant":
            kind = EventKind.ASSISTANT_MESSAGE if role == "assistant" else EventKind.UNKNOWN
            out.append(
                self.next_event(*base, kind, role, None, self.turns.index, role=role, text=clip(scrub_data_urls(text)) if text else None)
            )
        for j, b in enumerate(blocks):
            if isinstance(b, dict) and b.get("type") == "tool_use":
                name = as_str(b.get("name")) or "tool"
                args = b.get("input") if isinstance(b.get("input"), dict) else {}
                out.append(
                    self.next_event(
                        *base,
                        EventKind.TOOL_CALL,
                        name,
                        None,
                        self.turns.index,
                        tool=name,
                        call_id=as_str(b.get("id")) or f"{line}:{j}",
                        text=clip(orjson.dumps(args).decode()) if args else None,
                    )
                )
        return out or [self.next_event(*base, EventKind.ASSISTANT_MESSAGE, role, None, self.turns.index, role=role)]


def parse_jsonl(data: bytes, path: str, state: ParserState | None = None) -> ParseResult:
    return CursorJsonlParser(path, state).parse(data)


# ---------------------------------------------------------------------------------------- .txt
_ROLE_LINE = re.compile(r"^(user|assistant):\s*$")
_MARK = re.compile(r"^\[(Thinking|Tool call|Tool result)\]\s?(.*)$")


def parse_txt(data: bytes, path: str, state: ParserState | None = None) -> ParseResult:
    """``user:`` / ``assistant:`` blocks; in assistant blocks ``[Thinking] ...``, ``[Tool call] Name``
    with indented ``arg: value`` lines, ``[Tool result] Name`` (no body); other lines are text.
    Lines are split on ``\\n`` only (a raw U+2029 inside a message is text)."""
    sid, parent = _ids_from_path(path)
    s = Session(id=sid if parent is None else f"{parent}:{sid}", agent=AGENT, parent_session_id=parent)
    if path:
        s.source_files = [path]
    slug = _project_from_path(path)
    if slug:
        s.originator = f"cursor project {slug}"
    b = DocBuilder(AGENT, s, size=len(data), line_offsets=line_offsets(data))
    lines = data.decode("utf-8", "replace").split("\n")
    role: str | None = None
    block: dict[str, Any] | None = None  # the item being collected: kind, line, name, text lines
    cur: dict[str, Any]
    pending: dict[str, list[str]] = {}  # tool name -> call ids waiting for their result

    def flush(end: int) -> None:
        nonlocal block
        if block is None:
            return
        kind, start, name, body = block["kind"], block["line"], block.get("name"), block["body"]
        text = "\n".join(body).strip("\n")
        block = None
        if kind == "user":
            prompt = prompt_of(text)
            b.open_turn(start, None, prompt)
            b.add(EventKind.USER_MESSAGE, "user", line=start, end_line=end, text=text, role="user")
        elif kind == "text":
            if text.strip():
                b.add(EventKind.ASSISTANT_MESSAGE, "assistant", line=start, end_line=end, text=text, role="assistant")
        elif kind == "thinking":
            b.add(EventKind.REASONING, "thinking", line=start, end_line=end, text=text, role="assistant")
        elif kind == "call":
            cid = f"call-{start}"
            pending.setdefault(name or "tool", []).append(cid)
            args: dict[str, str] = {}
            for ln in body:
                m = re.match(r"^\s+([A-Za-z_][\w-]*):\s?(.*)$", ln)
                if m:
                    args[m.group(1)] = m.group(2)
            files = [args[k] for k in _FILE_ARGS if args.get(k)]
            command = args.get("command") if name in _SHELL_TOOLS else None
            kind_ev = EventKind.PATCH if name in _PATCH_TOOLS else EventKind.TOOL_CALL
            b.add(
                kind_ev, name, line=start, end_line=end, tool=name, call_id=cid, command=command, text=command or text or None, files=files
            )
        elif kind == "result":
            queue = pending.get(name or "tool") or []
            rid = queue.pop(0) if queue else None
            b.add(
                EventKind.TOOL_RESULT,
                name,
                line=start,
                end_line=end,
                tool=name,
                call_id=rid,
                text=text or None,
                extra={"body": "not recorded"} if not text else None,
            )

    for i, raw in enumerate(lines, start=1):
        ln = raw.rstrip("\r")
        rm = _ROLE_LINE.match(ln)
        if rm:
            flush(i - 1)
            role = rm.group(1)
            if role == "user":
                block = {"kind": "user", "line": i, "body": []}
            continue
        if role == "assistant":
            mm = _MARK.match(ln)
            if mm:
                flush(i - 1)
                what, rest = mm.group(1), mm.group(2)
                if what == "Thinking":
                    block = {"kind": "thinking", "line": i, "body": [rest]}
                else:
                    # "[Tool call] ApplyPatch*** Begin Patch": the name runs to the first non-word character
                    nm = re.match(r"^([\w.-]+)(.*)$", rest)
                    name = nm.group(1) if nm else (rest.strip() or "tool")
                    tail = nm.group(2) if nm else ""
                    block = {
                        "kind": "call" if what == "Tool call" else "result",
                        "line": i,
                        "name": name,
                        "body": [tail] if tail.strip() else [],
                    }
                continue
            kind = block["kind"] if block is not None else None
            name = block.get("name") if block is not None else None
            if kind in ("result", "call") and not ln.strip():
                if kind == "call" and block is not None:
                    block["body"].append(ln)
                continue
            ends = kind == "result" or kind is None or (kind == "call" and name != "ApplyPatch" and not ln.startswith((" ", "\t")))
            if ends or block is None:
                flush(i - 1)
                block = {"kind": "text", "line": i, "body": []}
            cur = block
            cur["body"].append(ln)
            continue
        if block is not None:
            block["body"].append(ln)
        elif ln.strip():
            b.problem(i, "text outside a user: / assistant: block")
    flush(len(lines))
    return b.result(consumed=len(data))


# ---------------------------------------------------------------------------------------- state.vscdb
_CHAT_KEY = "workbench.panel.aichat.view.aichat.chatdata"
_COMPOSER_KEY = "composer.composerData"


def _item(db, key: str) -> Any:
    try:
        row = db.execute("SELECT value FROM ItemTable WHERE key=?", (key,)).fetchone()
    except Exception:
        return None
    if not row or row[0] is None:
        return None
    try:
        return orjson.loads(row[0])
    except orjson.JSONDecodeError:
        return None


def _fp(obj: Any) -> str:
    return hashlib.blake2b(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS), digest_size=12).hexdigest()


def _vscdb_items(db) -> dict[str, Any]:
    out: dict[str, Any] = {}
    chat = _item(db, _CHAT_KEY)
    if isinstance(chat, dict):
        for tab in chat.get("tabs") or []:
            if isinstance(tab, dict) and as_str(tab.get("tabId")) and tab.get("bubbles"):
                out[f"chat:{tab['tabId']}"] = tab
    comp = _item(db, _COMPOSER_KEY)
    if isinstance(comp, dict):
        for c in comp.get("allComposers") or []:
            if isinstance(c, dict) and as_str(c.get("composerId")) and c.get("conversation"):
                out[f"composer:{c['composerId']}"] = c
    try:  # the newer global storage: one row per composer, bubbles in rows of their own
        rows = db.execute("SELECT key, value FROM cursorDiskKV WHERE key LIKE 'composerData:%'").fetchall()
    except Exception:
        rows = []
    for key, value in rows:
        try:
            c = orjson.loads(value) if value else None
        except orjson.JSONDecodeError:
            continue
        if isinstance(c, dict):
            out[f"composer:{key.split(':', 1)[1]}"] = c
    return out


def vscdb_members(db) -> list[tuple[str, str]]:
    return [(k, _fp(v)) for k, v in sorted(_vscdb_items(db).items())]


def _ms(value: Any) -> datetime | None:
    v = as_int(value)
    if v is None or v <= 0:
        return None
    try:
        return datetime.fromtimestamp(v / 1000, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _bubbles(db, key: str, item: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
    """(row id, bubble) pairs of a chat tab or composer."""
    if key.startswith("chat:"):
        return [(f"{key}/{i}", bb) for i, bb in enumerate(item.get("bubbles") or []) if isinstance(bb, dict)]
    conv = item.get("conversation")
    if isinstance(conv, list) and conv:
        return [(f"{key}/{i}", bb) for i, bb in enumerate(conv) if isinstance(bb, dict)]
    out = []
    cid = key.split(":", 1)[1]
    for h in item.get("fullConversationHeadersOnly") or []:
        bid = as_str(h.get("bubbleId")) if isinstance(h, dict) else None
        if not bid:
            continue
        try:
            row = db.execute("SELECT value FROM cursorDiskKV WHERE key=?", (f"bubbleId:{cid}:{bid}",)).fetchone()
            bb = orjson.loads(row[0]) if row and row[0] else None
        except Exception:
            bb = None
        if isinstance(bb, dict):
            out.append((f"bubbleId:{cid}:{bid}", bb))
    return out


def parse_vscdb_member(db, key: str, path: str) -> ParseResult:
    item = _vscdb_items(db).get(key) or {}
    s = Session(id=f"cursor-{key.replace(':', '-')}", agent=AGENT, source_files=[path] if path else [])
    s.title = as_str(item.get("chatTitle")) or as_str(item.get("name"))
    s.started_at = _ms(item.get("createdAt")) or _ms(item.get("lastSendTime"))
    s.ended_at = _ms(item.get("lastUpdatedAt")) or _ms(item.get("lastSendTime"))
    s.originator = "cursor chat" if key.startswith("chat:") else "cursor composer"
    b = DocBuilder(AGENT, s)
    for row_id, bb in _bubbles(db, key, item):
        t = bb.get("type")
        text = as_str(bb.get("text")) or as_str(bb.get("rawText"))
        ts = _ms(bb.get("createdAt")) or _ms(
            bb.get("timingInfo", {}).get("clientStartTime") if isinstance(bb.get("timingInfo"), dict) else None
        )
        model = as_str(bb.get("modelType")) or (as_str(bb["modelInfo"].get("modelName")) if isinstance(bb.get("modelInfo"), dict) else None)
        if t in ("user", 1, "1"):
            b.open_turn(0, ts, text)
            b.add(EventKind.USER_MESSAGE, "user", row=row_id, ts=ts, text=text, role="user")
        elif t in ("ai", 2, "2"):
            thinking = bb.get("thinking")
            if isinstance(thinking, dict) and as_str(thinking.get("text")):
                b.add(EventKind.REASONING, "thinking", row=row_id, ts=ts, text=thinking["text"], role="assistant", model=model)
            tf = bb.get("toolFormerData")
            if isinstance(tf, dict) and as_str(tf.get("name")):
                name = tf["name"]
                cid = as_str(tf.get("toolCallId")) or str(row_id)
                b.add(EventKind.TOOL_CALL, name, row=row_id, ts=ts, tool=name, call_id=cid, text=as_str(tf.get("rawArgs")), model=model)
                if tf.get("result") is not None:
                    out = tf["result"] if isinstance(tf["result"], str) else orjson.dumps(tf["result"]).decode()
                    b.add(
                        EventKind.TOOL_RESULT,
                        name,
                        row=row_id,
                        ts=ts,
                        tool=name,
                        call_id=cid,
                        text=out,
                        is_error=as_str(tf.get("status")) == "error",
                    )
            if text or not tf:
                b.add(EventKind.ASSISTANT_MESSAGE, "ai", row=row_id, ts=ts, text=text, role="assistant", model=model)
        else:
            b.add(EventKind.UNKNOWN, str(t), row=row_id, ts=ts, text=text)
    for t in b.turns:  # a database has no lines: a turn's range is its events' order
        t["start_line"] = t["end_line"] = 0
    res = b.result(consumed=0)
    _turn_ranges(res)
    return res


def _turn_ranges(res: ParseResult) -> None:
    """Turns of a member without lines span the seqs of their events."""
    spans: dict[int, list[int]] = {}
    for e in res.events:
        if e.turn is not None:
            spans.setdefault(e.turn, []).append(e.seq)
    for t in res.turns:
        seqs = spans.get(t.index) or [0]
        t.start_line, t.end_line = min(seqs), max(seqs)
