"""Reading OpenCode's two storage layouts into the records :func:`parser.parse_session` takes.

* ``opencode.db``: every function takes an open, read-only ``sqlite3.Connection`` (the registry's
  private snapshot: never the agent's own file) and only runs SELECTs.
* the JSON storage tree ``storage/{session/<project>/<ses>.json, message/<ses>/<msg>.json,
  part/<msg>/<prt>.json}``: read with plain ``open`` (never written).
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

import orjson

from sessionlens.agents.opencode.parser import (
    message_from_storage,
    parse_session,
    part_from_storage,
    record_from_db_row,
    session_from_storage,
)
from sessionlens.models.session import ParseProblem, ParseResult

#: the tables that make a database OpenCode's (drizzle schema of OpenCode >= 1.2)
TABLES = frozenset({"session", "message", "part"})
#: bytes read from one storage JSON file at most (a part with a huge tool output is cut, not loaded whole)
MAX_JSON = 32 * 1024 * 1024


def sniff_tables(tables: frozenset[str]) -> bool:
    return TABLES <= tables and "project" in tables


def _rows(db: sqlite3.Connection, sql: str, args: tuple = ()) -> list[dict[str, Any]]:
    cur = db.execute(sql, args)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur]


def db_members(db: sqlite3.Connection) -> list[tuple[str, str]]:
    """``[(session id, fingerprint)]``: the fingerprint changes when the session, one of its messages or
    one of its parts is added or updated."""
    out = []
    for sid, upd, msgs, parts in db.execute(
        """SELECT s.id, s.time_updated,
                  (SELECT count(*) || ':' || coalesce(max(time_updated), 0) FROM message m WHERE m.session_id = s.id),
                  (SELECT count(*) || ':' || coalesce(max(time_updated), 0) FROM part p WHERE p.session_id = s.id)
             FROM session s ORDER BY s.time_created, s.id"""
    ):
        if isinstance(sid, str) and sid:
            out.append((sid, f"{upd}|{msgs}|{parts}"))
    return out


def db_parse_member(db: sqlite3.Connection, key: str, path: str) -> ParseResult:
    """Parse session ``key`` of an ``opencode.db`` snapshot (``path``: the member's source path)."""
    sessions = _rows(db, "SELECT * FROM session WHERE id = ?", (key,))
    session = sessions[0] if sessions else {"id": key}
    messages = [
        record_from_db_row(r)
        for r in _rows(
            db,
            "SELECT id, session_id, time_created, time_updated, data FROM message WHERE session_id = ? ORDER BY time_created, id",
            (key,),
        )
    ]
    parts = [
        record_from_db_row(r)
        for r in _rows(
            db, "SELECT id, message_id, session_id, time_created, time_updated, data FROM part WHERE session_id = ? ORDER BY id", (key,)
        )
    ]
    result = parse_session(session, messages, parts, path)
    if not sessions:
        result.problems.append(ParseProblem(line=0, offset=0, message=f"session {key!r} is gone from the database"))
    return result


# ------------------------------------------------------------------------------------------ storage tree


def _load(path: str) -> Any:
    with open(path, "rb") as fh:
        data = fh.read(MAX_JSON + 1)
    if len(data) > MAX_JSON:
        raise ValueError(f"larger than {MAX_JSON} bytes")
    return orjson.loads(data)


def storage_root(session_file: str) -> str | None:
    """``…/storage`` for ``…/storage/session/<project>/<ses>.json`` (None for any other path)."""
    project_dir = os.path.dirname(session_file)
    session_dir = os.path.dirname(project_dir)
    if os.path.basename(session_dir) != "session":
        return None
    return os.path.dirname(session_dir)


def _json_files(folder: str) -> list[str]:
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".json"))
    except OSError:
        return []
    return [os.path.join(folder, n) for n in names]


def tree_companions(session_file: str) -> list[str]:
    """The files of one session in the storage tree (its message files and their part files): their
    stat decides whether the session changed."""
    root = storage_root(session_file)
    if root is None:
        return []
    sid = os.path.basename(session_file)[: -len(".json")]
    out: list[str] = []
    for mf in _json_files(os.path.join(root, "message", sid)):
        out.append(mf)
        out += _json_files(os.path.join(root, "part", os.path.basename(mf)[: -len(".json")]))
    return out


def tree_parse(session_file: str, path: str | None = None) -> ParseResult:
    """Parse one session of the JSON storage tree from its ``storage/session/<project>/<ses>.json``.

    A message or part file that cannot be read or decoded becomes a problem; the rest is parsed.
    Message ids come from the files (``msg_*.json``) when the JSON lacks them."""
    problems: list[ParseProblem] = []
    try:
        obj = _load(session_file)
        session = session_from_storage(obj) if isinstance(obj, dict) else {}
    except (OSError, ValueError) as exc:
        session = {}
        problems.append(ParseProblem(line=0, offset=0, message=f"{session_file}: {exc}"))
    sid = session.get("id") or os.path.basename(session_file)[: -len(".json")]
    session.setdefault("id", sid)
    root = storage_root(session_file) or os.path.dirname(os.path.dirname(os.path.dirname(session_file)))
    messages: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for mf in _json_files(os.path.join(root, "message", str(sid))):
        try:
            mobj = _load(mf)
        except (OSError, ValueError) as exc:
            problems.append(ParseProblem(line=0, offset=0, message=f"{mf}: {exc}"))
            continue
        if not isinstance(mobj, dict):
            problems.append(ParseProblem(line=0, offset=0, message=f"{mf}: not a JSON object"))
            continue
        rec = message_from_storage(mobj)
        rec["id"] = rec.get("id") or os.path.basename(mf)[: -len(".json")]
        messages.append(rec)
        for pf in _json_files(os.path.join(root, "part", str(rec["id"]))):
            try:
                pobj = _load(pf)
            except (OSError, ValueError) as exc:
                problems.append(ParseProblem(line=0, offset=0, message=f"{pf}: {exc}"))
                continue
            if isinstance(pobj, dict):
                parts.append(part_from_storage(pobj, str(rec["id"])))
            else:
                problems.append(ParseProblem(line=0, offset=0, message=f"{pf}: not a JSON object"))
    result = parse_session(session, messages, parts, path or session_file)
    result.problems[:0] = problems
    return result
