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
    ("Update README.md so it speaks to users, not developers.", "read_file", {"file_path": "README.md"},
     "# Project\n\nBuild from source: cargo build", "I moved the build notes out of README.md into CONTRIBUTING.md.",
     {"input": 1200, "output": 80, "cached": 400, "thoughts": 30, "tool": 0}),
    ("Also list the README files you touched.", "list_directory", {"dir_path": "."},
     "README.md\nCONTRIBUTING.md", "I touched README.md and created CONTRIBUTING.md.",
     {"input": 1500, "output": 60, "cached": 1000, "thoughts": 10, "tool": 0}),
]


def _gemini_messages(session_id: str) -> list[dict[str, Any]]:
    msgs: list[dict[str, Any]] = []
    for i, (prompt, tool, args, result, answer, tokens) in enumerate(_GEMINI_TURNS):
        n = i * 10
        call_id = f"call-{session_id[:4]}-{i}"
        msgs.append({"id": f"{session_id}-u{i}", "timestamp": _ts(n), "type": "user", "content": [{"text": prompt}]})
        msgs.append({
            "id": f"{session_id}-g{i}", "timestamp": _ts(n + 2), "type": "gemini", "content": answer,
            "thoughts": [{"subject": "Planning", "description": f"Reading {args.get('file_path', '.')} first.",
                          "timestamp": _ts(n + 1)}],
            "tokens": {**tokens, "total": tokens["input"] + tokens["output"] + tokens["thoughts"] + tokens["tool"]},
            "model": "gemini-2.5-pro",
            "toolCalls": [{
                "id": call_id, "name": tool, "args": args, "status": "success", "timestamp": _ts(n + 1),
                "result": [{"functionResponse": {"id": call_id, "name": tool, "response": {"output": result}}}],
                "displayName": tool, "resultDisplay": result,
            }],
        })
    return msgs


def _gemini_facts() -> dict[str, Any]:
    tokens = sum(t["input"] + t["output"] + t["thoughts"] + t["tool"] for *_, t in _GEMINI_TURNS)
    return {"agent": "gemini", "turns": len(_GEMINI_TURNS), "tools": len(_GEMINI_TURNS), "tool": "read_file",
            "tokens": tokens, "search": "README"}


def write_gemini_document(path: Path, session_id: str = "8a20078e-0000-4000-8000-000000000001") -> dict[str, Any]:
    """A Gemini CLI chat recording as one JSON document (``chats/session-*.json``), pretty-printed as the
    CLI writes it (so each tool call's ``"args"`` sits on a line of its own)."""
    msgs = _gemini_messages(session_id)
    doc = {"sessionId": session_id, "projectHash": "ab" * 32, "startTime": _ts(0), "lastUpdated": msgs[-1]["timestamp"],
           "messages": msgs, "kind": "main"}
    _write(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return {**_gemini_facts(), "session_id": session_id}


def write_gemini_jsonl(path: Path, session_id: str = "0ab84937-0000-4000-8000-000000000002") -> dict[str, Any]:
    """A Gemini CLI chat recording as JSONL: a header, messages appended (a message is re-written whole when
    it changes) and ``$set`` records updating the header."""
    lines: list[dict[str, Any]] = [{"sessionId": session_id, "projectHash": "cd" * 32, "startTime": _ts(0), "lastUpdated": _ts(0), "kind": "main"}]
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
    rows: list[dict[str, Any]] = [{"type": "session", "version": 3, "id": session_id, "timestamp": "2026-03-01T09:00:00Z",
                                   "cwd": "/home/dev/projects/pi-app"}]

    def msg(i: int, message: dict[str, Any]) -> None:
        rows.append({"type": "message", "id": f"entry-{i}", "parentId": f"entry-{i - 1}" if i > 1 else None,
                     "timestamp": f"2026-03-01T09:00:{i:02d}Z", "message": {**message, "timestamp": _MS0 + i * 1000}})

    msg(1, {"role": "user", "content": [{"type": "text", "text": "Fix the login bug in auth.go"}]})
    msg(2, {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "The login handler never checks the password.", "thinkingSignature": "sig-1", "redacted": False},
        {"type": "text", "text": "Reading the auth module."},
        {"type": "toolCall", "id": "toolu_01", "name": "read", "arguments": {"path": "auth.go"}}],
        "model": "claude-sonnet-4-5", "provider": "anthropic",
        "usage": {"input": usage[0][0], "output": usage[0][1], "totalTokens": sum(usage[0])}, "stopReason": "toolUse"})
    msg(3, {"role": "toolResult", "toolCallId": "toolu_01", "toolName": "read",
            "content": [{"type": "text", "text": "package auth\nfunc Login() {}"}], "isError": False})
    msg(4, {"role": "user", "content": [{"type": "text", "text": "Does login work now?"}]})
    msg(5, {"role": "assistant", "content": [{"type": "text", "text": "Yes: login now checks the password."}],
            "model": "claude-sonnet-4-5", "provider": "anthropic",
            "usage": {"input": usage[1][0], "output": usage[1][1], "totalTokens": sum(usage[1])}, "stopReason": "stop"})
    _write(path, "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    return {"agent": "pi", "session_id": session_id, "turns": 2, "tools": 1, "tool": "read",
            "tokens": sum(a + b for a, b in usage), "search": "login"}


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
    pairs = [("Add a sidebar with the user name.", "Here is a sidebar component with the user name."),
             ("Put the recent files in the sidebar too.", "The sidebar now lists recent files."),
             ("Add a help entry.", "Added a Help entry at the bottom of the sidebar."),
             ("Make the sidebar collapsible.", "The sidebar collapses with the menu button."),
             ("Add icons to each sidebar item.", "Each sidebar item has an icon."),
             ("Write a test for the sidebar.", "Added sidebar.spec.ts with three cases.")]
    bubbles: list[dict[str, Any]] = []
    for i, (q, a) in enumerate(pairs):
        bubbles.append({"type": "user", "id": f"u{i}", "text": q, "createdAt": _MS0 + i * 2000})
        bubbles.append({"type": "ai", "id": f"a{i}", "text": a, "modelType": "claude-3.5-sonnet", "createdAt": _MS0 + i * 2000 + 1000})
    chat = {"tabs": [{"tabId": "2aa483d1-0000-4000-8000-000000000003", "chatTitle": "Sidebar for the app", "bubbles": bubbles,
                      "lastSendTime": _MS0 + len(pairs) * 2000}]}
    composer = {"allComposers": [{"composerId": "090e988a-0000-4000-8000-000000000004", "name": "Sidebar layout",
                                  "createdAt": _MS0, "lastUpdatedAt": _MS0 + 3000, "conversation": [
                                      {"type": 1, "bubbleId": "b1", "text": "Lay out the sidebar sections."},
                                      {"type": 2, "bubbleId": "b2", "text": "Three sections: account, files, help."}]}]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    try:
        db.execute("CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
        db.executemany("INSERT INTO ItemTable VALUES (?, ?)", [
            ("workbench.panel.aichat.view.aichat.chatdata", json.dumps(chat)),
            ("composer.composerData", json.dumps(composer)),
        ])
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
        rows.append({"uuid": f"{session_id[:8]}-{i:04d}", "parentUuid": f"{session_id[:8]}-{i - 1:04d}" if i else None,
                     "sessionId": session_id, "timestamp": _ts(i), "type": kind, "cwd": "/home/dev/projects/qwen-app",
                     "version": "0.18.1", **kw})

    usage = [(500, 20, 0), (600, 5, 50)]
    rec("user", 0, message={"role": "user", "parts": [{"text": "List the files here."}]})
    rec("assistant", 1, model="qwen3-coder-plus", message={"role": "model", "parts": [
        {"functionCall": {"id": "call_1", "name": "list_directory", "args": {"path": "/home/dev/projects/qwen-app"}}}]},
        usageMetadata={"promptTokenCount": usage[0][0], "candidatesTokenCount": usage[0][1], "thoughtsTokenCount": 0,
                       "totalTokenCount": usage[0][0] + usage[0][1], "cachedContentTokenCount": usage[0][2]})
    rec("tool_result", 2, message={"role": "user", "parts": [
        {"functionResponse": {"id": "call_1", "name": "list_directory", "response": {"output": "README.md\nmain.py"}}}]},
        toolCallResult={"callId": "call_1", "status": "success", "resultDisplay": "Listed 2 files."})
    rec("assistant", 3, model="qwen3-coder-plus", message={"role": "model", "parts": [{"text": "Two files: README.md and main.py."}]},
        usageMetadata={"promptTokenCount": usage[1][0], "candidatesTokenCount": usage[1][1], "thoughtsTokenCount": 0,
                       "totalTokenCount": usage[1][0] + usage[1][1], "cachedContentTokenCount": usage[1][2]})
    _write(path, "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    return {"agent": "qwen", "session_id": session_id, "turns": 1, "tools": 1, "tool": "list_directory",
            "tokens": sum(a + b for a, b, _ in usage), "search": "files"}
