"""Facts about every corpus file, verified by hand from the raw lines with an independent script.

Token totals: Codex = sum of non-zero deltas of ``total_token_usage`` (input split into uncached +
cached); Claude = per ``(message.id, requestId)`` the line with the largest ``output_tokens``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionlens.ingest import parse_file
from sessionlens.models.session import Agent, Event, ParseResult

from .helpers import kinds, usage_totals

CODEX = {
    "codex/agentlogs/crud.jsonl": dict(
        lines=38,
        id="019bf4b5-e7b0-75a0-8bf2-05fbf1b13c9b",
        cwd="/Users/philipp/dev/agentlogs/fixtures",
        models=["gpt-5.2-codex"],
        turns=1,
        tool_call=3,
        patch=1,
        tool_result=4,
        token_usage=10,
        records=5,
        input=47257 - 44160,
        cache=44160,
        output=300,
        reasoning=64,
        prompts=1,
        compaction=0,
        originator="codex_exec",
        cli="0.89.0",
        branch="main",
    ),
    "codex/agentlogs/images.jsonl": dict(
        lines=94,
        id="019c16bd-a0fc-7293-855d-2948ce5dc471",
        cwd="/Users/philipp/dev/agentlogs",
        models=["gpt-5.2-codex"],
        turns=3,
        tool_call=9,
        patch=1,
        tool_result=10,
        token_usage=26,
        records=13,
        input=216978 - 189952,
        cache=189952,
        output=2163,
        reasoning=1408,
        prompts=3,
        compaction=0,
        originator="codex_cli_rs",
        cli="0.93.0",
        branch="main",
    ),
    "codex/localpush/rollout-2026-02-23T12-41-04-019c8a4d-8f45-7010-8b5d-7fad920aa6f9.jsonl": dict(
        lines=417,
        id="019c8a4d-8f45-7010-8b5d-7fad920aa6f9",
        cwd="/redacted/path/da0ba47443",
        models=["gpt-5.3-codex"],
        turns=1,
        tool_call=118,
        patch=0,
        tool_result=118,
        token_usage=56,
        records=28,
        input=1751428 - 1651968,
        cache=1651968,
        output=14600,
        reasoning=4293,
        prompts=1,
        compaction=0,
        originator="Codex Desktop",
        cli="0.104.0-alpha.1",
        branch="main",
    ),
    "codex/localpush/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl": dict(
        lines=2722,
        id="019c8a59-e9dd-71f0-9ae3-4079fe9726a9",
        cwd="/redacted/path/59b923df4d",
        models=["gpt-5.3-codex"],
        turns=33,
        tool_call=316 + 7,
        patch=49,
        tool_result=365,
        token_usage=573,
        records=286,
        input=33810485 - 31621504,
        cache=31621504,
        output=133999,
        reasoning=42113,
        prompts=38,
        compaction=2,
        originator="Codex Desktop",
        cli="0.104.0-alpha.1",
        branch="main",
    ),
    "codex/localpush/rollout-2026-02-23T13-19-38-019c8a70-dda7-7f33-98ea-f30553347322.jsonl": dict(
        lines=19,
        id="019c8a70-dda7-7f33-98ea-f30553347322",
        cwd="/redacted/path/da0ba47443",
        models=["gpt-5.3-codex"],
        turns=1,
        tool_call=1,
        patch=0,
        tool_result=0,
        token_usage=2,
        records=1,
        input=34469 - 3456,
        cache=3456,
        output=431,
        reasoning=264,
        prompts=1,
        compaction=0,
        originator="Codex Desktop",
        cli="0.104.0-alpha.1",
        branch="main",
    ),
    "codex/localpush/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl": dict(
        lines=63,
        id="019c8bfe-ec25-79e0-97d7-bda6a9c575ff",
        cwd="/redacted/path/ea96e59ed9",
        models=["gpt-5.3-codex"],
        turns=1,
        tool_call=5,
        patch=0,
        tool_result=5,
        token_usage=12,
        records=6,
        input=298373 - 238848,
        cache=238848,
        output=1123,
        reasoning=483,
        prompts=1,
        compaction=0,
        originator="Codex Desktop",
        cli="0.104.0-alpha.1",
        branch="main",
    ),
}

AE = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"
SONNET = "claude-sonnet-4-5-20250929"
CLAUDE = {
    "claude/agentlogs/compact.jsonl": dict(
        lines=15,
        id="0e26ec2f-937e-482c-b889-bc126f996913",
        cwd="/Users/philipp/dev/studio",
        models=[SONNET],
        keys=1,
        input=10,
        cache=13522,
        write=2128,
        output=148,
        tool_use=0,
        tool_result=0,
        turns=1,
        compaction=2,
    ),
    "claude/agentlogs/crud.jsonl": dict(
        lines=27,
        id="8122657c-fe54-4dc9-89a3-20049e8a84f7",
        cwd="/Users/philipp/dev/vibeinsights/fixtures/claudecode",
        models=[SONNET],
        keys=10,
        input=25,
        cache=148958,
        write=12593,
        output=1508,
        tool_use=9,
        tool_result=9,
        turns=1,
        compaction=0,
    ),
    "claude/agentlogs/subagent.jsonl": dict(
        lines=11,
        id="609efeca-2f51-4118-b077-e91c9fe63f73",
        cwd="/Users/philipp/dev/studio",
        models=[SONNET],
        keys=3,
        input=24,
        cache=20952,
        write=23122,
        output=276,
        tool_use=1,
        tool_result=1,
        turns=1,
        compaction=0,
    ),
    f"claude/spotter/{AE}.jsonl": dict(
        lines=2385,
        id=AE,
        cwd="/home/USER/projects/spotter-worktrees/spotter-4te",
        models=["claude-opus-4-6", "claude-haiku-4-5-20251001"],
        keys=217,
        input=242,
        cache=16553628,
        write=237121,
        output=49467,
        tool_use=242,
        tool_result=242,
        turns=2,
        compaction=2,
    ),
    f"claude/spotter/{AE}/subagents/agent-aac57f5.jsonl": dict(
        lines=40,
        id=f"{AE}:agent-aac57f5",
        cwd="/home/USER/projects/spotter-worktrees/spotter-4te",
        models=[SONNET],
        keys=3,
        input=2408,
        cache=29274,
        write=18814,
        output=7,
        tool_use=12,
        tool_result=12,
        turns=1,
        compaction=0,
    ),
    f"claude/spotter/{AE}/subagents/agent-acompact-946d2b.jsonl": dict(
        lines=2,
        id=f"{AE}:agent-acompact-946d2b",
        cwd="/home/USER/projects/spotter-worktrees/spotter-4te",
        models=["claude-opus-4-6"],
        keys=1,
        input=3,
        cache=17842,
        write=121689,
        output=8,
        tool_use=0,
        tool_result=0,
        turns=1,
        compaction=0,
    ),
    "claude/spotter/short.jsonl": dict(
        lines=15,
        id="55604662-cf2a-4331-851a-ec234028f8ca",
        cwd="/home/marco/projects/spotter",
        models=["claude-opus-4-6"],
        keys=1,
        input=3,
        cache=11515,
        write=13835,
        output=13,
        tool_use=2,
        tool_result=2,
        turns=1,
        compaction=0,
    ),
    "claude/spotter/subagent.jsonl": dict(
        lines=96,
        id="491e126e-1e71-469c-ade2-fcc8af567c74",
        cwd="/home/marco/projects/spotter",
        models=["claude-opus-4-6"],
        keys=12,
        input=1576,
        cache=427286,
        write=25842,
        output=1586,
        tool_use=16,
        tool_result=16,
        turns=2,
        compaction=0,
    ),
    "claude/spotter/tool_heavy.jsonl": dict(
        lines=39,
        id="d6e0bada-1959-4eec-a9d2-0bfade768d8f",
        cwd="/home/marco/projects/spotter",
        models=["claude-opus-4-6"],
        keys=4,
        input=54,
        cache=88231,
        write=17696,
        output=212,
        tool_use=6,
        tool_result=6,
        turns=2,
        compaction=0,
    ),
}

ALL_FILES = sorted([*CODEX, *CLAUDE])


def _parse(corpus: Path, rel: str) -> ParseResult:
    result = parse_file(str(corpus / rel))
    assert result is not None, rel
    return result


def test_corpus_table_covers_every_file(corpus: Path) -> None:
    on_disk = sorted(str(p.relative_to(corpus)) for p in corpus.rglob("*.jsonl"))
    # The corpus also holds other agents' logs (Gemini, Copilot, OpenCode, Cursor, Pi, ...): this table pins
    # the Claude Code and Codex ones, and every one of those is in it.
    assert [f for f in on_disk if f.split("/", 1)[0] in ("claude", "codex")] == ALL_FILES
    assert len(on_disk) > len(ALL_FILES)


@pytest.mark.parametrize("rel", sorted(CODEX))
def test_codex_corpus_facts(corpus: Path, rel: str) -> None:
    f = CODEX[rel]
    r = _parse(corpus, rel)
    k = kinds(r)
    assert r.agent is Agent.CODEX
    assert r.problems == []
    assert len(r.events) == f["lines"]
    assert [e.seq for e in r.events] == list(range(1, f["lines"] + 1))
    s = r.session
    assert (s.id, s.cwd, s.models) == (f["id"], f["cwd"], f["models"])
    assert (s.originator, s.cli_version, s.git_branch) == (f["originator"], f["cli"], f["branch"])
    assert s.started_at is not None and s.ended_at is not None and s.started_at <= s.ended_at
    assert len(r.turns) == f["turns"]
    assert [t.index for t in r.turns] == list(range(f["turns"]))
    assert k.get("tool_call", 0) == f["tool_call"]
    assert k.get("patch", 0) == f["patch"]
    assert k.get("tool_result", 0) == f["tool_result"]
    assert k.get("token_usage", 0) == f["token_usage"]
    assert k.get("compaction", 0) == f["compaction"]
    primary_prompts = [e for e in r.events if e.kind.value == "user_message" and not e.duplicate]
    assert len(primary_prompts) == f["prompts"]
    assert len(r.usage) == f["records"]
    assert len({u.key for u in r.usage}) == f["records"]
    assert all(u.key == f"codex:{f['id']}:{u.line}" for u in r.usage)
    total = usage_totals(r)
    assert (total.input_tokens, total.cache_read_tokens, total.output_tokens, total.reasoning_tokens) == (
        f["input"],
        f["cache"],
        f["output"],
        f["reasoning"],
    )
    assert total.cache_write_5m_tokens == total.cache_write_1h_tokens == 0
    usage_events = [e for e in r.events if e.usage is not None]
    assert sorted(e.usage_key for e in usage_events) == sorted(u.key for u in r.usage)


def test_codex_pinned_total_is_codex_own_final_total(corpus: Path) -> None:
    r = _parse(corpus, "codex/localpush/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl")
    total = usage_totals(r)
    assert total.input_tokens + total.cache_read_tokens == 33_810_485  # not the naive 67,248,947
    dups = [e for e in r.events if e.kind.value == "token_usage" and e.duplicate]
    assert len(dups) == 286  # unchanged re-emitted snapshots
    assert all(e.usage is None for e in dups)


def test_codex_turns_prompts_and_durations(corpus: Path) -> None:
    r = _parse(corpus, "codex/localpush/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl")
    t0 = r.turns[0]
    assert (t0.start_line, t0.turn_id) == (8, "019c8a5a-2f22-7500-86a3-35cefafbe84e")
    assert t0.prompt == "[REDACTED_MESSAGE len=32 sha=821fd802]"
    assert t0.model == "gpt-5.3-codex"
    by_line = {e.line: e for e in r.events}
    assert t0.duration_ms == int((by_line[127].timestamp - by_line[8].timestamp).total_seconds() * 1000)
    # turn 10 (task_started at line 1046) has three user messages; the first is its prompt
    t10 = r.turns[10]
    assert t10.start_line == 1046 and t10.prompt == "[REDACTED_MESSAGE len=53 sha=6e285197]"
    assert {by_line[n].turn for n in (1048, 1071, 1224)} == {10}
    assert all(t.prompt for t in r.turns)
    assert not any(t.aborted for t in r.turns)


def test_codex_tool_calls_and_results(corpus: Path) -> None:
    r = _parse(corpus, "codex/agentlogs/crud.jsonl")
    by_line = {e.line: e for e in r.events}
    call, out = by_line[11], by_line[13]
    assert (call.kind.value, call.tool, call.call_id) == ("tool_call", "exec_command", "call_3LP2FP4eeep7JxJRvO3h42Oh")
    assert call.command.startswith("cat <<'EOF' > /Users/philipp/dev/agentlogs/fixtures/JOKE.md")
    assert (out.kind.value, out.tool, out.call_id, out.exit_code, out.duration_ms, out.is_error) == (
        "tool_result",
        "exec_command",
        call.call_id,
        0,
        51,
        False,
    )
    patch, patch_out = by_line[24], by_line[26]
    assert (patch.kind.value, patch.tool) == ("patch", "apply_patch")
    assert patch.files == ["/Users/philipp/dev/agentlogs/fixtures/JOKE.md"]
    assert patch.text.startswith("*** Begin Patch")
    assert (patch_out.tool, patch_out.exit_code, patch_out.duration_ms) == ("apply_patch", 0, 0)
    assert patch_out.text.startswith("Success. Updated the following files:")
    reasoning = [e for e in r.events if e.kind.value == "reasoning" and not e.duplicate]
    assert len(reasoning) == 4
    assert all("gAAAA" not in (e.text or "") for e in r.events)  # encrypted content never in text
    assert by_line[5].kind.value == "user_message" and by_line[5].duplicate
    assert by_line[6].kind.value == "user_message" and not by_line[6].duplicate
    assert [by_line[n].kind.value for n in (2, 3, 4)] == ["system"] * 3  # permissions, AGENTS.md, environment


def test_codex_unfinished_call_and_web_search(corpus: Path) -> None:
    r = _parse(corpus, "codex/localpush/rollout-2026-02-23T13-19-38-019c8a70-dda7-7f33-98ea-f30553347322.jsonl")
    calls = [e for e in r.events if e.kind.value == "tool_call"]
    assert len(calls) == 1 and not any(e.kind.value == "tool_result" for e in r.events)
    big = _parse(corpus, "codex/localpush/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl")
    web = [e for e in big.events if e.tool == "web_search"]
    assert len(web) == 7 and all(e.kind.value == "tool_call" for e in web)
    mcp = [e for e in big.events if e.kind.value == "tool_call" and (e.tool or "").startswith("mcp__")]
    assert len(mcp) == 25
    compactions = [e.subtype for e in big.events if e.kind.value == "compaction"]
    assert compactions == ["compacted", "event_msg/context_compacted"]


def test_codex_images_never_in_text(corpus: Path) -> None:
    r = _parse(corpus, "codex/agentlogs/images.jsonl")
    assert all("base64," not in (e.text or "") for e in r.events)
    first = next(e for e in r.events if e.line == 5)
    assert "[image]" in first.text


@pytest.mark.parametrize("rel", sorted(CLAUDE))
def test_claude_corpus_facts(corpus: Path, rel: str) -> None:
    f = CLAUDE[rel]
    r = _parse(corpus, rel)
    k = kinds(r)
    assert r.agent is Agent.CLAUDE
    assert r.problems == []
    assert len(r.events) == f["lines"]
    assert (r.session.id, r.session.cwd, r.session.models) == (f["id"], f["cwd"], f["models"])
    assert len(r.usage) == f["keys"]
    assert all(u.key.startswith("claude:msg_") and ":req_" in u.key for u in r.usage)
    total = usage_totals(r)
    assert (total.input_tokens, total.cache_read_tokens, total.output_tokens) == (f["input"], f["cache"], f["output"])
    assert total.cache_write_5m_tokens + total.cache_write_1h_tokens == f["write"]
    assert k.get("tool_call", 0) + k.get("patch", 0) == f["tool_use"]
    assert k.get("tool_result", 0) == f["tool_result"]
    assert k.get("compaction", 0) == f["compaction"]
    assert len(r.turns) == f["turns"]
    # usage is attached once per message group, on its first line
    carriers = [e for e in r.events if e.usage_key is not None]
    assert sorted(e.usage_key for e in carriers) == sorted(u.key for u in r.usage)
    # every result names the tool of its call
    names = {e.call_id: e.tool for e in r.events if e.kind.value in ("tool_call", "patch")}
    for e in r.events:
        if e.kind.value == "tool_result":
            assert e.tool == names[e.call_id]


def test_claude_split_assistant_lines_keep_max_output(corpus: Path) -> None:
    r = _parse(corpus, f"claude/spotter/{AE}.jsonl")
    assistant_lines = [e for e in r.events if e.role == "assistant"]
    assert len(assistant_lines) == 408
    assert len({(e.message_id, e.request_id) for e in assistant_lines}) == 217
    first_seen_output = sum(e.usage.output_tokens for e in r.events if e.usage is not None)
    assert first_seen_output == 9935  # formats.md §4.6: first-seen sum vs max 49,467
    assert usage_totals(r).output_tokens == 49467
    assert r.session.title.startswith("Work on bead spotter-4te.")
    assert [t.start_line for t in r.turns] == [7, 1491]
    assert r.turns[0].duration_ms == 1341830  # system/turn_duration


def test_claude_short_rejected_tool_use(corpus: Path) -> None:
    r = _parse(corpus, "claude/spotter/short.jsonl")
    rejected = [e for e in r.events if e.extra.get("rejected")]
    assert [e.line for e in rejected] == [11, 12]
    assert all(e.is_error and e.kind.value == "tool_result" for e in rejected)
    assert rejected[0].call_id == "toolu_0116Hyi5v8ut7Ffb7d8qV1Sc" and rejected[0].tool == "Bash"
    by_line = {e.line: e for e in r.events}
    call = next(e for e in r.events if e.call_id == "toolu_0116Hyi5v8ut7Ffb7d8qV1Sc" and e.kind.value == "tool_call")
    assert call.command == "mix phx.server 2>&1 | head -80"
    assert by_line[13].kind.value == "error" and r.turns[0].aborted
    assert by_line[14].kind.value == "system" and by_line[14].subtype == "system/local_command"
    thinking = next(e for e in r.events if e.kind.value == "reasoning")
    assert thinking.text.startswith("The user is having trouble starting their Phoenix server.")
    assert "EsMCCkYICxgCKkDuNR00D0SPshrOAOM1rE2RNrkHn0aXuAp7lW1sP8HECP" not in thinking.text
    rec = r.usage[0]
    assert (rec.usage.cache_write_1h_tokens, rec.usage.cache_write_5m_tokens) == (13835, 0)
    assert r.session.git_branch == "master" and r.session.cli_version == "2.1.38"


def test_claude_inline_sidechain(corpus: Path) -> None:
    r = _parse(corpus, "claude/agentlogs/subagent.jsonl")
    side = [e for e in r.events if e.sidechain]
    assert [e.line for e in side] == [7, 8]
    assert all(e.parent_call_id == "toolu_01BuNFczVnbvyf3hBd7oYaqy" for e in side)
    task = next(e for e in r.events if e.call_id == "toolu_01BuNFczVnbvyf3hBd7oYaqy" and e.kind.value == "tool_call")
    assert task.tool == "Task" and task.extra["subagent_type"] == "general-purpose"
    # the file's `summary` line names another session (its leafUuid is not a line here): the first prompt titles it
    assert r.session.title == "ask a subagent how he's doing"
    assert len(r.turns) == 1 and r.turns[0].prompt == "ask a subagent how he's doing"
    # the sidechain's usage is its own (billed) message, counted once
    assert sum(1 for e in side if e.usage is not None) == 1


def test_claude_subagent_file_and_progress(corpus: Path) -> None:
    sub = _parse(corpus, f"claude/spotter/{AE}/subagents/agent-aac57f5.jsonl")
    s = sub.session
    assert (s.parent_session_id, s.agent_id) == (AE, "aac57f5")
    assert all(e.agent_id == "aac57f5" and e.sidechain for e in sub.events)
    main = _parse(corpus, f"claude/spotter/{AE}.jsonl")
    progress = [e for e in main.events if e.subtype == "progress/agent_progress"]
    assert len(progress) == 25
    assert {(e.agent_id, e.parent_call_id) for e in progress} == {("aac57f5", "toolu_01Hf8v1Za7y4af8VUwSR4CXU")}
    assert all(e.usage is None for e in progress)  # embedded sub-agent messages are never billed here
    result = next(e for e in main.events if e.kind.value == "tool_result" and e.call_id == "toolu_01Hf8v1Za7y4af8VUwSR4CXU")
    assert (result.tool, result.agent_id, result.duration_ms) == ("Task", "aac57f5", 32548)


def test_claude_edit_is_a_patch_with_diff(corpus: Path) -> None:
    r = _parse(corpus, "claude/agentlogs/crud.jsonl")
    patches = [e for e in r.events if e.kind.value == "patch"]
    assert [p.tool for p in patches] == ["Write", "Edit"]
    assert all(p.files and p.text.startswith("--- ") for p in patches)
    edit = patches[1]
    assert "\n-" in edit.text and "\n+" in edit.text
    results = {e.call_id: e for e in r.events if e.kind.value == "tool_result"}
    assert results[edit.call_id].files == edit.files


def test_claude_custom_command_opens_turn(corpus: Path) -> None:
    r = _parse(corpus, "claude/spotter/subagent.jsonl")
    assert r.turns[0].start_line == 5
    assert r.turns[0].prompt.startswith("/handgemacht:create-beads ")
    assert r.turns[1].start_line == 71 and r.turns[1].prompt == "create the beads"


@pytest.mark.parametrize("rel", ALL_FILES)
def test_events_are_valid_models(corpus: Path, rel: str) -> None:
    r = _parse(corpus, rel)
    for e in r.events:
        assert Event.model_validate(e.model_dump()) == e
        assert e.text is None or len(e.text) <= 64 * 1024 + 100
    ParseResult.model_validate(r.model_dump())
    assert ParseResult.model_validate_json(r.model_dump_json()).events == r.events


# Full event-kind counts, cross-checked against an independent raw-line classifier.
KINDS = {
    "claude/agentlogs/compact.jsonl": {"assistant_message": 1, "compaction": 2, "meta": 4, "reasoning": 1, "system": 6, "user_message": 1},
    "claude/agentlogs/crud.jsonl": {"assistant_message": 6, "meta": 2, "patch": 2, "tool_call": 7, "tool_result": 9, "user_message": 1},
    "claude/agentlogs/subagent.jsonl": {
        "assistant_message": 3,
        "meta": 2,
        "reasoning": 2,
        "tool_call": 1,
        "tool_result": 1,
        "user_message": 2,
    },
    "claude/spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl": {
        "assistant_message": 160,
        "compaction": 2,
        "meta": 1725,
        "patch": 73,
        "reasoning": 6,
        "system": 6,
        "tool_call": 169,
        "tool_result": 242,
        "user_message": 2,
    },
    "claude/spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04/subagents/agent-aac57f5.jsonl": {
        "assistant_message": 3,
        "meta": 12,
        "tool_call": 12,
        "tool_result": 12,
        "user_message": 1,
    },
    "claude/spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04/subagents/agent-acompact-946d2b.jsonl": {
        "assistant_message": 1,
        "user_message": 1,
    },
    "claude/spotter/short.jsonl": {
        "assistant_message": 2,
        "error": 1,
        "meta": 4,
        "reasoning": 1,
        "system": 2,
        "tool_call": 2,
        "tool_result": 2,
        "user_message": 1,
    },
    "claude/spotter/subagent.jsonl": {
        "assistant_message": 8,
        "error": 1,
        "meta": 47,
        "patch": 1,
        "reasoning": 4,
        "system": 3,
        "tool_call": 15,
        "tool_result": 16,
        "user_message": 1,
    },
    "claude/spotter/tool_heavy.jsonl": {
        "assistant_message": 2,
        "error": 2,
        "meta": 15,
        "reasoning": 1,
        "system": 5,
        "tool_call": 6,
        "tool_result": 6,
        "user_message": 2,
    },
    "codex/agentlogs/crud.jsonl": {
        "assistant_message": 2,
        "meta": 6,
        "patch": 1,
        "reasoning": 7,
        "system": 3,
        "token_usage": 10,
        "tool_call": 3,
        "tool_result": 4,
        "user_message": 2,
    },
    "codex/agentlogs/images.jsonl": {
        "assistant_message": 6,
        "meta": 14,
        "patch": 1,
        "reasoning": 19,
        "system": 3,
        "token_usage": 26,
        "tool_call": 9,
        "tool_result": 10,
        "user_message": 6,
    },
    "codex/localpush/rollout-2026-02-23T12-41-04-019c8a4d-8f45-7010-8b5d-7fad920aa6f9.jsonl": {
        "assistant_message": 34,
        "meta": 31,
        "reasoning": 52,
        "system": 4,
        "token_usage": 56,
        "tool_call": 118,
        "tool_result": 118,
        "user_message": 4,
    },
    "codex/localpush/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl": {
        "assistant_message": 510,
        "compaction": 2,
        "meta": 353,
        "patch": 49,
        "reasoning": 418,
        "system": 45,
        "token_usage": 573,
        "tool_call": 323,
        "tool_result": 365,
        "user_message": 84,
    },
    "codex/localpush/rollout-2026-02-23T13-19-38-019c8a70-dda7-7f33-98ea-f30553347322.jsonl": {
        "assistant_message": 2,
        "meta": 3,
        "reasoning": 2,
        "system": 4,
        "token_usage": 2,
        "tool_call": 1,
        "user_message": 5,
    },
    "codex/localpush/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl": {
        "assistant_message": 12,
        "meta": 9,
        "reasoning": 12,
        "system": 4,
        "token_usage": 12,
        "tool_call": 5,
        "tool_result": 5,
        "user_message": 4,
    },
}


@pytest.mark.parametrize("rel", ALL_FILES)
def test_event_kind_counts(corpus: Path, rel: str) -> None:
    assert dict(sorted(kinds(_parse(corpus, rel)).items())) == KINDS[rel]
