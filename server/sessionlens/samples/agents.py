"""Small, deterministic sessions of the agents the main generator does not write (Gemini CLI as a JSON
document and as a JSONL recording, Pi, Cursor as an agent transcript and as an IDE ``state.vscdb``,
Qwen Code), each in that agent's own on-disk format, with facts a test can check.

Every writer takes the file to write and returns what the session holds (``turns``, ``tool``,
``tokens``, ``title``...), so tests assert against what was written, not against hard-coded numbers.
Fixed timestamps and ids: two runs write byte-identical files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

_T0 = "2026-03-01T09:00:{:02d}.000Z"
_MS0 = 1_772_355_600_000  # 2026-03-01T09:00:00Z in milliseconds


def _ts(i: int) -> str:
    return _T0.format(i % 60)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------------------------- Gemini
_GEMINI_TURNS = [
    (
        "Update README.md so it speaks to users, not developers.",
        "read_file",
        {"file_path": "README.md"},
        "# Project\n\nBuild from source: cargo build",
        "I moved the build notes out of README.md into CONTRIBUTING.md.",
        {"input": 1200, "output": 80, "cached": 400, "thoughts": 30, "tool": 0},
    ),
    (
        "Also list the README files you touched.",
        "list_directory",
        {"dir_path": "."},
        "README.md\nCONTRIBUTING.md",
        "I touched README.md and created CONTRIBUTING.md.",
        {"input": 1500, "output": 60, "cached": 1000, "thoughts": 10, "tool": 0},
    ),
]


def _gemini_messages(session_id: str) -> list[dict[str, Any]]:
    msgs: list[dict[str, Any]] = []
    for i, (prompt, tool, args, result, answer, tokens) in enumerate(_GEMINI_TURNS):
        n = i * 10
        call_id = f"call-{session_id[:4]}-{i}"
        msgs.append({"id": f"{session_id}-u{i}", "timestamp": _ts(n), "type": "user", "content": [{"text": prompt}]})
        msgs.append(
            {
                "id": f"{session_id}-g{i}",
                "timestamp": _ts(n + 2),
                "type": "gemini",
                "content": answer,
                "thoughts": [
                    {"subject": "Planning", "description": f"Reading {args.get('file_path', '.')} first.", "timestamp": _ts(n + 1)}
                ],
                "tokens": {**tokens, "total": tokens["input"] + tokens["output"] + tokens["thoughts"] + tokens["tool"]},
                "model": "gemini-2.5-pro",
                "toolCalls": [
                    {
                        "id": call_id,
                        "name": tool,
                        "args": args,
                        "status": "success",
                        "timestamp": _ts(n + 1),
                        "result": [{"functionResponse": {"id": call_id, "name": tool, "response": {"output": result}}}],
                        "displayName": tool,
                        "resultDisplay": result,
                    }
                ],
            }
        )
    return msgs


def _gemini_facts() -> dict[str, Any]:
    tokens = sum(t["input"] + t["output"] + t["thoughts"] + t["tool"] for *_, t in _GEMINI_TURNS)
    return {
        "agent": "gemini",
        "turns": len(_GEMINI_TURNS),
        "tools": len(_GEMINI_TURNS),
        "tool": "read_file",
        "tokens": tokens,
        "search": "README",
    }


def write_gemini_document(path: Path, session_id: str = "8a20078e-0000-4000-8000-000000000001") -> dict[str, Any]:
    """A Gemini CLI chat recording as one JSON document (``chats/session-*.json``), pretty-printed as the
    CLI writes it (so each tool call's ``"args"`` sits on a line of its own)."""
    msgs = _gemini_messages(session_id)
    doc = {
        "sessionId": session_id,
        "projectHash": "ab" * 32,
        "startTime": _ts(0),
        "lastUpdated": msgs[-1]["timestamp"],
        "messages": msgs,
        "kind": "main",
    }
    _write(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return {**_gemini_facts(), "session_id": session_id}


def write_gemini_jsonl(path: Path, session_id: str = "0ab84937-0000-4000-8000-000000000002") -> dict[str, Any]:
    """A Gemini CLI chat recording as JSONL: a header, messages appended (a message is re-written whole when
    it changes) and ``$set`` records updating the header."""
    lines: list[dict[str, Any]] = [
        {"sessionId": session_id, "projectHash": "cd" * 32, "startTime": _ts(0), "lastUpdated": _ts(0), "kind": "main"}
    ]
    for m in _gemini_messages(session_id):
        if m["type"] == "gemini":  # first the message as streamed (no tool calls yet), then the final one
            lines.append({k: v for k, v in m.items() if k not in ("toolCalls", "tokens")})
        lines.append(m)
        lines.append({"$set": {"lastUpdated": m["timestamp"]}})
    _write(path, "".join(json.dumps(x, ensure_ascii=False, separators=(",", ":")) + "\n" for x in lines))
    return {**_gemini_facts(), "session_id": session_id}


# -------------------------------------------------------------------------------------------------- Pi
def write_pi(path: Path, session_id: str = "pi-sample-session") -> dict[str, Any]:
    """A Pi coding-agent session (``~/.pi/agent/sessions/--<cwd>--/<ts>_<id>.jsonl``): a ``session`` header,
    then ``message`` entries linked by ``parentId`` (user, assistant with thinking/text/toolCall, toolResult)."""
    usage = [(100, 50), (200, 10)]
    rows: list[dict[str, Any]] = [
        {"type": "session", "version": 3, "id": session_id, "timestamp": "2026-03-01T09:00:00Z", "cwd": "/home/dev/projects/pi-app"}
    ]

    def msg(i: int, message: dict[str, Any]) -> None:
        rows.append(
            {
                "type": "message",
                "id": f"entry-{i}",
                "parentId": f"entry-{i - 1}" if i > 1 else None,
                "timestamp": f"2026-03-01T09:00:{i:02d}Z",
                "message": {**message, "timestamp": _MS0 + i * 1000},
            }
        )

    msg(1, {"role": "user", "content": [{"type": "text", "text": "Fix the login bug in auth.go"}]})
    msg(
        2,
        {
            "role": "assistant",
            "content": [
                {
                    "type": "thinking",
                    "thinking": "The login handler never checks the password.",
                    "thinkingSignature": "sig-1",
                    "redacted": False,
                },
                {"type": "text", "text": "Reading the auth module."},
                {"type": "toolCall", "id": "toolu_01", "name": "read", "arguments": {"path": "auth.go"}},
            ],
            "model": "claude-sonnet-4-5",
            "provider": "anthropic",
            "usage": {"input": usage[0][0], "output": usage[0][1], "totalTokens": sum(usage[0])},
            "stopReason": "toolUse",
        },
    )
    msg(
        3,
        {
            "role": "toolResult",
            "toolCallId": "toolu_01",
            "toolName": "read",
            "content": [{"type": "text", "text": "package auth\nfunc Login() {}"}],
            "isError": False,
        },
    )
    msg(4, {"role": "user", "content": [{"type": "text", "text": "Does login work now?"}]})
    msg(
        5,
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "Yes: login now checks the password."}],
            "model": "claude-sonnet-4-5",
            "provider": "anthropic",
            "usage": {"input": usage[1][0], "output": usage[1][1], "totalTokens": sum(usage[1])},
            "stopReason": "stop",
        },
    )
    _write(path, "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    return {
        "agent": "pi",
        "session_id": session_id,
        "turns": 2,
        "tools": 1,
        "tool": "read",
        "tokens": sum(a + b for a, b in usage),
        "search": "login",
    }


# ---------------------------------------------------------------------------------------------- Cursor
def write_cursor_txt(path: Path) -> dict[str, Any]:
    """A Cursor agent transcript (``agent-transcripts/<id>.txt``): ``user:`` / ``assistant:`` blocks,
    ``[Thinking]``, ``[Tool call] <name>`` with indented arguments and ``[Tool result] <name>``."""
    text = (
        "user:\n<user_query>\nThe commit template path in configs/.gitconfig is wrong; fix it.\n</user_query>\n\n"
        "assistant:\n[Thinking] **Reading the gitconfig**\n\nI will read the file first.\n"
        "[Tool call] Read\n  path: /home/dev/projects/dotfiles/configs/.gitconfig\n"
        "[Tool call] Grep\n  pattern: template\n  path: /home/dev/projects/dotfiles\n\n"
        "[Tool result] Read\n\n[Tool result] Grep\n\n"
        "assistant:\nThe gitconfig points at a template that is never installed.\n"
        "[Tool call] Read\n  path: /home/dev/projects/dotfiles/scripts/sync.sh\n\n[Tool result] Read\n\n"
        "assistant:\nI changed sync.sh to install the commit template next to the gitconfig.\n\n"
        "user:\n<user_query>\nThanks. Is the gitconfig fine now?\n</user_query>\n\n"
        "assistant:\nYes, the gitconfig template path now exists after a sync.\n"
    )
    _write(path, text)
    return {"agent": "cursor", "turns": 2, "tools": 3, "tool": "Read", "tokens": None, "search": "gitconfig"}


def write_cursor_vscdb(path: Path) -> dict[str, Any]:
    """A Cursor IDE ``state.vscdb`` (SQLite ``ItemTable``): one AI-chat tab (``...aichat.chatdata``) and one
    composer (``composer.composerData``), each a conversation of user/ai bubbles."""
    pairs = [
        ("Add a sidebar with the user name.", "Here is a sidebar component with the user name."),
        ("Put the recent files in the sidebar too.", "The sidebar now lists recent files."),
        ("Add a help entry.", "Added a Help entry at the bottom of the sidebar."),
        ("Make the sidebar collapsible.", "The sidebar collapses with the menu button."),
        ("Add icons to each sidebar item.", "Each sidebar item has an icon."),
        ("Write a test for the sidebar.", "Added sidebar.spec.ts with three cases."),
    ]
    bubbles: list[dict[str, Any]] = []
    for i, (q, a) in enumerate(pairs):
        bubbles.append({"type": "user", "id": f"u{i}", "text": q, "createdAt": _MS0 + i * 2000})
        bubbles.append({"type": "ai", "id": f"a{i}", "text": a, "modelType": "claude-3.5-sonnet", "createdAt": _MS0 + i * 2000 + 1000})
    chat = {
        "tabs": [
            {
                "tabId": "2aa483d1-0000-4000-8000-000000000003",
                "chatTitle": "Sidebar for the app",
                "bubbles": bubbles,
                "lastSendTime": _MS0 + len(pairs) * 2000,
            }
        ]
    }
    composer = {
        "allComposers": [
            {
                "composerId": "090e988a-0000-4000-8000-000000000004",
                "name": "Sidebar layout",
                "createdAt": _MS0,
                "lastUpdatedAt": _MS0 + 3000,
                "conversation": [
                    {"type": 1, "bubbleId": "b1", "text": "Lay out the sidebar sections."},
                    {"type": 2, "bubbleId": "b2", "text": "Three sections: account, files, help."},
                ],
            }
        ]
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    try:
        db.execute("CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
        db.executemany(
            "INSERT INTO ItemTable VALUES (?, ?)",
            [
                ("workbench.panel.aichat.view.aichat.chatdata", json.dumps(chat)),
                ("composer.composerData", json.dumps(composer)),
            ],
        )
        db.commit()
    finally:
        db.close()
    return {"agent": "cursor", "sessions": 2, "chat_events": len(bubbles), "search": "sidebar"}


# ------------------------------------------------------------------------------------------------ Qwen
def write_qwen(path: Path, session_id: str = "69f0814a-0000-4000-8000-000000000005") -> dict[str, Any]:
    """A Qwen Code chat recording (``~/.qwen/projects/<project>/chats/<id>.jsonl``): records linked by
    ``parentUuid``, user/assistant ``message.parts`` (Gemini-style), ``tool_result`` records with a
    ``functionResponse`` and ``usageMetadata`` on assistant records."""
    rows: list[dict[str, Any]] = []

    def rec(kind: str, i: int, **kw: Any) -> None:
        rows.append(
            {
                "uuid": f"{session_id[:8]}-{i:04d}",
                "parentUuid": f"{session_id[:8]}-{i - 1:04d}" if i else None,
                "sessionId": session_id,
                "timestamp": _ts(i),
                "type": kind,
                "cwd": "/home/dev/projects/qwen-app",
                "version": "0.18.1",
                **kw,
            }
        )

    usage = [(500, 20, 0), (600, 5, 50)]
    rec("user", 0, message={"role": "user", "parts": [{"text": "List the files here."}]})
    rec(
        "assistant",
        1,
        model="qwen3-coder-plus",
        message={
            "role": "model",
            "parts": [{"functionCall": {"id": "call_1", "name": "list_directory", "args": {"path": "/home/dev/projects/qwen-app"}}}],
        },
        usageMetadata={
            "promptTokenCount": usage[0][0],
            "candidatesTokenCount": usage[0][1],
            "thoughtsTokenCount": 0,
            "totalTokenCount": usage[0][0] + usage[0][1],
            "cachedContentTokenCount": usage[0][2],
        },
    )
    rec(
        "tool_result",
        2,
        message={
            "role": "user",
            "parts": [{"functionResponse": {"id": "call_1", "name": "list_directory", "response": {"output": "README.md\nmain.py"}}}],
        },
        toolCallResult={"callId": "call_1", "status": "success", "resultDisplay": "Listed 2 files."},
    )
    rec(
        "assistant",
        3,
        model="qwen3-coder-plus",
        message={"role": "model", "parts": [{"text": "Two files: README.md and main.py."}]},
        usageMetadata={
            "promptTokenCount": usage[1][0],
            "candidatesTokenCount": usage[1][1],
            "thoughtsTokenCount": 0,
            "totalTokenCount": usage[1][0] + usage[1][1],
            "cachedContentTokenCount": usage[1][2],
        },
    )
    _write(path, "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    return {
        "agent": "qwen",
        "session_id": session_id,
        "turns": 1,
        "tools": 1,
        "tool": "list_directory",
        "tokens": sum(a + b for a, b, _ in usage),
        "search": "files",
    }


# ------------------------------------------------------------------------------------------ Copilot CLI
def write_copilot_session_state(folder: Path, session_id: str = "07c40cd0-0000-4000-8000-000000000006") -> dict[str, Any]:
    """A Copilot CLI session-state folder (``~/.copilot/session-state/<id>/``): ``events.jsonl`` of
    ``{type, data, id, timestamp, parentId}`` events and the ``workspace.yaml`` sidecar (its ``summary`` is
    the title).  The session ends without ``session.shutdown``: only its messages' output tokens are known."""
    out_tokens = [120, 45]
    title = "Break down the parser feature"
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "session.start",
            {
                "sessionId": session_id,
                "version": 1,
                "producer": "copilot-agent",
                "copilotVersion": "1.0.10",
                "startTime": _ts(0),
                "context": {"cwd": "/home/dev/projects/copilot-app"},
            },
        ),
        ("session.model_change", {"newModel": "claude-sonnet-4.5"}),
        ("user.message", {"content": "Break down the parser feature into tasks.", "attachments": []}),
        ("assistant.turn_start", {"turnId": "0"}),
        (
            "assistant.message",
            {
                "messageId": "m1",
                "content": "",
                "outputTokens": out_tokens[0],
                "toolRequests": [
                    {
                        "toolCallId": "call_v1",
                        "name": "view",
                        "arguments": {"path": "/home/dev/projects/copilot-app/BACKLOG.md"},
                        "type": "function",
                    }
                ],
            },
        ),
        (
            "tool.execution_start",
            {"toolCallId": "call_v1", "toolName": "view", "arguments": {"path": "/home/dev/projects/copilot-app/BACKLOG.md"}},
        ),
        (
            "tool.execution_complete",
            {
                "toolCallId": "call_v1",
                "model": "claude-sonnet-4.5",
                "success": True,
                "result": {"content": "# Backlog\n- parser feature", "detailedContent": "# Backlog"},
            },
        ),
        ("assistant.message", {"messageId": "m2", "content": "Three tasks: tokenizer, parser, tests.", "outputTokens": out_tokens[1]}),
        ("assistant.turn_end", {"turnId": "0"}),
    ]
    lines = []
    for i, (kind, data) in enumerate(events):
        lines.append(
            {
                "type": kind,
                "data": data,
                "id": f"{session_id[:8]}-e{i}",
                "timestamp": _ts(i),
                "parentId": f"{session_id[:8]}-e{i - 1}" if i else None,
            }
        )
    _write(folder / "events.jsonl", "".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines))
    _write(
        folder / "workspace.yaml",
        f"id: {session_id}\ncwd: /home/dev/projects/copilot-app\nsummary: {title}\n"
        f"summary_count: 0\ncreated_at: {_ts(0)}\nupdated_at: {_ts(len(events))}\n",
    )
    return {"agent": "copilot", "session_id": session_id, "title": title, "output": sum(out_tokens), "tool": "view"}


def write_copilot_legacy(path: Path, session_id: str = "0b2a81da-0000-4000-8000-000000000007") -> dict[str, Any]:
    """A legacy Copilot CLI session document (``~/.copilot/history-session-state/<id>.json``): a
    ``timeline`` of user / copilot / tool_call_completed entries, pretty-printed."""
    doc = {
        "sessionId": session_id,
        "startTime": _ts(0),
        "chatMessages": [],
        "timeline": [
            {"id": "t0", "timestamp": _ts(0), "type": "info", "text": "Logged in as user: dev"},
            {"id": "t1", "timestamp": _ts(1), "type": "user", "text": "Rename the project in Cargo.toml."},
            {"id": "t2", "timestamp": _ts(2), "type": "copilot", "text": "Reading Cargo.toml first."},
            {
                "type": "tool_call_completed",
                "id": "t3",
                "timestamp": _ts(3),
                "callId": "call_c1",
                "name": "str_replace_editor",
                "toolTitle": "str_replace_editor",
                "intentionSummary": "view Cargo.toml",
                "arguments": {"command": "view", "path": "/home/dev/projects/rusty/Cargo.toml"},
                "result": {"type": "success", "log": '[package]\nname = "rusty"'},
            },
            {"id": "t4", "timestamp": _ts(4), "type": "copilot", "text": "Renamed the package."},
        ],
    }
    _write(path, json.dumps(doc, indent=2) + "\n")
    return {"agent": "copilot", "session_id": session_id}


# --------------------------------------------------------------------------------------------- OpenCode
_OC_PROJECT = "1b360d97781e33ef17ec6beaa672e8c070003590"
_OC_TITLE = "Update the readme"


def _opencode_records(session_id: str) -> tuple[dict[str, Any], list[tuple[dict[str, Any], list[dict[str, Any]]]]]:
    """One OpenCode session as its session object and (message, parts) pairs, in the storage-JSON shape
    (the database keeps the same objects in ``data`` columns): a user text, an assistant reply with a
    ``tool`` part (call and result in its ``state``) and a text part, with tokens and cost."""
    t0 = _MS0
    tag = session_id[-4:]
    user, asst = f"msg_{tag}0001", f"msg_{tag}0002"
    session: dict[str, Any] = {
        "id": session_id,
        "projectID": _OC_PROJECT,
        "slug": "eager-engine",
        "directory": "/home/dev/projects/site",
        "title": _OC_TITLE,
        "version": "0.15.0",
        "time": {"created": t0, "updated": t0 + 5000},
    }
    msgs: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [
        (
            {"id": user, "sessionID": session_id, "role": "user", "time": {"created": t0}},
            [
                {
                    "id": f"prt_{tag}0001",
                    "sessionID": session_id,
                    "messageID": user,
                    "type": "text",
                    "text": "Update the readme so it matches the code.",
                    "time": {"start": t0},
                }
            ],
        ),
        (
            {
                "id": asst,
                "sessionID": session_id,
                "role": "assistant",
                "parentID": user,
                "modelID": "claude-sonnet-4-5",
                "providerID": "anthropic",
                "mode": "build",
                "path": {"cwd": "/home/dev/projects/site", "root": "/home/dev/projects/site"},
                "cost": 0.0042,
                "tokens": {"input": 900, "output": 70, "reasoning": 0, "cache": {"write": 0, "read": 300}},
                "time": {"created": t0 + 1000, "completed": t0 + 4000},
            },
            [
                {
                    "id": f"prt_{tag}0002",
                    "sessionID": session_id,
                    "messageID": asst,
                    "type": "tool",
                    "callID": f"call_{tag}",
                    "tool": "read",
                    "state": {
                        "status": "completed",
                        "input": {"filePath": "/home/dev/projects/site/README.md"},
                        "output": "# Site\nOld readme text.",
                        "title": "README.md",
                        "metadata": {},
                        "time": {"start": t0 + 1500, "end": t0 + 1600},
                    },
                    "time": {"start": t0 + 1500},
                },
                {
                    "id": f"prt_{tag}0003",
                    "sessionID": session_id,
                    "messageID": asst,
                    "type": "text",
                    "text": "The readme now describes the build and the deploy steps.",
                    "time": {"start": t0 + 3000, "end": t0 + 4000},
                },
            ],
        ),
    ]
    return session, msgs


def write_opencode_storage(root: Path, session_id: str = "ses_sample0000000000000001") -> dict[str, Any]:
    """A session of OpenCode's JSON storage tree under ``root`` (``storage/session/<project>/<ses>.json``,
    ``storage/message/<ses>/<msg>.json``, ``storage/part/<msg>/<prt>.json``)."""
    st = root / "storage"
    session, msgs = _opencode_records(session_id)

    def dump(p: Path, obj: dict[str, Any]) -> None:
        _write(p, json.dumps(obj, indent=2) + "\n")

    dump(st / "session" / _OC_PROJECT / f"{session_id}.json", session)
    for msg, parts in msgs:
        dump(st / "message" / session_id / f"{msg['id']}.json", msg)
        for part in parts:
            dump(st / "part" / msg["id"] / f"{part['id']}.json", part)
    return {"agent": "opencode", "session_id": session_id, "title": _OC_TITLE, "search": "readme"}


_OC_SCHEMA = """
CREATE TABLE project (id text PRIMARY KEY, worktree text NOT NULL, vcs text, name text, icon_url text, icon_color text,
    time_created integer NOT NULL, time_updated integer NOT NULL, time_initialized integer, sandboxes text NOT NULL, commands text);
CREATE TABLE session (id text PRIMARY KEY, project_id text NOT NULL, parent_id text, slug text NOT NULL, directory text NOT NULL,
    title text NOT NULL, version text NOT NULL, share_url text, summary_additions integer, summary_deletions integer,
    summary_files integer, summary_diffs text, revert text, permission text, time_created integer NOT NULL,
    time_updated integer NOT NULL, time_compacting integer, time_archived integer, workspace_id text);
CREATE TABLE message (id text PRIMARY KEY, session_id text NOT NULL, time_created integer NOT NULL,
    time_updated integer NOT NULL, data text NOT NULL);
CREATE TABLE part (id text PRIMARY KEY, message_id text NOT NULL, session_id text NOT NULL, time_created integer NOT NULL,
    time_updated integer NOT NULL, data text NOT NULL);
"""


def write_opencode_db(path: Path, session_id: str = "ses_sample0000000000000002") -> dict[str, Any]:
    """The same kind of session in OpenCode's ``opencode.db`` (the drizzle schema of OpenCode >= 1.2:
    ``project``, ``session`` columns, ``message``/``part`` rows with the objects, minus ids, in ``data``)."""
    session, msgs = _opencode_records(session_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    try:
        db.executescript(_OC_SCHEMA)
        tm = session["time"]
        db.execute(
            "INSERT INTO project (id, worktree, vcs, time_created, time_updated, sandboxes) VALUES (?,?,?,?,?,?)",
            (_OC_PROJECT, session["directory"], "git", tm["created"], tm["created"], "[]"),
        )
        db.execute(
            "INSERT INTO session (id, project_id, slug, directory, title, version, time_created, time_updated) VALUES (?,?,?,?,?,?,?,?)",
            (
                session_id,
                _OC_PROJECT,
                session["slug"],
                session["directory"],
                session["title"],
                session["version"],
                tm["created"],
                tm["updated"],
            ),
        )
        for msg, parts in msgs:
            created = msg["time"]["created"]
            data = {k: v for k, v in msg.items() if k not in ("id", "sessionID")}
            db.execute("INSERT INTO message VALUES (?,?,?,?,?)", (msg["id"], session_id, created, created, json.dumps(data)))
            for part in parts:
                pdata = {k: v for k, v in part.items() if k not in ("id", "sessionID", "messageID")}
                start = part.get("time", {}).get("start", created)
                db.execute("INSERT INTO part VALUES (?,?,?,?,?,?)", (part["id"], msg["id"], session_id, start, start, json.dumps(pdata)))
        db.commit()
    finally:
        db.close()
    return {"agent": "opencode", "session_id": session_id, "title": _OC_TITLE, "search": "readme"}


# -------------------------------------------------------------------------------- OpenCode (Go) and Crush
_GOOSE_SCHEMA = """
CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL,
    is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')));
CREATE TABLE sessions (id TEXT PRIMARY KEY, parent_session_id TEXT, title TEXT NOT NULL,
    message_count INTEGER NOT NULL DEFAULT 0, prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0, cost REAL NOT NULL DEFAULT 0.0,
    updated_at INTEGER NOT NULL, created_at INTEGER NOT NULL, summary_message_id TEXT);
CREATE TABLE files (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, path TEXT NOT NULL, content TEXT NOT NULL,
    version TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE(path, session_id, version));
CREATE TABLE messages (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, role TEXT NOT NULL, parts TEXT NOT NULL default '[]',
    model TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, finished_at INTEGER{provider});
"""


def write_goose_db(path: Path, *, crush: bool = False, topic: str = "conversion") -> dict[str, Any]:
    """The project-local database of the Go OpenCode (``.opencode/opencode.db``) or of Crush
    (``.crush/crush.db``, which adds ``messages.provider``): goose-migrated ``sessions`` and ``messages``
    whose ``parts`` are JSON lists of ``text``/``reasoning``/``tool_call``/``tool_result``/``finish``.
    Two sessions (the first, on ``topic``, is the longer); the agent's own ``prompt_tokens``/``completion_tokens``/``cost`` per session."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    sessions = [
        ("11111111-0000-4000-8000-000000000001", f"Add a {topic} helper", 1200, 90, 0.0125),
        ("11111111-0000-4000-8000-000000000002", "Explain the build", 300, 20, 0.0031),
    ]
    try:
        db.executescript(_GOOSE_SCHEMA.format(provider=", provider TEXT" if crush else ""))
        t = 1_772_355_600  # seconds, as these agents store them
        for n, (sid, title, prompt, completion, cost) in enumerate(sessions):
            q = f"Write a {topic} function for bytes to megabytes." if n == 0 else "How do I build this project?"
            parts: list[tuple[str, list[dict[str, Any]]]] = [
                ("user", [{"type": "text", "data": {"text": q}}, {"type": "finish", "data": {"reason": "stop", "time": 0}}]),
                (
                    "assistant",
                    [
                        {"type": "reasoning", "data": {"thinking": "Look at the existing helpers first."}},
                        {
                            "type": "tool_call",
                            "data": {
                                "id": f"call_{n}",
                                "name": "view",
                                "type": "function",
                                "finished": True,
                                "input": json.dumps({"file_path": "/home/dev/utils/convert.go"}),
                            },
                        },
                        {"type": "finish", "data": {"reason": "tool_use", "time": t + 2}},
                    ],
                ),
                (
                    "tool",
                    [
                        {
                            "type": "tool_result",
                            "data": {
                                "tool_call_id": f"call_{n}",
                                "name": "view",
                                "content": "package utils",
                                "metadata": "{}",
                                "is_error": False,
                            },
                        }
                    ],
                ),
                (
                    "assistant",
                    [
                        {
                            "type": "text",
                            "data": {"text": f"Added the {topic} function to convert.go." if n == 0 else "Run go build ./..."},
                        },
                        {"type": "finish", "data": {"reason": "end_turn", "time": t + 4}},
                    ],
                ),
            ]
            if n == 0:  # the first session is the longer one: a follow-up question
                parts += [
                    ("user", [{"type": "text", "data": {"text": "Handle gigabytes too."}}]),
                    (
                        "assistant",
                        [
                            {"type": "text", "data": {"text": f"The {topic} function handles gigabytes now."}},
                            {"type": "finish", "data": {"reason": "end_turn", "time": t + 6}},
                        ],
                    ),
                ]
            db.execute(
                "INSERT INTO sessions VALUES (?,?,?,?,?,?,?,?,?,?)",
                (sid, None, title, len(parts), prompt, completion, cost, t + 10 * n + 5, t + 10 * n, None),
            )
            for i, (role, p) in enumerate(parts):
                row = (
                    f"{sid[:8]}-m{n}{i}",
                    sid,
                    role,
                    json.dumps(p),
                    "claude-3.7-sonnet" if role == "assistant" else None,
                    t + 10 * n + i,
                    t + 10 * n + i,
                    t + 10 * n + i,
                )
                if crush:
                    db.execute("INSERT INTO messages VALUES (?,?,?,?,?,?,?,?,?)", (*row, "anthropic" if role == "assistant" else None))
                else:
                    db.execute("INSERT INTO messages VALUES (?,?,?,?,?,?,?,?)", row)
        db.commit()
    finally:
        db.close()
    return {"agent": "crush" if crush else "opencode-go", "sessions": len(sessions), "cost": sum(s[4] for s in sessions), "search": topic}
