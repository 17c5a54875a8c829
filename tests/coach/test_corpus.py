"""Coach rules on the real-log corpus (skipped when the corpus is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionlens.coach.llm import build_session_prompt, deterministic_session_summary
from sessionlens.coach.redact import redact
from sessionlens.coach.rules import RULES, run_rules
from sessionlens.ingest import parse_file
from tests.conftest import corpus_root

CODEX_COMPACTION = "codex/localpush/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl"
CLAUDE_BIG = "claude/spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl"


def _run(corpus: Path, rel: str):
    result = parse_file(str(corpus / rel))
    assert result is not None, rel
    return result, run_rules(result.session, result.events, result.turns)


def test_claude_short_rejected_tool_use_and_interrupt(corpus: Path) -> None:
    _, findings = _run(corpus, "claude/spotter/short.jsonl")
    got = [(f.rule_id, f.seq) for f in findings]
    assert got == [("rejected-tool-use", 11), ("rejected-tool-use", 12), ("aborted-turn", 13)]
    assert findings[0].message == "The user rejected Bash: `mix phx.server 2>&1 | head -80`"
    assert [r.seq for r in findings[0].related] == [8]
    assert findings[2].message.startswith("Turn 1 was interrupted by the user after 2 tool calls")


def test_codex_compaction(corpus: Path) -> None:
    result, findings = _run(corpus, CODEX_COMPACTION)
    [f] = [f for f in findings if f.rule_id == "context-compaction"]
    ev = {e.seq: e for e in result.events}[f.seq]
    assert ev.subtype == "compacted" and "compaction 1 of 1" in f.message
    assert [ev2.subtype for ev2 in result.events if ev2.seq in {r.seq for r in f.related}] == ["event_msg/context_compacted"]


def test_claude_big_session(corpus: Path) -> None:
    _, findings = _run(corpus, CLAUDE_BIG)
    by_rule = {f.rule_id: f for f in findings}
    assert "(manual, 142,431 tokens before)" in by_rule["context-compaction"].message
    assert "String to replace not found" in by_rule["patch-failed"].message
    # five failing commits, but each after an edit fixing what the pre-commit hook reported: progress,
    # not a loop (the retries at lines 1343..1447 follow edits at 1350, 1373, 1391, 1430)
    assert "repeated-failure" not in by_rule
    commits = [f for f in findings if f.rule_id == "tool-error" and "git add -A && git commit" in f.message]
    assert len(commits) >= 5


_FILES = sorted(str(p.relative_to(corpus_root())) for p in corpus_root().rglob("*.jsonl")) or ["(corpus absent)"]


@pytest.mark.parametrize("rel", _FILES)
def test_rules_are_sound_on_every_corpus_file(corpus: Path, rel: str) -> None:
    path = str(corpus / rel)
    result = parse_file(path)
    if result is None:  # a Cursor .jsonl whose richer .txt twin is the session: the rules run on the twin
        twin = Path(path).with_suffix(".txt")
        assert twin.is_file(), f"not a session log and no twin that is: {path}"
        result = parse_file(str(twin))
        assert result is not None, f"neither {path} nor its twin parse"
    findings = run_rules(result.session, result.events, result.turns)
    seqs = {e.seq for e in result.events}
    assert findings == run_rules(result.session, list(reversed(result.events)), result.turns)
    assert [f.seq for f in findings] == sorted(f.seq for f in findings)
    for f in findings:
        assert f.rule_id in RULES and f.seq in seqs and f.guideline
        assert all(r.seq in seqs for r in f.related)
        assert redact(f.message) == f.message  # no secret copied into a message
    md = deterministic_session_summary(result.session, findings, result.events, result.turns)
    assert md.startswith("## Coach review") and "command:" not in md and "<img" not in md
    _, messages = build_session_prompt(result.session, findings, result.events)
    assert len(messages[0]["content"]) <= 24_000
