"""Synthetic Claude Code transcripts: errors, odd blocks, usage mapping, layouts."""

from __future__ import annotations

import orjson
import pytest

from sessionlens.ingest import claude
from sessionlens.models.session import EventKind

SID = "0e26ec2f-937e-482c-b889-bc126f996913"
B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB" * 300


def jl(*objs: object) -> bytes:
    return b"".join(orjson.dumps(o) + b"\n" for o in objs)


def common(uuid: str, ts: str = "2026-02-10T21:11:56.846Z", **extra: object) -> dict:
    return {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": "/home/u/p",
        "sessionId": SID,
        "version": "2.1.50",
        "gitBranch": "",
        "uuid": uuid,
        "timestamp": ts,
        **extra,
    }


def user(uuid: str, content: object, **extra: object) -> dict:
    return {**common(uuid), "type": "user", "message": {"role": "user", "content": content}, **extra}


def assistant(
    uuid: str,
    blocks: list,
    mid: str = "msg_1",
    rid: str = "req_1",
    model: str = "claude-opus-4-6",
    usage: dict | None = None,
    **extra: object,
) -> dict:
    usage = usage or {"input_tokens": 3, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 50, "output_tokens": 7}
    return {
        **common(uuid),
        "type": "assistant",
        "requestId": rid,
        **extra,
        "message": {
            "model": model,
            "id": mid,
            "type": "message",
            "role": "assistant",
            "content": blocks,
            "stop_reason": None,
            "usage": usage,
        },
    }


def test_usage_mapping_costusd_and_max_output() -> None:
    data = jl(
        user("u1", "hello"),
        assistant(
            "a1",
            [{"type": "thinking", "thinking": "hmm", "signature": "SIGSECRET"}],
            usage={
                "input_tokens": 3,
                "cache_creation_input_tokens": 100,
                "cache_read_input_tokens": 50,
                "output_tokens": 7,
                "speed": "fast",
            },
            costUSD=0.25,
        ),
        assistant(
            "a2",
            [{"type": "text", "text": "hi"}],
            usage={
                "input_tokens": 3,
                "cache_creation_input_tokens": 100,
                "cache_read_input_tokens": 50,
                "output_tokens": 90,
                "speed": "fast",
            },
            costUSD=0.25,
        ),
        assistant(
            "a3",
            [{"type": "redacted_thinking", "data": "OPAQUE"}],
            mid="msg_2",
            rid="req_2",
            usage={
                "input_tokens": 1,
                "cache_creation_input_tokens": 30,
                "cache_read_input_tokens": 0,
                "cache_creation": {"ephemeral_5m_input_tokens": 10, "ephemeral_1h_input_tokens": 20},
                "output_tokens": 4,
            },
        ),
    )
    r = claude.parse(data, f"/p/{SID}.jsonl")
    recs = {u.key: u for u in r.usage}
    assert sorted(recs) == ["claude:msg_1:req_1", "claude:msg_2:req_2"]
    one = recs["claude:msg_1:req_1"]
    assert (
        one.usage.input_tokens,
        one.usage.cache_read_tokens,
        one.usage.cache_write_5m_tokens,
        one.usage.cache_write_1h_tokens,
        one.usage.output_tokens,
    ) == (3, 50, 100, 0, 90)
    assert (one.speed, one.cost_usd, one.model, one.line) == ("fast", 0.25, "claude-opus-4-6", 2)
    two = recs["claude:msg_2:req_2"].usage
    assert (two.cache_write_5m_tokens, two.cache_write_1h_tokens) == (10, 20)
    thinking, text, redacted = r.events[1], r.events[2], r.events[3]
    assert (thinking.kind, thinking.text, thinking.usage_key) == (EventKind.REASONING, "hmm", "claude:msg_1:req_1")
    assert thinking.usage.output_tokens == 7  # the line's own snapshot; the record keeps the max
    assert text.usage is None and text.usage_key is None and text.message_id == "msg_1"
    assert (redacted.kind, redacted.text, redacted.subtype) == (EventKind.REASONING, None, "assistant/redacted_thinking")
    assert all("SIGSECRET" not in (e.text or "") and "OPAQUE" not in (e.text or "") for e in r.events)
    assert r.session.git_branch is None  # "" outside a repository


def test_api_errors_are_not_billed() -> None:
    data = jl(
        user("u1", "hello"),
        assistant(
            "a1",
            [{"type": "text", "text": "API Error: 529 overloaded"}],
            model="<synthetic>",
            mid="m-syn",
            rid="r-syn",
            isApiErrorMessage=True,
        ),
        {
            **common("s1"),
            "type": "system",
            "subtype": "api_error",
            "level": "error",
            "error": {"status": 529},
            "retryAttempt": 1,
            "maxRetries": 10,
            "retryInMs": 500,
        },
    )
    r = claude.parse(data, f"/p/{SID}.jsonl")
    assert r.usage == [] and r.session.models == []
    assert [e.kind for e in r.events[1:]] == [EventKind.ERROR, EventKind.ERROR]
    assert r.events[1].text == "API Error: 529 overloaded" and r.events[1].model is None
    assert r.events[2].extra == {"retryAttempt": 1, "maxRetries": 10, "retryInMs": 500}


def test_user_line_classification_and_images() -> None:
    data = jl(
        user("u0", "<local-command-caveat>Caveat: …</local-command-caveat>", isMeta=True),
        user("u1", "<command-name>/model</command-name>\n<command-message>model</command-message>\n<command-args></command-args>"),
        user("u2", "<local-command-stdout>Set model to opus</local-command-stdout>"),
        user(
            "u3",
            [
                {"type": "text", "text": "what is in this screenshot?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": B64}},
            ],
        ),
        user("u4", [{"type": "text", "text": "[Request interrupted by user]"}]),
        user("u5", "This session is being continued from a previous conversation…", isCompactSummary=True),
        user("u6", "<system-reminder>be nice</system-reminder>"),
        user(
            "u7",
            [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_x",
                    "is_error": False,
                    "content": [
                        {"type": "text", "text": "see image"},
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": B64}},
                    ],
                }
            ],
        ),
        {"type": "summary", "summary": "Screenshot question", "leafUuid": "u3"},
        {"type": "some-future-type", "x": 1},
        {
            **common("p1"),
            "type": "progress",
            "data": {"type": "bash_progress", "output": "line"},
            "toolUseID": "bash-progress-0",
            "parentToolUseID": "toolu_x",
        },
        {**common("s2"), "type": "system", "subtype": "microcompact_boundary", "content": "Context microcompacted"},
        {"type": "queue-operation", "operation": "enqueue", "timestamp": "2026-02-10T22:57:58.381Z", "sessionId": SID, "content": "/mcp"},
    )
    r = claude.parse(data, f"/p/{SID}.jsonl")
    got = [(e.kind.value, e.subtype) for e in r.events]
    assert got == [
        ("system", "user/meta"),
        ("system", "user/command"),
        ("system", "user/local_command"),
        ("user_message", "user"),
        ("error", "user/interrupted"),
        ("compaction", "user/compact_summary"),
        ("system", "user/local_command"),
        ("tool_result", "user/tool_result"),
        ("meta", "summary"),
        ("unknown", "some-future-type"),
        ("meta", "progress/bash_progress"),
        ("compaction", "system/microcompact_boundary"),
        ("meta", "queue-operation"),
    ]
    assert r.events[1].extra == {"command": "/model"}
    prompt = r.events[3]
    assert prompt.text == "what is in this screenshot?\n[image]"
    assert prompt.extra == {"images": [{"mime": "image/png", "data": B64}]}  # kept for the transcript's thumbnail
    assert all(B64[:40] not in (e.text or "") for e in r.events)
    assert r.events[7].text == "see image\n[image]"
    assert r.events[10].parent_call_id == "toolu_x" and r.events[10].text == "line"
    assert len(r.turns) == 1 and r.turns[0].aborted and r.turns[0].start_line == 4
    assert r.session.title == "Screenshot question"
    assert r.problems == []


def test_tool_use_details_and_results() -> None:
    edit_input = {"file_path": "/p/a.py", "old_string": "x = 1\n", "new_string": "x = 2\n"}
    data = jl(
        user("u1", "edit it"),
        assistant("a1", [{"type": "tool_use", "id": "t1", "name": "Edit", "input": edit_input}]),
        user(
            "r1",
            [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}],
            toolUseResult={
                "filePath": "/p/a.py",
                "oldString": "x = 1\n",
                "newString": "x = 2\n",
                "originalFile": "x = 1\n" * 100000,
                "userModified": False,
            },
        ),
        assistant(
            "a2",
            [{"type": "tool_use", "id": "t2", "name": "Bash", "input": {"command": "false", "description": "fail"}}],
            mid="msg_2",
            rid="req_2",
        ),
        user(
            "r2",
            [{"type": "tool_result", "tool_use_id": "t2", "is_error": True, "content": "Exit code 1\nnope"}],
            toolUseResult="Error: Exit code 1\nnope",
        ),
        assistant("a3", [{"type": "tool_use", "id": "t3", "name": "Read", "input": {"file_path": "/p/b.py"}}], mid="msg_3", rid="req_3"),
        user(
            "r3",
            [{"type": "tool_result", "tool_use_id": "t3", "content": "1\tprint()"}],
            toolUseResult={"type": "text", "file": {"filePath": "/p/b.py", "content": "print()"}},
        ),
        assistant("a4", [{"type": "tool_use", "id": "t4", "name": "Bash", "input": {"command": "sleep 999"}}], mid="msg_4", rid="req_4"),
        user(
            "r4",
            [{"type": "tool_result", "tool_use_id": "t4", "content": "ok"}],
            toolUseResult={"stdout": "", "stderr": "killed", "interrupted": True},
        ),
    )
    r = claude.parse(data, f"/p/{SID}.jsonl")
    ev = {e.line: e for e in r.events}
    assert (ev[2].kind, ev[2].tool, ev[2].files) == (EventKind.PATCH, "Edit", ["/p/a.py"])
    assert ev[2].text == "--- /p/a.py\n+++ /p/a.py\n@@\n-x = 1\n+x = 2"
    assert (ev[3].files, ev[3].tool, ev[3].text) == (["/p/a.py"], "Edit", "ok")
    assert (ev[4].command, ev[4].extra) == ("false", {"description": "fail"})
    assert (ev[5].is_error, ev[5].exit_code, ev[5].tool) == (True, 1, "Bash")
    assert (ev[6].kind, ev[6].files) == (EventKind.TOOL_CALL, ["/p/b.py"])
    assert ev[7].files == ["/p/b.py"]
    assert ev[9].extra == {"interrupted": True, "stderr": "killed"} and ev[9].exit_code == 0


def test_subagent_file_layouts() -> None:
    line = {**user("u1", "do the thing"), "isSidechain": True, "agentId": "abc123"}
    new_layout = claude.parse(jl(line), f"/proj/{SID}/subagents/agent-abc123.jsonl")
    s = new_layout.session
    assert (s.id, s.parent_session_id, s.agent_id) == (f"{SID}:agent-abc123", SID, "abc123")
    assert len(new_layout.turns) == 1 and new_layout.events[0].sidechain
    old_layout = claude.parse(jl(line), "/proj/agent-abc123.jsonl")
    s = old_layout.session
    assert (s.id, s.parent_session_id, s.agent_id) == (f"{SID}:agent-abc123", SID, "abc123")
    assert len(old_layout.turns) == 1


def test_session_id_falls_back_to_file_name() -> None:
    r = claude.parse(jl({"type": "summary", "summary": "t", "leafUuid": "x"}), "/p/my-session.jsonl")
    # a summary names a session only through its leafUuid: "x" is not a line of this file
    assert r.session.id == "my-session" and r.session.title is None


@pytest.mark.parametrize(
    "text, code", [("Exit code 99999999999999999999", None), ("Exit code 2²", 2), ("Exit code 128\nfatal: no upstream", 128)]
)
def test_exit_code_from_text_is_range_checked(text: str, code: int | None) -> None:
    """#17: an exit code parsed from tool output text is an exit code or nothing (never an int
    SQLite cannot store, never a parse failure of the line)."""
    from sessionlens.ingest.claude import _exit_code

    assert _exit_code(text) == code
