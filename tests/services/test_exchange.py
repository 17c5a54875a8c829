"""Export -> import round trip into an empty store reproduces sessions, events, tokens and cost
exactly; importing twice changes nothing; CSV tables; a foreign file is refused."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from sessionlens import cli
from sessionlens.coach.redact import redact
from tests.cli_fixtures import PLANTED_KEY, run, run_json
from tests.services.helpers import make_app, snapshot


@pytest.fixture(scope="module")
def bundle(sample_store, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "all.jsonl"
    assert cli.main(["export", "--all", "--format", "jsonl", "-o", str(out), "--home", str(sample_store)]) == 0
    return out


def test_the_export_is_versioned_redacted_jsonl(bundle):
    lines = [json.loads(ln) for ln in bundle.read_text().splitlines()]
    head = lines[0]
    assert head["type"] == "header" and head["format"] == "sessionlens-export" and head["version"] == 1 and head["redacted"]
    assert {ln["type"] for ln in lines[1:]} == {"session", "turn", "event", "usage", "finding"}
    assert head["sessions"] == sum(ln["type"] == "session" for ln in lines)
    assert PLANTED_KEY[:20] not in bundle.read_text() and "[REDACTED:anthropic_key]" in bundle.read_text()
    import jsonschema

    from sessionlens.schemas import generate

    schema = json.loads(generate()["export-record.schema.json"])
    v = jsonschema.Draft202012Validator(schema)
    for ln in lines:
        v.validate(ln)


def _sessions(home):
    app = make_app(home)
    try:
        rows = app.sessions(limit=100_000, workspace_only=False)
        db = app.db()
        out = {}
        for r in rows:
            ev = [e.model_dump(mode="json") for e in db.events(r["file_id"])]
            out[r["id"]] = {
                "session": {
                    k: r[k]
                    for k in (
                        "agent",
                        "cwd",
                        "project",
                        "title",
                        "started_at",
                        "ended_at",
                        "turns",
                        "events",
                        "parent_session_id",
                        "agent_id",
                        "models",
                        "tokens",
                        "cost_usd",
                        "cost_known",
                    )
                },
                "events": ev,
                "turns": [t.model_dump(mode="json") for t in db.turns(r["id"])],
                "totals": db.session_totals([r["id"]]),
                "findings": sorted((f.seq, f.rule_id, f.message) for f in db.findings(session_id=r["id"])),
            }
        return out, app.cost_report("model")
    finally:
        app.close()


def test_round_trip_into_an_empty_store_is_exact(bundle, sample_store, tmp_path, capsys):
    target = tmp_path / "empty"
    d = run_json(capsys, "import", str(bundle), "--home", str(target))
    assert d["imported"] > 5 and d["skipped"] == 0
    (orig, orig_cost), (back, back_cost) = _sessions(sample_store), _sessions(target)
    assert orig.keys() == back.keys()
    for sid in orig:
        o, b = orig[sid], back[sid]
        assert b["session"] == {**o["session"], "title": redact(o["session"]["title"]) if o["session"]["title"] else None}, sid
        assert b["totals"] == o["totals"], sid
        assert b["turns"] == json.loads(json.dumps(o["turns"]).replace(PLANTED_KEY, "[REDACTED:anthropic_key]")) or b["turns"] == o["turns"]
        assert len(b["events"]) == len(o["events"])
        for eo, eb in zip(o["events"], b["events"]):
            red = json.loads(json.dumps(eo).replace(PLANTED_KEY, "[REDACTED:anthropic_key]"))
            assert eb == red or eb == eo, (sid, eo["seq"])
        assert b["findings"] == o["findings"] or len(b["findings"]) == len(o["findings"])
    assert back_cost == orig_cost  # tokens and dollars, per model, exactly
    by_day = [{k: v for k, v in r.items() if k != "days"} for r in run_json(capsys, "cost", "--by", "day", "--home", str(target))["rows"]]
    assert by_day == [
        {k: v for k, v in r.items() if k != "days"} for r in run_json(capsys, "cost", "--by", "day", "--home", str(sample_store))["rows"]
    ]
    rows = run_json(capsys, "sessions", "--home", str(target), "--limit", "1000")
    assert rows and all(r["imported"] and r["uri"] is None for r in rows)
    hits = run_json(capsys, "search", "pytest", "--home", str(target))
    assert hits["total"] > 0  # imported sessions are searchable


def test_importing_twice_changes_nothing(bundle, tmp_path, capsys):
    target = tmp_path / "twice"
    first = run_json(capsys, "import", str(bundle), "--home", str(target))
    before = snapshot(target)
    again = run_json(capsys, "import", str(bundle), "--home", str(target))
    assert again["imported"] == 0 and again["skipped"] == first["imported"]
    assert snapshot(target) == before
    rc, out, _ = run(capsys, "import", str(bundle), "--home", str(target))
    assert rc == 0 and out.startswith(f"Imported 0 sessions (0 events) from {bundle}; {first['imported']} already in the store")


def test_importing_into_the_store_it_came_from_skips_everything(bundle, sample_store, capsys):
    d = run_json(capsys, "import", str(bundle), "--home", str(sample_store))
    assert d["imported"] == 0 and d["skipped"] > 5


@pytest.mark.parametrize(
    "text, needle",
    [
        ("hello\n", "line 1 is not JSON"),
        ('{"type": "event"}\n', "not a sessionlens JSON Lines export"),
        ('{"type": "header", "format": "sessionlens-export", "version": 99}\n', "version 99 is newer"),
    ],
)
def test_a_foreign_file_is_refused_in_one_line(tmp_path, capsys, text, needle):
    f = tmp_path / "x.jsonl"
    f.write_text(text)
    rc, out, err = run(capsys, "import", str(f), "--home", str(tmp_path / "h"))
    assert rc == cli.EXIT_ERROR and out == "" and needle in err and len(err.strip().splitlines()) == 1


def test_csv_tables(sample_store, capsys):
    rows = run_json(capsys, "sessions", "--home", str(sample_store), "--limit", "1000")
    sid = max(rows, key=lambda r: r["events"])["id"]
    for table, cols in (("events", "seq"), ("commands", "exit_code"), ("usage", "cost_usd")):
        rc, out, _ = run(capsys, "export", sid, "--format", "csv", "--table", table, "--home", str(sample_store))
        assert rc == 0
        data = list(csv.DictReader(io.StringIO(out)))
        assert data and cols in data[0] and all(r["session_id"] == sid for r in data)
    cmds = list(
        csv.DictReader(io.StringIO(run(capsys, "export", sid, "--format", "csv", "--table", "commands", "--home", str(sample_store))[1]))
    )
    assert any(r["exit_code"] not in ("", "0") for r in cmds) or any(r["duration_ms"] for r in cmds)
    usage = list(
        csv.DictReader(io.StringIO(run(capsys, "export", sid, "--format", "csv", "--table", "usage", "--home", str(sample_store))[1]))
    )
    total = run_json(capsys, "cost", "--by", "session", "--home", str(sample_store))
    want = next(r for r in total["rows"] if r["session"] == sid)
    assert round(sum(float(u["cost_usd"] or 0) for u in usage), 6) == pytest.approx(want["cost_usd"], abs=1e-6)
    assert sum(int(u["output"]) for u in usage) == want["output"]


def test_selection_exports(sample_store, capsys):
    rows = run_json(capsys, "sessions", "--home", str(sample_store), "--agent", "codex", "--limit", "1000")
    rc, out, _ = run(capsys, "export", "--agent", "codex", "--format", "jsonl", "--home", str(sample_store))
    assert rc == 0
    sess = [json.loads(ln) for ln in out.splitlines() if '"type": "session"' in ln]
    assert sorted(s["session"]["id"] for s in sess) == sorted(r["id"] for r in rows)
    rc, out, _ = run(capsys, "export", rows[0]["id"], "--home", str(sample_store))
    assert rc == 0 and out.startswith("#")
