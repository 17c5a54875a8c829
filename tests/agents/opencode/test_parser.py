"""sst/opencode: a database built here with OpenCode's tables, the JSON storage tree, then the corpus."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from sessionlens.agents.opencode import sources
from sessionlens.models.session import EventKind

from ..helpers import merge_usage, open_copy, totals

SCHEMA = """
CREATE TABLE project (id text PRIMARY KEY, worktree text NOT NULL, time_created integer, time_updated integer);
CREATE TABLE session (id text PRIMARY KEY, project_id text NOT NULL, parent_id text, slug text, directory text,
    title text, version text, time_created integer, time_updated integer);
CREATE TABLE message (id text PRIMARY KEY, session_id text NOT NULL, time_created integer, time_updated integer,
    data text NOT NULL);
CREATE TABLE part (id text PRIMARY KEY, message_id text NOT NULL, session_id text NOT NULL, time_created integer,
    time_updated integer, data text NOT NULL);
"""
T0 = 1_782_225_600_000


def tokens(i, o, r=0, read=0, write=0):
    return {"input": i, "output": o, "reasoning": r, "cache": {"read": read, "write": write}}


def build(db: sqlite3.Connection) -> None:
    db.executescript(SCHEMA)
    db.execute("INSERT INTO project VALUES ('p1', '/w/app', ?, ?)", (T0, T0))
    db.execute("INSERT INTO session VALUES ('ses_a', 'p1', NULL, 's', '/w/app', 'New session - x', '1.4.0', ?, ?)", (T0, T0 + 9000))
    db.execute("INSERT INTO session VALUES ('ses_b', 'p1', 'ses_a', 's', '/w/app', 'explore', '1.4.0', ?, ?)", (T0 + 2000, T0 + 3000))
    msgs = [
        (
            "msg_1",
            "ses_a",
            T0 + 100,
            {
                "role": "user",
                "time": {"created": T0 + 100},
                "agent": "build",
                "model": {"providerID": "anthropic", "modelID": "claude-sonnet-4-5"},
            },
        ),
        # two requests in one message: message.tokens holds only the LAST step's tokens, cost adds up
        (
            "msg_2",
            "ses_a",
            T0 + 200,
            {
                "role": "assistant",
                "modelID": "claude-sonnet-4-5",
                "providerID": "anthropic",
                "time": {"created": T0 + 200, "completed": T0 + 5000},
                "tokens": tokens(5, 40, 0, 900, 100),
                "cost": 0.03,
                "path": {"cwd": "/w/app", "root": "/w/app"},
                "finish": "stop",
            },
        ),
        # an older message without step-finish parts: its own tokens are the only record
        (
            "msg_3",
            "ses_a",
            T0 + 6000,
            {
                "role": "assistant",
                "modelID": "gpt-5",
                "providerID": "openai",
                "time": {"created": T0 + 6000},
                "tokens": tokens(70, 20, 8, 10, 0),
                "cost": 0.001,
                "error": {"name": "MessageAbortedError", "data": {"message": "aborted"}},
            },
        ),
        ("msg_4", "ses_b", T0 + 2100, {"role": "user", "time": {"created": T0 + 2100}}),
    ]
    for mid, sid, t, data in msgs:
        db.execute("INSERT INTO message VALUES (?, ?, ?, ?, ?)", (mid, sid, t, t, json.dumps(data)))
    parts = [
        ("prt_01", "msg_1", "ses_a", {"type": "text", "text": "add a test"}),
        ("prt_02", "msg_1", "ses_a", {"type": "text", "text": "<file>ctx</file>", "synthetic": True}),
        ("prt_03", "msg_2", "ses_a", {"type": "step-start"}),
        ("prt_04", "msg_2", "ses_a", {"type": "reasoning", "text": "look first", "time": {"start": T0 + 300}}),
        (
            "prt_05",
            "msg_2",
            "ses_a",
            {
                "type": "tool",
                "callID": "call_1",
                "tool": "bash",
                "state": {
                    "status": "completed",
                    "input": {"command": "pytest -q"},
                    "output": "ok\n",
                    "metadata": {"exit": 0},
                    "time": {"start": T0 + 400, "end": T0 + 1400},
                },
            },
        ),
        ("prt_06", "msg_2", "ses_a", {"type": "step-finish", "reason": "tool-calls", "tokens": tokens(10, 30, 5, 800), "cost": 0.01}),
        (
            "prt_07",
            "msg_2",
            "ses_a",
            {
                "type": "tool",
                "callID": "call_2",
                "tool": "edit",
                "state": {
                    "status": "error",
                    "input": {"filePath": "/w/app/t.py", "oldString": "a", "newString": "b"},
                    "error": "no match",
                    "time": {"start": T0 + 1500, "end": T0 + 1600},
                },
            },
        ),
        (
            "prt_08",
            "msg_2",
            "ses_a",
            {
                "type": "tool",
                "callID": "call_3",
                "tool": "task",
                "state": {
                    "status": "completed",
                    "input": {"prompt": "explore", "subagent_type": "general"},
                    "output": "done",
                    "metadata": {"sessionId": "ses_b"},
                },
            },
        ),
        ("prt_09", "msg_2", "ses_a", {"type": "text", "text": "Added the test."}),
        ("prt_10", "msg_2", "ses_a", {"type": "step-finish", "reason": "stop", "tokens": tokens(5, 40, 0, 900, 100), "cost": 0.02}),
        ("prt_11", "msg_4", "ses_b", {"type": "text", "text": "explore"}),
        ("prt_12", "msg_4", "ses_b", "not an object"),
    ]
    for pid, mid, sid, data in parts:
        db.execute("INSERT INTO part VALUES (?, ?, ?, ?, ?, ?)", (pid, mid, sid, T0, T0, json.dumps(data)))


@pytest.fixture()
def db():
    conn = sqlite3.connect(":memory:")
    build(conn)
    yield conn
    conn.close()


def test_members_and_fingerprints_follow_changes(db):
    before = dict(sources.db_members(db))
    assert list(before) == ["ses_a", "ses_b"]
    db.execute("UPDATE part SET time_updated = time_updated + 1 WHERE id = 'prt_09'")
    after = dict(sources.db_members(db))
    assert after["ses_a"] != before["ses_a"] and after["ses_b"] == before["ses_b"]


def test_steps_are_billed_not_the_overwritten_message_tokens(db):
    r = sources.db_parse_member(db, "ses_a", "/d/opencode.db#ses_a")
    keys = sorted(u.key for u in r.usage)
    assert keys == ["opencode:msg_3", "opencode:prt_06", "opencode:prt_10"]
    t = totals(merge_usage([r]))
    # steps: (10 in, 30+5 out, 800 read) + (5 in, 40 out, 900 read, 100 write); msg_3: 70 in, 20+8 out, 10 read
    assert (t.input_tokens, t.output_tokens, t.reasoning_tokens) == (10 + 5 + 70, 35 + 40 + 28, 5 + 8)
    assert (t.cache_read_tokens, t.cache_write_5m_tokens) == (800 + 900 + 10, 100)
    assert sorted(u.cost_usd for u in r.usage) == [0.001, 0.01, 0.02]
    assert {u.model for u in r.usage} == {"claude-sonnet-4-5", "gpt-5"}


def test_parts_become_events_in_order(db):
    r = sources.db_parse_member(db, "ses_a", "/d/opencode.db#ses_a")
    kinds = [(e.kind.value, e.tool) for e in r.events]
    assert kinds == [
        ("user_message", None),
        ("system", None),
        ("meta", None),
        ("reasoning", None),
        ("tool_call", "bash"),
        ("tool_result", "bash"),
        ("token_usage", None),
        ("patch", "edit"),
        ("tool_result", "edit"),
        ("tool_call", "task"),
        ("tool_result", "task"),
        ("assistant_message", None),
        ("token_usage", None),
        ("error", None),
    ]
    bash = r.events[5]
    assert (bash.call_id, bash.exit_code, bash.duration_ms, bash.text) == ("call_1", 0, 1000, "ok")
    edit = r.events[8]
    assert edit.is_error and edit.text == "no match" and edit.files == ["/w/app/t.py"]
    assert r.events[10].extra["child_session"] == "ses_b"
    assert all(e.extra["row"]["table"] in ("part", "message") for e in r.events)
    assert [e.seq for e in r.events] == [e.line for e in r.events] == list(range(1, 15))
    assert r.session.title == "add a test" and r.session.cwd == "/w/app" and r.session.cli_version == "1.4.0"
    assert [t.prompt for t in r.turns] == ["add a test"] and r.turns[0].aborted is True
    assert r.session.models == ["claude-sonnet-4-5", "gpt-5"]


def test_a_fork_keeps_its_parent_and_a_bad_part_costs_only_itself(db):
    r = sources.db_parse_member(db, "ses_b", "/d/opencode.db#ses_b")
    assert r.session.parent_session_id == "ses_a"
    assert len(r.problems) == 1 and [e.text for e in r.events] == ["explore"]


def test_json_storage_tree(tmp_path: Path):
    root = tmp_path / "storage"
    (root / "session" / "proj").mkdir(parents=True)
    (root / "message" / "ses_t").mkdir(parents=True)
    (root / "part" / "msg_u").mkdir(parents=True)
    (root / "part" / "msg_a").mkdir(parents=True)
    (root / "session" / "proj" / "ses_t.json").write_text(
        json.dumps(
            {
                "id": "ses_t",
                "projectID": "proj",
                "directory": "/w",
                "title": "tree",
                "version": "0.9",
                "time": {"created": T0, "updated": T0 + 10},
            }
        )
    )
    (root / "message" / "ses_t" / "msg_u.json").write_text(
        json.dumps({"id": "msg_u", "sessionID": "ses_t", "role": "user", "time": {"created": T0}})
    )
    (root / "message" / "ses_t" / "msg_a.json").write_text(
        json.dumps(
            {
                "id": "msg_a",
                "sessionID": "ses_t",
                "role": "assistant",
                "modelID": "gpt-5",
                "time": {"created": T0 + 1},
                "tokens": tokens(3, 4),
                "cost": 0,
            }
        )
    )
    (root / "message" / "ses_t" / "msg_bad.json").write_text("{truncated")
    (root / "part" / "msg_u" / "prt_1.json").write_text(json.dumps({"id": "prt_1", "type": "text", "text": "hi"}))
    (root / "part" / "msg_a" / "prt_2.json").write_text(json.dumps({"id": "prt_2", "type": "text", "text": "hello"}))
    anchor = root / "session" / "proj" / "ses_t.json"
    r = sources.tree_parse(str(anchor))
    assert r.session.id == "ses_t" and r.session.title == "tree"
    assert [(e.kind.value, e.text) for e in r.events] == [("user_message", "hi"), ("assistant_message", "hello")]
    assert [u.key for u in r.usage] == ["opencode:msg_a"] and r.usage[0].usage.output_tokens == 4
    assert len(r.problems) == 1 and "msg_bad.json" in r.problems[0].message
    comp = sources.tree_companions(str(anchor))
    assert sorted(Path(p).name for p in comp) == ["msg_a.json", "msg_bad.json", "msg_u.json", "prt_1.json", "prt_2.json"]


# ------------------------------------------------------------------------------------------------ corpus

BURDIS = "opencode/Burdis28+burdis28.github.io/.local/share/opencode/opencode.db"
TREE = "opencode/jazzyalex+agent-sessions/Resources/Fixtures/stage0/agents/opencode/storage_v2"


def test_corpus_db_lives_in_its_wal(corpus: Path, tmp_path: Path):
    db = open_copy(corpus / BURDIS, tmp_path)
    try:
        [(sid, _)] = sources.db_members(db)
        r = sources.db_parse_member(db, sid, f"{corpus / BURDIS}#{sid}")
    finally:
        db.close()
    assert sid == "ses_10b137345ffe03355Ew4fC8LWW" and r.problems == []
    assert r.session.cli_version == "1.4.0" and r.session.models == ["claude-sonnet-4-6"]
    assert [e.kind.value for e in r.events] == ["user_message", "meta", "token_usage", "meta"]
    assert r.turns[0].prompt.startswith("Aktualizuj a oprav readme")
    assert r.usage == []  # OpenCode recorded zero tokens and zero cost for its one request (finish "other")


@pytest.mark.parametrize(
    "name, events, calls, usage",
    [
        ("ses_s_stage0_small.json", 4, 1, 0),
        ("ses_s_stage0_large.json", 13, 1, 136),
    ],
)
def test_corpus_storage_tree(corpus: Path, name, events, calls, usage):
    r = sources.tree_parse(str(corpus / TREE / "session" / "proj_test" / name))
    assert r.problems == [] and len(r.events) == events
    assert sum(e.kind is EventKind.TOOL_CALL for e in r.events) == calls
    assert sum(e.kind is EventKind.TOOL_RESULT for e in r.events) == calls
    assert totals(merge_usage([r])).total_tokens == usage
