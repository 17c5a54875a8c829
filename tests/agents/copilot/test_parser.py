"""Copilot CLI parser: hermetic cases built here, then every corpus file with figures checked by hand.

Corpus figures were counted from the raw lines with an independent script (json.loads per line):
tool calls = ``tool.execution_start`` lines, results = ``tool.execution_complete`` lines, tokens =
``session.shutdown.data.modelMetrics`` (``inputTokens`` holds the cache reads) plus, for segments
without a shutdown, the sum of ``assistant.message.data.outputTokens``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sessionlens.agents.copilot import parser as cp
from sessionlens.models.session import EventKind

from ..helpers import merge_usage, totals

SID = "11111111-2222-3333-4444-555555555555"


def line(t: str, data: dict, i: int, ts: str = "2026-03-01T10:00:00.000Z") -> str:
    return json.dumps({"type": t, "data": data, "id": f"e{i}", "timestamp": ts, "parentId": f"e{i - 1}" if i else None})


def session_lines() -> list[str]:
    """Two runs of the CLI with a shutdown each, then a resumed run that never shut down."""
    out = [
        line(
            "session.start",
            {
                "sessionId": SID,
                "copilotVersion": "1.0.34",
                "producer": "copilot-agent",
                "startTime": "2026-03-01T10:00:00.000Z",
                "context": {"cwd": "/w/p", "gitRoot": "/w/p", "branch": "main", "headCommit": "abc", "repository": "o/p"},
            },
            0,
        ),
        line("session.model_change", {"newModel": "claude-sonnet-4.6"}, 1),
        line("user.message", {"content": "fix the tests", "attachments": []}, 2),
        line(
            "assistant.message",
            {
                "messageId": "m1",
                "content": "Running them.",
                "outputTokens": 100,
                "toolRequests": [{"toolCallId": "c1", "name": "bash", "type": "function", "arguments": "{}"}],
            },
            3,
        ),
        line(
            "tool.execution_start",
            {"toolCallId": "c1", "toolName": "bash", "arguments": {"command": "pytest -q"}},
            4,
            "2026-03-01T10:00:01.000Z",
        ),
        line(
            "tool.execution_complete",
            {
                "toolCallId": "c1",
                "success": True,
                "model": "claude-sonnet-4.6",
                "result": {"content": "1 failed\n<exited with exit code 1>"},
            },
            5,
            "2026-03-01T10:00:03.500Z",
        ),
        line("assistant.message", {"messageId": "m2", "content": "One test fails.", "outputTokens": 50, "toolRequests": []}, 6),
        line(
            "session.shutdown",
            {
                "shutdownType": "routine",
                "modelMetrics": {
                    "claude-sonnet-4.6": {
                        "requests": {"count": 2, "cost": 1},
                        "usage": {"inputTokens": 1000, "outputTokens": 150, "cacheReadTokens": 600, "cacheWriteTokens": 0},
                    }
                },
            },
            7,
        ),
        line("session.resume", {"resumeTime": "2026-03-02T09:00:00.000Z", "eventCount": 8}, 8),
        line("user.message", {"content": "now the docs"}, 9),
        line("assistant.message", {"messageId": "m3", "content": "Done.", "outputTokens": 30, "toolRequests": []}, 10),
        line(
            "session.shutdown",
            {
                "modelMetrics": {
                    "claude-sonnet-4.6": {"usage": {"inputTokens": 400, "outputTokens": 40, "cacheReadTokens": 100, "cacheWriteTokens": 50}}
                }
            },
            11,
        ),
        line("session.resume", {"resumeTime": "2026-03-03T09:00:00.000Z"}, 12),
        line("user.message", {"content": "and the changelog"}, 13),
        line("assistant.message", {"messageId": "m4", "content": "Added.", "outputTokens": 7, "toolRequests": []}, 14),
    ]
    return out


def data_of(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_segments_count_once_and_a_missing_shutdown_makes_a_lower_bound():
    r = cp.parse(data_of(session_lines()), f"/h/.copilot/session-state/{SID}/events.jsonl")
    t = totals(merge_usage([r]))
    # segment 1: prompt 1000 = 400 uncached + 600 read; output 150 (100 + 50 billed by the messages)
    # segment 2: prompt 400 = 250 uncached + 100 read + 50 write; output 40 (30 by the message + 10)
    # segment 3: no shutdown, only the message's 7 output tokens
    assert (t.input_tokens, t.cache_read_tokens, t.cache_write_5m_tokens) == (400 + 250, 600 + 100, 50)
    assert t.output_tokens == 150 + 40 + 7
    assert cp.usage_lower_bound(r.state) is True
    assert r.problems == []  # the open last segment may still be running: flagged, not warned about
    assert r.session.id == SID and r.session.git_branch == "main" and r.session.git_commit == "abc"
    assert r.session.models == ["claude-sonnet-4.6"] and r.session.cli_version == "1.0.34"
    assert [t.prompt for t in r.turns] == ["fix the tests", "now the docs", "and the changelog"]


def test_a_segment_resumed_without_shutdown_is_warned_about_once():
    lines = session_lines()
    del lines[11]  # segment 2 (from the resume on line 9) loses its shutdown
    r = cp.parse(data_of(lines), "events.jsonl")
    assert [(p.severity, p.line) for p in r.problems] == [("warning", 9)]
    assert "lower bound" in r.problems[0].message
    assert totals(merge_usage([r])).output_tokens == 150 + 30 + 7
    again = cp.parse(b"", "events.jsonl", r.state)
    assert again.problems == [] and cp.usage_lower_bound(again.state)


def test_a_shutdown_closing_the_last_segment_is_exact():
    lines = session_lines()[:12]
    r = cp.parse(data_of(lines), "events.jsonl")
    assert cp.usage_lower_bound(r.state) is False and r.problems == []
    assert totals(merge_usage([r])).output_tokens == 190


@pytest.mark.parametrize("cut", range(1, 15))
def test_incremental_passes_bill_the_same_as_one_pass(cut):
    lines = session_lines()
    whole = cp.parse(data_of(lines), "events.jsonl")
    first = cp.parse(data_of(lines[:cut]), "events.jsonl")
    rest = data_of(lines)[first.state.offset :]
    second = cp.parse(rest, "events.jsonl", first.state)
    assert totals(merge_usage([first, second])) == totals(merge_usage([whole]))
    assert [e.seq for e in first.events + second.events] == [e.seq for e in whole.events]
    assert cp.usage_lower_bound(second.state) is True


def test_tool_call_result_pairing_exit_code_and_duration():
    r = cp.parse(data_of(session_lines()), "events.jsonl")
    call = next(e for e in r.events if e.kind is EventKind.TOOL_CALL)
    res = next(e for e in r.events if e.kind is EventKind.TOOL_RESULT)
    assert (call.tool, call.command, call.call_id) == ("bash", "pytest -q", "c1")
    assert (res.tool, res.call_id, res.exit_code, res.duration_ms, res.is_error) == ("bash", "c1", 1, 2500, False)
    msg = next(e for e in r.events if e.message_id == "m1")
    assert msg.kind is EventKind.ASSISTANT_MESSAGE and msg.extra["tool_requests"] == [{"call_id": "c1", "tool": "bash"}]
    assert msg.usage_key == f"copilot:{SID}:msg:m1" and msg.usage.output_tokens == 100


def test_subagent_events_are_sidechain_of_their_task_call():
    lines = [
        line("session.start", {"sessionId": SID}, 0),
        line("user.message", {"content": "review"}, 1),
        line(
            "tool.execution_start",
            {"toolCallId": "t1", "toolName": "task", "arguments": {"prompt": "look at x", "agent_type": "explore"}},
            2,
        ),
        line("subagent.started", {"toolCallId": "t1", "agentName": "explore"}, 3),
        line("assistant.message", {"parentToolCallId": "t1", "messageId": "s1", "content": "x is fine", "outputTokens": 5}, 4),
        line("subagent.completed", {"toolCallId": "t1", "agentName": "explore"}, 5),
        line("tool.execution_complete", {"toolCallId": "t1", "success": True, "result": {"content": "fine"}}, 6),
    ]
    r = cp.parse(data_of(lines), "events.jsonl")
    side = [e for e in r.events if e.sidechain]
    assert [(e.parent_call_id, e.agent_id, e.text) for e in side] == [("t1", "explore", "x is fine")]
    task = next(e for e in r.events if e.kind is EventKind.TOOL_CALL)
    assert task.tool == "task" and task.text == "look at x" and task.extra["agent_type"] == "explore"
    assert len(r.turns) == 1  # the sub-agent's message opens no turn


def test_bad_lines_cost_only_themselves():
    lines = session_lines()[:4] + ["{not json", "[1, 2]", line("tool.execution_start", {"toolCallId": 5}, 99)] + session_lines()[4:8]
    r = cp.parse(data_of(lines), "events.jsonl")
    assert len(r.problems) == 2
    assert sum(1 for e in r.events if e.kind is EventKind.TOOL_RESULT) == 1
    assert totals(merge_usage([r])).output_tokens == 150


def test_workspace_yaml_fills_the_session():
    text = "id: x\ncwd: D:\\src\\app\nsummary: 'Fix: the build'\nbranch: dev\nrepository: o/app\n  nested: no\n"
    fields = cp.parse_workspace_yaml(text)
    assert fields == {"id": "x", "cwd": "D:\\src\\app", "summary": "Fix: the build", "branch": "dev", "repository": "o/app"}
    r = cp.parse(data_of([line("user.message", {"content": "hello"}, 1)]), "/s/abc/events.jsonl", None, text)
    assert (r.session.id, r.session.cwd, r.session.title, r.session.git_branch) == ("abc", "D:\\src\\app", "Fix: the build", "dev")


def test_edit_and_create_are_patches():
    lines = [
        line(
            "tool.execution_start",
            {"toolCallId": "a", "toolName": "edit", "arguments": {"path": "/w/x.py", "old_str": "a = 1", "new_str": "a = 2"}},
            1,
        ),
        line(
            "tool.execution_start", {"toolCallId": "b", "toolName": "create", "arguments": {"path": "/w/y.py", "file_text": "print()\n"}}, 2
        ),
    ]
    r = cp.parse(data_of(lines), "events.jsonl")
    assert [e.kind for e in r.events] == [EventKind.PATCH, EventKind.PATCH]
    assert r.events[0].files == ["/w/x.py"] and "-a = 1\n+a = 2" in r.events[0].text
    assert r.events[1].text.endswith("+print()")


def test_legacy_document_timeline():
    doc = {
        "sessionId": "old-1",
        "startTime": "2025-10-11T11:40:22.000Z",
        "chatMessages": [],
        "timeline": [
            {"id": "i1", "timestamp": "2025-10-11T11:40:22.635Z", "type": "info", "text": "Connected"},
            {"id": "u1", "timestamp": "2025-10-11T11:40:24.449Z", "type": "user", "text": "make it faster"},
            {
                "type": "tool_call_completed",
                "id": "t1",
                "timestamp": "2025-10-11T11:40:31.603Z",
                "callId": "c1",
                "name": "bash",
                "arguments": {"command": "ls"},
                "result": {"type": "success", "log": "a\n"},
            },
            {"id": "a1", "timestamp": "2025-10-11T11:40:40.000Z", "type": "copilot", "text": "Done"},
        ],
    }
    data = json.dumps(doc, indent=2).encode()
    r = cp.parse_document(data, "/h/.copilot/history-session-state/old-1.json")
    assert [e.kind.value for e in r.events] == ["system", "user_message", "tool_call", "tool_result", "assistant_message"]
    assert [e.seq for e in r.events] == [e.line for e in r.events]
    assert [e.seq for e in r.events] == sorted({e.seq for e in r.events})  # unique, in file order
    text_lines = data.decode().splitlines()
    for e in r.events[:3] + r.events[4:]:  # every event points at its item's line
        assert '"id"' in text_lines[e.line - 1]
    assert '"result"' in text_lines[r.events[3].line - 1]
    assert r.events[3].call_id == "c1" and r.events[3].text == "a"
    assert r.session.id == "old-1" and len(r.turns) == 1 and r.usage == []
    assert cp.parse_document(b"{broken", "x.json").problems[0].message.startswith("malformed JSON")


# ------------------------------------------------------------------------------------------------ corpus

ENGRAM = "copilot-cli/softwaresalt+agent-engram/.copilot/session-state/07c40cd0-ff51-4d6e-bdcd-ac2f90877203"
CORPUS_JSONL = {
    # hand-edited copy (4 injected records, reasoningTokens 0 -> 1024)
    "copilot-cli/Mai0313+VibeCodingTracker/tests/fixtures/sessions/copilot.jsonl": dict(
        lines=55,
        sid="96ef38f0-9d09-45c3-8124-6448c36090ed",
        calls=13,
        results=13,
        turns=1,
        prompt=186809,
        cache=151738,
        output=2848,
        reasoning=1024,
        lower=False,
        models=["claude-sonnet-4.6"],
    ),
    "copilot-cli/Mai0313+VibeCodingTracker@dc22676aec/examples/test_conversation_copilot.jsonl": dict(
        lines=51,
        sid="96ef38f0-9d09-45c3-8124-6448c36090ed",
        calls=11,
        results=11,
        turns=1,
        prompt=186809,
        cache=151738,
        output=2848,
        reasoning=0,
        lower=False,
        models=["claude-sonnet-4.6"],
    ),
    # no session.shutdown at all: only the 75 messages' outputTokens (sum 22185) are known
    f"{ENGRAM}/events.jsonl": dict(
        lines=592,
        sid="07c40cd0-ff51-4d6e-bdcd-ac2f90877203",
        calls=86,
        results=86,
        turns=7,
        prompt=0,
        cache=0,
        output=22185,
        reasoning=0,
        lower=True,
        models=["claude-opus-4.6", "claude-sonnet-4.6"],
    ),
}


@pytest.mark.parametrize("rel", sorted(CORPUS_JSONL))
def test_corpus_events_jsonl(corpus: Path, rel: str):
    want = CORPUS_JSONL[rel]
    path = corpus / rel
    ws = path.parent / "workspace.yaml"
    r = cp.parse(path.read_bytes(), str(path), None, ws.read_text() if ws.exists() else None)
    assert r.problems == []
    assert len(r.events) == want["lines"] and r.state.line == want["lines"]
    assert r.session.id == want["sid"] and r.session.models == want["models"]
    calls = [e for e in r.events if e.kind in (EventKind.TOOL_CALL, EventKind.PATCH)]
    results = [e for e in r.events if e.kind is EventKind.TOOL_RESULT]
    assert (len(calls), len(results), len(r.turns)) == (want["calls"], want["results"], want["turns"])
    assert {e.call_id for e in calls} == {e.call_id for e in results}
    assert all(e.tool for e in results)
    t = totals(merge_usage([r]))
    assert t.prompt_tokens == want["prompt"] and t.cache_read_tokens == want["cache"]
    assert (t.output_tokens, t.reasoning_tokens) == (want["output"], want["reasoning"])
    assert cp.usage_lower_bound(r.state) is want["lower"]


def test_corpus_engram_workspace_and_windows_shell(corpus: Path):
    path = corpus / ENGRAM / "events.jsonl"
    r = cp.parse(path.read_bytes(), str(path), None, (corpus / ENGRAM / "workspace.yaml").read_text())
    assert r.session.title == "Break Down Feature 007"
    assert r.session.cwd == "D:\\Source\\GitHub\\agent-engram" and r.session.git_remote == "softwaresalt/agent-engram"
    shells = [e for e in r.events if e.kind is EventKind.TOOL_RESULT and e.tool == "powershell"]
    assert len(shells) == 60 and all(e.exit_code is not None for e in shells[:50])
    assert sum(1 for e in r.events if e.kind is EventKind.ERROR) == 1  # the ENOTCONN session.error


LEGACY = {
    "copilot-cli/Mai0313+VibeCodingTracker@7bc2c73927/examples/test_conversation_copilot.json": (
        "06141331-92e8-4e9e-8bbb-9b7a729eb01a",
        59,
        37,
        1,
    ),
    "copilot-cli/Mai0313+VibeCodingTracker@bcec23fa1e/examples/test_conversation_copilot.json": (
        "0b2a81da-02cf-4cbb-ae14-07c597b84f4e",
        15,
        5,
        1,
    ),
}


@pytest.mark.parametrize("rel", sorted(LEGACY))
def test_corpus_legacy_documents(corpus: Path, rel: str):
    sid, tools, answers, turns = LEGACY[rel]
    data = (corpus / rel).read_bytes()
    r = cp.parse_document(data, str(corpus / rel))
    assert r.session.id == sid and r.problems == []
    kinds = [e.kind for e in r.events]
    assert kinds.count(EventKind.TOOL_CALL) + kinds.count(EventKind.PATCH) == kinds.count(EventKind.TOOL_RESULT) == tools
    assert kinds.count(EventKind.ASSISTANT_MESSAGE) == answers and len(r.turns) == turns
    n_lines = data.count(b"\n") + 1
    assert all(1 <= e.line <= n_lines and e.seq == e.line for e in r.events)
    assert sorted({e.line for e in r.events}) == [e.line for e in r.events]  # unique, in file order
    lines = data.decode().splitlines()
    results = [e for e in r.events if e.kind is EventKind.TOOL_RESULT]
    assert all('"result"' in lines[e.line - 1] for e in results)


def test_hostile_token_counts_are_clamped():
    huge = 10**30
    lines = [
        line("assistant.message", {"messageId": "m", "content": "x", "outputTokens": huge}, 1),
        line("session.shutdown", {"modelMetrics": {"m": {"usage": {"inputTokens": -5, "outputTokens": "9", "cacheReadTokens": huge}}}}, 2),
    ]
    r = cp.parse(data_of(lines), "events.jsonl")
    t = totals(merge_usage([r]))
    assert t.output_tokens == cp.MAX_TOKENS and t.cache_read_tokens == cp.MAX_TOKENS and t.input_tokens == 0
