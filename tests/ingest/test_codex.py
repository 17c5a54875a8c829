"""Synthetic Codex rollouts: legacy and transitional eras, forks, odd lines."""

from __future__ import annotations

import orjson
import pytest

from sessionlens.ingest import codex
from sessionlens.models.session import EventKind

SID = "5973b6c0-94b8-487b-a530-2aeb6098ae0e"
PNG = "data:image/png;base64," + "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB" * 200


def jl(*objs: object) -> bytes:
    return b"".join(orjson.dumps(o) + b"\n" for o in objs)


def w(ts: str, type_: str, payload: dict) -> dict:
    return {"timestamp": ts, "type": type_, "payload": payload}


def token_count(ts: str, inp: int, cached: int, out: int, reasoning: int = 0, last: dict | None = None) -> dict:
    total = {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out,
    }
    return w(
        ts,
        "event_msg",
        {"type": "token_count", "info": {"total_token_usage": total, "last_token_usage": last or total, "model_context_window": 258400}},
    )


LEGACY = jl(
    {
        "id": SID,
        "timestamp": "2025-08-10T12:50:53.445Z",
        "instructions": None,
        "git": {"commit_hash": "abc123", "branch": "main", "repository_url": "git@x:y.git"},
    },
    {"record_type": "state"},
    {
        "type": "message",
        "role": "user",
        "content": [
            {
                "type": "input_text",
                "text": "<environment_context>\n  <cwd>/home/u/proj</cwd>\n  <approval_policy>on-request</approval_policy>\n</environment_context>",
            }
        ],
    },
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "fix the failing test"}]},
    {
        "type": "function_call",
        "name": "shell",
        "arguments": orjson.dumps({"command": ["bash", "-lc", "pytest -q"], "workdir": "/home/u/proj"}).decode(),
        "call_id": "call_1",
    },
    {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": orjson.dumps({"output": "1 failed", "metadata": {"exit_code": 1, "duration_seconds": 1.5}}).decode(),
    },
    {
        "type": "local_shell_call",
        "call_id": "call_2",
        "status": "completed",
        "action": {"type": "exec", "command": ["apply_patch", "*** Begin Patch\n*** Update File: a.py\n@@\n-x\n+y\n*** End Patch"]},
    },
    {"record_type": "state"},
    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Fixed."}]},
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "thanks, now commit"}]},
)


def test_legacy_bare_era() -> None:
    r = codex.parse(LEGACY, f"/x/rollout-2025-08-10T14-50-53-{SID}.jsonl")
    s = r.session
    assert (s.id, s.cwd, s.git_branch, s.git_commit, s.git_remote) == (SID, "/home/u/proj", "main", "abc123", "git@x:y.git")
    assert s.started_at is not None and s.started_at.year == 2025
    k = [e.kind for e in r.events]
    assert k == [
        EventKind.META,
        EventKind.META,
        EventKind.SYSTEM,
        EventKind.USER_MESSAGE,
        EventKind.TOOL_CALL,
        EventKind.TOOL_RESULT,
        EventKind.PATCH,
        EventKind.META,
        EventKind.ASSISTANT_MESSAGE,
        EventKind.USER_MESSAGE,
    ]
    assert not any(e.duplicate for e in r.events)  # in the bare era the response items are the primary copy
    assert [t.prompt for t in r.turns] == ["fix the failing test", "thanks, now commit"]
    assert [t.start_line for t in r.turns] == [4, 10]
    call, out, patch = r.events[4], r.events[5], r.events[6]
    assert (call.tool, call.command, call.extra["workdir"]) == ("shell", "pytest -q", "/home/u/proj")
    assert (out.tool, out.exit_code, out.is_error, out.duration_ms, out.text) == ("shell", 1, True, 1500, "1 failed")
    assert (patch.tool, patch.files, patch.call_id) == ("apply_patch", ["a.py"], "call_2")
    assert patch.command.startswith("apply_patch '*** Begin Patch")
    assert patch.text.startswith("*** Begin Patch") and patch.text.endswith("*** End Patch")
    assert r.usage == [] and r.problems == []


TRANSITIONAL = jl(
    {
        "timestamp": "2025-09-01T10:00:00.000Z",
        "record_type": "session_meta",
        "id": SID,
        "cwd": "/p",
        "originator": "codex_cli_rs",
        "cli_version": "0.30.0",
    },
    {"timestamp": "2025-09-01T10:00:01.000Z", "record_type": "event", "type": "user_message", "message": "hello"},
    {
        "timestamp": "2025-09-01T10:00:01.000Z",
        "record_type": "response",
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "hello"}],
    },
    {
        "timestamp": "2025-09-01T10:00:02.000Z",
        "record_type": "response",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "hi"}],
    },
    {"timestamp": "2025-09-01T10:00:03.000Z", "record_type": "state"},
    {"timestamp": "2025-09-01T10:00:03.000Z", "record_type": "prev_session_meta", "id": "other"},
)


def test_transitional_record_type_era() -> None:
    r = codex.parse(TRANSITIONAL, "/x/t.jsonl")
    assert (r.session.id, r.session.cwd, r.session.cli_version) == (SID, "/p", "0.30.0")
    assert [(e.kind.value, e.duplicate) for e in r.events] == [
        ("meta", False),
        ("user_message", False),
        ("user_message", True),
        ("assistant_message", False),
        ("meta", False),
        ("meta", False),
    ]
    assert len(r.turns) == 1 and r.turns[0].prompt == "hello"
    assert r.session.title == "hello"


def _wrapped_session(source: object = "cli", **extra: object) -> dict:
    return w(
        "2026-03-01T10:00:00.100Z",
        "session_meta",
        {
            "id": SID,
            "timestamp": "2026-03-01T10:00:00.000Z",
            "cwd": "/w",
            "originator": "codex_cli_rs",
            "cli_version": "0.120.0",
            "source": source,
            **extra,
        },
    )


def test_token_deltas_duplicates_and_resets() -> None:
    data = jl(
        _wrapped_session(),
        w("2026-03-01T10:00:01Z", "turn_context", {"model": "gpt-5.3-codex", "cwd": "/w"}),
        w("2026-03-01T10:00:01Z", "event_msg", {"type": "token_count", "info": None, "rate_limits": {}}),
        token_count("2026-03-01T10:00:05Z", 1000, 800, 50, 20),
        token_count("2026-03-01T10:00:06Z", 1000, 800, 50, 20),  # unchanged snapshot
        w("2026-03-01T10:00:07Z", "turn_context", {"model": "gpt-5.4"}),
        token_count("2026-03-01T10:00:09Z", 3000, 2000, 150, 40),
        # total went down (reset): use last_token_usage
        token_count(
            "2026-03-01T10:00:10Z",
            500,
            100,
            10,
            0,
            last={"input_tokens": 400, "cached_input_tokens": 100, "output_tokens": 9, "reasoning_output_tokens": 0, "total_tokens": 409},
        ),
        # no total at all
        w(
            "2026-03-01T10:00:11Z",
            "event_msg",
            {
                "type": "token_count",
                "info": {
                    "last_token_usage": {
                        "input_tokens": 10,
                        "cached_input_tokens": 0,
                        "output_tokens": 1,
                        "reasoning_output_tokens": 0,
                        "total_tokens": 11,
                    }
                },
            },
        ),
    )
    r = codex.parse(data, "/x/r.jsonl")
    recs = [
        (u.key, u.model, u.usage.input_tokens, u.usage.cache_read_tokens, u.usage.output_tokens, u.usage.reasoning_tokens) for u in r.usage
    ]
    assert recs == [
        (f"codex:{SID}:4", "gpt-5.3-codex", 200, 800, 50, 20),
        (f"codex:{SID}:7", "gpt-5.4", 800, 1200, 100, 20),
        (f"codex:{SID}:8", "gpt-5.4", 300, 100, 9, 0),
        (f"codex:{SID}:9", "gpt-5.4", 10, 0, 1, 0),
    ]
    dup = r.events[4]
    assert dup.kind is EventKind.TOKEN_USAGE and dup.duplicate and dup.usage is None
    assert r.events[3].usage_key == f"codex:{SID}:4" and r.events[3].usage is not None
    assert r.session.models == ["gpt-5.3-codex", "gpt-5.4"]


def test_token_count_without_model_is_unknown() -> None:
    r = codex.parse(jl(_wrapped_session(), token_count("2026-03-01T10:00:05Z", 10, 0, 1)), "/x/r.jsonl")
    assert len(r.usage) == 1 and r.usage[0].model is None


def test_forked_subagent_skips_replayed_token_counts() -> None:
    parent = "11111111-2222-3333-4444-555555555555"
    source = {"subagent": {"thread_spawn": {"parent_thread_id": parent, "depth": 1}}}
    data = jl(
        _wrapped_session(source=source, agent_nickname="scout"),
        w("2026-03-01T10:00:00.200Z", "session_meta", {"id": parent, "cwd": "/parent"}),  # copied parent meta
        w("2026-03-01T10:00:00.300Z", "turn_context", {"model": "gpt-5.3-codex"}),
        token_count("2026-03-01T10:00:00.400Z", 5000, 4000, 100),  # replayed from the parent
        token_count("2026-03-01T10:00:00.500Z", 9000, 7000, 300),  # replayed from the parent
        token_count("2026-03-01T10:00:08.000Z", 10000, 7500, 350),  # the sub-agent's own request
    )
    r = codex.parse(data, "/x/r.jsonl")
    s = r.session
    assert (s.id, s.parent_session_id, s.agent_id, s.cwd) == (SID, parent, "scout", "/w")
    assert r.events[1].extra == {"copied": True}
    assert [(u.line, u.usage.input_tokens, u.usage.cache_read_tokens, u.usage.output_tokens) for u in r.usage] == [(6, 500, 500, 50)]
    assert [e.extra.get("replay") for e in r.events[3:5]] == [True, True]


def test_forked_from_id_sets_parent() -> None:
    r = codex.parse(jl(_wrapped_session(forked_from_id="abc")), "/x/r.jsonl")
    assert r.session.parent_session_id == "abc"


def test_turns_aborted_errors_and_extended_events() -> None:
    data = jl(
        _wrapped_session(),
        w("2026-03-01T10:00:01Z", "event_msg", {"type": "task_started", "turn_id": "t1"}),
        w("2026-03-01T10:00:01Z", "turn_context", {"model": "gpt-5.3-codex", "turn_id": "t1"}),
        w("2026-03-01T10:00:02Z", "event_msg", {"type": "user_message", "message": "run it", "images": [PNG]}),
        w(
            "2026-03-01T10:00:03Z",
            "response_item",
            {"type": "function_call", "name": "exec_command", "arguments": '{"cmd":"make test"}', "call_id": "c1"},
        ),
        w(
            "2026-03-01T10:00:04Z",
            "event_msg",
            {
                "type": "exec_command_end",
                "call_id": "c1",
                "exit_code": 2,
                "aggregated_output": "boom",
                "duration": {"secs": 1, "nanos": 500000000},
            },
        ),
        w(
            "2026-03-01T10:00:04Z",
            "response_item",
            {
                "type": "function_call_output",
                "call_id": "c1",
                "output": [
                    {"type": "input_text", "text": "Chunk ID: a\nWall time: 1.2 seconds\nProcess exited with code 2\nOutput:\nboom"},
                    {"type": "input_image", "image_url": PNG},
                ],
            },
        ),
        w("2026-03-01T10:00:05Z", "event_msg", {"type": "error", "message": "stream disconnected"}),
        w("2026-03-01T10:00:06Z", "event_msg", {"type": "turn_aborted", "reason": "interrupted"}),
        w("2026-03-01T10:00:07Z", "event_msg", {"type": "task_started", "turn_id": "t2"}),
        w("2026-03-01T10:00:08Z", "event_msg", {"type": "user_message", "message": "again"}),
        w("2026-03-01T10:00:09Z", "event_msg", {"type": "task_complete", "turn_id": "t2", "duration_ms": 1234}),
    )
    r = codex.parse(data, "/x/r.jsonl")
    ev = {e.line: e for e in r.events}
    assert ev[5].command == "make test" and ev[5].tool == "exec_command"
    assert (ev[6].kind, ev[6].exit_code, ev[6].is_error, ev[6].duration_ms, ev[6].duplicate) == (EventKind.TOOL_RESULT, 2, True, 1500, True)
    out = ev[7]
    assert (out.exit_code, out.is_error, out.duration_ms, out.tool) == (2, True, 1200, "exec_command")
    assert "base64" not in out.text and "[image]" in out.text
    assert [im["mime"] for im in ev[4].extra["images"]] == ["image/png"] and "base64" not in (ev[4].text or "")
    assert [im["mime"] for im in out.extra["images"]] == ["image/png"]  # kept for the transcript's thumbnails
    assert ev[8].kind is EventKind.ERROR and ev[8].text == "stream disconnected"
    assert ev[9].kind is EventKind.ERROR
    t1, t2 = r.turns
    assert (t1.turn_id, t1.prompt, t1.aborted, t1.model) == ("t1", "run it", True, "gpt-5.3-codex")
    assert (t2.turn_id, t2.prompt, t2.aborted, t2.duration_ms, t2.start_line, t2.end_line) == ("t2", "again", False, 1234, 10, 12)


def test_unknown_types_and_2026_additions() -> None:
    data = jl(
        _wrapped_session(),
        {
            "timestamp": "2026-03-01T10:00:01Z",
            "ordinal": 7,
            "type": "response_item",
            "payload": {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]},
            "metadata": {"turn_id": "t9", "nested": {"x": 1}},
        },
        w("2026-03-01T10:00:02Z", "world_state", {"agents_md": "..."}),
        w("2026-03-01T10:00:03Z", "brand_new_type", {}),
        w("2026-03-01T10:00:04Z", "response_item", {"type": "brand_new_item"}),
        w("2026-03-01T10:00:05Z", "event_msg", {"type": "brand_new_event"}),
        w(
            "2026-03-01T10:00:06Z",
            "response_item",
            {"type": "image_generation_call", "status": "completed", "revised_prompt": "a cat", "result": "iVBORw0KGgo" * 1000},
        ),
        w("2026-03-01T10:00:07Z", "response_item", {"type": "reasoning", "summary": [], "encrypted_content": "gAAAAABsecret"}),
        w(
            "2026-03-01T10:00:08Z",
            "compacted",
            {"message": "", "replacement_history": [{"type": "compaction", "encrypted_content": "gAAAAABsecret"}]},
        ),
    )
    r = codex.parse(data, "/x/r.jsonl")
    assert [(e.kind.value, e.subtype) for e in r.events[1:]] == [
        ("assistant_message", "response_item/message"),
        ("meta", "world_state"),
        ("unknown", "brand_new_type"),
        ("unknown", "response_item/brand_new_item"),
        ("unknown", "event_msg/brand_new_event"),
        ("tool_call", "response_item/image_generation_call"),
        ("reasoning", "response_item/reasoning"),
        ("compaction", "compacted"),
    ]
    assert r.events[1].extra["metadata"] == {"turn_id": "t9"}
    assert r.events[6].text == "a cat"
    assert all("gAAAA" not in (e.text or "") and "iVBORw0KGgo" not in (e.text or "") for e in r.events)
    assert r.problems == []


def test_malformed_and_non_object_lines_are_problems() -> None:
    good = jl(_wrapped_session(), w("2026-03-01T10:00:01Z", "event_msg", {"type": "user_message", "message": "a"}))
    data = (
        good
        + b'{"timestamp": "2026-03-01T10:00:02Z", "type": \n'
        + b"[1, 2]\n\n"
        + jl(w("2026-03-01T10:00:03Z", "event_msg", {"type": "agent_message", "message": "b"}))
    )
    r = codex.parse(data, "/x/r.jsonl")
    assert [(p.line, p.offset) for p in r.problems] == [(3, len(good)), (4, data.index(b"[1, 2]"))]
    assert "malformed JSON" in r.problems[0].message and "not an object" in r.problems[1].message
    assert [e.line for e in r.events] == [1, 2, 6]  # line 5 is blank
    assert r.state.offset == len(data) and r.state.line == 6


def test_huge_line_and_text_bound() -> None:
    big = "x" * (3 * 1024 * 1024)
    data = jl(
        _wrapped_session(), w("2026-03-01T10:00:01Z", "response_item", {"type": "function_call_output", "call_id": "c", "output": big})
    )
    r = codex.parse(data, "/x/r.jsonl")
    text = r.events[1].text
    assert len(text) < 70 * 1024 and text.endswith("[… truncated by sessionlens]")
    assert r.events[1].length == len(data) - data.index(b"\n") - 2


@pytest.mark.parametrize(
    "stamp",
    ["not a date", "2026-13-45T99:00:00Z", 12345, None, "2026-03-01T10:00:00", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"],
)
def test_malformed_timestamp_is_none(stamp: object) -> None:
    """A bad timestamp is no timestamp, and (when it is text) a warning on its line; the event stays."""
    data = jl({"timestamp": stamp, "type": "event_msg", "payload": {"type": "agent_message", "message": "m"}})
    r = codex.parse(data, "/x/r.jsonl")
    assert r.events[0].timestamp is None and r.events[0].text == "m"
    if isinstance(stamp, str):
        assert [(p.line, p.severity) for p in r.problems] == [(1, "warning")]
        assert "timestamp" in r.problems[0].message
    else:
        assert r.problems == []


def test_exec_command_heredoc_apply_patch() -> None:
    cmd = "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: new.txt\n+hi\n*** Delete File: old.txt\n*** End Patch\nEOF"
    data = jl(
        _wrapped_session(),
        w(
            "2026-03-01T10:00:01Z",
            "response_item",
            {"type": "function_call", "name": "exec_command", "arguments": orjson.dumps({"cmd": cmd}).decode(), "call_id": "p1"},
        ),
        w(
            "2026-03-01T10:00:02Z",
            "response_item",
            {"type": "function_call_output", "call_id": "p1", "output": "Process exited with code 0\nOutput:\nDone"},
        ),
    )
    r = codex.parse(data, "/x/r.jsonl")
    patch, out = r.events[1], r.events[2]
    assert (patch.kind, patch.tool, patch.files, patch.command) == (EventKind.PATCH, "apply_patch", ["new.txt", "old.txt"], cmd)
    assert patch.text == cmd[cmd.index("*** Begin") : cmd.index("*** End Patch") + len("*** End Patch")]
    assert (out.tool, out.exit_code, out.is_error) == ("apply_patch", 0, False)
