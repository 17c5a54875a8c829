"""Copilot CLI, OpenCode, OpenCode (Go) and Crush through the whole pipeline: every corpus file of these
agents (copies in a temporary folder) is indexed with its sessions, turns, tool calls with results,
sub-agents and tokens; search, cost, coach findings, outline, hover and the transcript work on them; and
no source file changes (bytes and mtime of every db, -wal, -shm, JSONL and sidecar).

Token totals are the agent's own records (see each adapter's README for how they are read and where
ccusage 20 differs)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.services.helpers import make_app

AGENT_DIRS = ("copilot-cli", "opencode", "opencode-go", "crush")
LEGACY = (
    "copilot-cli/Mai0313+VibeCodingTracker@7bc2c73927/examples/test_conversation_copilot.json",
    "copilot-cli/Mai0313+VibeCodingTracker@bcec23fa1e/examples/test_conversation_copilot.json",
)
ENGRAM = "07c40cd0-ff51-4d6e-bdcd-ac2f90877203"
VIBE = "96ef38f0-9d09-45c3-8124-6448c36090ed"

#: session id -> (agent, turns, tokens as the agent recorded them); tokens: Copilot = shutdown
#: modelMetrics (prompt incl. cache reads + output) or, without a shutdown, the messages' outputTokens
#: (a lower bound); Go OpenCode / Crush = sessions.prompt_tokens + completion_tokens.
EXPECTED = {
    VIBE: ("copilot", 1, 186809 + 2848),
    ENGRAM: ("copilot", 7, 22185),
    "06141331-92e8-4e9e-8bbb-9b7a729eb01a": ("copilot", 1, None),  # legacy JSON: no tokens recorded (unknown)
    "0b2a81da-02cf-4cbb-ae14-07c597b84f4e": ("copilot", 1, None),
    "ses_10b137345ffe03355Ew4fC8LWW": ("opencode", 1, 0),  # OpenCode recorded 0 tokens for its request
    "s_stage0_large": ("opencode", 2, 136),
    "s_stage0_small": ("opencode", 1, 0),
    "b3a07ffb-2705-4c00-9765-0a445e05ec38": ("opencode-go", 7, 42271 + 208),
    "bd9a6907-4d8b-4f34-9c25-e18c7740e41d": ("opencode-go", 2, 10967 + 870),
    "d65ab244-13fc-4a03-9d79-0372e6ae7ed1": ("opencode-go", 6, 21104 + 21),
    "3fc3b40d-4412-4617-af61-ac294c0aea47": ("opencode-go", 1, 8915 + 708),
    "87d5c393-84b5-4d42-9c70-201e07d33127": ("opencode-go", 2, 15437 + 114),
    "12fb5660-9f82-498c-9393-bcf94e771d67": ("opencode-go", 1, 14848 + 11737),
    "d19286ff-7e04-4d9c-af03-cf2c6b3e687c": ("opencode-go", 5, 3384 + 11554),
    "635c8ffb-566f-4bd6-a816-f648f33beb9d": ("opencode-go", 1, 514 + 11205),
    "2530334d-ccd1-4294-9961-2aa13749f060": ("opencode-go", 5, 847 + 73505),
    "997456c3-8270-45c4-ae95-ac4c9b7a26fb": ("opencode-go", 1, 0),
    "3171628c-350f-459f-9782-325cef68b892": ("opencode-go", 2, 0),
    "a1898573-ca36-4b7c-a7a5-7617a8e34c61": ("opencode-go", 1, 0),
    "a20c5ed5-41d4-45f7-88eb-7ba0645f1341": ("crush", 12, 127170 + 64),
    "f306c145-4c83-492c-b575-739c30bbced4": ("crush", 1, 15805 + 59),
    "copilot_stage0_small": ("copilot", 2, 115),  # synthetic fixture (tokenDetails in its shutdown)
}


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def indexed(corpus: Path, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("other-agents")
    logs = tmp / "logs"
    for d in AGENT_DIRS:
        shutil.copytree(corpus / d, logs / d)
    before = _snapshot(logs)
    app = make_app(tmp / "home")
    stats = app.index([str(logs)] + [str(logs / rel) for rel in LEGACY])
    yield app, stats, logs, before
    app.close()


def test_every_file_indexes_with_its_sessions_and_tokens(indexed):
    app, stats, logs, _ = indexed
    assert stats.errors == []
    sessions = {s["id"]: s for s in app.sessions(workspace_only=False, limit=1000)}
    # the pristine and the hand-edited copy of the same Copilot session are two sources of one session
    # id: the second is stored as <id>@<file id> and its billed requests (same keys) count once
    copies = [sid for sid in sessions if sid.startswith(VIBE + "@")]
    assert len(copies) == 1 and sessions[copies[0]]["tokens"] == 0
    got = {sid: (s["agent"], s["turns"], s["tokens"]) for sid, s in sessions.items() if sid not in copies}
    assert got == EXPECTED
    assert all(sessions[sid]["events"] > 0 for sid in EXPECTED)
    # 07c40cd0 has no session.shutdown: its prompt tokens are unknown, its figures a lower bound
    assert {sid for sid in EXPECTED if sessions[sid]["usage_lower_bound"]} == {
        ENGRAM,
        "copilot_stage0_small",
        "06141331-92e8-4e9e-8bbb-9b7a729eb01a",
        "0b2a81da-02cf-4cbb-ae14-07c597b84f4e",
    }
    assert sessions[ENGRAM]["cost_known"] is True  # a lower bound, but what is recorded is priced


def test_tool_calls_have_results(indexed):
    app, _, _, _ = indexed
    db = app.db()
    for sid, calls in (
        (ENGRAM, 86),
        ("2530334d-ccd1-4294-9961-2aa13749f060", 89),
        ("a20c5ed5-41d4-45f7-88eb-7ba0645f1341", 40),
        ("06141331-92e8-4e9e-8bbb-9b7a729eb01a", 59),
    ):
        s = app.resolve_session(sid)
        events = db.events(s.file_id)
        call_ids = {e.call_id for e in events if e.kind.value in ("tool_call", "patch")}
        result_ids = {e.call_id for e in events if e.kind.value == "tool_result"}
        assert len(call_ids) == calls
        assert len(call_ids - result_ids) == (2 if sid.startswith("2530334d") else 0)  # 2 calls never answered


def test_cost_uses_prices_and_the_agents_recorded_cost(indexed):
    app, _, _, _ = indexed
    rows = {r["agent"]: r for r in app.cost_report(by="agent")["rows"]}
    # Go OpenCode / Crush: the cumulative cost the agent stored (its tokens are only the last response's)
    assert rows["crush"]["cost_usd"] == pytest.approx(3.2015050000000005 + 0.020346250000000003, abs=1e-6)
    assert rows["crush"]["unpriced_requests"] == 0
    # Copilot 96ef38f0 priced as claude-sonnet-4-6: 35,071 uncached input, 151,738 cache reads, 2,848 output
    s = next(x for x in app.sessions(agent="copilot", workspace_only=False, limit=100) if x["id"] == VIBE)
    assert s["cost_usd"] == pytest.approx(35071 * 3e-6 + 151738 * 3e-7 + 2848 * 15e-6, rel=1e-6)
    assert s["cost_known"] is True


def test_search_finds_them_by_agent(indexed):
    app, _, _, _ = indexed
    assert app.search("broadcast", agent="copilot")["total"] > 0
    assert app.search("monorepo", agent="opencode-go")["total"] > 0
    assert app.search("CRUSH.md", agent="crush")["total"] > 0
    assert app.search("readme", agent="opencode")["total"] > 0


def test_outline_hover_transcript_and_coach(indexed):
    app, _, logs, _ = indexed
    engram = next(logs.rglob(f"{ENGRAM}/events.jsonl"))
    db_member = f"{next(logs.rglob('tuist+Noora/.opencode/opencode.db'))}#2530334d-ccd1-4294-9961-2aa13749f060"
    for path in (str(engram), db_member):
        outline = app.outline(path)
        assert outline and outline[0].children
        assert app.hover(path, 2) is not None
        s = app.session_for_path(path)
        title, md = app.render_session(s.id)
        assert title and len(md) > 1000
    # the coach ran on them: findings exist for these agents' sessions
    sids = {s["id"] for s in app.sessions(workspace_only=False, limit=1000) if s["agent"] != "claude"}
    findings = app.findings(limit=10_000)
    assert any(f.session_id in sids for f in findings)


def test_no_source_file_changed(indexed):
    _, _, logs, before = indexed
    assert _snapshot(logs) == before


def test_unchanged_sources_cost_a_stat(indexed):
    app, _, logs, _ = indexed
    again = app.index([str(logs)] + [str(logs / rel) for rel in LEGACY])
    assert again.files_changed == 0 and again.events == 0
