"""Selectors, suite validation with positions, history and regression detection across runs."""

from __future__ import annotations

import asyncio
import json

import pytest

from sessionlens.evals import jsonpos
from sessionlens.evals.models import EvalSuite, SessionSelector
from sessionlens.evals.runner import (
    SuiteError,
    history,
    load_suite,
    run_suite,
    validate_suite_text,
)
from sessionlens.evals.selectors import select_sessions
from sessionlens.services.app import NotFound
from tests.evals.conftest import CLAUDE_MAIN, CLAUDE_TOOLS, CODEX_CRUD, session_by_path


def sel(app, **kw):
    return select_sessions(app, SessionSelector(**kw))


def test_selectors(app, corpus):
    everything = sel(app)
    assert all(s.parent_session_id is None for s in everything)
    assert len(sel(app, include_subagents=True)) > len(everything)
    codex = sel(app, agent="codex")
    assert codex and all(s.agent == "codex" for s in codex)
    assert {s.path for s in sel(app, model="gpt-5.2*")} == {
        str(corpus / "codex/agentlogs/crud.jsonl"),
        str(corpus / "codex/agentlogs/images.jsonl"),
    }
    spotter = sel(app, path="**/spotter/*.jsonl")
    assert spotter and all("/spotter/" in s.path for s in spotter)
    assert {s.project for s in sel(app, project="spotter")} == {"/home/marco/projects/spotter"}
    latest = sel(app, latest=2)
    assert [s.id for s in latest] == [s.id for s in everything[:2]]
    assert latest[0].started_at >= latest[1].started_at
    old = sel(app, until="2025-12-31")
    assert old and all(s.started_at < 1767225600 + 86400 for s in old)
    assert not {s.id for s in old} & {s.id for s in sel(app, since="2026-01-01")}
    crud = session_by_path(app, corpus, CODEX_CRUD)
    assert [s.id for s in sel(app, ids=[crud.id[:10]])] == [crud.id]
    with pytest.raises(NotFound):
        sel(app, ids=["no-such-session"])


def test_validate_suite_text_points_at_the_problem():
    text = '{\n  "name": "x",\n  "checks": [\n    {"kind": "command", "pattern": "("},\n    {"kind": "limit", "metric": "turns"}\n  ]\n}\n'
    suite, problems = validate_suite_text(text)
    assert suite is None and len(problems) == 2
    lines = sorted(jsonpos.position(text, p.start)[0] for p in problems)
    assert lines == [3, 4]
    assert any("regular expression" in p.message for p in problems)
    assert any("max" in p.message for p in problems)
    suite, problems = validate_suite_text('{"name": "x", "checks": [}')
    assert suite is None and "invalid JSON" in problems[0].message
    suite, problems = validate_suite_text('{"name": "x", "checks": [{"kind": "rule_absent", "rule": "nope"}]}')
    assert suite is not None and problems[0].severity == "warning"


def test_load_suite_errors(tmp_path):
    f = tmp_path / "bad.eval.json"
    f.write_text('{"name": "x", "checks": [{"kind": "wat"}]}')
    with pytest.raises(SuiteError, match=r"bad.eval.json:1:\d+: checks.0"):
        load_suite(f)
    with pytest.raises(SuiteError, match="cannot read"):
        load_suite(tmp_path / "missing.eval.json")


def _suite(name, ids, checks):
    return EvalSuite.model_validate({"name": name, "sessions": {"ids": ids}, "checks": checks})


def test_history_and_regressions(app, corpus, tmp_path):
    crud = session_by_path(app, corpus, CODEX_CRUD).id
    tools = session_by_path(app, corpus, CLAUDE_TOOLS).id
    main = session_by_path(app, corpus, CLAUDE_MAIN).id
    ws = str(tmp_path)
    turns_ok = {"kind": "limit", "metric": "turns", "max": 5, "id": "turns"}
    turns_bad = {"kind": "limit", "metric": "turns", "max": 1, "id": "turns"}
    errors = {"kind": "no_tool_errors"}
    r1 = asyncio.run(run_suite(app, _suite("hist", [crud, tools], [turns_ok, errors]), workspace=ws))
    assert r1.ok and r1.run_id and r1.baseline_run_id is None and r1.regressions == []
    # same sessions, the turn budget tightened: tool_heavy (2 turns) now fails -> regression on the same session
    r2 = asyncio.run(run_suite(app, _suite("hist", [crud, tools], [turns_bad, errors]), workspace=ws))
    assert not r2.ok and r2.baseline_run_id == r1.run_id
    assert [(g["check_id"], g["session_id"]) for g in r2.regressions] == [("turns", tools)]
    assert r2.regressions[0]["reason"] == "passed in the baseline"
    # a new session failing a check that never failed before is a regression too
    r3 = asyncio.run(run_suite(app, _suite("hist", [crud, tools, main], [turns_bad, errors]), workspace=ws))
    assert r3.baseline_run_id == r2.run_id
    assert {(g["check_id"], g["session_id"]) for g in r3.regressions} == {("no_tool_errors", main)}
    # against the pinned first run, the back-to-passing turn check is "fixed"
    app.db().pin_eval_run("hist", r1.run_id)
    r4 = asyncio.run(run_suite(app, _suite("hist", [crud, tools], [turns_ok, errors]), workspace=ws))
    assert r4.baseline_run_id == r1.run_id and r4.regressions == []
    r5 = asyncio.run(run_suite(app, _suite("hist", [crud, tools], [turns_bad, errors]), workspace=ws, baseline_run_id=r4.run_id))
    assert r5.baseline_run_id == r4.run_id and len(r5.regressions) == 1
    runs = history(app, "hist")
    assert [r.id for r in runs] == [r5.run_id, r4.run_id, r3.run_id, r2.run_id, r1.run_id]
    assert runs[-1].pinned and runs[0].summary["regressions"] == 1
    stored = app.db().eval_results(r2.run_id)
    bad = next(x for x in stored if x.session_id == tools and x.check_id == "turns")
    assert not bad.passed and bad.evidence_seq and bad.data["path"].endswith("tool_heavy.jsonl")


def test_run_records_workspace_facts(app, corpus, tmp_path):
    import subprocess

    ws = tmp_path / "repo"
    ws.mkdir()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    (ws / "AGENTS.md").write_text("Run the tests.\n")
    subprocess.run(["git", "-C", str(ws), "add", "."], check=True)
    subprocess.run(["git", "-C", str(ws), "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init"], check=True)
    suite_file = ws / "a.eval.json"
    crud = session_by_path(app, corpus, CODEX_CRUD).id
    suite_file.write_text(json.dumps({"name": "facts", "sessions": {"ids": [crud]}, "checks": [{"kind": "no_secrets"}]}))
    r1 = asyncio.run(run_suite(app, load_suite(suite_file), suite_path=str(suite_file)))
    head = subprocess.run(["git", "-C", str(ws), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert r1.git_commit == head and r1.instructions_hash
    (ws / "AGENTS.md").write_text("Run the tests. Always.\n")
    r2 = asyncio.run(run_suite(app, load_suite(suite_file), suite_path=str(suite_file)))
    assert r2.instructions_hash != r1.instructions_hash
    assert history(app, "facts")[0].instructions_hash == r2.instructions_hash


def test_cancel_stops_the_run_and_records_nothing(app, corpus):
    import threading

    cancel = threading.Event()
    cancel.set()
    r = asyncio.run(
        run_suite(app, EvalSuite.model_validate({"name": "cancelled", "checks": [{"kind": "no_secrets"}]}), workspace="/", cancel=cancel)
    )
    assert r.cancelled and not r.ok and r.run_id is None
    assert history(app, "cancelled") == []
