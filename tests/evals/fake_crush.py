"""A tiny stand-in for `crush run {prompt}`: writes a real-schema Crush database into ./.crush/crush.db of
its working directory (WAL mode, rows left in the -wal), as Crush does."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
import uuid
from pathlib import Path


def main() -> int:
    prompt = sys.argv[1]
    Path(".crush").mkdir(exist_ok=True)
    db = sqlite3.connect(".crush/crush.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.executescript("""
        CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY, version_id INTEGER, is_applied INTEGER, tstamp TEXT);
        CREATE TABLE sessions (id TEXT PRIMARY KEY, parent_session_id TEXT, title TEXT NOT NULL, message_count INTEGER,
            prompt_tokens INTEGER, completion_tokens INTEGER, cost REAL, updated_at INTEGER, created_at INTEGER,
            summary_message_id TEXT);
        CREATE TABLE files (id TEXT PRIMARY KEY, session_id TEXT, path TEXT, content TEXT, version TEXT,
            created_at INTEGER, updated_at INTEGER);
        CREATE TABLE messages (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, role TEXT NOT NULL, parts TEXT NOT NULL,
            model TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, finished_at INTEGER, provider TEXT);
    """)
    now = int(time.time())
    sid = str(uuid.uuid4())
    db.execute("INSERT INTO sessions VALUES (?, NULL, ?, 2, 1200, 30, 0.01, ?, ?, NULL)", (sid, prompt[:40], now, now))
    db.execute(
        "INSERT INTO messages VALUES (?, ?, 'user', ?, '', ?, ?, NULL, NULL)",
        (str(uuid.uuid4()), sid, json.dumps([{"type": "text", "data": {"text": prompt}}]), now, now),
    )
    db.execute(
        "INSERT INTO messages VALUES (?, ?, 'assistant', ?, 'gpt-5', ?, ?, ?, 'openai')",
        (
            str(uuid.uuid4()),
            sid,
            json.dumps(
                [{"type": "text", "data": {"text": f"Done: {prompt}"}}, {"type": "finish", "data": {"reason": "end_turn", "time": now}}]
            ),
            now,
            now,
            now,
        ),
    )
    db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
