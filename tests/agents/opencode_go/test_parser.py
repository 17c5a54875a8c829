"""Go OpenCode / Crush: hermetic rows, then every corpus database (figures from independent SQL:
``json_each(messages.parts)`` counts, the ``sessions`` row's tokens and cost)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sessionlens.agents.opencode_go import parser as gp
from sessionlens.agents.opencode_go import sources
from sessionlens.models.session import EventKind

from ..helpers import open_copy


def msg(i, role, parts, created, model="gpt-4.1", **kw):
    return dict(
        id=f"m{i}",
        session_id="s1",
        role=role,
        parts=json.dumps(parts),
        model=model,
        created_at=created,
        updated_at=created,
        finished_at=None,
        **kw,
    )


SESSION = dict(
    id="s1",
    parent_session_id=None,
    title="New Session",
    message_count=4,
    prompt_tokens=900,
    completion_tokens=40,
    cost=0.25,
    created_at=1750624679,
    updated_at=1750624690,
)


def test_rows_become_turns_tools_and_the_session_record():
    rows = [
        msg(1, "user", [{"type": "text", "data": {"text": "list files"}}], 1750624679, model=""),
        msg(
            2,
            "assistant",
            [
                {"type": "tool_call", "data": {"id": "c1", "name": "bash", "input": '{"command": "ls"}', "finished": True}},
                {"type": "finish", "data": {"reason": "tool_use", "time": 1750624681}},
            ],
            1750624680,
        ),
        msg(
            3,
            "tool",
            [
                {
                    "type": "tool_result",
                    "data": {
                        "tool_call_id": "c1",
                        "name": "",
                        "content": "a\nb\n",
                        "metadata": '{"start_time": 1000, "end_time": 1250}',
                        "is_error": False,
                    },
                }
            ],
            1750624682,
            model="",
        ),
        msg(
            4,
            "assistant",
            [{"type": "text", "data": {"text": "Two files."}}, {"type": "finish", "data": {"reason": "end_turn", "time": 1750624690}}],
            1750624689,
        ),
    ]
    r = gp.parse_session(gp.OPENCODE_GO, SESSION, rows, "/p/.opencode/opencode.db#s1", "/p")
    assert r.agent == "opencode-go" and r.session.cwd == "/p" and r.session.title == "list files"
    assert [t.prompt for t in r.turns] == ["list files"]
    call = next(e for e in r.events if e.kind is EventKind.TOOL_CALL)
    res = next(e for e in r.events if e.kind is EventKind.TOOL_RESULT)
    assert (call.command, res.tool, res.call_id, res.duration_ms, res.text) == ("ls", "bash", "c1", 250, "a\nb")
    assert r.session.models == ["gpt-4.1"]
    [u] = r.usage
    assert (u.key, u.usage.input_tokens, u.usage.output_tokens, u.cost_usd, u.model) == ("opencode-go:s1", 900, 40, 0.25, None)
    assert r.events[-1].usage_key == "opencode-go:s1" and r.events[-1].kind is EventKind.TOKEN_USAGE
    assert [e.seq for e in r.events] == list(range(1, len(r.events) + 1))


@pytest.mark.parametrize(
    "value, iso",
    [
        ("2025-05-28T11:05:58.133000Z", "2025-05-28T11:05:58.133000+00:00"),
        (1750624679, "2025-06-22T20:37:59+00:00"),
        (1750624679000, "2025-06-22T20:37:59+00:00"),
        ("1750624679", "2025-06-22T20:37:59+00:00"),
    ],
)
def test_timestamps_of_every_schema(value, iso):
    assert gp.to_dt(value).isoformat() == iso


@pytest.mark.parametrize("value", [None, "", "soon", -5, 0, True, 10**20])
def test_bad_timestamps_are_none(value):
    assert gp.to_dt(value) is None


def test_a_bad_row_costs_only_itself():
    rows = [
        msg(1, "user", [{"type": "text", "data": {"text": "hi"}}], 1),
        dict(id="m2", role="assistant", parts="{oops", created_at=2),
        msg(3, "assistant", [{"type": "text", "data": {"text": "hello"}}], 3),
    ]
    r = gp.parse_session(gp.CRUSH, dict(SESSION, prompt_tokens=0, completion_tokens=0, cost=0), rows, "x#s1")
    assert len(r.problems) == 1 and [e.text for e in r.events] == ["hi", "hello"] and r.usage == []


def test_error_finish_and_canceled_turn():
    rows = [
        msg(1, "user", [{"type": "text", "data": {"text": "go"}}], 1),
        msg(2, "assistant", [{"type": "finish", "data": {"reason": "error", "message": "API Error", "details": "400 Bad Request"}}], 2),
        msg(3, "assistant", [{"type": "finish", "data": {"reason": "canceled"}}], 3),
    ]
    r = gp.parse_session(gp.CRUSH, SESSION, rows, "x#s1")
    err = next(e for e in r.events if e.kind is EventKind.ERROR)
    assert err.is_error and err.text == "API Error: 400 Bad Request"
    assert r.turns[0].aborted is True


CORPUS = {
    # db: [(session id, messages, tool calls, tool results, turns, prompt_tokens, completion_tokens, cost)]
    "opencode-go/HemmeligOrg+Hemmelig.app/.opencode/opencode.db": (
        "opencode-go",
        [("b3a07ffb-2705-4c00-9765-0a445e05ec38", 84, 41, 41, 7, 42271, 208, 1.471772)],
    ),
    "crush/dbos-inc+dbos-transact-golang/.crush/crush.db": (
        "crush",
        [
            ("a20c5ed5-41d4-45f7-88eb-7ba0645f1341", 78, 40, 40, 12, 127170, 64, 3.2015050000000005),
            ("f306c145-4c83-492c-b575-739c30bbced4", 4, 1, 1, 1, 15805, 59, 0.020346250000000003),
        ],
    ),
    "opencode-go/kashifkhan0771+utils/.opencode/opencode.db": (
        "opencode-go",
        [
            ("bd9a6907-4d8b-4f34-9c25-e18c7740e41d", 16, 8, 8, 2, 10967, 870, 0.01131705),
            ("d65ab244-13fc-4a03-9d79-0372e6ae7ed1", 42, 40, 40, 6, 21104, 21, 0.044530499999999994),
            ("3fc3b40d-4412-4617-af61-ac294c0aea47", 5, 4, 4, 1, 8915, 708, 0.00319275),
            ("87d5c393-84b5-4d42-9c70-201e07d33127", 15, 12, 12, 2, 15437, 114, 0.01361085),
            ("12fb5660-9f82-498c-9393-bcf94e771d67", 30, 14, 14, 1, 14848, 11737, 0.62170155),
            ("d19286ff-7e04-4d9c-af03-cf2c6b3e687c", 12, 1, 1, 5, 3384, 11554, 0.1055299),
            ("635c8ffb-566f-4bd6-a816-f648f33beb9d", 4, 1, 1, 1, 514, 11205, 0.04928489999999999),
        ],
    ),
    # most rows live in the -wal: 4 sessions / 98 messages with it, 1 / 56 without
    "opencode-go/tuist+Noora/.opencode/opencode.db": (
        "opencode-go",
        [
            ("2530334d-ccd1-4294-9961-2aa13749f060", 86, 89, 87, 5, 847, 73505, 1.4289866999999998),
            ("997456c3-8270-45c4-ae95-ac4c9b7a26fb", 2, 0, 0, 1, 0, 0, 0.0),
            ("3171628c-350f-459f-9782-325cef68b892", 4, 0, 0, 2, 0, 0, 0.0),
            ("a1898573-ca36-4b7c-a7a5-7617a8e34c61", 6, 2, 2, 1, 0, 0, 0.0),
        ],
    ),
}


@pytest.mark.parametrize("rel", sorted(CORPUS))
def test_corpus_databases(corpus: Path, tmp_path: Path, rel: str):
    agent, want = CORPUS[rel]
    db = open_copy(corpus / rel, tmp_path)
    try:
        assert sources.flavour(db) == agent
        keys = [k for k, _ in sources.members(db)]
        assert keys == [w[0] for w in want]
        container = str(corpus / rel)
        for sid, n_msgs, calls, results, turns, pt, ct, cost in want:
            r = sources.parse_member(db, sid, f"{container}#{sid}")
            assert r.problems == [] and r.agent == agent and r.session.id == sid
            assert r.session.cwd == str((corpus / rel).parent.parent)
            assert len({e.extra["row"]["id"] for e in r.events if e.extra["row"]["table"] == "messages"}) <= n_msgs
            ev_calls = [e for e in r.events if e.kind in (EventKind.TOOL_CALL, EventKind.PATCH)]
            ev_results = [e for e in r.events if e.kind is EventKind.TOOL_RESULT]
            assert (len(ev_calls), len(ev_results), len(r.turns)) == (calls, results, turns)
            assert all(e.tool for e in ev_results)
            if pt or ct or cost:
                [u] = r.usage
                assert (u.usage.input_tokens, u.usage.output_tokens, u.cost_usd) == (pt, ct, cost)
            else:
                assert r.usage == []
    finally:
        db.close()


def test_corpus_noora_needs_its_wal(corpus: Path, tmp_path: Path):
    import shutil
    import sqlite3

    src = corpus / "opencode-go/tuist+Noora/.opencode/opencode.db"
    shutil.copyfile(src, tmp_path / "main-only.db")  # without the -wal
    bare = sqlite3.connect(tmp_path / "main-only.db")
    with_wal = open_copy(src, tmp_path / "full")
    try:
        assert len(sources.members(bare)) == 1
        assert len(sources.members(with_wal)) == 4
    finally:
        bare.close()
        with_wal.close()
