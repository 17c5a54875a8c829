"""The transcript of a session that lives in a database reads right: its source is there (not "log
deleted"), events point at rows (no line to reveal), the agent is named by its label; an agent that
records no tokens shows them as unknown, never 0.  Hermetic: an OpenCode database built like
OpenCode's and a Cursor text transcript written here."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.agents.opencode.test_parser import build
from tests.services.render.conftest import make_app

CURSOR_TXT = "user:\n<user_query>\nrename the helper\n</user_query>\n\nassistant:\nDone: renamed it.\n"


def _workspace(root: Path) -> Path:
    db_dir = root / "logs" / "opencode"
    db_dir.mkdir(parents=True)
    conn = sqlite3.connect(db_dir / "opencode.db")
    build(conn)
    conn.commit()
    conn.close()
    txt = root / "logs" / "cursor" / "projects" / "p" / "agent-transcripts" / "0a1b2c3d-0000-4000-8000-000000000001.txt"
    txt.parent.mkdir(parents=True)
    txt.write_text(CURSOR_TXT)
    return root / "logs"


def test_database_and_untracked_sessions_read_right(tmp_path: Path):
    logs = _workspace(tmp_path)
    app = make_app(tmp_path / "home")
    try:
        app.index([str(logs)])
        rows = {s["id"]: s for s in app.sessions(workspace_only=False)}
        assert rows["ses_a"]["path"].endswith("opencode.db#ses_a")
        assert rows["ses_a"]["log_missing"] is False  # the database is there: not "log deleted"
        parts = app.render_session_parts("ses_a")
        assert parts["log_missing"] is False
        body = parts["body"]
        assert "no longer exists" not in body
        assert "<dt>Agent</dt><dd>OpenCode</dd>" in body
        assert 'class="sl-line sl-row"' in body
        assert 'class="sl-line" href' not in body  # a row has no raw line to reveal
        cursor = next(s for s in rows.values() if s["agent"] == "cursor")
        head = app.render_session_parts(cursor["id"])["body"]
        assert "tokens unknown" in head and "out 0" not in head.split("</header>")[0]
        assert "<dt>Agent</dt><dd>Cursor</dd>" in head
    finally:
        app.close()
    (logs / "opencode" / "opencode.db").unlink()
    app = make_app(tmp_path / "home")
    try:
        rows = {s["id"]: s for s in app.sessions(workspace_only=False)}
        assert rows["ses_a"]["log_missing"] is True  # the database is gone: now it is
    finally:
        app.close()
