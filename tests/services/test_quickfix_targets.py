"""Quick-fix targets: the guideline goes where the session's agent reads instructions, inside the open
workspace folders only; a log naming any other folder gets a clear refusal, never a write elsewhere."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from sessionlens.samples.generator import DEFAULT_START, generate_claude_session, generate_codex_session
from sessionlens.services.coaching import CoachService, TargetRefused
from tests.services.helpers import make_app


def _app_with(tmp_path: Path, cwd: str, agent: str = "claude"):
    logs = tmp_path / "logs"
    gen = generate_claude_session if agent == "claude" else generate_codex_session
    name = "s.jsonl" if agent == "claude" else "rollout-2026-01-05T08-30-00-a.jsonl"
    gen(random.Random(2), path=logs / name, start=DEFAULT_START, turns=2, cwd=cwd, problems=("repeat_failure",))
    app = make_app(tmp_path / "home")
    app.index([str(logs)])
    return app


def _finding(app) -> dict:
    f = next(f for f in app.db().findings() if f.guideline)
    return CoachService(app).finding(f.id)


def test_guideline_goes_to_the_project_root_in_the_workspace(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "pkg" / "sub").mkdir(parents=True)
    app = _app_with(tmp_path, str(repo / "pkg" / "sub"))
    try:
        app.workspace_folders = [str(repo)]
        svc = CoachService(app)
        edit = svc.guideline_edit(_finding(app))
        assert edit.path == str(repo / "CLAUDE.md")  # the repository root: Claude reads it from any subfolder
        assert str(repo / "CLAUDE.md").replace(os.path.expanduser("~"), "~") in edit.title
        assert edit.title.startswith("Add guideline to ")
        dis = svc.disable_rule_edit(_finding(app))
        assert dis.path == str(repo / ".sessionlens.json")  # where the indexer reads the project's config
        # a workspace folder below the repository root: the outermost folder the agent reads in it
        app.workspace_folders = [str(repo / "pkg")]
        assert svc.guideline_edit(_finding(app)).path == str(repo / "pkg" / "CLAUDE.md")
        with pytest.raises(TargetRefused, match="project root"):
            svc.disable_rule_edit(_finding(app))  # a config there would not be read
    finally:
        app.close()


def test_codex_session_gets_agents_md(tmp_path):
    proj = tmp_path / "proj"
    (proj / ".git").mkdir(parents=True)
    app = _app_with(tmp_path, str(proj), agent="codex")
    try:
        app.workspace_folders = [str(proj)]
        assert CoachService(app).guideline_edit(_finding(app)).path == str(proj / "AGENTS.md")
    finally:
        app.close()


@pytest.mark.parametrize("case", ["elsewhere", "missing", "relative", "no-workspace", "symlink-out"])
def test_refuses_to_write_outside_the_workspace(tmp_path, case, monkeypatch):
    ws = tmp_path / "ws"
    ws.mkdir()
    outside = tmp_path / "outside"
    (outside / ".git").mkdir(parents=True)
    cwd = {
        "elsewhere": str(outside),
        "missing": "/nonexistent/alice/project",
        "relative": "proj",
        "no-workspace": str(ws),
        "symlink-out": str(ws),
    }[case]
    if case == "relative":
        (tmp_path / "proj").mkdir()
        monkeypatch.chdir(tmp_path)  # a relative cwd must not resolve against the server's own folder
    app = _app_with(tmp_path, cwd)
    try:
        app.workspace_folders = [] if case == "no-workspace" else [str(ws)]
        if case == "symlink-out":
            (ws / "CLAUDE.md").symlink_to(outside / "CLAUDE.md")
        svc = CoachService(app)
        finding = _finding(app)
        finding = finding.model_copy(update={"cwd": cwd})  # the store keeps what the log said
        with pytest.raises(TargetRefused) as err:
            svc.guideline_edit(finding)
        assert str(err.value)
        if case != "symlink-out":  # (its .sessionlens.json is a plain file in the workspace)
            with pytest.raises(TargetRefused):
                svc.disable_rule_edit(finding)
        assert not (outside / "CLAUDE.md").exists() and not (tmp_path / "proj" / "CLAUDE.md").exists()
    finally:
        app.close()
