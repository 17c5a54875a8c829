"""Running an agent on a dataset (a fake agent that writes real Codex rollouts), including a timeout."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sessionlens.evals.agent_runner import build_command, run_dataset_agent
from sessionlens.evals.datasets import load_dataset
from sessionlens.evals.runner import SuiteError, history
from tests.evals.conftest import make_app

FAKE_AGENT = Path(__file__).with_name("fake_agent.py")


def git_repo(path: Path, agents: str) -> Path:
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "AGENTS.md").write_text(agents)
    (path / "README.md").write_text("demo\n")
    subprocess.run(["git", "-C", str(path), "add", "."], check=True)
    subprocess.run(["git", "-C", str(path), "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init"], check=True)
    return path


def write_dataset(path: Path) -> Path:
    lines = [
        {"dataset": {"name": "fake", "agent": f"{sys.executable} {FAKE_AGENT} {{prompt}}", "timeout_s": 30, "concurrency": 2}},
        {
            "id": "answer",
            "prompt": 'Add the answer module; it\'s "easy"',
            "expect": [
                {"kind": "contains", "text": "Done:"},
                {"kind": "no_tool_errors"},
                {"kind": "command", "pattern": "pytest", "id": "tested"},
                {"kind": "files_within", "globs": ["src/**"]},
            ],
        },
        {"id": "broken", "prompt": "BREAK the build", "expect": [{"kind": "no_tool_errors"}]},
        {"id": "slow", "prompt": "SLOW task", "timeout_s": 1, "expect": [{"kind": "contains", "text": "Done"}]},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return path


def test_dataset_run_with_fake_agent(tmp_path):
    ws = git_repo(tmp_path / "ws", "Be brief.\n")
    ds = load_dataset(write_dataset(tmp_path / "fake.dataset.jsonl"))
    app = make_app(tmp_path / "home")
    r1 = asyncio.run(run_dataset_agent(app, ds, workspace=str(ws)))
    by = {s.case_id: s for s in r1.subjects}
    assert r1.run_id and r1.suite == "dataset:fake" and r1.total == 3
    # the normal case: indexed, graded; no tests ran because AGENTS.md does not ask for them
    ans = by["answer"]
    assert ans.session_id and ans.path.startswith(str(app.home / "agent-runs"))
    res = {r.check_id: r for r in ans.results}
    assert res["contains:Done:"].passed and res["no_tool_errors"].passed and res["files_within"].passed
    assert not res["tested"].passed
    # the prompt reached the agent intact (shell quoting)
    assert app.db().turns(ans.session_id)[0].prompt == 'Add the answer module; it\'s "easy"'
    assert not by["broken"].passed and not by["broken"].results[0].passed
    assert "make build" in by["broken"].results[0].message
    assert by["slow"].error and "timed out" in by["slow"].error and not by["slow"].passed
    # worktrees are cleaned up
    wts = subprocess.run(["git", "-C", str(ws), "worktree", "list"], capture_output=True, text=True).stdout
    assert len(wts.strip().splitlines()) == 1
    # an edited (uncommitted) AGENTS.md is what the next run tests: now tests run -> "tested" is fixed
    (ws / "AGENTS.md").write_text("Always run tests before finishing.\n")
    r2 = asyncio.run(run_dataset_agent(app, ds, workspace=str(ws), timeout_s=20))
    assert r2.baseline_run_id == r1.run_id and r2.instructions_hash != r1.instructions_hash
    assert {(f["case_id"], f["check_id"]) for f in r2.fixed} == {("answer", "tested")}
    # and reverting it is a regression
    (ws / "AGENTS.md").write_text("Be brief.\n")
    r3 = asyncio.run(run_dataset_agent(app, ds, workspace=str(ws)))
    assert [(g["case_id"], g["check_id"]) for g in r3.regressions] == [("answer", "tested")]
    assert [r.id for r in history(app, "dataset:fake")] == [r3.run_id, r2.run_id, r1.run_id]


def test_dataset_run_needs_git_and_a_template(tmp_path):
    ds = load_dataset(write_dataset(tmp_path / "fake.dataset.jsonl"))
    app = make_app(tmp_path / "home")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(SuiteError, match="git repository"):
        asyncio.run(run_dataset_agent(app, ds, workspace=str(plain)))
    ds.header.agent = None
    with pytest.raises(SuiteError, match="no agent command"):
        asyncio.run(run_dataset_agent(app, ds, workspace=str(plain)))


def test_build_command_quotes_the_prompt():
    cmd = build_command("agent -p {prompt}", "it's $(rm -rf /)", workdir="/w", case_id="c")
    assert cmd == "agent -p 'it'\"'\"'s $(rm -rf /)'"
    with pytest.raises(SuiteError):
        build_command("agent", "x", workdir="/w", case_id="c")
