"""The example suite and dataset under examples/evals run on the bundled sample logs."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sessionlens.evals.datasets import grade_recorded, load_dataset
from sessionlens.evals.runner import load_suite, run_suite
from sessionlens.samples.generator import sample_home
from tests.evals.conftest import make_app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "evals"


def test_examples_run_on_sample_logs(tmp_path):
    app = make_app(tmp_path / "home")
    app.index([str(sample_home(tmp_path / "samples"))])
    suite_file = EXAMPLES / "agent-quality.eval.json"
    rep = asyncio.run(run_suite(app, load_suite(suite_file), suite_path=str(suite_file), workspace=str(tmp_path)))
    assert rep.total == len(app.db().list_sessions(include_subagents=False)) > 5
    assert 0 < rep.passed < rep.total and rep.run_id
    counts = rep.check_counts()
    assert counts["no_secrets"][1] >= 1 and counts["rule_absent:repeated-failure"][1] >= 1  # the seeded problems show
    ds = load_dataset(EXAMPLES / "sample.dataset.jsonl")
    assert ds.header.agent == "codex exec {prompt}"
    drep = asyncio.run(grade_recorded(app, ds, workspace=str(tmp_path)))
    by = {s.case_id: s for s in drep.subjects}
    assert by["orders-pagination"].session_id and by["orders-pagination"].results[0].passed
    assert by["features-migration"].session_id
    assert by["not-recorded-yet"].error == "no recorded session answered this prompt"
    app.close()
