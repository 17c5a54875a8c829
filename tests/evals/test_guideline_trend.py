"""The eval check kind `guideline_trend`: fails when a guideline stops being followed (scripted history)."""

from __future__ import annotations

from datetime import timedelta

from sessionlens.evals.models import EvalSuite
from sessionlens.evals.runner import run_suite_sync
from sessionlens.samples.guideline_history import ADDED, GUIDELINE, make_guideline_history, write_session
from tests.evals.conftest import make_app


def _run(app, **check):
    suite = EvalSuite.model_validate(
        {
            "name": "trend",
            "sessions": {"path": ["**/logs/*.jsonl"]},
            "checks": [{"kind": "guideline_trend", "guideline": GUIDELINE, "id": "t", **check}],
        }
    )
    report = run_suite_sync(app, suite, store=False)
    return {s.session_id: s.results[0] for s in report.subjects}


def test_guideline_trend_fails_when_the_guideline_stops_being_followed(tmp_path):
    h = make_guideline_history(tmp_path / "w", before=3, after=6, violated_before=3, violated_after=1)
    app = make_app(tmp_path / "home")
    try:
        app.index([str(h.logs)])
        res = _run(app, window=5)
        before = [r for sid, r in res.items() if "b0" in sid[-4:]]
        assert before and all(r.skipped for r in before)  # ran before the guideline existed
        after = {sid[-4:]: r for sid, r in res.items() if sid[-4] == "a"}
        assert after["a000"].passed is False and "violated in 1 of the last 1 session(s)" in after["a000"].message
        assert after["a005"].passed is True  # the last five (a001..a005) followed it
        assert "since it was added 2026-02-03" in after["a005"].message
        # the agent stops following it: the newest session violates it again
        late = ADDED + timedelta(days=40)
        write_session(
            h.logs / f"rollout-{late:%Y-%m-%dT%H-%M-%S}-late.jsonl",
            sid="00000000-0000-4000-8000-00000000c001",
            start=late,
            cwd=str(h.repo),
            test_after_edit=False,
        )
        app.index([str(h.logs)])
        res = _run(app, window=5)
        latest = res["00000000-0000-4000-8000-00000000c001"]
        assert latest.passed is False and latest.evidence_seq and "latest: session 00000000 line" in latest.message
        assert _run(app, window=5, max_violations=1)["00000000-0000-4000-8000-00000000c001"].passed
    finally:
        app.close()
