"""Reading a Go-OpenCode ``.opencode/opencode.db`` or Crush ``.crush/crush.db`` (read-only SELECTs on the
registry's private snapshot connection; never the agent's own file)."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from sessionlens.agents.opencode_go.parser import CRUSH, OPENCODE_GO, parse_session
from sessionlens.models.session import ParseProblem, ParseResult

TABLES = frozenset({"sessions", "messages", "files"})


def _rows(db: sqlite3.Connection, sql: str, args: tuple = ()) -> list[dict[str, Any]]:
    cur = db.execute(sql, args)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur]


def flavour(db: sqlite3.Connection) -> str | None:
    """``"crush"``, ``"opencode-go"`` or None (not such a database).  Crush's ``messages`` table has a
    ``provider`` column the Go OpenCode never had; both are goose-migrated (``goose_db_version``)."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not TABLES <= tables or "goose_db_version" not in tables:
        return None
    cols = {r[1] for r in db.execute("PRAGMA table_info(messages)")}
    if not {"session_id", "role", "parts"} <= cols:
        return None
    return CRUSH if "provider" in cols else OPENCODE_GO


def members(db: sqlite3.Connection) -> list[tuple[str, str]]:
    out = []
    for sid, upd, count, pt, ct, cost, msgs in db.execute(
        """SELECT s.id, s.updated_at, s.message_count, s.prompt_tokens, s.completion_tokens, s.cost,
                  (SELECT count(*) || ':' || coalesce(max(updated_at), 0) FROM messages m WHERE m.session_id = s.id)
             FROM sessions s ORDER BY s.created_at, s.id"""
    ):
        if isinstance(sid, str) and sid:
            out.append((sid, f"{upd}|{count}|{pt}|{ct}|{cost}|{msgs}"))
    return out


def project_dir(container: str) -> str | None:
    """The project folder of a project-local database: the parent of ``.opencode`` / ``.crush``."""
    folder = os.path.dirname(os.path.abspath(container))
    if os.path.basename(folder) in (".opencode", ".crush"):
        return os.path.dirname(folder)
    return None


def parse_member(db: sqlite3.Connection, key: str, path: str, agent: str | None = None) -> ParseResult:
    """Parse session ``key``; ``path`` is the member source path ``<db>#<key>``."""
    agent = agent or flavour(db) or OPENCODE_GO
    container = path.rpartition("#")[0] or path
    sessions = _rows(db, "SELECT * FROM sessions WHERE id = ?", (key,))
    messages = _rows(db, "SELECT * FROM messages WHERE session_id = ? ORDER BY rowid", (key,))
    result = parse_session(agent, sessions[0] if sessions else {"id": key}, messages, path, project_dir(container))
    if not sessions:
        result.problems.append(ParseProblem(line=0, offset=0, message=f"session {key!r} is gone from the database"))
    return result
