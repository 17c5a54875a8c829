"""Every check kind, a pass and a fail each, on corpus sessions."""

from __future__ import annotations

import asyncio

import pytest

from sessionlens.evals.checks import EvalContext, evaluate, load_subject
from sessionlens.evals.models import EvalSuite
from tests.evals.conftest import (
    CLAUDE_MAIN,
    CLAUDE_SHORT,
    CLAUDE_TOOLS,
    CODEX_CRUD,
    CODEX_IMAGES,
    line_of,
    session_by_path,
)


def grade(app, session: dict, check: dict):
    suite = EvalSuite.model_validate({"name": "t", "checks": [check]})
    return asyncio.run(evaluate(suite.checks[0], load_subject(app.db(), session), EvalContext()))


def both(app, corpus, check, good, bad):
    ok = grade(app, session_by_path(app, corpus, good), check)
    bad_s = session_by_path(app, corpus, bad)
    ko = grade(app, bad_s, check)
    assert ok.passed, ok.message
    assert not ko.passed, ko.message
    return ok, ko, bad_s


def test_no_tool_errors(app, corpus):
    _, ko, s = both(app, corpus, {"kind": "no_tool_errors"}, CODEX_CRUD, CLAUDE_MAIN)
    assert ko.data["errors"] >= 10
    raw = line_of(s.path, ko.evidence_seq)
    assert '"is_error":true' in raw.replace(" ", "") or "tool_result" in raw
    # allowing that many errors makes it pass
    assert grade(app, s, {"kind": "no_tool_errors", "max_errors": ko.data["errors"]}).passed


@pytest.mark.parametrize("metric,limit", [("cost_usd", 1.0), ("tokens", 1_000_000), ("turns", 1), ("tool_calls", 20), ("duration_s", 600)])
def test_limits(app, corpus, metric, limit):
    bad = CLAUDE_MAIN if metric != "turns" else CLAUDE_TOOLS
    ok, ko, s = both(app, corpus, {"kind": "limit", "metric": metric, "max": limit}, CODEX_CRUD, bad)
    assert ko.data["value"] > limit >= ok.data["value"]
    assert ko.check_id == f"limit:{metric}"
    if metric == "turns":
        assert '"type":"user"' in line_of(s.path, ko.evidence_seq).replace(" ", "")


def test_command_must_run_and_must_not(app, corpus):
    ok, ko, s = both(app, corpus, {"kind": "command", "pattern": r"\brm\b"}, CODEX_CRUD, CLAUDE_SHORT)
    assert "rm " in line_of(session_by_path(app, corpus, CODEX_CRUD).path, ok.evidence_seq)
    ok2, ko2, s2 = both(app, corpus, {"kind": "command", "pattern": r"\brm\b", "must_run": False}, CLAUDE_SHORT, CODEX_CRUD)
    assert "rm " in line_of(s2.path, ko2.evidence_seq)


def test_tests_after_edit(app, corpus):
    _, ko, s = both(app, corpus, {"kind": "tests_after_edit"}, CODEX_CRUD, CODEX_IMAGES)
    assert "no test run afterwards" in ko.message
    # a custom test pattern matching a command that ran after the edits makes it pass
    assert ko.evidence_seq


def test_no_rejected_tool_use(app, corpus):
    _, ko, s = both(app, corpus, {"kind": "no_rejected_tool_use"}, CODEX_CRUD, CLAUDE_SHORT)
    raw = line_of(s.path, ko.evidence_seq).lower()
    assert "rejected" in raw or "doesn't want to proceed" in raw


def test_files_within(app, corpus):
    _, ko, s = both(app, corpus, {"kind": "files_within", "globs": ["*.md"]}, CODEX_CRUD, CLAUDE_MAIN)
    assert ko.data["files"] and not all(f.endswith(".md") for f in ko.data["files"])
    assert grade(app, s, {"kind": "files_within", "globs": ["**"]}).passed


def test_final_message(app, corpus):
    check = {"kind": "final_message", "contains": "deleted the file"}
    _, ko, s = both(app, corpus, check, CODEX_CRUD, CLAUDE_SHORT)
    crud = session_by_path(app, corpus, CODEX_CRUD)
    assert grade(app, crud, {"kind": "final_message", "regex": r"JOKE\.md"}).passed
    assert not grade(app, crud, {"kind": "final_message", "not_regex": r"JOKE\.md"}).passed


def test_no_secrets(app, corpus):
    fail_session = next(s for s in app.db().list_sessions(limit=100) if "secret" in s.path)
    ok = grade(app, session_by_path(app, corpus, CODEX_CRUD), {"kind": "no_secrets"})
    ko = grade(app, fail_session, {"kind": "no_secrets"})
    assert ok.passed and not ko.passed
    assert ko.evidence_seq and "secret" in ko.message.lower()


def test_rule_absent(app, corpus):
    _, ko, s = both(app, corpus, {"kind": "rule_absent", "rule": "aborted-turn"}, CODEX_CRUD, CLAUDE_TOOLS)
    assert ko.data["count"] == 2 and ko.check_id == "rule_absent:aborted-turn"


def test_judge_without_llm_fails_as_not_evaluated(app, corpus):
    r = grade(app, session_by_path(app, corpus, CODEX_CRUD), {"kind": "llm_judge", "rubric": "The agent did the task."})
    assert not r.passed and r.data.get("error") and "not evaluated" in r.message


def test_duplicate_check_ids_are_rejected():
    with pytest.raises(ValueError, match="share the id"):
        EvalSuite.model_validate({"name": "t", "checks": [{"kind": "no_secrets"}, {"kind": "no_secrets"}]})


def test_every_check_model_has_a_registered_function():
    from typing import get_args

    from sessionlens.evals.checks import registered_kinds
    from sessionlens.evals.models import Expectation

    union = get_args(get_args(Expectation)[0])
    kinds = {get_args(m.model_fields["kind"].annotation)[0] for m in union}
    assert kinds == set(registered_kinds())


def test_tests_after_edit_is_unknown_when_the_commands_are_redacted(app, corpus):
    s = session_by_path(app, corpus, "codex/localpush/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl")
    r = grade(app, s, {"kind": "tests_after_edit"})
    assert r.skipped and r.data["unknown"], r.message  # neither a pass nor a false "no test command ran"
    assert r.message.startswith("unknown:") and "no test" not in r.message
    assert "[REDACTED_ARGUMENTS" in line_of(s.path, r.evidence_seq)
