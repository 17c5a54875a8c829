"""Copilot CLI through the registry and the store, hermetic: a session folder (events.jsonl + workspace.yaml)
is detected by content, indexed, grows (read from its offset), and its lower-bound flag follows the log."""

from __future__ import annotations

from pathlib import Path

from sessionlens import agents
from tests.agents.copilot.test_parser import SID, data_of, session_lines
from tests.services.helpers import make_app


def test_session_folder_indexes_grows_and_closes(tmp_path: Path):
    folder = tmp_path / "copilot" / "session-state" / SID
    folder.mkdir(parents=True)
    (folder / "workspace.yaml").write_text(f"id: {SID}\ncwd: /w/p\nsummary: Fix the flaky tests\n")
    lines = session_lines()
    log = folder / "events.jsonl"
    log.write_bytes(data_of(lines[:11]))  # two segments, the second still open (no shutdown yet)
    assert agents.detect(str(log), log.read_bytes()).name == "copilot"
    app = make_app(tmp_path / "home")
    try:
        app.index([str(tmp_path / "copilot")])
        [s] = app.sessions(agent="copilot", workspace_only=False)
        assert (s["id"], s["title"], s["turns"]) == (SID, "Fix the flaky tests", 2)
        assert s["tokens"] == 1000 + 150 + 30 and s["usage_lower_bound"] is True
        with open(log, "ab") as fh:  # the CLI exits: the second segment's shutdown arrives
            fh.write(data_of(lines[11:12]))
        stats = app.index([str(tmp_path / "copilot")])
        assert stats.files_changed == 1 and stats.bytes_parsed == len(data_of(lines[11:12]))
        [s] = app.sessions(agent="copilot", workspace_only=False)
        assert s["tokens"] == 1000 + 150 + 400 + 40 and s["usage_lower_bound"] is False
        assert s["cost_known"] is True and s["cost_usd"] > 0
    finally:
        app.close()
