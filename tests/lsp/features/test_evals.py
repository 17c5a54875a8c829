"""Eval suites (``*.eval.json``) with a fake context: schema diagnostics, the run command, lenses."""

from __future__ import annotations

import json

import pytest

from sessionlens.lsp.commands import CommandNotFound
from sessionlens.lsp.features import evals


@pytest.fixture
def suite(indexed):
    p = indexed["root"] / "quality.eval.json"
    p.write_text(
        json.dumps(
            {
                "name": "unit-quality",
                "sessions": {"path": "**/*.jsonl"},
                "checks": [{"kind": "limit", "metric": "turns", "max": 1}],
            },
            indent=2,
        )
        + "\n"
    )
    return p


async def test_a_broken_suite_has_schema_diagnostics(ls, tmp_path):
    bad = tmp_path / "bad.eval.json"
    bad.write_text('{"name": "x", "checks": [{"kind": "no_such_check"}]}')
    ls.open(bad)
    diags = await evals.PROVIDER.diagnostics(ls, str(bad))
    assert diags and all(d.source == evals.SOURCE and d.code == "schema" for d in diags)


async def test_run_then_lenses_and_failing_check_diagnostics(ls, suite):
    ls.capabilities |= {("window", "work_done_progress"), ("workspace", "code_lens", "refresh_support")}
    lens = await evals.PROVIDER.code_lens(ls, str(suite))
    assert lens[0].command.title == "Run · never run" and lens[0].command.arguments == [{"file": str(suite)}]
    uri = ls.open(suite)
    res = await evals.run_evals.execute(ls, [{"file": str(suite)}])
    assert res["cancelled"] is False and res["suites"][0]["file"] == str(suite) and res["markdown"]
    assert ls.work_done_progress.kinds()[-1] == "end" and ls.lens_refreshes == 1
    failed = [d for d in ls.diagnostics_for(uri) if d.code == "check-failed"]
    assert failed and failed[0].data["check_id"] and failed[0].related_information
    lens = await evals.PROVIDER.code_lens(ls, str(suite))
    assert lens[0].command.title.startswith("Run · last run ")


async def test_a_missing_suite_file_is_not_found(ls, tmp_path):
    with pytest.raises(CommandNotFound, match="no such suite file"):
        await evals.run_evals.execute(ls, [{"file": str(tmp_path / "none.eval.json")}])


def test_only_suite_files_are_claimed(tmp_path):
    assert evals.PROVIDER.matches(str(tmp_path / "a.eval.json"))
    assert not evals.PROVIDER.matches(str(tmp_path / "a.json"))
    assert not evals.PROVIDER.matches(str(tmp_path / "AGENTS.md"))
