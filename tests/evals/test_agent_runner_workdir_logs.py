"""An agent that keeps its log inside the working directory (Crush's .crush/crush.db): the runner copies
it out of the case's worktree before removing it, so the case is indexed and graded."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from sessionlens.evals.agent_runner import run_dataset_agent
from sessionlens.evals.datasets import load_dataset
from tests.evals.conftest import make_app
from tests.evals.test_agent_runner import git_repo

FAKE_CRUSH = Path(__file__).with_name("fake_crush.py")


def test_project_local_database_is_kept_and_graded(tmp_path):
    ws = git_repo(tmp_path / "ws", "Be brief.\n")
    ds_path = tmp_path / "crush.dataset.jsonl"
    ds_path.write_text(
        "\n".join(
            json.dumps(x)
            for x in [
                {"dataset": {"name": "crushy", "agent": f"{sys.executable} {FAKE_CRUSH} {{prompt}}", "timeout_s": 30}},
                {"id": "hello", "prompt": "say hello to the wombat", "expect": [{"kind": "contains", "text": "Done:"}]},
            ]
        )
        + "\n"
    )
    app = make_app(tmp_path / "home")
    report = asyncio.run(run_dataset_agent(app, load_dataset(ds_path), workspace=str(ws)))
    [case] = report.subjects
    assert case.session_id and case.passed
    assert app.resolve_session(case.session_id).agent == "crush"
    assert "#" in case.path and case.path.split("#")[0].endswith("/crush/.crush/crush.db")
    assert not (ws / ".crush").exists()  # the agent ran in the case's worktree, not in the workspace
