"""The edits index's SQL (agent blame): written with a file's other rows (``Store.write_prepared``),
cleared with them (``Store.clear_file``), read by path (``services.blame``).

Rows are built by :func:`sessionlens.ingest.edits.edit_rows`.  A store that predates the index (or
whose rows were built by an older ``EDITS_VERSION``) gets them from its own stored edit events, not
from the logs: :func:`rebuild` (run when the store is opened by a process that can take the writer
lock without waiting).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from sessionlens.models.lazy import lazy_logger
from sessionlens.models.versions import EDITS_VERSION

if TYPE_CHECKING:
    from sessionlens.models.session import Event
    from sessionlens.models.store import EditedBy

    EventsOf = Callable[[int], list[Event]]

log = lazy_logger(__name__)  # (logging imported on first use: models/lazy.py)

META_KEY = "edits_version"

INSERT = """INSERT OR REPLACE INTO edits(file_id, seq, hunk, repo, path, op, tool, ts, turn, line, nlines, hashes,
               base_commit, old_path) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"""


class EditRow(NamedTuple):
    """One hunk of one edit event, with its session (what blame reads)."""

    file_id: int
    seq: int
    hunk: int
    repo: str | None
    path: str
    op: str
    tool: str | None
    ts: float | None
    turn: int | None
    line: int | None
    nlines: int
    hashes: bytes | None
    base_commit: str | None
    old_path: str | None
    session_id: str
    agent: str
    started_at: float | None
    title: str | None
    git_remote: str | None
    log_path: str


_COLS = (
    "d.file_id, d.seq, d.hunk, d.repo, d.path, d.op, d.tool, d.ts, d.turn, d.line, d.nlines, d.hashes, "
    "d.base_commit, d.old_path, s.id, s.agent, s.started_at, s.title, s.git_remote, f.path"
)


def has_table(conn) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='edits'").get is not None


def any_for_paths(conn, paths: Sequence[str]) -> bool:
    """Whether any edit names one of ``paths`` (the cheap test for a file no session touched)."""
    if not paths:
        return False
    q = f"SELECT 1 FROM edits WHERE path IN ({','.join('?' * len(paths))}) LIMIT 1"
    return conn.execute(q, list(paths)).get is not None


def for_paths(conn, paths: Sequence[str]) -> list[EditRow]:
    """Every edit of ``paths`` (relative to their repository, or absolute), oldest first."""
    if not paths:
        return []
    q = (
        f"SELECT {_COLS} FROM edits d JOIN sessions s ON s.file_id = d.file_id JOIN files f ON f.id = d.file_id"
        f" WHERE d.path IN ({','.join('?' * len(paths))})"
        " ORDER BY coalesce(d.ts, s.started_at, 0), d.file_id, d.seq, d.hunk"
    )
    return [EditRow(*r) for r in conn.execute(q, list(paths))]


def moves_to(conn, path: str) -> list[tuple[str, float | None]]:
    """Logged moves (``*** Move to:``) whose target is ``path``: ``(source, ts)``."""
    return [
        (r[0], r[1]) for r in conn.execute("SELECT old_path, ts FROM edits WHERE path=? AND op='move' AND old_path IS NOT NULL", (path,))
    ]


def oldest_ts(conn) -> float | None:
    return conn.execute("SELECT min(ts) FROM edits").get


def turn_prompt(conn, session_id: str, turn: int | None) -> str | None:
    if turn is None:
        return None
    return conn.execute("SELECT prompt FROM turns WHERE session_id=? AND idx=?", (session_id, turn)).get


def event_line(conn, file_id: int, seq: int) -> int:
    """The 1-based line of an event in its log (documents keep theirs in ``extra.line``)."""
    raw = conn.execute("SELECT json_extract(data, '$.extra.line') FROM events WHERE file_id=? AND seq=?", (file_id, seq)).get
    return raw if isinstance(raw, int) and raw > 0 else seq


def sessions_for_paths(conn, paths: Sequence[str]) -> list[EditedBy]:
    """Per session: how many edit events named one of ``paths`` and when the last was."""
    if not paths:
        return []
    q = (
        f"SELECT s.id, s.agent, s.title, count(DISTINCT d.seq), max(d.ts), min(d.ts) FROM edits d"
        f" JOIN sessions s ON s.file_id = d.file_id WHERE d.path IN ({','.join('?' * len(paths))})"
        " GROUP BY s.id ORDER BY max(d.ts) DESC"
    )
    from sessionlens.models.store import EditedBy

    cols = ("session_id", "agent", "title", "edits", "last", "first")
    return [EditedBy.from_dict(dict(zip(cols, r))) for r in conn.execute(q, list(paths))]


def rebuild(store, events_of: EventsOf, *, file_ids: Sequence[int] | None = None) -> int:
    """(Re)build the edits of stored sessions from their stored edit events (``events_of(file_id)``:
    the file's edit events and failed tool results), inside the caller's transaction; no log is read.
    Returns the number of rows written."""
    from sessionlens.ingest.edits import edit_rows  # the parsers' rows: only when (re)building

    c = store.conn
    if file_ids is None:
        c.execute("DELETE FROM edits")
        files = [
            (r[0], r[1], r[2], r[3])
            for r in c.execute(
                "SELECT file_id, cwd, project, git_commit FROM sessions WHERE file_id IN"
                " (SELECT DISTINCT file_id FROM events WHERE kind='patch')"
            )
        ]
    else:
        files = []
        for fid in file_ids:
            c.execute("DELETE FROM edits WHERE file_id=?", (fid,))
            r = c.execute("SELECT file_id, cwd, project, git_commit FROM sessions WHERE file_id=?", (fid,)).fetchone()
            if r is not None:
                files.append(tuple(r))
    n = 0
    for fid, cwd, project, commit in files:
        evs = events_of(fid)
        rows = [(fid, *r) for r in edit_rows(evs, cwd=cwd, root=project, commit=commit)]
        c.executemany(INSERT, rows)
        n += len(rows)
    return n


def ensure_current(store, events_of: EventsOf) -> None:
    """Build the edits of a store written before the index existed (or by an older ``EDITS_VERSION``),
    when the writer lock is free right now (else the next opening does it)."""
    c = store.conn
    if not has_table(c) or store.get_meta(META_KEY) == str(EDITS_VERSION):
        return
    if not store.lock.acquire(timeout=0):
        return
    try:
        if store.get_meta(META_KEY) == str(EDITS_VERSION):
            return
        with c:
            n = rebuild(store, events_of)
            store.set_meta(META_KEY, str(EDITS_VERSION))
        log.info("edits index built from the stored sessions: %d rows", n)
    finally:
        store.lock.release()


class EditedFile(NamedTuple):
    """A file a log's session edited, and its last edit (``files_of``)."""

    repo: str
    path: str
    seq: int
    hunk: int


def files_of(conn, file_id: int) -> list[EditedFile]:
    """The files a log's session edited: each file's last edit, by path."""
    return [
        EditedFile(r[0], r[1], r[2], r[3])
        for r in conn.execute(
            "SELECT repo, path, max(seq), hunk FROM edits WHERE file_id=? AND repo IS NOT NULL AND op != 'delete'"
            " GROUP BY repo, path ORDER BY path",
            (file_id,),
        )
    ]


def edit_at(conn, file_id: int, seq: int, hunk: int) -> tuple[str | None, str] | None:
    """``(repo, path)`` of one edit hunk."""
    r = conn.execute("SELECT repo, path FROM edits WHERE file_id=? AND seq=? AND hunk=?", (file_id, seq, hunk)).fetchone()
    return (r[0], r[1]) if r is not None else None
