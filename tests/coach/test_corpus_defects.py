"""The coach defects of issue #16 on the corpus' own logs: each finding states what the log shows."""

from __future__ import annotations

from pathlib import Path

from sessionlens.coach.rules import run_rules
from sessionlens.ingest import parse_file
from sessionlens.models.store import StoredSession

CLAUDE_BIG = "claude/spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl"
CODEX_REDACTED = "codex/localpush/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl"


def _findings(corpus: Path, rel: str):
    result = parse_file(str(corpus / rel))
    assert result is not None
    return result, run_rules(result.session, result.events, result.turns)


def test_tool_error_quotes_the_explaining_line(corpus: Path) -> None:
    result, findings = _findings(corpus, CLAUDE_BIG)
    errors = {f.seq: f for f in findings if f.rule_id == "tool-error"}
    assert errors, "the session has failing commands"
    text = {e.seq: e.text for e in result.events}
    assert text[916].startswith("Exit code 1\n")  # Claude's prefix …
    assert errors[916].message.endswith("failed with exit code 1: (eval):1: permission denied:")  # … is not quoted
    assert "[FORMAT] Code is not formatted." in errors[661].message  # the cause, not the "failed:" heading
    assert "otel_trace_helpers.ex:57:13:pattern_match" in errors[1343].message  # dialyzer's finding
    assert errors[2186].message == "Read failed with an error result: File does not exist."  # no <tool_use_error> tags
    for f in errors.values():
        assert "Exit code" not in f.message and "\\n" not in f.message


def test_redacted_codex_session_claims_no_missing_tests_and_no_slow_calls(corpus: Path) -> None:
    result, findings = _findings(corpus, CODEX_REDACTED)
    calls = [e for e in result.events if e.kind.value == "tool_call" and e.tool == "exec_command"]
    assert calls and all((e.text or "").startswith("[REDACTED_ARGUMENTS") for e in calls)
    rules = {f.rule_id for f in findings}
    assert "no-tests-after-edit" not in rules  # the tests may have been any of the redacted commands
    assert "slow-tool-call" not in rules  # timed only by timestamps around a command nobody can see
    assert not any("REDACTED" in f.message for f in findings)
    assert "token-outlier" in rules and "context-compaction" in rules  # what the log does show is still reported


def test_slow_tool_call_on_the_corpus_is_strictly_above_the_threshold(corpus: Path) -> None:
    _, findings = _findings(corpus, CLAUDE_BIG)
    slow = [f for f in findings if f.rule_id == "slow-tool-call"]
    assert slow
    for f in slow:
        assert f.data["duration_ms"] > 120_000
        assert "(threshold 120 s)" in f.message and " took 120 s" not in f.message


def test_session_summary_claims_nothing_the_redacted_log_does_not_show(corpus: Path) -> None:
    from sessionlens.coach.llm import deterministic_session_summary

    result, findings = _findings(corpus, CODEX_REDACTED)
    md = deterministic_session_summary(result.session, findings, result.events, result.turns)
    assert "tool results succeeded" not in md and "followed by a test run" not in md
    assert "No command was retried in a failure loop" not in md
    assert "redacted in the log (outcome unknown)" in md
    # a log that shows its results still gets the praise it earns
    r2, f2 = _findings(corpus, "codex/agentlogs/crud.jsonl")
    assert "tool results succeeded" in deterministic_session_summary(r2.session, f2, r2.events, r2.turns)


def test_guideline_checks_on_redacted_commands_are_unknown(corpus: Path) -> None:
    from sessionlens.compliance.checker import _facts, evaluate
    from sessionlens.compliance.guidelines import Check

    result, findings = _findings(corpus, CODEX_REDACTED)
    facts = _facts(StoredSession(id="t", agent="claude", cwd=result.session.cwd, path="", file_id=0), result.events, findings)
    assert facts.opaque and not facts.commands
    assert evaluate(Check(must_run=[r"\bpytest\b"]), facts) == ("unknown", [])  # never "no test command ran"
    assert evaluate(Check(must_not_run=[r"git\s+push\s+--force"], when="always"), facts) == ("unknown", [])
    r2, f2 = _findings(corpus, "codex/agentlogs/crud.jsonl")
    plain = _facts(StoredSession(id="t", agent="claude", cwd=r2.session.cwd, path="", file_id=0), r2.events, f2)
    assert evaluate(Check(must_not_run=[r"\brm\b"], when="always"), plain)[0] == "violated"
