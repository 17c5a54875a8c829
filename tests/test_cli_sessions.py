"""``sessionlens sessions``: a deleted log is marked (table and legend) and named in ``--json``; the
listing offers the web UI's filters (text, has-findings, sort) and a saved view applies all of them."""

from __future__ import annotations

import shutil

from sessionlens.cli import LOG_MISSING_MARK, SESSION_SORTS
from sessionlens.models.listing import SESSION_SORTS as MODEL_SORTS
from tests.cli_fixtures import run, run_json
from tests.services.helpers import index


def test_a_deleted_log_is_marked_and_still_opens(capsys, sample_logs, tmp_path):
    logs = tmp_path / "logs"
    shutil.copytree(sample_logs, logs)
    home = tmp_path / "home"
    index(home, logs)
    rows = run_json(capsys, "sessions", "--home", str(home), "--no-subagents", "--limit", "500")
    assert rows and not any(r["log_missing"] for r in rows)
    gone = rows[len(rows) // 2]
    (tmp_path / "x").mkdir()
    shutil.move(gone["path"], tmp_path / "x" / "moved-away.jsonl")  # deleted from where it was indexed
    rows = run_json(capsys, "sessions", "--home", str(home), "--no-subagents", "--limit", "500")
    assert [r["id"] for r in rows if r["log_missing"]] == [gone["id"]]
    rc, out, err = run(capsys, "sessions", "--home", str(home), "--no-subagents", "--limit", "500")
    assert rc == 0, err
    marked = [ln for ln in out.splitlines() if LOG_MISSING_MARK in ln]
    assert len(marked) == 2, out  # the session's row and the legend line
    assert marked[0].split()[2] == gone["id"][:12] + "…" or gone["id"][:8] in marked[0]
    assert "log file deleted (1 session)" in marked[1] and "opens from the store" in marked[1]
    # and it still opens, from the store
    rc, out, err = run(capsys, "show", gone["id"], "--home", str(home))
    assert rc == 0 and "log file deleted" in out, err


def test_no_marker_or_legend_when_every_log_is_there(capsys, sample_store):
    rc, out, _ = run(capsys, "sessions", "--home", str(sample_store))
    assert rc == 0 and LOG_MISSING_MARK not in out and "log file deleted" not in out


def test_filters_sorting_and_a_saved_view(capsys, sample_store):
    home = str(sample_store)
    everything = run_json(capsys, "sessions", "--home", home, "--limit", "1000")
    flagged = run_json(capsys, "sessions", "--home", home, "--limit", "1000", "--has-findings")
    assert flagged and [r["id"] for r in flagged] == [r["id"] for r in everything if r["findings"]]
    by_cost = run_json(capsys, "sessions", "--home", home, "--limit", "1000", "--sort", "cost")
    assert [r["cost_usd"] for r in by_cost] == sorted((r["cost_usd"] for r in everything), reverse=True)
    cheap = run_json(capsys, "sessions", "--home", home, "--limit", "3", "--sort", "cost", "--asc")
    assert [r["id"] for r in cheap] == [r["id"] for r in sorted(everything, key=lambda r: (r["cost_usd"], r["id"]))[:3]]
    word = next(r["title"] for r in everything if r["title"] and len(r["title"]) > 10)[2:9]
    hits = run_json(capsys, "sessions", "--home", home, "--limit", "1000", "--text", word)
    assert hits and all(word.lower() in " ".join(str(r[k] or "") for k in ("title", "id", "project", "path")).lower() for r in hits)
    # a saved view carries the web UI's filters (findings, sort, order) and the CLI applies every one
    agent = flagged[0]["agent"]
    rc, _, err = run(capsys, "views", "--home", home, "--save", "pricey", "--agent", agent, "--has-findings", "--sort", "cost", "--asc")
    assert rc == 0, err
    try:
        got = run_json(capsys, "sessions", "--home", home, "--limit", "1000", "--view", "pricey")
        want = sorted((r for r in flagged if r["agent"] == agent), key=lambda r: (r["cost_usd"], r["id"]))
        assert got and [r["id"] for r in got] == [r["id"] for r in want]
    finally:  # the sample store is shared by other tests
        assert run(capsys, "views", "--home", home, "--delete", "pricey")[0] == 0


def test_the_cli_offers_the_models_sort_keys():
    assert SESSION_SORTS == MODEL_SORTS
