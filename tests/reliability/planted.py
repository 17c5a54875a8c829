"""Sessions with a payload (a secret, an injection) planted in every field a log can carry: the
prompt, the answer, reasoning, a tool's command, its output, its other inputs, a patch's path, the
session's title, folder and git remote.  Built from generated logs (the records' shapes are real)."""

from __future__ import annotations

import itertools
from pathlib import Path

import orjson

from tests.reliability.hostile import lines_of

_IDS = itertools.count(1)

#: Where a payload goes (field name -> what the suite calls it).
CLAUDE_FIELDS = ("prompt", "answer", "thinking", "command", "output", "description", "title", "summary", "cwd", "branch")
CODEX_FIELDS = ("prompt", "answer", "reasoning", "command", "output", "thread_name", "git_remote", "patch")


def _uid() -> str:
    return f"00000000-0000-4000-8000-{next(_IDS):012d}"


def claude_session(base: bytes, payloads: dict[str, str], sid: str) -> bytes:
    """The generated transcript, retagged with ``sid``, and one record per planted field."""
    lines = [orjson.loads(x) for x in lines_of(base)]
    first_user = next(o for o in lines if o.get("type") == "user" and isinstance(o["message"].get("content"), str))
    first_text = next(o for o in lines if o.get("type") == "assistant" and o["message"]["content"][0]["type"] == "text")
    ts = first_user["timestamp"]
    out = []
    for o in lines:
        o = orjson.loads(orjson.dumps(o))
        if "sessionId" in o:
            o["sessionId"] = sid
        if "cwd" in payloads and "cwd" in o:
            o["cwd"] = payloads["cwd"]
        if "branch" in payloads and "gitBranch" in o:
            o["gitBranch"] = payloads["branch"]
        out.append(o)

    def rec(kind: str, message: dict | None = None, **kw) -> dict:
        tmpl = first_user if kind == "user" else first_text
        o = orjson.loads(orjson.dumps(tmpl))
        o.update(sessionId=sid, uuid=_uid(), timestamp=ts, **kw)
        if message is not None:
            o["message"] = message
        return o

    def asst(content: list) -> dict:
        return rec(
            "assistant",
            {
                "model": "claude-opus-4-6",
                "id": f"msg_planted_{next(_IDS)}",
                "type": "message",
                "role": "assistant",
                "content": content,
                "usage": {"input_tokens": 1, "output_tokens": 1},
            },
        )

    p = payloads
    if "prompt" in p:
        out.append(rec("user", {"role": "user", "content": f"Please look at this: {p['prompt']}"}))
    if "answer" in p:
        out.append(asst([{"type": "text", "text": f"Here it is: {p['answer']}"}]))
    if "thinking" in p:
        out.append(asst([{"type": "thinking", "thinking": f"Thinking about {p['thinking']}", "signature": "x"}]))
    call = f"toolu_planted_{next(_IDS)}"
    if "command" in p or "description" in p:
        inp = {"command": f"echo {p.get('command', 'hello')}", "description": p.get("description", "Print it")}
        out.append(asst([{"type": "tool_use", "id": call, "name": "Bash", "input": inp}]))
    if "output" in p:
        out.append(
            rec(
                "user",
                {
                    "role": "user",
                    "content": [
                        {"tool_use_id": call, "type": "tool_result", "content": f"output follows\n{p['output']}\n", "is_error": False}
                    ],
                },
            )
        )
    if "title" in p:
        out.append({"type": "custom-title", "customTitle": p["title"], "sessionId": sid})
    if "summary" in p:
        out.append({"type": "summary", "summary": p["summary"], "leafUuid": _uid()})
    return b"\n".join(orjson.dumps(o) for o in out) + b"\n"


def codex_session(base: bytes, payloads: dict[str, str], sid: str) -> bytes:
    lines = [orjson.loads(x) for x in lines_of(base)]
    meta = lines[0]
    meta["payload"]["id"] = sid
    if "git_remote" in payloads:
        meta["payload"].setdefault("git", {})["repository_url"] = payloads["git_remote"]
    ts = lines[1].get("timestamp") or meta["timestamp"]
    out = list(lines)
    p = payloads

    def item(payload: dict) -> dict:
        return {"timestamp": ts, "type": "response_item", "payload": payload}

    if "prompt" in p:
        out.append({"timestamp": ts, "type": "event_msg", "payload": {"type": "user_message", "message": f"Look: {p['prompt']}"}})
    if "answer" in p:
        out.append(item({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": f"Done: {p['answer']}"}]}))
    if "reasoning" in p:
        out.append(
            item(
                {
                    "type": "reasoning",
                    "summary": [{"type": "summary_text", "text": f"**Plan** {p['reasoning']}"}],
                    "content": None,
                    "encrypted_content": "gAAAA",
                }
            )
        )
    call = f"call_planted_{next(_IDS)}"
    if "command" in p:
        out.append(
            item(
                {
                    "type": "function_call",
                    "name": "exec_command",
                    "call_id": call,
                    "arguments": orjson.dumps({"cmd": f"echo {p['command']}"}).decode(),
                }
            )
        )
    if "output" in p:
        out.append(
            item(
                {
                    "type": "function_call_output",
                    "call_id": call,
                    "output": f"Chunk ID: 1\nWall time: 0.1 seconds\nProcess exited with code 0\nOutput:\n{p['output']}\n",
                }
            )
        )
    if "patch" in p:
        out.append(
            item(
                {
                    "type": "custom_tool_call",
                    "status": "completed",
                    "call_id": f"call_patch_{next(_IDS)}",
                    "name": "apply_patch",
                    "input": f"*** Begin Patch\n*** Add File: notes.txt\n+{p['patch']}\n*** End Patch",
                }
            )
        )
    if "thread_name" in p:
        out.append({"timestamp": ts, "type": "event_msg", "payload": {"type": "thread_name_updated", "thread_name": p["thread_name"]}})
    return b"\n".join(orjson.dumps(o) for o in out) + b"\n"


def write(root: Path, agent: str, sid: str, data: bytes) -> Path:
    p = root / "codex" / f"rollout-2026-03-02T09-00-00-{sid}.jsonl" if agent == "codex" else root / "claude" / "-work-proj" / f"{sid}.jsonl"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p
