"""Findings follow their inputs: the rules' version, the project's coach config and the instruction files
re-coach the session logs they concern on the next pass, without re-parsing them."""

from __future__ import annotations

import json
import random
from pathlib import Path

from sessionlens.coach import rules
from sessionlens.samples.generator import DEFAULT_START, generate_codex_session
from tests.services.helpers import make_app


def _setup(tmp_path: Path):
    proj = tmp_path / "proj"
    (proj / ".git").mkdir(parents=True)
    logs = tmp_path / "logs"
    generate_codex_session(
        random.Random(5),
        path=logs / "rollout-2026-01-05T08-30-00-a.jsonl",
        start=DEFAULT_START,
        turns=2,
        cwd=str(proj),
        problems=("repeat_failure",),
    )
    return proj, logs


def _rules(app) -> list[str]:
    return sorted({f.rule_id for f in app.db().findings()})


def test_config_instructions_and_rules_version_recoach_without_reparsing(tmp_path, monkeypatch):
    proj, logs = _setup(tmp_path)
    app = make_app(tmp_path / "home")
    try:
        first = app.index([str(logs)])
        assert first.files_changed == 1
        assert "tool-error" in _rules(app) and "repeated-failure" in _rules(app)
        [ids_before] = [[f.id for f in app.db().findings()]]

        again = app.index([str(logs)])  # nothing changed: nothing re-coached
        assert again.files_recoached == 0 and [f.id for f in app.db().findings()] == ids_before

        # "Disable this rule for the project" writes .sessionlens.json: the next pass re-coaches
        (proj / ".sessionlens.json").write_text(json.dumps({"coach": {"rules": {"tool-error": {"enabled": False}}}}))
        st = app.index([str(logs)])
        assert st.files_recoached == 1 and st.bytes_parsed == 0 and st.files_changed == 0
        assert "tool-error" not in _rules(app) and "repeated-failure" in _rules(app)
        assert str(logs / "rollout-2026-01-05T08-30-00-a.jsonl") in st.changed_paths  # open editors refresh it

        # an instruction file appears: its guideline is checked against the session
        (proj / "AGENTS.md").write_text("# Rules\n\n- Stop after two identical failures. <!-- sessionlens: rule=repeated-failure -->\n")
        st = app.index([str(logs)])
        assert st.files_recoached == 1 and st.bytes_parsed == 0
        assert "guideline-violation" in _rules(app)

        # a new rules version re-coaches everything once
        monkeypatch.setattr(rules, "RULES_VERSION", rules.RULES_VERSION + 1)
        st = app.index([str(logs)])
        assert st.files_recoached == 1 and st.bytes_parsed == 0
        assert app.index([str(logs)]).files_recoached == 0
    finally:
        app.close()


def test_finding_lookup_by_id_past_ten_thousand(tmp_path):
    proj, logs = _setup(tmp_path)
    app = make_app(tmp_path / "home")
    try:
        app.index([str(logs)])
        db = app.db()
        [f] = db.findings(rule="repeated-failure")
        with db.conn:  # 10,000 other findings before it in every listing order
            fid = db.conn.execute("SELECT file_id FROM findings LIMIT 1").get
            db.conn.executemany(
                "INSERT INTO findings(file_id, session_id, seq, rule_id, severity, message) VALUES(?,?,?,?,?,?)",
                [(fid, f.session_id, 0, "tool-error", "warning", "padding") for _ in range(10_050)],
            )
        from sessionlens.services.coaching import CoachService

        last = db.conn.execute("SELECT max(id) FROM findings").get
        assert CoachService(app).finding(last).message == "padding"
        assert CoachService(app).finding(f.id).rule_id == "repeated-failure"
    finally:
        app.close()
