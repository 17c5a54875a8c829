"""The guideline loop on a scripted git history: AGENTS.md gains a guideline at a commit, with generated
sessions before and after it."""

from __future__ import annotations

import math
import os

import pytest

from sessionlens.compliance.impact import (
    Side,
    appearances,
    fisher_exact,
    hover_markdown,
    impact_report,
    lens_text,
    significance,
)
from sessionlens.samples.guideline_history import ADDED, GUIDELINE, make_guideline_history
from sessionlens.services.app import App
from sessionlens.services.settings import Settings


@pytest.fixture
def history(tmp_path):
    h = make_guideline_history(tmp_path)
    app = App(Settings(storePath=str(tmp_path / "home"), includeHomeLogs=False))
    app.index([str(h.logs)])
    yield h, app
    app.close()


def _row(rep, text):
    return next(r for r in rep["rows"] if text in r["guideline"])


def test_fisher_exact_matches_known_values():
    # R: fisher.test(matrix(c(7,1,1,7),2))$p.value = 0.01010101
    assert math.isclose(fisher_exact(7, 1, 1, 7), 0.0101010101, rel_tol=1e-6)
    assert math.isclose(fisher_exact(3, 1, 1, 3), 0.4857142857, rel_tol=1e-6)
    assert fisher_exact(0, 0, 0, 0) == 1.0


def test_too_few_sessions_says_so():
    b, a = Side(applied=3, violated=3), Side(applied=9, violated=0)
    sig = significance(b, a)
    assert sig["p_value"] is None and "too few sessions" in sig["note"]


def test_appearance_from_git_history(history):
    h, _ = history
    when = appearances(str(h.agents_md), h.agents_md.read_text())
    g = next(k for k in when if "run the tests after every change" in k)
    assert when[g].how == "git" and when[g].date == "2026-02-03" and abs(when[g].ts - ADDED.timestamp()) < 1
    first = next(k for k in when if "keep functions small" in k)
    assert when[first].ts < when[g].ts


def test_before_and_after_figures(history):
    h, app = history
    rep = impact_report(app, str(h.agents_md))
    assert rep["sessions"] == 16
    row = _row(rep, GUIDELINE)
    b, a = row["before"], row["after"]
    assert (b["sessions"], b["applied"], b["violated"]) == (8, 8, 7)
    assert (a["sessions"], a["applied"], a["violated"]) == (8, 8, 1)
    assert b["repeated_failures"] == 7 and a["repeated_failures"] == 0
    assert b["tool_errors"] == 21 and a["tool_errors"] == 0  # 3 failing retries in each of 7 sessions
    assert (b["edit_sessions"], b["tested_sessions"]) == (8, 1) and (a["edit_sessions"], a["tested_sessions"]) == (8, 7)
    assert a["tokens"] < b["tokens"] and a["cost_usd"] < b["cost_usd"]
    assert row["changes"]["tool_errors"] == -1.0
    assert row["significance"]["p_value"] == pytest.approx(0.0101, abs=1e-4)
    assert lens_text(row) == "since added 2026-02-03: violated in 1 of 8 sessions (was 7 of 8); edits tested 12% → 88%"
    md = hover_markdown(row)
    assert "| violated | 7 of 8 | 1 of 8 |" in md and "| tool errors per session | 2.6 | 0.0 | −100% |" in md
    assert "Fisher's exact test p=0.010" in md and row["added"]["commit"] in md or row["added"]["commit"][:10] in md


def test_a_guideline_in_the_working_tree_only_counts_from_the_file_time(history):
    """What the coach's quick fix writes is tracked the same way: from when it was written."""
    h, app = history
    text = (
        h.agents_md.read_text() + "\n## Guidelines from sessionlens\n\n- Read the error before retrying. "
        "<!-- sessionlens: rule=repeated-failure -->\n"
    )
    h.agents_md.write_text(text)
    t = ADDED.timestamp() + 86400 * 10 - 60  # written just before the fourth session after the commit
    os.utime(h.agents_md, (t, t))
    row = _row(impact_report(app, str(h.agents_md)), "Read the error before retrying")
    assert row["added"]["how"] == "working-tree" and row["added"]["commit"] is None
    assert row["written_by_coach"]
    assert row["before"]["sessions"] == 11 and row["after"]["sessions"] == 5
    assert "(not committed)" in lens_text(row)


def test_retirement_suggested_when_never_violated_since(tmp_path):
    h = make_guideline_history(tmp_path, before=4, after=10, violated_before=4, violated_after=0)
    app = App(Settings(storePath=str(tmp_path / "home"), includeHomeLogs=False))
    try:
        app.index([str(h.logs)])
        row = _row(impact_report(app, str(h.agents_md)), GUIDELINE)
        assert row["after"]["violated"] == 0 and row["after"]["applied"] == 10 and row["retire"]
        assert "retire it?" in lens_text(row) and "retire it?" in hover_markdown(row)
        assert "too few sessions" in row["significance"]["note"]  # 4 before: no p-value
    finally:
        app.close()


def test_cli_rules_impact(tmp_path):
    import json

    from tests.services.helpers import cli_env, run_cli

    h = make_guideline_history(tmp_path / "w")
    env = cli_env(tmp_path / "userhome")
    env["SESSIONLENS_HOME"] = str(tmp_path / "store")
    assert run_cli("index", str(h.logs), env=env).returncode == 0
    r = run_cli("rules", "--impact", "--file", str(h.agents_md), env=env)
    assert r.returncode == 0, r.stderr
    assert "AGENTS.md:4  since added 2026-02-03: violated in 1 of 8 sessions (was 7 of 8); edits tested 12% → 88%" in r.stdout
    assert "Fisher's exact test p=0.010" in r.stdout
    row = next(line for line in r.stdout.splitlines() if line.lstrip().startswith("4 "))
    assert "7/8" in row and "1/8" in row and "−100%" in row
    j = run_cli("rules", "--impact", "--file", str(h.agents_md), "--json", env=env)
    rep = json.loads(j.stdout)
    g = next(x for x in rep["rows"] if x["line"] == h.guideline_line)
    assert g["before"]["violated"] == 7 and g["after"]["violated"] == 1 and g["added"]["date"] == "2026-02-03"
    missing = run_cli("rules", "--impact", "--file", str(tmp_path / "nope.md"), env=env)
    assert missing.returncode == 1 and "no such file" in missing.stderr


def test_a_session_at_an_older_commit_was_not_told(history):
    """The session's recorded git commit decides what the agent read: one started after the guideline's
    commit but checked out before it (an old branch) counts before."""
    import subprocess

    from sessionlens.samples.guideline_history import write_session

    h, app = history
    old = subprocess.run(["git", "-C", str(h.repo), "rev-parse", "HEAD~1"], capture_output=True, text=True).stdout.strip()
    new = subprocess.run(["git", "-C", str(h.repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    late = ADDED.replace(day=25)
    write_session(
        h.logs / "rollout-2026-02-25T09-00-00-old.jsonl",
        sid="00000000-0000-4000-8000-0000000c0001",
        start=late,
        cwd=str(h.repo),
        test_after_edit=False,
        commit=old,
    )
    write_session(
        h.logs / "rollout-2026-02-25T10-00-00-new.jsonl",
        sid="00000000-0000-4000-8000-0000000c0002",
        start=late.replace(hour=10),
        cwd=str(h.repo),
        test_after_edit=True,
        commit=new,
    )
    app.index([str(h.logs)])
    row = _row(impact_report(app, str(h.agents_md)), GUIDELINE)
    assert (row["before"]["sessions"], row["before"]["violated"]) == (9, 8)
    assert (row["after"]["sessions"], row["after"]["violated"]) == (9, 1)
