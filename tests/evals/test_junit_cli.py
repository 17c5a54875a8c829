"""JUnit output structure and the `sessionlens eval` CLI (exit codes, JSON, history)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from sessionlens.cli import main
from sessionlens.evals.checks import CheckResult
from sessionlens.evals.junit import to_junit
from sessionlens.evals.runner import RunReport, SubjectResult
from tests.evals.conftest import CLAUDE_MAIN, CODEX_CRUD, session_by_path


def _validate(xml: str) -> ET.Element:
    """The JUnit structure CI tools read (the Jenkins/Ant junit schema essentials)."""
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for suite in root:
        assert suite.tag == "testsuite" and suite.get("name")
        children = list(suite)
        cases = [c for c in children if c.tag == "testcase"]
        assert all(c.tag in ("testcase", "properties") for c in children)
        assert [c.tag for c in children if c.tag == "properties"] == [] or children[0].tag == "properties"
        counts = {"tests": len(cases), "failures": 0, "errors": 0, "skipped": 0}
        for c in cases:
            assert c.get("name") and c.get("classname") and float(c.get("time")) >= 0
            kids = [k.tag for k in c]
            assert len(kids) <= 1 and set(kids) <= {"failure", "error", "skipped"}
            for k in c:
                assert k.get("message") is not None
                counts[{"failure": "failures", "error": "errors", "skipped": "skipped"}[k.tag]] += 1
        for k, v in counts.items():
            assert int(suite.get(k)) == v, (k, suite.attrib)
        float(suite.get("time"))
        for k in totals:
            totals[k] += counts[k]
    for k, v in totals.items():
        assert int(root.get(k)) == v
    return root


def test_junit_structure():
    rep = RunReport(suite="s<&>", started_at=1.0, finished_at=2.5, run_id=7, baseline_run_id=6, regressions=[{"check_id": "a"}])
    rep.subjects = [
        SubjectResult(
            "sid1",
            [CheckResult("a", "no_secrets", True, "fine"), CheckResult("b", "limit", False, 'too "big" <x>', 12)],
            path="/logs/x.jsonl",
        ),
        SubjectResult("sid2", [CheckResult("a", "no_secrets", True, "n/a", skipped=True)]),
        SubjectResult(None, [], case_id="slow", error="timed out"),
    ]
    root = _validate(to_junit([rep, RunReport(suite="empty")]))
    s = root[0]
    assert s.get("name") == "s<&>" and s.get("failures") == "1" and s.get("errors") == "1" and s.get("skipped") == "1"
    props = {p.get("name"): p.get("value") for p in s.find("properties")}
    assert props["regressions"] == "1" and props["baseline_run_id"] == "6"
    fail = s.find("testcase[@name='b']/failure")
    assert fail.get("message") == 'too "big" <x>' and "/logs/x.jsonl:12" in fail.text
    assert root[1].get("tests") == "0"


def test_cli_run_junit_json_history(indexed, corpus, tmp_path, capsys):
    from tests.evals.conftest import make_app

    app = make_app(indexed)
    crud = session_by_path(app, corpus, CODEX_CRUD).id
    main_s = session_by_path(app, corpus, CLAUDE_MAIN).id
    app.close()
    suite = tmp_path / "ci.eval.json"
    suite.write_text(json.dumps({"name": "ci", "sessions": {"ids": [crud]}, "checks": [{"kind": "no_tool_errors"}]}))
    junit = tmp_path / "out" / "junit.xml"
    home = ["--home", str(indexed)]
    assert main([*home, "eval", "run", str(suite), "--junit", str(junit), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["runs"][0]["summary"]["passed"] == 1
    _validate(junit.read_text())
    # a failing session: exit 1; with a regression and --fail-on-regression on a passing suite: exit 3
    suite.write_text(json.dumps({"name": "ci", "sessions": {"ids": [crud, main_s]}, "checks": [{"kind": "no_tool_errors"}]}))
    assert main([*home, "eval", "run", str(suite)]) == 1
    text = capsys.readouterr().out
    assert "ci: 1/2 passed" in text and "regression" in text
    suite.write_text(
        json.dumps({"name": "ci", "required_pass_rate": 0.5, "sessions": {"ids": [crud, main_s]}, "checks": [{"kind": "no_tool_errors"}]})
    )
    assert main([*home, "eval", "pin", "ci", str(out["runs"][0]["run_id"])]) == 0
    assert main([*home, "eval", "run", str(suite), "--fail-on-regression"]) == 3
    assert main([*home, "eval", "run", str(suite)]) == 0
    capsys.readouterr()
    assert main([*home, "eval", "history", "ci", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert len(runs) == 4 and runs[-1]["pinned"]
    assert main([*home, "eval", "history", "ci"]) == 0
    assert "(pinned)" in capsys.readouterr().out
    # an invalid suite is one clear error line and exit 1
    bad = tmp_path / "bad.eval.json"
    bad.write_text('{"name": "x"}')
    assert main([*home, "eval", "run", str(bad)]) == 1
    assert "checks: Field required" in capsys.readouterr().err
