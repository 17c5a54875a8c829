"""Store queries for the OTLP export: a session's billed requests, and what each endpoint has received."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sessionlens.store.db import Store

if TYPE_CHECKING:
    from sessionlens.models.store import SessionEvalResult


def fingerprint(store: Store, session_id: str, file_id: int) -> str:
    ev = store.conn.execute("SELECT count(*), coalesce(max(seq), 0) FROM events WHERE file_id=?", (file_id,)).fetchone() or (0, 0)
    us = store.conn.execute("SELECT count(*), coalesce(sum(output), 0) FROM usage WHERE session_id=?", (session_id,)).fetchone() or (0, 0)
    fi = store.conn.execute("SELECT count(*) FROM findings WHERE session_id=?", (session_id,)).fetchone() or (0,)
    er = store.conn.execute("SELECT count(*) FROM eval_results WHERE session_id=?", (session_id,)).fetchone() or (0,)
    return f"{ev[0]}:{ev[1]}:{us[0]}:{us[1]}:{fi[0]}:{er[0]}"


def export_marks(store: Store, endpoint: str) -> dict[str, str]:
    return {r[0]: r[1] for r in store.conn.execute("SELECT session_id, fingerprint FROM otlp_exports WHERE endpoint=?", (endpoint,))}


def mark_exported(store: Store, endpoint: str, marks: list[tuple[str, str, int]]) -> None:
    now = time.time()
    with store.conn:
        store.conn.executemany(
            """INSERT INTO otlp_exports(endpoint, session_id, fingerprint, spans, exported_at) VALUES(?,?,?,?,?)
               ON CONFLICT(endpoint, session_id) DO UPDATE SET fingerprint=excluded.fingerprint,
               spans=excluded.spans, exported_at=excluded.exported_at""",
            [(endpoint, sid, fp, n, now) for sid, fp, n in marks],
        )


def forget_exports(store: Store, endpoint: str) -> None:
    with store.conn:
        store.conn.execute("DELETE FROM otlp_exports WHERE endpoint=?", (endpoint,))


def eval_results(store: Store, session_id: str) -> list[SessionEvalResult]:
    """The eval results recorded for a session, with their run's suite and finish time."""
    from sessionlens.models.store import SessionEvalResult

    cols = ("run_id", "suite", "finished_at", "case_id", "check_id", "passed", "message")
    return [
        SessionEvalResult.from_dict(dict(zip(cols, r)))
        for r in store.conn.execute(
            """SELECT r.run_id, e.suite, coalesce(e.finished_at, e.started_at), r.case_id, r.check_id, r.passed, r.message
           FROM eval_results r JOIN eval_runs e ON e.id = r.run_id WHERE r.session_id=? ORDER BY r.run_id, r.rowid""",
            (session_id,),
        )
    ]
