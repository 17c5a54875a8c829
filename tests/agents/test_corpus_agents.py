"""Every corpus file of Gemini CLI, Pi, Cursor and Qwen Code: sessions, turns, events by kind, tool
calls with results and tokens, pinned; token totals are also recomputed here from the raw records
with an independent reading of each format (what the agent itself recorded).

Where ccusage would differ: ccusage reads Gemini and Pi too; for Gemini it sums ``tokens`` per
message the same way (input includes cached; thoughts are output), but it reads JSONL recordings
line by line and so counts a message re-appended in full twice (5 ids in the VibeCodingTracker
JSONL): sessionlens keeps the last copy per id.  For Pi it sums ``usage`` of assistant messages as
here.  Cursor records no tokens: sessions show unknown, never 0.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import orjson
import pytest

from sessionlens import agents
from sessionlens.ingest import parse_members
from tests.services.helpers import make_app

FILES = {
    "gemini/Mai0313+VibeCodingTracker/tests/fixtures/sessions/gemini.jsonl": dict(
        id="0ab84937-9fe7-4284-986a-33c832af0b6a",
        turns=3,
        tokens=206879,
        requests=6,
        kinds={"assistant_message": 2, "patch": 2, "reasoning": 5, "system": 2, "tool_call": 10, "tool_result": 12, "user_message": 3},
    ),
    "gemini/Mai0313+VibeCodingTracker@0247fb6c18/examples/test_conversation_gemini.json": dict(
        id="eefc44a3-0832-4bc0-ac33-fa668f038213",
        turns=1,
        tokens=473586,
        requests=18,
        kinds={"assistant_message": 18, "reasoning": 17, "user_message": 1},
    ),
    "gemini/Mai0313+VibeCodingTracker@7bc2c73927/examples/test_conversation_gemini.json": dict(
        id="d6f69999-62cc-4d41-8de4-9a85fc1531b8",
        turns=2,
        tokens=397943,
        requests=10,
        kinds={"assistant_message": 10, "reasoning": 10, "user_message": 2},
    ),
    "gemini/Mai0313+VibeCodingTracker@894772f767/examples/test_conversation_gemini.json": dict(
        id="8a20078e-2d5e-4f81-a640-9b879bbb7e6d",
        turns=1,
        tokens=97289,
        requests=3,
        kinds={"assistant_message": 1, "patch": 4, "reasoning": 3, "tool_call": 3, "tool_result": 7, "user_message": 1},
    ),
    "gemini/Mai0313+VibeCodingTracker@bcec23fa1e/examples/test_conversation_gemini.json": dict(
        id="2d9ea14f-1e4e-44f6-8bf5-7a7819cb1cd9",
        turns=1,
        tokens=178576,
        requests=9,
        kinds={"assistant_message": 13, "reasoning": 13, "user_message": 1},
    ),
    "gemini/entireio+cli@20fd87f98f/51/3fab7adf0b/0/full.jsonl": dict(
        id="15f05963-2b87-4039-b700-deb3505d7543",
        turns=1,
        tokens=96112,
        requests=6,
        kinds={"assistant_message": 5, "patch": 2, "reasoning": 7, "system": 1, "tool_call": 5, "tool_result": 7, "user_message": 1},
    ),
    "gemini/entireio+cli@9c8075b751/a0/3d69f30a1f/0/full.jsonl": dict(
        id="f7633853-6663-4dbb-bbf4-6159afa29df8",
        turns=1,
        tokens=193254,
        requests=14,
        kinds={"assistant_message": 15, "patch": 1, "reasoning": 14, "system": 1, "tool_call": 12, "tool_result": 13, "user_message": 1},
    ),
    "gemini/entireio+cli@a109543f7a/12/cbfeaa512b/0/full.jsonl": dict(
        id="e0f3d3a9-3a6a-440f-8053-2a8abecbe741",
        turns=1,
        tokens=85588,
        requests=6,
        kinds={"assistant_message": 2, "patch": 2, "reasoning": 5, "system": 1, "tool_call": 4, "tool_result": 6, "user_message": 1},
    ),
    "gemini/jazzyalex+agent-sessions/Resources/Fixtures/stage0/agents/gemini/jsonl_v040.jsonl": dict(
        id="gemini_stage0_jsonl",
        turns=1,
        tokens=24152,
        requests=2,
        kinds={"assistant_message": 2, "tool_call": 1, "tool_result": 1, "user_message": 1},
    ),
    "gemini/kenn-io+agentsview/internal/parser/testdata/gemini/tool_calls_with_results.json": dict(
        id="sess-uuid-tool-results",
        turns=1,
        tokens=0,
        requests=0,
        kinds={"assistant_message": 1, "reasoning": 1, "tool_call": 2, "tool_result": 2, "user_message": 1},
    ),
    "pi/badlogic+pi-mono/packages/coding-agent/test/fixtures/before-compaction.jsonl": dict(
        id="ffae836b-9420-4060-ac13-7745215f90ff",
        parent="d97339c6-6c10-4827-846b-9ff1d9c3dc37",
        turns=55,
        tokens=56570579,
        requests=471,
        kinds={
            "assistant_message": 265,
            "compaction": 2,
            "error": 1,
            "meta": 11,
            "patch": 141,
            "reasoning": 49,
            "tool_call": 316,
            "tool_result": 451,
            "user_message": 55,
        },
    ),
    "pi/jazzyalex+agent-sessions/Resources/Fixtures/stage0/agents/pi/small.jsonl": dict(
        id="019e19b4-eb48-746a-aa6b-8dfcfa37954b",
        turns=2,
        tokens=38,
        requests=2,
        kinds={"assistant_message": 2, "compaction": 2, "meta": 3, "user_message": 2},
    ),
    "pi/kenn-io+agentsview/internal/parser/testdata/pi/session.jsonl": dict(
        id="pi-test-session-uuid",
        parent="parent-uuid",
        turns=2,
        tokens=360,
        requests=2,
        problems=1,
        kinds={
            "assistant_message": 2,
            "compaction": 1,
            "meta": 3,
            "reasoning": 1,
            "tool_call": 1,
            "tool_result": 1,
            "unknown": 1,
            "user_message": 2,
        },
    ),
    # read from their .txt twins (same conversation plus thinking and tool calls)
    "cursor/abhimehro+personal-config/.cursor/projects/Users-speedybee-Documents-dev-personal-config/agent-transcripts/10ce04b3-ba6a-44fd-b074-b6ef12daade4.jsonl": None,
    "cursor/abhimehro+personal-config/.cursor/projects/Users-speedybee-Documents-dev-personal-config/agent-transcripts/10ce04b3-ba6a-44fd-b074-b6ef12daade4.txt": dict(
        id="10ce04b3-ba6a-44fd-b074-b6ef12daade4",
        turns=4,
        tokens=0,
        requests=0,
        kinds={"assistant_message": 4, "patch": 2, "reasoning": 5, "tool_call": 9, "tool_result": 11, "user_message": 4},
    ),
    "cursor/abhimehro+personal-config/.cursor/projects/Users-speedybee-Documents-dev-personal-config/agent-transcripts/5b215917-3363-4870-b82b-7d04804a2c98.jsonl": None,
    "cursor/abhimehro+personal-config/.cursor/projects/Users-speedybee-Documents-dev-personal-config/agent-transcripts/5b215917-3363-4870-b82b-7d04804a2c98.txt": dict(
        id="5b215917-3363-4870-b82b-7d04804a2c98",
        turns=5,
        tokens=0,
        requests=0,
        kinds={"assistant_message": 5, "patch": 5, "reasoning": 9, "tool_call": 14, "tool_result": 19, "user_message": 5},
    ),
    "cursor/getagentseal+codeburn/tests/fixtures/cursor-agent/workspace-less/projects/agent-transcripts/1031d227-0c67-4e17-8954-0b6e2b3322f0/1031d227-0c67-4e17-8954-0b6e2b3322f0.jsonl": dict(
        id="1031d227-0c67-4e17-8954-0b6e2b3322f0", turns=1, tokens=0, requests=0, kinds={"assistant_message": 1, "user_message": 1}
    ),
    "cursor/jazzyalex+agent-sessions/Resources/Fixtures/stage0/agents/cursor/subagent/parent.jsonl": dict(
        id="parent", turns=1, tokens=0, requests=0, kinds={"assistant_message": 1, "tool_call": 1, "user_message": 1}
    ),
    "cursor/jazzyalex+agent-sessions/Resources/Fixtures/stage0/agents/cursor/subagent/subagents/child.jsonl": dict(
        id="subagent:child", parent="subagent", turns=1, tokens=0, requests=0, kinds={"assistant_message": 1, "user_message": 1}
    ),
    "cursor/khalf-code+aibot/.cursor/projects/home-liam/agent-transcripts/1de784c3-6f5a-4415-9495-e5081c712c50.txt": dict(
        id="1de784c3-6f5a-4415-9495-e5081c712c50",
        turns=33,
        tokens=0,
        requests=0,
        kinds={"assistant_message": 49, "patch": 59, "reasoning": 270, "tool_call": 366, "tool_result": 425, "user_message": 33},
    ),
    "cursor/slevin48+cursor-history/state.vscdb": dict(members=31, events=131, chats=5, composers=26),
    "qwen-code/Piebald-AI+splitrail/src/analyzers/tests/source_data/qwen_code.jsonl": dict(
        id="69f0814a-8bfc-4c8e-93d3-05757f17b96f",
        turns=1,
        tokens=1125,
        requests=2,
        kinds={"assistant_message": 1, "meta": 4, "tool_call": 1, "tool_result": 1, "user_message": 1},
    ),
}
AGENT_OF = {"gemini": "gemini", "pi": "pi", "cursor": "cursor", "qwen-code": "qwen"}
NOT_SESSIONS = ("aider", "copilot-vscode")


def _files(corpus: Path, top: str) -> list[str]:
    out = []
    for dirpath, _dirs, names in os.walk(corpus / top):
        for n in names:
            out.append(str((Path(dirpath) / n).relative_to(corpus)))
    return sorted(out)


def test_the_table_covers_every_corpus_file_of_these_agents(corpus: Path) -> None:
    on_disk = sorted(f for top in AGENT_OF for f in _files(corpus, top))
    assert sorted(FILES) == on_disk


@pytest.mark.parametrize("top", NOT_SESSIONS)
def test_aider_and_vscode_copilot_files_are_cleanly_not_session_logs(corpus: Path, top: str) -> None:
    files = _files(corpus, top)
    assert files
    for rel in files:
        assert parse_members(str(corpus / rel)) == [], rel


def _recorded_tokens(path: Path) -> int:
    """What the agent itself recorded, read independently of the parsers."""
    raw = path.read_bytes()
    try:
        doc = orjson.loads(raw)
        records = doc["messages"] if isinstance(doc, dict) and "messages" in doc else None
    except orjson.JSONDecodeError:
        records = None
    lines = [] if records is not None else [orjson.loads(l) for l in raw.split(b"\n") if l.strip().startswith(b"{") and _is_json(l)]
    if records is not None:  # Gemini document: tokens.total per message
        return sum((m.get("tokens") or {}).get("total", 0) for m in records)
    if lines and "projectHash" in lines[0]:  # Gemini JSONL: the last copy of each message id, after rewinds
        by_id: dict[str, dict] = {}
        for o in lines:
            if "$rewindTo" in o and o["$rewindTo"] in by_id:
                ids = list(by_id)
                for k in ids[ids.index(o["$rewindTo"]) :]:
                    del by_id[k]
            elif "id" in o and "type" in o:
                by_id[o["id"]] = o
        return sum((m.get("tokens") or {}).get("total", 0) for m in by_id.values())
    total = 0
    for o in lines:
        m = o.get("message") if isinstance(o.get("message"), dict) else {}
        u = m.get("usage")
        if o.get("type") == "message" and isinstance(u, dict):  # Pi
            total += u.get("totalTokens") or (u["input"] + u["output"] + u["cacheRead"] + u["cacheWrite"])
        if o.get("type") == "assistant" and isinstance(o.get("usageMetadata"), dict):  # Qwen
            total += o["usageMetadata"]["totalTokenCount"]
    return total


def _is_json(line: bytes) -> bool:
    try:
        orjson.loads(line)
        return True
    except orjson.JSONDecodeError:
        return False


@pytest.mark.parametrize("rel", sorted(FILES))
def test_corpus_file_facts(corpus: Path, rel: str) -> None:
    want = FILES[rel]
    results = parse_members(str(corpus / rel))
    if want is None:
        assert results == []  # a Cursor .jsonl with a .txt twin: the twin is read
        assert (corpus / rel).with_suffix(".txt").is_file()
        return
    top = rel.split("/", 1)[0]
    if "members" in want:
        assert len(results) == want["members"]
        assert sum(len(r.events) for _, r in results) == want["events"]
        keys = [p.rpartition("#")[2] for p, _ in results]
        assert sum(k.startswith("chat:") for k in keys) == want["chats"]
        assert sum(k.startswith("composer:") for k in keys) == want["composers"]
        for _, r in results:
            assert r.agent == "cursor" and r.usage == [] and r.events and r.turns
            assert all("row" in e.extra for e in r.events)  # a database event keeps its row
        return
    assert len(results) == 1
    _, r = results[0]
    assert r.agent == AGENT_OF[top]
    assert r.session.id == want["id"]
    assert r.session.parent_session_id == want.get("parent")
    assert len(r.turns) == want["turns"]
    assert dict(sorted(Counter(e.kind.value for e in r.events).items())) == want["kinds"]
    assert len(r.usage) == want["requests"]
    assert sum(u.usage.total_tokens for u in r.usage) == want["tokens"] == _recorded_tokens(corpus / rel)
    assert len(r.problems) == want.get("problems", 0)
    assert len({e.seq for e in r.events}) == len(r.events)  # seq identifies an event
    # every tool call has its result (the ones without are unfinished at the end of a turn: pinned)
    calls = [e for e in r.events if e.kind.value in ("tool_call", "patch")]
    results_ = {e.call_id for e in r.events if e.kind.value == "tool_result" and e.call_id}
    unanswered = [e for e in calls if e.call_id not in results_]
    assert len(unanswered) == {
        "pi/badlogic+pi-mono/packages/coding-agent/test/fixtures/before-compaction.jsonl": 6,
        "cursor/jazzyalex+agent-sessions/Resources/Fixtures/stage0/agents/cursor/subagent/parent.jsonl": 1,
    }.get(rel, 0)
    # events point into the file: a line that exists
    n_lines = (corpus / rel).read_bytes().count(b"\n") + 1
    assert all(1 <= e.line <= n_lines for e in r.events)


def test_gemini_jsonl_keeps_the_last_copy_of_a_re_appended_message(corpus: Path) -> None:
    rel = "gemini/Mai0313+VibeCodingTracker/tests/fixtures/sessions/gemini.jsonl"
    lines = [orjson.loads(l) for l in (corpus / rel).read_bytes().splitlines() if l.strip()]
    ids = Counter(o["id"] for o in lines if "id" in o and "type" in o)
    twice = [i for i, n in ids.items() if n == 2]
    assert len(twice) == 5
    ((_, r),) = parse_members(str(corpus / rel))
    # the later copy adds toolCalls: its calls are there, once
    calls = [e for e in r.events if e.kind.value in ("tool_call", "patch")]
    assert len(calls) == len({e.call_id for e in calls}) == 12
    last_line = {o["id"]: n for n, o in enumerate(lines, 1) if "id" in o and "type" in o}
    for e in r.events:
        if e.message_id in twice:
            assert e.line == last_line[e.message_id]


def test_gemini_rewind_truncates_and_set_updates(tmp_path: Path) -> None:
    def rec(**kw):
        return orjson.dumps(kw).decode()

    path = tmp_path / "session-1.jsonl"
    path.write_text(
        "\n".join(
            [
                rec(sessionId="s1", projectHash="h", startTime="2026-01-01T10:00:00Z", lastUpdated="2026-01-01T10:00:00Z"),
                rec(id="u1", type="user", timestamp="2026-01-01T10:00:01Z", content=[{"text": "first"}]),
                rec(
                    id="a1",
                    type="gemini",
                    timestamp="2026-01-01T10:00:02Z",
                    content="reply",
                    model="gemini-2.5-pro",
                    tokens={"input": 100, "output": 10, "cached": 40, "thoughts": 5, "tool": 0, "total": 115},
                ),
                rec(id="u2", type="user", timestamp="2026-01-01T10:00:03Z", content="second"),
                rec(**{"$rewindTo": "u2"}),
                rec(**{"$set": {"lastUpdated": "2026-01-01T11:00:00Z"}}),
                rec(id="u3", type="user", timestamp="2026-01-01T10:30:00Z", content="third"),
            ]
        )
        + "\n"
    )
    ((_, r),) = parse_members(str(path))
    assert [e.text for e in r.events if e.kind.value == "user_message"] == ["first", "third"]
    (u,) = r.usage
    assert (u.usage.input_tokens, u.usage.cache_read_tokens, u.usage.output_tokens, u.usage.reasoning_tokens) == (60, 40, 15, 5)
    assert u.usage.total_tokens == 115
    assert r.session.ended_at.isoformat() == "2026-01-01T11:00:00+00:00"


def test_a_gemini_document_being_rewritten_costs_nothing_but_a_problem(corpus: Path, tmp_path: Path) -> None:
    src = corpus / "gemini/kenn-io+agentsview/internal/parser/testdata/gemini/tool_calls_with_results.json"
    half = tmp_path / "session-2024.json"
    half.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    a = agents.get("gemini")
    r = a.parse(half.read_bytes(), str(half), None)
    assert r.events == [] and len(r.problems) == 1 and r.state.offset == 0


def _copy_tree(corpus: Path, dest: Path, tops=("gemini", "pi", "cursor", "qwen-code", "opencode", "opencode-go", "crush")) -> None:
    for top in tops:
        if (corpus / top).is_dir():
            shutil.copytree(corpus / top, dest / top, symlinks=True)


def _fingerprint(root: Path) -> dict[str, tuple[bytes, int]]:
    out = {}
    for dirpath, _d, names in os.walk(root):
        for n in names:
            p = Path(dirpath) / n
            out[str(p.relative_to(root))] = (p.read_bytes(), p.stat().st_mtime_ns)
    return out


def test_indexing_leaves_every_source_file_as_it_was(corpus: Path, tmp_path: Path) -> None:
    """Bytes and mtimes of every file (databases and their -wal/-shm included) are unchanged after an
    indexing pass and a second (incremental) one; and the sessions are there, with their tokens."""
    src = tmp_path / "logs"
    _copy_tree(corpus, src)
    before = _fingerprint(src)
    app = make_app(tmp_path / "home")
    try:
        paths = [str(src / rel) for rel in FILES if (src / rel).exists()]
        stats = app.index([str(src), *paths])
        assert stats.errors == []
        after = _fingerprint(src)
        assert after.keys() == before.keys()  # no -wal deleted, no -shm or journal created
        assert [k for k in before if before[k] != after[k]] == []
        app.index([str(src), *paths])
        assert _fingerprint(src) == before
        sessions = {s["id"]: s for s in app.sessions(workspace_only=False, limit=1000, include_subagents=True)}
        for rel, want in FILES.items():
            if want is None or "members" in want:
                continue
            s = sessions[want["id"]]
            assert s["agent"] == AGENT_OF[rel.split("/", 1)[0]]
            if s["agent"] == "cursor":
                assert s["tokens"] is None and not s["cost_known"]  # Cursor records no tokens: unknown, never 0
            else:
                assert s["tokens"] == want["tokens"], rel
        ide = [s for s in sessions.values() if s["id"].startswith("cursor-")]
        assert len(ide) == 31 and all(s["tokens"] is None for s in ide)
    finally:
        app.close()
