"""``pytest -m perf tests/perf``: the benchmark harness end to end on a small corpus (not in the default run).

The full benchmark is ``python -m tests.perf.run``; this only checks that every benchmark runs and
reports its figures (no timing asserts).
"""

from __future__ import annotations

import json

import pytest

from tests.perf import run

pytestmark = pytest.mark.perf


def test_harness_reports_every_benchmark(tmp_path):
    out = tmp_path / "results.json"
    assert run.main(["--size", "4MB", "--big", "1MB", "--small-files", "50", "--work", str(tmp_path / "work"),
                     "--out", str(out), "--no-markdown", "--only", "index,rescan,search,lsp"]) == 0
    res = json.loads(out.read_text())
    assert res["index"]["events"] > 0 and res["index"]["cold_mb_per_s"] > 0
    assert res["index"]["warm_files_changed"] == 0
    assert len(res["index"]["cold_runs_seconds"]) == 3
    assert res["rescan"]["files"] == 50 and res["rescan"]["rescan_changed"] == 0
    assert res["search"]["samples"] == 30 * len(run.QUERIES)
    assert any(q["total"] > 0 for q in res["search"]["queries"])
    assert res["lsp"]["document_symbol_symbols"] > 0
    assert len(res["lsp"]["append_to_searchable_ms"]) == 5
    md = run.markdown(res)
    assert "# sessionlens performance" in md and md.count("## Notes") == 1 and "median of 3 cold runs" in md
