"""Pricing overrides in $SESSIONLENS_HOME/config.json re-price stored usage (`sessionlens cost --reprice`)."""

import json
import shutil

from sessionlens.services.app import App
from sessionlens.services.settings import Settings

CODEX = "codex/localpush/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl"


def test_override_reprices_and_unknown_model_is_not_zero(corpus, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copyfile(corpus / CODEX, ws / "r.jsonl")
    home = tmp_path / "home"
    app = App(Settings(storePath=str(home), includeHomeLogs=False))
    app.index([str(ws)])
    base = app.cost_report("model")
    row = next(r for r in base["rows"] if r["model"] == "gpt-5.3-codex")
    assert row["cost_usd"] > 0 and row["unpriced_requests"] == 0
    (home / "config.json").write_text(
        json.dumps(
            {
                "pricing": {
                    "overrides": {
                        "gpt-5.3-codex": {"input_cost_per_token": 1e-5, "output_cost_per_token": 2e-5, "cache_read_input_token_cost": 1e-6}
                    }
                }
            }
        )
    )
    app2 = App(Settings(storePath=str(home), includeHomeLogs=False))
    app2.reprice()
    r2 = next(r for r in app2.cost_report("model")["rows"] if r["model"] == "gpt-5.3-codex")
    expected = r2["input"] * 1e-5 + r2["cache_read"] * 1e-6 + r2["output"] * 2e-5
    assert abs(r2["cost_usd"] - expected) < 1e-6
    # a model missing from the table is reported as unpriced, never as $0 silently
    app2.db().conn.execute("UPDATE usage SET model='totally-new-model'")
    app2.reprice()
    r3 = app2.cost_report("model")["rows"][0]
    assert r3["model"] == "totally-new-model" and r3["unpriced_requests"] == r3["requests"] > 0
