"""Compliance checks honour the project's coach configuration (test-command patterns, doc extensions), as the coach does."""

from __future__ import annotations

from sessionlens.coach.config import CoachConfig
from sessionlens.compliance.checker import _Facts, evaluate
from sessionlens.compliance.guidelines import parse_guidelines

RUN_TESTS = "# Rules\n\n- Always run the tests after changing code.\n"


def _check():
    (g,) = [g for g in parse_guidelines(RUN_TESTS, "/p/AGENTS.md") if g.checkable]
    return g.check


def _facts(commands, edits):
    return _Facts(commands=commands, tools=[], edits=edits, rule_hits={}, last_seq=max([s for s, _ in commands + edits] or [0]))


def test_a_project_test_command_counts_as_a_test_run():
    facts = _facts([(5, "just check-all")], [(3, ["src/app.py"])])
    assert evaluate(_check(), facts)[0] == "violated"  # the defaults do not know `just check-all`
    cfg = CoachConfig(test_command_patterns=[r"\bjust\s+check-all\b"])
    assert evaluate(_check(), facts, cfg)[0] == "followed"


def test_the_projects_doc_extensions_decide_what_needs_no_tests():
    facts = _facts([], [(3, ["notes/plan.org"])])
    assert evaluate(_check(), facts)[0] == "violated"  # .org is code by default
    cfg = CoachConfig(doc_file_extensions=[".org"])
    assert evaluate(_check(), facts, cfg)[0] == "not-applicable"
