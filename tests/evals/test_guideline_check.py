"""The eval check kind `guideline_followed`: suites can require an AGENTS.md guideline to be followed."""

from sessionlens.evals.models import EvalSuite
from sessionlens.evals.runner import run_suite_sync
from tests.compliance.conftest import AGENTS_MD, CRUD, IMAGES, copy_log, make_app


def test_guideline_followed_pass_fail_and_not_applicable(tmp_path, corpus):
    ws = tmp_path / "ws"
    images = copy_log(corpus, IMAGES, ws / "logs")
    crud = copy_log(corpus, CRUD, ws / "logs")
    (ws / "AGENTS.md").write_text(AGENTS_MD)
    app = make_app(tmp_path)
    app.index([str(ws / "logs")])
    suite = EvalSuite.model_validate(
        {
            "name": "guidelines",
            "sessions": {"path": ["**/logs/*.jsonl"]},
            "checks": [
                {"kind": "guideline_followed", "guideline": "no-commit", "id": "commit"},
                {"kind": "guideline_followed", "guideline": "Use `rg` instead of `grep`.", "id": "rg"},
                {"kind": "guideline_followed", "guideline": "no-commit", "required": True, "id": "strict"},
            ],
        }
    )
    report = run_suite_sync(app, suite, store=False)
    by_session = {s.path or s.session_id: {r.check_id: r for r in s.results} for s in report.subjects}
    img = next(v for k, v in by_session.items() if "images" in str(k) or k == app.session_for_path(str(images)).id)
    crd = next(v for k, v in by_session.items() if "crud" in str(k) or k == app.session_for_path(str(crud)).id)
    assert img["commit"].passed is False and img["commit"].evidence_seq
    assert "git commit" in images.read_text().split("\n")[img["commit"].evidence_seq - 1]
    assert img["rg"].passed is True
    assert crd["commit"].passed is True  # did not apply: passes unless required
    assert crd["strict"].passed is False
