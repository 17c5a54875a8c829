"""``pytest -m perf tests/perf``: the benchmark harness end to end on small corpora (not in the default run).

The full benchmark is ``make perf`` (``python -m tests.perf.run``); this only checks that every benchmark
runs and reports its figures (no timing asserts).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.perf import corpus, run

pytestmark = pytest.mark.perf


def test_harness_reports_every_benchmark(tmp_path, monkeypatch):
    out = tmp_path / "results.json"
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{run.README_BEGIN}\nold table\n{run.README_END}\n\nafter\n")
    monkeypatch.setattr(run, "README", readme)
    monkeypatch.setattr(run, "RESULTS_MD", tmp_path / "RESULTS.md")
    monkeypatch.setattr(run, "SCALE_JSON", tmp_path / "scale.json")
    assert (
        run.main(
            [
                "--size",
                "4MB",
                "--big",
                "1MB",
                "--index-size",
                "3MB",
                "--rollout",
                "6MB",
                "--small-files",
                "50",
                "--cold-runs",
                "2",
                "--work",
                str(tmp_path / "work"),
                "--out",
                str(out),
                "--only",
                "shapes,index,main,rescan,search,lsp,rollout",
            ]
        )
        == 0
    )
    res = json.loads(out.read_text())
    assert res["index"]["events"] > 0 and res["index"]["cold_mb_per_s"] > 0
    assert res["index"]["warm_files_changed"] == 0
    assert res["rescan"]["files"] == 50 and res["rescan"]["rescan_changed"] == 0
    assert res["search"]["samples"] == 30 * len(run.QUERIES)
    assert any(q["total"] > 0 for q in res["search"]["queries"])
    assert res["lsp"]["document_symbol_symbols"] > 0
    assert len(res["lsp"]["append_to_searchable_ms"]) == 5
    # the three corpora, side by side: shapes and cold indexing with its baseline
    names = ["generated", "real-shaped"] + (["real"] if corpus.real_sources(corpus.corpus_path()) else [])
    for name in names:
        c = res["corpora"][name]
        assert len(c["cold_runs_seconds"]) == 2 and c["events_per_mb"] > 0 and c["cpu_seconds"] > 0
        assert c["decode_floor"]["mb_per_s"] > 0
        sh = res["shapes"][name]
        assert sh["line_p50"] <= sh["line_p90"] <= sh["line_p99"] <= sh["line_max"]
    assert res["shapes"]["real-shaped"]["share_image_lines"] > res["shapes"]["generated"]["share_image_lines"]
    assert res["rollout"]["document_symbol_symbols"] > 0 and res["rollout"]["peak_rss_mb"] > 0
    md = (tmp_path / "RESULTS.md").read_text()
    assert "# sessionlens performance" in md and md.count("## Notes") == 1 and "## Three corpora side by side" in md
    assert "| real-shaped |" in md and "Load average" in md
    text = readme.read_text()  # the README's table is rewritten between its markers, the rest kept
    assert "old table" not in text and text.endswith("after\n") and "| cold indexing, generated corpus |" in text


def test_real_copies_get_fresh_ids(tmp_path):
    src = corpus.corpus_path()
    if not corpus.real_sources(src):
        pytest.skip(f"no real corpus at {src}")
    facts = corpus.real_copies_corpus(
        tmp_path / "real", total_bytes=2 * sum(p.stat().st_size for _, p in corpus.real_sources(src)), corpus=src
    )
    assert facts["copies"] >= 2
    files = [Path(f) for f in facts["all_files"]]
    a = [f for f in files if "/c0000-" in str(f) or "-0000/" in str(f)]
    b = [f for f in files if "/c0001-" in str(f) or "-0001/" in str(f)]
    assert a and len(a) == len(b)
    ids_a = set(corpus._UUID.findall(b"".join(f.read_bytes() for f in a)))
    ids_b = set(corpus._UUID.findall(b"".join(f.read_bytes() for f in b)))
    assert ids_a and not ids_a & ids_b  # no session, message or call id shared between copies
    assert sum(f.stat().st_size for f in a) == sum(f.stat().st_size for f in b)  # same bytes otherwise
