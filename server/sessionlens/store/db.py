"""The durable store: an APSW SQLite database.  All SQL of sessionlens lives in this package.

Concurrency model: SQLite in WAL mode, a busy timeout on every connection, and one writer at a
time across processes, guarded by ``WriterLock`` (an OS file lock next to the database).  The
lock also guards the Tantivy index writer, which allows a single writer per index.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from sys import intern as _intern
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, cast

import apsw

from sessionlens.models.construct import construct as _construct
from sessionlens.models.construct import construct_shared as _construct_shared
from sessionlens.models.kinds import EventKind
from sessionlens.models.lazy import lazy_logger, lazy_module
from sessionlens.models.limits import EXIT_MAX, EXIT_MIN, INT64_MAX, MAX_DURATION_MS, MAX_TOKENS, clamp_int
from sessionlens.models.limits import dumps as _safe_dumps
from sessionlens.models.limits import epoch as _epoch
from sessionlens.store import edits as _edits
from sessionlens.store import sessions as session_query
from sessionlens.store.schema import MIGRATIONS
from sessionlens.store.sessions import records_tokens

if TYPE_CHECKING:
    import orjson
else:  # imported on first use (a read command that decodes no JSON column never does): models/lazy.py
    orjson = lazy_module("orjson")

if TYPE_CHECKING:
    from sessionlens.models import Event, ParseResult, Session, TokenUsage, Turn
    from sessionlens.models.listing import SessionSummary
    from sessionlens.models.store import (
        ConversationMessage,
        EvalResultRow,
        EvalRun,
        EventUsage,
        FindingDetail,
        StoredEvent,
        StoredFinding,
        StoredProblem,
        StoredSession,
        TurnUsage,
        UsageGroup,
        UsageRow,
        UsageTotals,
    )

log = lazy_logger(__name__)  # (logging imported on first use: models/lazy.py)

APPLICATION_ID = 0x534C4E53  # "SLNS"
PAGE_SIZE = 16384
MMAP_SIZE = 2_147_418_112  # SQLite's default upper bound (SQLITE_MAX_MMAP_SIZE); beyond it pages are read()


def use_mmap(size: int = MMAP_SIZE) -> None:
    """Stores opened from now on in this process read through a memory map (one-shot read commands)."""
    Store.mmap_size = size


FLAG_DUPLICATE = 1
FLAG_SIDECHAIN = 2

#: an event's stored kind -> its ``EventKind`` (``models.kinds``: no pydantic)
_KINDS = {k.value: k for k in EventKind}


@cache
def _rows() -> Any:
    """The read rows (``models.store``: plain classes, no pydantic), loaded on first use."""
    from sessionlens.models import store as rows

    return rows


@cache
def _m() -> SimpleNamespace:
    """The models and the tables made from them, loaded on first use: reading rows (a CLI listing,
    a cost report) builds no pydantic model."""
    from sessionlens import models

    return SimpleNamespace(
        Event=models.Event,
        Session=models.Session,
        TokenUsage=models.TokenUsage,
        Turn=models.Turn,
        USAGE_FIELDS=tuple(models.TokenUsage.model_fields),
        EVENT_FIELDS=tuple(models.Event.model_fields),
        KIND_VALUE={k: k.value for k in models.EventKind},
    )


def _finding_values(r: Sequence[Any]) -> dict[str, Any]:
    """The fields of a finding row (id, file_id, session_id, seq, rule_id, severity, message, guideline,
    related, data, path, project, agent, ...)."""
    return {
        "id": r[0],
        "file_id": r[1],
        "session_id": r[2],
        "seq": r[3],
        "rule_id": r[4],
        "severity": r[5],
        "message": r[6],
        "guideline": r[7],
        "related": orjson.loads(r[8]) if r[8] else [],
        "data": orjson.loads(r[9]) if r[9] else {},
        "path": r[10],
        "project": r[11],
        "agent": r[12],
    }


#: how usage can be grouped -> the SQL key (``week`` is folded into ISO weeks by the caller)
#: the figures of a group of usage rows ``u``, as every report by day sums them (store/schema.py's usage_days
#: holds them per day and model, computed by this same expression)
_USAGE_SUMS = """CAST(total(u.input) AS INTEGER), CAST(total(u.cache_read) AS INTEGER), CAST(total(u.cache_write_5m) AS INTEGER),
       CAST(total(u.cache_write_1h) AS INTEGER), CAST(total(u.output) AS INTEGER), CAST(total(u.reasoning) AS INTEGER),
       sum(coalesce(u.cost_usd, 0)), sum(1 - u.cost_known), count(*)"""

USAGE_GROUPS = {
    "day": "u.day",
    "week": "u.day",
    "month": "substr(u.day, 1, 7)",
    "session": "u.session_id",
    "model": "COALESCE(u.model, '(unknown)')",
    "project": "COALESCE(u.project, '(none)')",
    "agent": "u.agent",
}


class StoreError(Exception):
    """A store problem with a message fit for the user."""


class WriterBusy(StoreError):
    pass


class NotFound(StoreError):
    """No session, finding, file or run matches what was asked for."""


def _pairs(rows: Iterable[Sequence[Any]]) -> dict[Any, Any]:
    """A two-column result as a dict (first column -> second)."""
    return {r[0]: r[1] for r in rows}


def _ts(dt: datetime | None) -> float | None:
    """Epoch seconds of ``dt`` (None when out of the kept range: a timestamp from a log in year 1 or
    9999 must not fail a write)."""
    return _epoch(dt)


def local_day(ts: float | None) -> str | None:
    if ts is None:
        return None
    return time.strftime("%Y-%m-%d", time.localtime(ts))


def _dumps(obj: Any) -> str:
    return _safe_dumps(obj)


def _checked_int(value: Any, lo: int, hi: int, what: str, line: int, offset: int, problems: list) -> int | None:
    """``value`` range-checked for the store: a bad one becomes a warning on its line and is clamped
    (a non-number is dropped)."""
    v = clamp_int(value, lo, hi)
    if v != value or isinstance(value, (bool, float)):
        shown = repr(value)
        problems.append((line, offset, "warning", f"{what} {shown[:40]} out of range: " + ("dropped" if v is None else f"stored as {v}")))
    return v


class SearchRow(NamedTuple):
    """One prepared event as the search index reads it (see ``PreparedParse.search_rows``)."""

    seq: int
    ts: float | None
    kind: str
    tool: str | None
    model: str | None
    command: str | None
    text: str | None
    files: str | None
    flags: int


class PreparedParse:
    """The rows of one parse pass, ready for :meth:`Store.write_prepared`: plain tuples, cheap to
    hand from a worker process to the writer (pickling parsed models costs as much as parsing).
    (A plain slotted class, not a dataclass: importing ``dataclasses`` costs a read command ~10 ms.)"""

    __slots__ = (
        "file_id",
        "session_id",
        "project",
        "project_name",
        "session_row",
        "event_rows",
        "turn_rows",
        "usage_rows",
        "problem_rows",
        "file_state",
        "first_seq",
        "edit_rows",
    )

    def __init__(
        self,
        file_id: int,
        session_id: str,
        project: str | None,
        project_name: str | None,
        session_row: tuple,
        event_rows: list[tuple],
        turn_rows: list[tuple],
        usage_rows: list[tuple],
        problem_rows: list[tuple],
        file_state: tuple,  # agent, size, mtime_ns, offset, lines, head_len, head_hash, parser_version, state
        first_seq: int | None,
        edit_rows: list[tuple] | None = None,  # the edits index (ingest.edits.edit_rows, no file id)
    ) -> None:
        self.file_id = file_id
        self.session_id = session_id
        self.project = project
        self.project_name = project_name
        self.session_row = session_row
        self.event_rows = event_rows
        self.turn_rows = turn_rows
        self.usage_rows = usage_rows
        self.problem_rows = problem_rows
        self.file_state = file_state
        self.first_seq = first_seq
        self.edit_rows: list[tuple] = [] if edit_rows is None else edit_rows

    def __repr__(self) -> str:
        return f"PreparedParse(file_id={self.file_id!r}, session_id={self.session_id!r}, events={len(self.event_rows)})"

    def search_rows(self) -> list[SearchRow]:
        """(seq, ts, kind, tool, model, command, text, files, flags) of prepared event rows, in seq
        order: what ``Store.searchable_events`` reads back once they are written (text unclipped)."""
        last = {r[1]: r for r in self.event_rows}  # INSERT OR REPLACE: a seq written twice keeps its last row
        if len(last) == len(self.event_rows) and all(a[1] < b[1] for a, b in zip(self.event_rows, self.event_rows[1:])):
            picked = self.event_rows
        else:
            picked = [last[seq] for seq in sorted(last)]
        return [SearchRow(r[1], r[5], r[6], r[9], r[17], r[11], r[15], r[16], r[19]) for r in picked]

    def stored_session(self, path: str) -> StoredSession:
        """The session as :meth:`Store.get_session` will return it once these rows are written to a
        file of their own (what the coach reads when it runs before the write)."""
        r = self.session_row
        ts = [e[5] for e in self.event_rows if e[5] is not None]
        started = r[11] if r[11] is not None else (min(ts) if ts else None)
        ended = max(ts) if ts else r[12]
        return row_to_session(
            (
                r[0],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                r[8],
                r[9],
                r[10],
                started,
                ended,
                r[13],
                r[14],
                r[15],
                len({e[1] for e in self.event_rows}),
                len(self.turn_rows),
                path,
                self.file_id,
                r[16],
            )
        )


def _event_row(d: dict[str, Any], file_id: int, sid: str, kind_value, dumps, bad: list) -> tuple:
    """One event's row; values out of range are clamped with a warning in ``bad`` (see ``_checked_int``)."""
    data: dict[str, Any] = {}
    if d["role"]:
        data["role"] = d["role"]
    if d["message_id"]:
        data["message_id"] = d["message_id"]
    if d["request_id"]:
        data["request_id"] = d["request_id"]
    if d["uuid"]:
        data["uuid"] = d["uuid"]
    if d["extra"]:
        data["extra"] = d["extra"]
    usage = d["usage"]
    if usage is not None:
        data["usage"] = usage.__dict__.copy()
    ts = d["timestamp"]
    if ts is not None:
        ts = _epoch(ts)
        if ts is None:
            bad.append((d["line"], d["offset"], "warning", f"timestamp {d['timestamp']!s:.40} out of range: dropped"))
    exit_code, duration, turn = d["exit_code"], d["duration_ms"], d["turn"]
    if exit_code is not None and not (type(exit_code) is int and EXIT_MIN <= exit_code <= EXIT_MAX):
        exit_code = _checked_int(exit_code, EXIT_MIN, EXIT_MAX, "exit code", d["line"], d["offset"], bad)
    if duration is not None and not (type(duration) is int and 0 <= duration <= MAX_DURATION_MS):
        duration = _checked_int(duration, 0, MAX_DURATION_MS, "duration (ms)", d["line"], d["offset"], bad)
    if turn is not None and not (type(turn) is int and 0 <= turn <= INT64_MAX):
        turn = _checked_int(turn, 0, INT64_MAX, "turn", d["line"], d["offset"], bad)
    files = d["files"]
    try:
        files_json = dumps(files, default=str).decode() if files else None
        data_json = dumps(data, default=str).decode() if data else None
    except (orjson.JSONEncodeError, TypeError):  # nesting beyond 255 levels, ints beyond 64 bits
        files_json = _safe_dumps(files) if files else None
        data_json = _safe_dumps(data) if data else None
        bad.append((d["line"], d["offset"], "warning", "a value nested too deeply or too large: shortened"))
    return (
        file_id,
        d["seq"],
        sid,
        d["offset"],
        d["length"],
        ts,
        kind_value[d["kind"]],
        d["subtype"],
        turn,
        d["tool"],
        d["call_id"],
        d["command"],
        exit_code,
        1 if d["is_error"] else 0,
        duration,
        d["text"],
        files_json,
        d["model"],
        d["usage_key"],
        (FLAG_DUPLICATE if d["duplicate"] else 0) | (FLAG_SIDECHAIN if d["sidechain"] else 0),
        d["agent_id"],
        d["parent_call_id"],
        data_json,
    )


def _usage_tokens(t: TokenUsage, line: int, bad: list) -> tuple[int, ...]:
    """A usage record's six token counts within ``[0, MAX_TOKENS]`` (sums over them cannot overflow)."""
    vals = (t.input_tokens, t.cache_read_tokens, t.cache_write_5m_tokens, t.cache_write_1h_tokens, t.output_tokens, t.reasoning_tokens)
    if all(type(v) is int and 0 <= v <= MAX_TOKENS for v in vals):
        return vals
    out = tuple(v if type(v) is int and 0 <= v <= MAX_TOKENS else 0 for v in vals)
    bad.append((line, 0, "warning", f"token counts out of range {[v for v in vals]!s:.120}: stored as {list(out)}"))
    return out


def _state_json(st) -> str:
    try:
        return st.model_dump_json()
    except Exception:  # a log value kept in the parser's state that does not serialize (e.g. too deep)
        return _safe_dumps(st.model_dump(mode="json", fallback=str, warnings=False))


def prepare_parse(
    file_id: int,
    result: ParseResult,
    *,
    project: str | None,
    project_name: str | None,
    usage_costs: dict[str, tuple[float | None, bool]],
    size: int,
    mtime_ns: int,
    head_len: int,
    head_hash: str | None,
    parser_version: int,
) -> PreparedParse:
    """Turn one parse pass into the rows :meth:`Store.write_prepared` writes (no database access)."""
    s = result.session
    sid = s.id
    agent = getattr(result.agent, "value", result.agent)
    session_row = (
        sid,
        file_id,
        agent,
        s.cwd,
        project,
        s.git_branch,
        s.git_commit,
        s.git_remote,
        _dumps(s.models),
        s.cli_version,
        s.originator,
        _ts(s.started_at),
        _ts(s.ended_at),
        s.parent_session_id,
        s.agent_id,
        s.title,
        int(bool(getattr(s, "usage_lower_bound", False))),
    )
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    kind_value = _m().KIND_VALUE
    dumps = orjson.dumps
    bad: list[tuple] = []  # (line, offset, severity, message) of values out of range
    for e in result.events:
        d = e.__dict__  # plain field reads (the hot loop of every write)
        try:
            row = _event_row(d, file_id, sid, kind_value, dumps, bad)
        except Exception as exc:  # a value no check foresaw: the event is dropped, the file is kept
            bad.append((d.get("line") or 0, d.get("offset") or 0, "warning", f"event not stored: {exc!r}"[:300]))
            continue
        append(row)
    turn_rows = [
        (
            sid,
            t.index,
            file_id,
            t.start_line,
            t.end_line,
            _ts(t.started_at),
            _ts(t.ended_at),
            t.prompt,
            t.model,
            t.turn_id,
            int(t.aborted),
            t.duration_ms
            if t.duration_ms is None or (type(t.duration_ms) is int and 0 <= t.duration_ms <= MAX_DURATION_MS)
            else _checked_int(t.duration_ms, 0, MAX_DURATION_MS, "turn duration (ms)", t.start_line, 0, bad),
        )
        for t in result.turns
    ]
    turn_of = {e.usage_key: e.turn for e in result.events if e.usage_key}
    urows = []
    for u in result.usage:
        ts = _ts(u.timestamp)
        cost, known = usage_costs.get(u.key, (None, False))
        if cost is not None and not (isinstance(cost, (int, float)) and 0 <= cost < 1e12):
            cost, known = None, False  # a price table or a log's own cost beyond reason
        log_cost = u.cost_usd if isinstance(u.cost_usd, (int, float)) and 0 <= u.cost_usd < 1e12 else None
        urows.append(
            (
                u.key,
                file_id,
                sid,
                u.line,
                turn_of.get(u.key),
                ts,
                local_day(ts),
                u.model,
                agent,
                project,
                *_usage_tokens(u.usage, u.line, bad),
                u.speed,
                cost,
                int(known),
                log_cost,
            )
        )
    st = result.state
    return PreparedParse(
        file_id=file_id,
        session_id=sid,
        project=project,
        project_name=project_name,
        session_row=session_row,
        event_rows=rows,
        turn_rows=turn_rows,
        usage_rows=urows,
        problem_rows=[(file_id, p.line, p.offset, p.severity, p.message) for p in result.problems] + [(file_id, *b) for b in bad],
        file_state=(agent, size, mtime_ns, st.offset, st.line, head_len, head_hash, parser_version, _state_json(st)),
        first_seq=result.events[0].seq if result.events else None,
    )


class WriterLock:
    """An exclusive, cross-process lock for the one writer of a store (SQLite + Tantivy)."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None
        self._mutex = threading.RLock()  # reentrant for the holding thread; other threads wait
        self._depth = 0

    def holder(self) -> str | None:
        try:
            return self.path.read_text().strip() or None
        except OSError:
            return None

    def acquire(self, timeout: float | None = None, on_wait=None) -> bool:
        """Take the lock; ``timeout`` None waits forever, 0 tries once.  Reentrant in the holding
        thread; other threads of this process wait like other processes do."""
        if not self._mutex.acquire(timeout=-1 if timeout is None else max(timeout, 0.001)):
            return False
        if self._depth:
            self._depth += 1
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = None if timeout is None else time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    os.close(fd)
                    self._mutex.release()
                    return False
                if on_wait and not told:
                    on_wait(self.holder())
                    told = True
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}\n".encode())
        self._fd = fd
        self._depth = 1
        return True

    def release(self) -> None:
        if not self._depth:
            return
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None
        self._mutex.release()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()


class OutlineRow(NamedTuple):
    """What an outline needs of an event (``Store.outline_rows``)."""

    seq: int
    kind: str
    subtype: str | None
    turn: int | None
    tool: str | None
    command: str | None
    text: str | None  # an excerpt: a call's input (enough to name it), else its first 200 characters
    files: str | None  # JSON list
    flags: int
    is_error: int | None
    exit_code: int | None
    call_id: str | None
    agent_id: str | None
    parent_call_id: str | None
    description: str | None  # a call's own description (Bash, Task)


class SearchOp(NamedTuple):
    """A queued change of the derived search index (``Store.search_queue``)."""

    id: int
    file_id: int
    op: str  # replace | append | delete
    from_seq: int


class SearchContext(NamedTuple):
    """What every search document of a file shares (``Store.file_search_context``)."""

    path: str
    agent: str | None
    project: str | None
    title: str | None


class EventTexts(NamedTuple):
    """The texts of one event (``Store.event_texts``), fields as ``Event``'s."""

    command: str | None
    text: str | None
    files: list[str]
    extra: dict[str, Any]


class CoachInput(NamedTuple):
    """A coached session log (``Store.coach_inputs``)."""

    file_id: int
    path: str
    coach_hash: str | None
    session: StoredSession


class FindingTotal(NamedTuple):
    findings: int
    sessions: int  # distinct sessions with a finding


class FindingCount(NamedTuple):
    rule_id: str
    severity: str
    findings: int
    sessions: int


class FileRow(NamedTuple):
    id: int
    path: str
    agent: str | None
    size: int
    mtime_ns: int
    offset: int
    lines: int
    head_len: int
    head_hash: str | None
    parser_version: int
    state: str | None
    session_id: str | None
    status: str


FILE_COLS = "id, path, agent, size, mtime_ns, offset, lines, head_len, head_hash, parser_version, state, session_id, status"

EVENT_COLS = (
    "e.file_id, e.seq, e.session_id, e.offset, e.length, e.ts, e.kind, e.subtype, e.turn, e.tool, e.call_id, "
    "e.command, e.exit_code, e.is_error, e.duration_ms, e.text, e.files, e.model, e.usage_key, e.flags, "
    "e.agent_id, e.parent_call_id, e.data"
)


_UTC = timezone.utc


def _event_values(r: Sequence[Any], usage_of: Any, compact: bool) -> tuple[Any, ...]:
    """The field values of an ``EVENT_COLS`` row, in the order of ``Event``'s fields (which are
    ``StoredEvent``'s); ``usage_of`` builds the usage from its JSON dict; ``compact``: the repeated
    names (subtype, tool, model) interned."""
    raw = r[22]
    data = orjson.loads(raw) if raw else None
    ts = r[5]
    flags = r[19]
    if data:
        get = data.get
        role, usage, message_id, request_id, uuid, extra = (
            get("role"),
            usage_of(get("usage")),
            get("message_id"),
            get("request_id"),
            get("uuid"),
            get("extra") or {},
        )
    else:
        role = usage = message_id = request_id = uuid = None
        extra = {}
    line = extra.get("line", r[1]) if extra else r[1]  # documents: the message's line in the file
    subtype, tool, model = r[7], r[9], r[17]
    if compact:
        subtype = _intern(subtype) if subtype else subtype
        tool = _intern(tool) if tool else tool
        model = _intern(model) if model else model
    return (
        r[1],
        line,
        r[3],
        r[4],
        datetime.fromtimestamp(ts, _UTC) if ts is not None else None,
        _KINDS[r[6]],
        subtype,
        role,
        r[8],
        tool,
        r[10],
        r[11],
        r[12],
        bool(r[13]),
        r[14],
        r[15],
        orjson.loads(r[16]) if r[16] else [],
        model,
        usage,
        r[18],
        bool(flags & FLAG_DUPLICATE),
        bool(flags & FLAG_SIDECHAIN),
        r[20],
        r[21],
        message_id,
        request_id,
        uuid,
        extra,
    )


def row_to_event(r: Sequence[Any], *, compact: bool = False) -> Event:
    """An event of an ``EVENT_COLS`` row; ``compact``: for events held by the hundred thousand (see
    ``construct_shared``), with their repeated names (subtype, tool, model) interned."""
    m = _m()
    values = _event_values(r, _usage_from, compact)
    if compact:  # the fields in the model's order (see ``construct_shared``)
        return _construct_shared(m.Event, values)
    return _construct(m.Event, dict(zip(m.EVENT_FIELDS, values)))


def row_to_stored_event(r: Sequence[Any]) -> StoredEvent:
    """An ``EVENT_COLS`` row as a plain ``StoredEvent`` (no pydantic): the values ``row_to_event`` gives."""
    return _rows().StoredEvent.from_row(_event_values(r, _stored_usage_from, False))


def _usage_from(d):
    if not d:
        return None
    m = _m()
    return _construct(m.TokenUsage, {k: d.get(k, 0) for k in m.USAGE_FIELDS})


def _stored_usage_from(d):
    if not d:
        return None
    cls = _rows().StoredTokenUsage
    return cls.from_row(d.get(k, 0) for k in cls._fields)


SESSION_COLS = (
    "s.id, s.agent, s.cwd, s.project, s.git_branch, s.git_commit, s.git_remote, s.models, s.cli_version, "
    "s.originator, s.started_at, s.ended_at, s.parent_session_id, s.agent_id, s.title, s.events, s.turns, "
    "f.path, s.file_id, s.usage_lower_bound"
)


def row_to_session(r: Sequence[Any]) -> StoredSession:
    """A ``SESSION_COLS`` row as its model (built without validation: the columns have the types)."""
    return _rows().StoredSession.from_dict(
        {
            "id": r[0],
            "agent": r[1],
            "cwd": r[2],
            "project": r[3],
            "git_branch": r[4],
            "git_commit": r[5],
            "git_remote": r[6],
            "models": orjson.loads(r[7]) if r[7] else [],
            "cli_version": r[8],
            "originator": r[9],
            "started_at": r[10],
            "ended_at": r[11],
            "parent_session_id": r[12],
            "agent_id": r[13],
            "title": r[14],
            "events": r[15],
            "turns": r[16],
            "path": r[17],
            "file_id": r[18],
            "usage_lower_bound": bool(r[19]),
        },
    )


def session_from_row(s: StoredSession | None) -> Session:
    """The domain's ``Session`` of a stored one (an empty session for None: a check without one)."""

    def dt(x: float | None) -> datetime | None:
        return datetime.fromtimestamp(x, timezone.utc) if x is not None else None

    if s is None:
        return _m().Session(id="", agent="")
    return _m().Session(
        id=s.id,
        agent=s.agent,
        source_files=[s.path] if s.path else [],
        cwd=s.cwd,
        project=s.project,
        git_branch=s.git_branch,
        git_commit=s.git_commit,
        git_remote=s.git_remote,
        models=s.models,
        cli_version=s.cli_version,
        originator=s.originator,
        started_at=dt(s.started_at),
        ended_at=dt(s.ended_at),
        parent_session_id=s.parent_session_id,
        agent_id=s.agent_id,
        title=s.title,
        usage_lower_bound=s.usage_lower_bound,
    )


class Store:
    """One SQLite database.  Open one ``Store`` per thread (connections are not shared)."""

    #: Pages read through a memory map of this many bytes instead of a read() each (0: none).  A
    #: one-shot read command sets it (:func:`use_mmap`): scanning an index it has not read yet then goes
    #: at the OS cache's speed (1 GB store: `stats` 150 -> 20 ms).  Long-lived and writing processes
    #: (the indexer, the language server, the hub) leave it off: every mapped page they touch would
    #: count in their resident memory (a 10 GB pass peaked at 1.8 GB with it, mostly mapped pages).
    mmap_size: ClassVar[int] = 0

    def __init__(self, home: str | os.PathLike, *, readonly: bool = False):
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.path = self.home / "sessionlens.db"
        self.lock = WriterLock(self.home / "writer.lock")
        #: file id -> (max seq, events, max ts, min ts) of its stored events, as last written here
        self._file_spans: dict[int, tuple[int, int, float | None, float | None]] = {}
        self._spans_version: int | None = None
        flags = apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE
        try:
            self.conn = apsw.Connection(str(self.path), flags=flags)
        except apsw.Error as e:
            raise StoreError(f"cannot open the store at {self.path}: {e}") from e
        self.conn.setbusytimeout(10_000)
        try:
            # 16 KB pages for a new store (no effect on an existing one): events carry long texts,
            # and larger pages make bulk inserts and commits cheaper (about a fifth on 1 GB of logs)
            self.conn.pragma("page_size", PAGE_SIZE)
            self.conn.pragma("journal_mode", "wal")
            self.conn.pragma("synchronous", "normal")
            self.conn.pragma("foreign_keys", True)
            self.conn.pragma("temp_store", "memory")
            self.conn.pragma("cache_size", -32000)
            if self.mmap_size:
                self.conn.pragma("mmap_size", self.mmap_size)
            self._migrate()
        except apsw.NotADBError as e:
            raise StoreError(f"{self.path} is not a sessionlens store (not an SQLite database)") from e

    # ------------------------------------------------------------------ schema
    def _migrate(self) -> None:
        version = self.conn.pragma("user_version")
        if version >= len(MIGRATIONS):
            if version > len(MIGRATIONS):
                raise StoreError(f"the store at {self.path} was written by a newer sessionlens (schema {version}); upgrade sessionlens")
            _edits.ensure_current(self, self._edit_events)
            return
        with self.lock:
            version = self.conn.pragma("user_version")
            for i in range(version, len(MIGRATIONS)):
                try:
                    with self.conn:
                        self.conn.execute(MIGRATIONS[i])
                        self.conn.pragma("user_version", i + 1)
                        if i == 0:
                            self.conn.pragma("application_id", APPLICATION_ID)
                except apsw.SQLError as exc:  # a schema this release never wrote (a development build's store)
                    raise StoreError(
                        f"the store at {self.path} cannot be upgraded (schema {i} -> {i + 1}: {exc}); it was written by"
                        " another build of sessionlens: move it away (or point storePath / SESSIONLENS_HOME elsewhere)"
                        " and the logs are indexed again"
                    ) from exc
        _edits.ensure_current(self, self._edit_events)

    def _edit_events(self, file_id: int) -> list[Event]:
        """A file's edit events and failed tool results (what the edits index is built from)."""
        return [
            row_to_event(r)
            for r in self.conn.execute(
                f"SELECT {EVENT_COLS} FROM events e WHERE e.file_id=? AND (e.kind='patch' OR"
                " (e.kind='tool_result' AND e.is_error=1)) ORDER BY e.seq",
                (file_id,),
            )
        ]

    def close(self) -> None:
        self.conn.close()

    def bulk_writes(self, on: bool) -> None:
        """During a bulk load, let the WAL grow to ~64 MB between checkpoints (each checkpoint
        syncs the database); back to SQLite's default, with a checkpoint, afterwards."""
        if on:
            self.conn.pragma("wal_autocheckpoint", 16384)
        else:
            self.conn.pragma("wal_autocheckpoint", 1000)
            try:
                self.conn.wal_checkpoint(mode=apsw.SQLITE_CHECKPOINT_PASSIVE)
            except apsw.Error as e:  # readers in the way: the next automatic checkpoint does it
                log.debug("checkpoint after a bulk load: %s", e)

    def transaction(self) -> apsw.Connection:
        """``with store.transaction():`` one transaction (a savepoint when nested); callers use this,
        never the raw connection's context manager."""
        return self.conn

    # ------------------------------------------------------------------ meta
    def get_meta(self, key: str) -> str | None:
        return self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).get

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", (key, value))

    # ------------------------------------------------------------------ files
    def file_rows(self, paths: list[str] | None = None) -> dict[str, FileRow]:
        """Every file's row, or only those of ``paths`` (a live append's pass reads one row, not 10,000)."""
        if paths is None:
            return {r[1]: FileRow(*r) for r in self.conn.execute(f"SELECT {FILE_COLS} FROM files")}
        out: dict[str, FileRow] = {}
        for i in range(0, len(paths), 500):
            part = paths[i : i + 500]
            q = f"SELECT {FILE_COLS} FROM files WHERE path IN ({','.join('?' * len(part))})"
            out.update((r[1], FileRow(*r)) for r in self.conn.execute(q, part))
        return out

    def file_row(self, path: str) -> FileRow | None:
        r = self.conn.execute(f"SELECT {FILE_COLS} FROM files WHERE path=?", (path,)).fetchone()
        return FileRow(*r) if r else None

    def file_row_by_id(self, file_id: int) -> FileRow | None:
        r = self.conn.execute(f"SELECT {FILE_COLS} FROM files WHERE id=?", (file_id,)).fetchone()
        return FileRow(*r) if r else None

    def file_error(self, file_id: int) -> str | None:
        """Why a file failed (``status == 'error'``), as recorded."""
        return self.conn.execute("SELECT error FROM files WHERE id=?", (file_id,)).get

    def ensure_file(self, path: str) -> int:
        self.conn.execute("INSERT INTO files(path) VALUES(?) ON CONFLICT(path) DO NOTHING", (path,))
        return self.conn.execute("SELECT id FROM files WHERE path=?", (path,)).get

    def mark_file(
        self,
        file_id: int,
        *,
        size: int,
        mtime_ns: int,
        status: str,
        error: str | None = None,
        agent: str | None = None,
        parser_version: int | None = None,
    ) -> None:
        """Record a file's verdict (``not_session``, ``error``, ``container`` for a source of several
        sessions stored as member rows ``<path>#<key>``); ``parser_version``: the parser that judged it."""
        self.conn.execute(
            "UPDATE files SET size=?, mtime_ns=?, status=?, error=?, agent=COALESCE(?, agent), indexed_at=?,"
            " parser_version=COALESCE(?, parser_version) WHERE id=?",
            (size, mtime_ns, status, error, agent, time.time(), parser_version, file_id),
        )

    def member_rows(self, container: str, sep: str = "#") -> list[FileRow]:
        """The rows of a container's members (paths ``<container><sep><key>``)."""
        prefix = container + sep
        return [
            FileRow(*r)
            for r in self.conn.execute(f"SELECT {FILE_COLS} FROM files WHERE path >= ? AND path < ?", (prefix, prefix + "\U0010ffff"))
            if r[1].startswith(prefix)
        ]

    def touch_file(self, file_id: int, *, size: int, mtime_ns: int) -> None:
        self.conn.execute("UPDATE files SET size=?, mtime_ns=? WHERE id=?", (size, mtime_ns, file_id))

    def clear_file(self, file_id: int) -> None:
        """Remove everything derived from one file (before a full re-parse).  Call inside a transaction."""
        c = self.conn
        self._file_spans.pop(file_id, None)
        c.execute("DELETE FROM events WHERE file_id=?", (file_id,))
        c.execute("DELETE FROM edits WHERE file_id=?", (file_id,))
        c.execute("DELETE FROM turns WHERE file_id=?", (file_id,))
        # Usage rows are deduplicated across files (a resumed or copied transcript repeats the same
        # requests): a row this file owns passes to another file that logged the same request,
        # or the other copy's tokens would vanish from every report.
        c.execute(
            """UPDATE usage SET (file_id, session_id, seq, turn) = (
                   SELECT e.file_id, e.session_id, e.seq, e.turn FROM events e
                   WHERE e.usage_key = usage.key AND e.file_id != ?1 ORDER BY e.file_id, e.seq LIMIT 1)
               WHERE file_id = ?1 AND EXISTS (SELECT 1 FROM events e WHERE e.usage_key = usage.key AND e.file_id != ?1)""",
            (file_id,),
        )
        c.execute("DELETE FROM usage WHERE file_id=?", (file_id,))
        c.execute("DELETE FROM problems WHERE file_id=?", (file_id,))
        c.execute("DELETE FROM findings WHERE file_id=?", (file_id,))
        c.execute("DELETE FROM sessions WHERE file_id=?", (file_id,))
        c.execute(
            "UPDATE files SET offset=0, lines=0, head_len=0, head_hash=NULL, state=NULL, session_id=NULL, coach_hash=NULL WHERE id=?",
            (file_id,),
        )
        c.execute("INSERT INTO search_queue(file_id, op) VALUES(?, 'replace')", (file_id,))

    def delete_file(self, file_id: int) -> None:
        with self.conn:
            self.clear_file(file_id)
            self.conn.execute("DELETE FROM search_queue WHERE file_id=? AND op!='delete'", (file_id,))
            self.conn.execute("INSERT INTO search_queue(file_id, op) VALUES(?, 'delete')", (file_id,))
            self.conn.execute("DELETE FROM files WHERE id=?", (file_id,))

    # ------------------------------------------------------------------ ingest
    def _span_before(self, file_id: int) -> tuple[int, int, float | None, float | None] | None:
        """(max seq or -1, event count, max ts, min ts) of a file's stored events as this connection
        last wrote them, when that still holds (nothing committed by another connection since, no
        write of it rolled back); None: unknown, read them from the table."""
        version = self.conn.pragma("data_version")
        if version != self._spans_version:
            self._file_spans.clear()
            self._spans_version = version
        top = self.conn.execute("SELECT max(seq) FROM events WHERE file_id=?", (file_id,)).get
        if top is None:
            return (-1, 0, None, None)
        known = self._file_spans.get(file_id)
        # a rolled-back append leaves a lower max seq than it recorded; a rolled-back rewrite was
        # not recorded (see write_prepared)
        return known if known is not None and known[0] == top else None

    def write_prepared(self, p: PreparedParse, *, salvage: bool = False) -> str:
        """Write the rows of :func:`prepare_parse` (inside ``with store.conn:``); returns the session id
        they were written under: ``<id>@<file id>`` when another file already claims the session id
        (a copy, or .jsonl vs .jsonl.zst), keeping both apart.

        ``salvage`` (after a failed write, in a fresh savepoint): rows are written one by one and a
        row that fails is left out with a problem on its line, so one bad value never loses a file."""
        c = self.conn
        lost: list[tuple] = []

        def many(sql: str, rows: list, line_at: int | None) -> None:
            if not salvage:
                c.executemany(sql, rows)
                return
            for r in rows:
                try:
                    with c:
                        c.execute(sql, r)
                except (apsw.Error, OverflowError, ValueError, TypeError) as e:
                    line = r[line_at] if line_at is not None and isinstance(r[line_at], int) else 0
                    lost.append((p.file_id, line, 0, "warning", f"row not stored: {type(e).__name__}: {e}"[:300]))

        file_id = p.file_id
        sid = p.session_id
        before = self._span_before(file_id)
        if p.project:
            c.execute(
                "INSERT INTO projects(root, name) VALUES(?, ?) ON CONFLICT(root) DO NOTHING", (p.project, p.project_name or p.project)
            )
        existing = c.execute("SELECT file_id FROM sessions WHERE id=?", (sid,)).get
        session_row, event_rows, turn_rows, usage_rows = p.session_row, p.event_rows, p.turn_rows, p.usage_rows
        if existing is not None and existing != file_id:
            sid = f"{sid}@{file_id}"
            session_row = (sid, *session_row[1:])
            event_rows = [(r[0], r[1], sid, *r[3:]) for r in event_rows]
            turn_rows = [(sid, *r[1:]) for r in turn_rows]
            usage_rows = [(r[0], r[1], sid, *r[3:]) for r in usage_rows]
        c.execute(
            """INSERT INTO sessions(id, file_id, agent, cwd, project, git_branch, git_commit, git_remote, models,
                   cli_version, originator, started_at, ended_at, parent_session_id, agent_id, title, usage_lower_bound)
               VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT(id) DO UPDATE SET cwd=excluded.cwd, project=excluded.project, git_branch=excluded.git_branch,
                   git_commit=excluded.git_commit, git_remote=excluded.git_remote, models=excluded.models,
                   cli_version=excluded.cli_version, originator=excluded.originator,
                   started_at=COALESCE(sessions.started_at, excluded.started_at),
                   ended_at=COALESCE(excluded.ended_at, sessions.ended_at),
                   parent_session_id=excluded.parent_session_id, agent_id=excluded.agent_id,
                   title=COALESCE(excluded.title, sessions.title), usage_lower_bound=excluded.usage_lower_bound""",
            session_row,
        )
        many(
            """INSERT OR REPLACE INTO events(file_id, seq, session_id, offset, length, ts, kind, subtype, turn, tool, call_id,
                   command, exit_code, is_error, duration_ms, text, files, model, usage_key, flags, agent_id,
                   parent_call_id, data) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            event_rows,
            1,
        )
        many(
            """INSERT INTO turns(session_id, idx, file_id, start_line, end_line, started_at, ended_at, prompt, model,
                   turn_id, aborted, duration_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT(session_id, idx) DO UPDATE SET end_line=excluded.end_line,
                   started_at=COALESCE(turns.started_at, excluded.started_at), ended_at=excluded.ended_at,
                   prompt=COALESCE(turns.prompt, excluded.prompt), model=COALESCE(excluded.model, turns.model),
                   turn_id=COALESCE(turns.turn_id, excluded.turn_id), aborted=excluded.aborted,
                   duration_ms=COALESCE(excluded.duration_ms, turns.duration_ms)""",
            turn_rows,
            3,
        )
        # usage: one row per billed request, globally deduplicated, keeping the largest output
        many(
            """INSERT INTO usage(key, file_id, session_id, seq, turn, ts, day, model, agent, project, input, cache_read,
                   cache_write_5m, cache_write_1h, output, reasoning, speed, cost_usd, cost_known, log_cost_usd)
               VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT(key) DO UPDATE SET input=excluded.input, cache_read=excluded.cache_read,
                   cache_write_5m=excluded.cache_write_5m, cache_write_1h=excluded.cache_write_1h,
                   output=excluded.output, reasoning=excluded.reasoning, cost_usd=excluded.cost_usd,
                   cost_known=excluded.cost_known, model=COALESCE(excluded.model, usage.model)
               WHERE excluded.output > usage.output""",
            usage_rows,
            3,
        )
        if p.edit_rows:
            many(_edits.INSERT, [(file_id, *r) for r in p.edit_rows], 1)
        many("INSERT INTO problems(file_id, line, offset, severity, message) VALUES(?,?,?,?,?)", p.problem_rows, 1)
        if lost:
            c.executemany("INSERT INTO problems(file_id, line, offset, severity, message) VALUES(?,?,?,?,?)", lost)
        # counters + file state: the file's event count and time span, from what was known before this
        # write when it only appended (a file of hundreds of chunks is not scanned once per chunk)
        seqs = [r[1] for r in event_rows]
        if before is not None and not salvage and (not seqs or min(seqs) > before[0]):
            span = {r[1]: r[5] for r in event_rows}  # a seq written twice keeps its last row
            stamps = [t for t in span.values() if t is not None]
            top, n, hi, lo = before
            if stamps:
                hi = max(stamps) if hi is None else max(hi, *stamps)
                lo = min(stamps) if lo is None else min(lo, *stamps)
            agg = (max(top, *span) if span else top, n + len(span), hi, lo)
            self._file_spans[file_id] = agg
        else:  # not recorded: were this write rolled back, its max seq could be the one found before it
            got = c.execute("SELECT max(seq), count(*), max(ts), min(ts) FROM events WHERE file_id=?", (file_id,)).fetchone()
            assert got is not None, "an aggregate query returns one row"
            top, n, hi, lo = got
            agg = (-1 if top is None else top, n, hi, lo)
            self._file_spans.pop(file_id, None)
        c.execute(
            """UPDATE sessions SET events=?, turns=(SELECT count(*) FROM turns WHERE session_id=?),
                   ended_at=COALESCE(?, ended_at), started_at=COALESCE(started_at, ?) WHERE id=?""",
            (agg[1], sid, agg[2], agg[3], sid),
        )
        c.execute(
            """UPDATE files SET agent=?, size=?, mtime_ns=?, offset=?, lines=?, head_len=?, head_hash=?, parser_version=?,
                   state=?, session_id=?, status='ok', error=NULL, indexed_at=? WHERE id=?""",
            (*p.file_state, sid, time.time(), file_id),
        )
        if p.first_seq is not None:
            c.execute("INSERT INTO search_queue(file_id, op, from_seq) VALUES(?, 'append', ?)", (file_id, p.first_seq))
        return sid

    def replace_findings(self, file_id: int, session_id: str, findings: Iterable[Any], coach_hash: str | None = None) -> None:
        """A file's findings, replaced; ``coach_hash`` names the coach inputs they were computed with."""
        c = self.conn
        c.execute("DELETE FROM findings WHERE file_id=?", (file_id,))
        c.execute("UPDATE files SET coach_hash=? WHERE id=?", (coach_hash, file_id))
        c.executemany(
            "INSERT INTO findings(file_id, session_id, seq, rule_id, severity, message, guideline, related, data) VALUES(?,?,?,?,?,?,?,?,?)",
            [
                (
                    file_id,
                    session_id,
                    f.seq,
                    f.rule_id,
                    f.severity.value if hasattr(f.severity, "value") else f.severity,
                    f.message,
                    f.guideline,
                    _dumps([r.model_dump() for r in f.related]),
                    _dumps(f.data),
                )
                for f in findings
            ],
        )

    def recompute_costs(self, cost_fn) -> int:
        """Re-price every usage row with ``cost_fn(row) -> (usd|None, known)`` (after a pricing change)."""
        rows = self.conn.execute(
            "SELECT key, model, agent, input, cache_read, cache_write_5m, cache_write_1h, output, reasoning, speed FROM usage"
        ).fetchall()
        with self.conn:
            self.conn.executemany(
                "UPDATE usage SET cost_usd=?, cost_known=? WHERE key=?",
                [(*cost_fn(r), r[0]) for r in rows],
            )
        self.refresh_usage_days()
        return len(rows)

    # ------------------------------------------------------------------ search queue
    def search_queue(self, limit: int = 10_000) -> list[SearchOp]:
        return [SearchOp(*r) for r in self.conn.execute("SELECT id, file_id, op, from_seq FROM search_queue ORDER BY id LIMIT ?", (limit,))]

    def clear_search_queue(self, upto_id: int) -> None:
        self.conn.execute("DELETE FROM search_queue WHERE id<=?", (upto_id,))

    def enqueue_all_for_search(self) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM search_queue")
            self.conn.execute("INSERT INTO search_queue(file_id, op) SELECT id, 'replace' FROM files WHERE status='ok'")

    def searchable_events(
        self, file_id: int, from_seq: int = 0, kinds: Sequence[str] = (), *, clip: tuple[int, int, int] | None = None
    ) -> Iterator[tuple[int, str, float | None, str, str | None, str | None, str | None, str | None, str | None, int]]:
        """Rows for the search index: seq, session_id, ts, kind, tool, model, command, text, files, flags.

        ``clip`` (head, tail, most): the text arrives trimmed the way the index trims it - a long
        tool result as its first ``head`` and last ``tail`` characters around a line break, any
        other text cut at ``most`` - so the long middles of outputs are never decoded."""
        text = "e.text"
        args: list[Any] = []
        if clip is not None:
            head, tail, most = clip
            text = (
                "CASE WHEN e.kind='tool_result' AND length(e.text) > ?1 + ?2 "
                "THEN substr(e.text, 1, ?1) || char(10) || substr(e.text, -?2) "
                "WHEN length(e.text) > ?3 THEN substr(e.text, 1, ?3) ELSE e.text END"
            )
            args = [head, tail, most]
        n = len(args)
        q = (
            f"SELECT e.seq, e.session_id, e.ts, e.kind, e.tool, e.model, e.command, {text}, e.files, e.flags "
            f"FROM events e WHERE e.file_id=?{n + 1} AND e.seq>=?{n + 2} AND (e.flags & 1)=0"
        )
        args += [file_id, from_seq]
        if kinds:
            q += f" AND e.kind IN ({','.join(f'?{n + 3 + i}' for i in range(len(kinds)))})"
            args.extend(kinds)
        return self.conn.execute(q + " ORDER BY e.seq", args)

    def file_search_context(self, file_id: int) -> SearchContext | None:
        """Path, agent, project and title of a file's session."""
        r = self.conn.execute(
            "SELECT f.path, COALESCE(s.agent, f.agent), s.project, s.title FROM files f LEFT JOIN sessions s ON s.file_id=f.id WHERE f.id=?",
            (file_id,),
        ).fetchone()
        return SearchContext(*r) if r else None

    # ------------------------------------------------------------------ reads
    def sessions_per_agent(self) -> dict[str, int]:
        return _pairs(self.conn.execute("SELECT agent, count(*) FROM sessions GROUP BY agent").fetchall())

    def all_session_ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM sessions")]

    def subagent_counts(self) -> dict[str, int]:
        """Parent session id -> its number of sub-agent sessions."""
        return _pairs(
            self.conn.execute("SELECT parent_session_id, count(*) FROM sessions WHERE parent_session_id IS NOT NULL GROUP BY 1").fetchall()
        )

    def last_indexed_at(self) -> float | None:
        """When any file was last indexed (moves on every indexing pass that changed something)."""
        v = self.conn.execute("SELECT max(indexed_at) FROM files").get
        return float(v) if v is not None else None

    def counts(self) -> dict[str, int]:
        c = self.conn
        return {
            "files": c.execute("SELECT count(*) FROM files WHERE status='ok'").get,
            "sessions": c.execute("SELECT count(*) FROM sessions").get,
            "events": c.execute("SELECT count(*) FROM events").get,
            "problems": c.execute("SELECT count(*) FROM problems").get,
            "findings": c.execute("SELECT count(*) FROM findings").get,
            "projects": c.execute("SELECT count(DISTINCT project) FROM sessions WHERE project IS NOT NULL").get,
        }

    def list_sessions(
        self,
        *,
        project: str | None = None,
        agent: str | None = None,
        since: float | None = None,
        until: float | None = None,
        projects_under: Sequence[str] = (),
        limit: int = 100,
        include_subagents: bool = True,
        query: str | None = None,
        has_findings: bool = False,
        sort: str = "started",
        descending: bool = True,
        offset: int = 0,
    ) -> list[SessionSummary]:
        """Sessions (newest first by default): the one builder (``store.sessions``) with these
        filters; ``query`` is a literal substring of the title, id, project or log path."""
        from sessionlens.models.listing import SessionFilter

        f = SessionFilter(
            project=project,
            agent=agent,
            since=since,
            until=until,
            projects_under=tuple(projects_under),
            limit=max(1, limit),
            include_subagents=include_subagents,
            text=query,
            has_findings=has_findings,
            sort=sort if sort in session_query.ORDER_BY else "started",
            descending=descending,
            offset=max(0, offset),
        )
        return session_query.query(self, f)

    def get_session(self, session_id: str) -> StoredSession | None:
        r = self.conn.execute(
            f"SELECT {SESSION_COLS} FROM sessions s JOIN files f ON f.id=s.file_id WHERE s.id=?", (session_id,)
        ).fetchone()
        return row_to_session(r) if r else None

    def session_source(self, session_id: str) -> str | None:
        """The path of the source a session was read from (its log may be gone since), or None."""
        r = self.conn.execute("SELECT f.path FROM sessions s JOIN files f ON f.id=s.file_id WHERE s.id=?", (session_id,)).fetchone()
        return r[0] if r else None

    def find_session_prefix(self, prefix: str) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM sessions WHERE id LIKE ? ORDER BY id LIMIT 5", (prefix + "%",))]

    def session_ids(self, prefix: str = "", limit: int = 500) -> list[str]:
        """Session ids starting with ``prefix``, newest first (shell completion)."""
        esc = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT id FROM sessions WHERE id LIKE ? ESCAPE '\\' ORDER BY COALESCE(started_at, 0) DESC LIMIT ?", (esc + "%", limit)
            )
        ]

    def session_for_path(self, path: str) -> StoredSession | None:
        r = self.conn.execute(f"SELECT {SESSION_COLS} FROM sessions s JOIN files f ON f.id=s.file_id WHERE f.path=?", (path,)).fetchone()
        return row_to_session(r) if r else None

    def subagent_sessions(self, parent_id: str) -> list[StoredSession]:
        return [
            row_to_session(r)
            for r in self.conn.execute(
                f"SELECT {SESSION_COLS} FROM sessions s JOIN files f ON f.id=s.file_id WHERE s.parent_session_id=? ORDER BY s.started_at",
                (parent_id,),
            )
        ]

    def events(self, file_id: int, start: int = 0, end: int | None = None, *, kinds: Sequence[str] = ()) -> list[Event]:
        q = f"SELECT {EVENT_COLS} FROM events e WHERE e.file_id=? AND e.seq>=?"
        args: list[Any] = [file_id, start]
        if end is not None:
            q += " AND e.seq<=?"
            args.append(end)
        if kinds:
            q += f" AND e.kind IN ({','.join('?' * len(kinds))})"
            args.extend(kinds)
        return [row_to_event(r) for r in self.conn.execute(q + " ORDER BY e.seq", args)]

    def event_rows(self, file_id: int) -> list[StoredEvent]:
        """A file's events as :meth:`events` gives them, as plain rows (``models.store.StoredEvent``,
        no pydantic): what ``sessionlens show``'s timeline reads."""
        q = f"SELECT {EVENT_COLS} FROM events e WHERE e.file_id=? ORDER BY e.seq"
        return [row_to_stored_event(r) for r in self.conn.execute(q, (file_id,))]

    #: successful tool results: the coach reads their size and ending, not their text (secrets aside)
    _OK_RESULT = "e.kind='tool_result' AND e.is_error=0 AND coalesce(e.exit_code, 0)=0 AND length(e.text)>?"

    def events_for_rules(self, file_id: int, kinds: Sequence[str], *, clip: int, suffix: str) -> list[Event]:
        """The non-duplicate events of ``kinds``, those carrying token usage, and the file's last
        line: what the coach rules read of a file (the rest matters only for secrets, see
        ``event_texts``).  A successful tool result's text is cut to ``clip`` characters (plus
        ``suffix`` when it ended so) and its full length kept in ``extra['output_chars']``; see
        ``clipped_texts`` for the secrets.  Much less memory than ``events`` on a huge file."""
        return list(self.iter_events_for_rules(file_id, kinds, clip=clip, suffix=suffix))

    def iter_events_for_rules(self, file_id: int, kinds: Sequence[str], *, clip: int, suffix: str) -> Iterator[Event]:
        """``events_for_rules``, streamed (a huge file's events never all in memory)."""
        q = ",".join("?" * len(kinds))
        return self._rule_events_query(
            f"""e.file_id=? AND (((e.flags & 1)=0 AND (e.kind IN ({q}) OR instr(e.data, '"usage"') > 0))
                OR e.seq=(SELECT max(seq) FROM events WHERE file_id=?))""",
            (file_id, *kinds, file_id),
            clip,
            suffix,
        )

    def rule_events_by_calls(self, file_id: int, call_ids: Iterable[str], *, clip: int, suffix: str) -> Iterator[Event]:
        """The non-duplicate tool calls, patches and results of ``call_ids``, as ``events_for_rules``
        reads them (in seq order per batch of ids), through the call index."""
        ids = sorted(call_ids)
        for i in range(0, len(ids), 500):
            batch = ids[i : i + 500]
            yield from self._rule_events_query(
                f"""e.file_id=? AND e.call_id IN ({",".join("?" * len(batch))}) AND (e.flags & 1)=0
                    AND e.kind IN ('tool_call', 'patch', 'tool_result')""",
                (file_id, *batch),
                clip,
                suffix,
                "INDEXED BY events_call",
            )

    def _rule_events_query(self, where: str, params: Sequence[Any], clip: int, suffix: str, hint: str = "") -> Iterator[Event]:
        cols = EVENT_COLS.replace(
            "e.text,",
            f"CASE WHEN {self._OK_RESULT} THEN substr(e.text, 1, ?) || "
            "CASE WHEN substr(e.text, -?) = ? THEN ? ELSE '' END ELSE e.text END, ",
        )
        for r in self.conn.execute(
            f"""SELECT {cols}, CASE WHEN {self._OK_RESULT} THEN length(e.text) END FROM events e {hint}
                WHERE {where} ORDER BY e.seq""",
            (clip, clip, len(suffix), suffix, suffix, clip, *params),
        ):
            ev = row_to_event(r, compact=True)
            if r[23] is not None:
                had = ev.extra.get("output_chars")
                ev.extra["output_chars"] = max(had if isinstance(had, int) else 0, r[23])
            yield ev

    def clipped_texts(self, file_id: int, clip: int) -> Iterator[tuple[int, str]]:
        """(seq, full text) of the tool results ``events_for_rules`` clips, streamed."""
        return self.conn.execute(
            f"SELECT e.seq, e.text FROM events e WHERE e.file_id=? AND (e.flags & 1)=0 AND {self._OK_RESULT} ORDER BY e.seq",
            (file_id, clip),
        )

    def event_texts(self, file_id: int, exclude_kinds: Sequence[str]) -> Iterator[tuple[int, str | None, str | None]]:
        """(seq, command, text) of the non-duplicate events not of ``exclude_kinds`` that have either, streamed."""
        q = ",".join("?" * len(exclude_kinds))
        return self.conn.execute(
            f"""SELECT seq, command, text FROM events WHERE file_id=? AND (flags & 1)=0 AND kind NOT IN ({q})
                AND (text IS NOT NULL OR command IS NOT NULL) ORDER BY seq""",
            (file_id, *exclude_kinds),
        )

    def hit_texts(self, file_id: int, seq: int) -> EventTexts | None:
        """An event's texts as :meth:`event` gives them (command, text, files, extra), without building
        the ``Event`` model: what a search hit's masking and description read."""
        r = self.conn.execute(
            "SELECT e.command, e.text, e.files, e.data FROM events e WHERE e.file_id=? AND e.seq=?", (file_id, seq)
        ).fetchone()
        if r is None:
            return None
        data = orjson.loads(r[3]) if r[3] else None
        return EventTexts(r[0], r[1], orjson.loads(r[2]) if r[2] else [], (data.get("extra") or {}) if data else {})

    def event(self, file_id: int, seq: int) -> Event | None:
        r = self.conn.execute(f"SELECT {EVENT_COLS} FROM events e WHERE e.file_id=? AND e.seq=?", (file_id, seq)).fetchone()
        return row_to_event(r) if r else None

    def events_by_call(self, file_id: int, call_id: str) -> list[Event]:
        return [
            row_to_event(r)
            # the call index (events_call) finds the few lines at once
            for r in self.conn.execute(
                f"""SELECT {EVENT_COLS} FROM events e INDEXED BY events_call WHERE e.file_id=?1 AND e.call_id=?2 ORDER BY e.seq""",
                (file_id, call_id),
            )
        ]

    def outline_rows(self, file_id: int) -> list[OutlineRow]:
        """Compact rows for outlines (``OutlineRow``): a call's text is an excerpt long enough to name it."""
        return [
            OutlineRow(*r)
            for r in self.conn.execute(
                """SELECT seq, kind, subtype, turn, tool, command,
                      CASE WHEN kind IN ('tool_call', 'patch') THEN substr(text, 1, 8000) ELSE substr(text, 1, 200) END,
                      files, flags, is_error, exit_code, call_id, agent_id, parent_call_id,
                      CASE WHEN data LIKE '%"description"%' THEN json_extract(data, '$.extra.description') END
               FROM events WHERE file_id=? AND (flags & 1)=0
                 AND kind IN ('user_message','assistant_message','tool_call','patch','compaction','error','tool_result')
               ORDER BY seq""",
                (file_id,),
            )
        ]

    def agent_calls(self, file_id: int) -> dict[str, str]:
        """Sub-agent id -> the tool call (Task/Agent) that started it, from the lines that name both."""
        return _pairs(
            self.conn.execute(
                "SELECT agent_id, min(parent_call_id) FROM events WHERE file_id=? AND agent_id IS NOT NULL "
                "AND parent_call_id IS NOT NULL GROUP BY agent_id",
                (file_id,),
            ).fetchall()
        )

    def line_map(self, file_id: int) -> dict[int, int]:
        """``{seq: line}`` for the events whose editor line differs from their seq (several events on
        one line, documents); empty for plain one-event-per-line logs."""
        return {
            r[0]: r[1]
            for r in self.conn.execute(
                """SELECT seq, json_extract(data, '$.extra.line') FROM events
               WHERE file_id=? AND data LIKE '%"line"%' AND json_extract(data, '$.extra.line') IS NOT NULL
                 AND json_extract(data, '$.extra.line') != seq""",
                (file_id,),
            )
        }

    def event_lines(self, file_id: int, seq: int) -> tuple[int, int]:
        """``(editor line, last line)`` of one event: :meth:`line_map` and :meth:`end_lines` for one
        event (a search hit), without reading the whole file's events."""
        r = self.conn.execute(
            "SELECT json_extract(data, '$.extra.line'), json_extract(data, '$.extra.end_line') FROM events WHERE file_id=? AND seq=?",
            (file_id, seq),
        ).fetchone()
        line = r[0] if r and isinstance(r[0], int) else seq
        end = r[1] if r and isinstance(r[1], int) else line
        return line, end

    def end_lines(self, file_id: int) -> dict[int, int]:
        """``{seq: last line}`` for events that span several lines (a message in a JSON document)."""
        return {
            r[0]: r[1]
            for r in self.conn.execute(
                """SELECT seq, json_extract(data, '$.extra.end_line') FROM events
               WHERE file_id=? AND data LIKE '%"end_line"%' AND json_extract(data, '$.extra.end_line') IS NOT NULL""",
                (file_id,),
            )
        }

    def seq_at_line(self, file_id: int, line: int) -> int | None:
        """The first event shown at an editor line (1-based)."""
        lm = self.line_map(file_id)
        if not lm:
            return line
        hits = [seq for seq, ln in lm.items() if ln == line]
        if self.conn.execute("SELECT 1 FROM events WHERE file_id=? AND seq=?", (file_id, line)).fetchone() and line not in lm:
            hits.append(line)
        return min(hits) if hits else None

    def line_spans(self, file_id: int) -> list[tuple[int, int]]:
        return cast(
            list[tuple[int, int]], self.conn.execute("SELECT seq, length FROM events WHERE file_id=? ORDER BY seq", (file_id,)).fetchall()
        )

    def turns(self, session_id: str) -> list[Turn]:
        return self._turns("session_id=?", (session_id,))

    def aborted_or_turns(self, session_id: str, indices: Iterable[int]) -> list[Turn]:
        """The session's aborted turns and those of ``indices``: what the coach reads of a huge
        session's turns (tens of thousands of them)."""
        want = sorted(set(indices))
        out = self._turns("session_id=? AND aborted=1", (session_id,))
        have = {t.index for t in out}
        for i in range(0, len(want), 500):
            batch = [x for x in want[i : i + 500] if x not in have]
            if batch:
                out += self._turns(f"session_id=? AND idx IN ({','.join('?' * len(batch))})", (session_id, *batch))
        return sorted(out, key=lambda t: t.index)

    def _turns(self, where: str, params: Sequence[Any]) -> list[Turn]:
        out = []
        for r in self.conn.execute(
            f"""SELECT idx, start_line, end_line, started_at, ended_at, prompt, model, turn_id, aborted, duration_ms
               FROM turns WHERE {where} ORDER BY idx""",
            params,
        ):
            out.append(
                _m().Turn(
                    index=r[0],
                    start_line=r[1],
                    end_line=r[2],
                    started_at=datetime.fromtimestamp(r[3], timezone.utc) if r[3] is not None else None,
                    ended_at=datetime.fromtimestamp(r[4], timezone.utc) if r[4] is not None else None,
                    prompt=r[5],
                    model=r[6],
                    turn_id=r[7],
                    aborted=bool(r[8]),
                    duration_ms=r[9],
                )
            )
        return out

    def turn_usage(self, session_id: str) -> dict[int, TurnUsage]:
        """Turn index -> its usage."""
        cls = _rows().TurnUsage
        out = {}
        for r in self.conn.execute(
            """SELECT turn, CAST(total(input) AS INTEGER), CAST(total(cache_read) AS INTEGER), CAST(total(cache_write_5m + cache_write_1h) AS INTEGER), CAST(total(output) AS INTEGER), sum(cost_usd),
                      sum(1 - cost_known) FROM usage WHERE session_id=? GROUP BY turn""",
            (session_id,),
        ):
            out[r[0]] = cls.from_dict(
                {"input": r[1], "cache_read": r[2], "cache_write": r[3], "output": r[4], "cost_usd": r[5], "unknown": r[6]}
            )
        return out

    def usage_for_event(self, session_id: str, key: str) -> EventUsage | None:
        r = self.conn.execute(
            "SELECT model, input, cache_read, cache_write_5m, cache_write_1h, output, reasoning, cost_usd, cost_known FROM usage WHERE key=?",
            (key,),
        ).fetchone()
        if not r:
            return None
        return _rows().EventUsage.from_dict(
            dict(
                zip(
                    ("model", "input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning", "cost_usd", "cost_known"), r
                )
            ),
        )

    USAGE_ROW_COLS = (
        "key",
        "seq",
        "turn",
        "ts",
        "model",
        "input",
        "cache_read",
        "cache_write_5m",
        "cache_write_1h",
        "output",
        "reasoning",
        "speed",
        "cost_usd",
        "cost_known",
        "log_cost_usd",
    )

    def usage_rows(self, session_id: str) -> list[UsageRow]:
        """The billed requests of one session (exports), in line order."""
        cols = ", ".join(self.USAGE_ROW_COLS)
        cls = _rows().UsageRow
        return [
            cls.from_dict(dict(zip(self.USAGE_ROW_COLS, r)))
            for r in self.conn.execute(f"SELECT {cols} FROM usage WHERE session_id=? ORDER BY seq, key", (session_id,))
        ]

    def session_totals(self, session_ids: Sequence[str] | None) -> UsageTotals:
        """Token and cost totals of these sessions; None: of every session (one scan of the usage_report index)."""
        cls = _rows().UsageTotals
        if session_ids is not None and not session_ids:
            return cls()
        q = ",".join("?" * len(session_ids)) if session_ids is not None else ""
        ids = list(session_ids) if session_ids is not None else []
        if session_ids is None and self._usage_days_clean():  # every request: the per-day summary (schema's costdays)
            r = self.conn.execute(
                """SELECT coalesce(sum(input),0), coalesce(sum(cache_read),0), coalesce(sum(cache_write_5m),0),
                          coalesce(sum(cache_write_1h),0), coalesce(sum(output),0), coalesce(sum(reasoning),0),
                          coalesce(sum(cost_usd),0), coalesce(sum(unknown),0), coalesce(sum(requests),0) FROM usage_days"""
            ).fetchone()
        else:
            r = self.conn.execute(
                f"""SELECT coalesce(CAST(total(input) AS INTEGER),0), coalesce(CAST(total(cache_read) AS INTEGER),0), coalesce(CAST(total(cache_write_5m) AS INTEGER),0),
                           coalesce(CAST(total(cache_write_1h) AS INTEGER),0), coalesce(CAST(total(output) AS INTEGER),0), coalesce(CAST(total(reasoning) AS INTEGER),0),
                           coalesce(sum(cost_usd),0), coalesce(sum(1-cost_known),0), count(*)
                    FROM usage {f"WHERE session_id IN ({q})" if session_ids is not None else ""}""",
                ids,
            ).fetchone()
        r = r or (0, 0, 0, 0, 0, 0, 0.0, 0, 0)  # an aggregate always has its row
        out: dict[str, Any] = dict(
            zip(("input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning", "cost_usd", "unknown", "requests"), r)
        )
        out["untracked_sessions"] = None
        untracked = sum(
            n
            for agent, n in self.conn.execute(
                f"SELECT agent, count(*) FROM sessions {f'WHERE id IN ({q})' if session_ids is not None else ''} GROUP BY agent", ids
            )
            if not records_tokens(agent)
        )
        if untracked:  # sessions of an agent that records no tokens: their figures are unknown
            out["unknown"] += untracked
            out["untracked_sessions"] = untracked
        return cast("UsageTotals", cls.from_dict(out))

    def usage_report(
        self,
        by: str,
        *,
        since: float | None = None,
        until: float | None = None,
        project: str | None = None,
        agent: str | None = None,
        path_prefixes: Sequence[str] | None = None,
        spans: bool = True,
    ) -> list[UsageGroup]:
        """Aggregate usage.  ``by``: one of :data:`USAGE_GROUPS`; ``path_prefixes``: only log files under
        these folders (None: every file); ``spans=False``: without the distinct sessions and the first and
        last times (``sessions`` 0, ``first_ts``/``last_ts`` None): a cost report shows neither, and they
        are half of its query's time on a big store."""
        group = USAGE_GROUPS.get(by)
        if group is None:
            raise StoreError(f"cannot group usage by {by!r}; use day, week, month, session, model, project or agent")
        where: list[str] = []
        args: list[Any] = []
        if since is not None:
            where.append("u.ts >= ?")
            args.append(since)
        if until is not None:
            where.append("u.ts < ?")
            args.append(until)
        if project:
            where.append("(u.project = ? OR u.project LIKE ?)")
            args += [project, f"%/{project}"]
        if agent:
            where.append("u.agent = ?")
            args.append(agent)
        if path_prefixes is not None:
            where.append("(" + (" OR ".join("substr(f.path, 1, ?) = ?" for _ in path_prefixes) or "0") + ")")
            for p in path_prefixes:
                args += [len(p), p]

        def sql(grouping: str) -> str:
            return f"""SELECT {group} AS k, {"COALESCE(u.model, '(unknown)')" if by in ("day", "week", "month") else "''"} AS m,
                         {_USAGE_SUMS}, {"count(DISTINCT u.session_id), min(u.ts), max(u.ts)" if spans else "0, NULL, NULL"}
                  FROM usage u {"JOIN files f ON f.id = u.file_id" if path_prefixes is not None else ""}
                  {"WHERE " + " AND ".join(where) if where else ""}
                  GROUP BY {grouping} ORDER BY k, m"""

        if by in ("day", "week"):
            # grouped by the columns themselves, the usage_report index is read in order (no sort of every
            # request); a day holding both a NULL model and one literally named "(unknown)" would give two
            # rows of one key: then the grouping by the names the report shows, as before
            rows = None
            if not where and path_prefixes is None and not spans:
                rows = self._usage_days_rows()  # the summary of every request, when no day of it is dirty
            if rows is None:
                rows = self.conn.execute(sql("u.day, u.model"), args).fetchall()
            if len({(r[0], r[1]) for r in rows}) != len(rows):
                rows = self.conn.execute(sql("k, m"), args).fetchall()
        else:
            rows = self.conn.execute(sql("k, m"), args).fetchall()
        cols = (
            "key",
            "model",
            "input",
            "cache_read",
            "cache_write_5m",
            "cache_write_1h",
            "output",
            "reasoning",
            "cost_usd",
            "unknown",
            "requests",
            "sessions",
            "first_ts",
            "last_ts",
        )
        cls = _rows().UsageGroup
        return [cls.from_dict(dict(zip(cols, r))) for r in rows]

    def _usage_days_clean(self) -> bool:
        """Whether ``usage_days`` sums every usage row (no day written since :meth:`refresh_usage_days`)."""
        return self.conn.execute("SELECT 1 FROM usage_days_dirty LIMIT 1").fetchone() is None

    def _usage_days_rows(self) -> list[tuple[Any, ...]] | None:
        """The unfiltered report by day from ``usage_days`` (rows as the grouped query gives them), or
        None while a day is dirty (written since the last :meth:`refresh_usage_days`)."""
        c = self.conn
        if not self._usage_days_clean():
            return None
        # a writer's commit between the two statements leaves this a consistent, earlier state: the
        # summary only changes when the dirty days are recomputed, in the transaction that clears them
        return c.execute(
            """SELECT day AS k, COALESCE(model, '(unknown)') AS m, input, cache_read, cache_write_5m, cache_write_1h, output,
                      reasoning, cost_usd, unknown, requests, 0, NULL, NULL FROM usage_days ORDER BY k, m"""
        ).fetchall()

    def refresh_usage_days(self) -> int:
        """The writer, after a pass: recompute ``usage_days`` for the days written since (each by the
        report's own grouped query over that day's index range); the number of days recomputed."""
        c = self.conn
        if c.execute("SELECT 1 FROM usage_days_dirty LIMIT 1").fetchone() is None:
            return 0
        with c:
            dirty = [r[0] for r in c.execute("SELECT day FROM usage_days_dirty")]
            for day in dirty:
                cond, arg = ("day IS NULL", ()) if day == "" else ("day = ?", (day,))
                c.execute(f"DELETE FROM usage_days WHERE {cond}", arg)
                c.execute(
                    f"""INSERT INTO usage_days(day, model, input, cache_read, cache_write_5m, cache_write_1h, output, reasoning,
                               cost_usd, unknown, requests)
                        SELECT u.day, u.model, {_USAGE_SUMS} FROM usage u WHERE u.{cond} GROUP BY u.day, u.model""",
                    arg,
                )
            c.execute("DELETE FROM usage_days_dirty")
        return len(dirty)

    def problems(self, file_id: int) -> list[StoredProblem]:
        """A file's malformed lines, in line order."""
        cls = _rows().StoredProblem
        return [
            cls.from_row(r)
            for r in self.conn.execute("SELECT line, offset, message, severity FROM problems WHERE file_id=? ORDER BY line", (file_id,))
        ]

    def findings(
        self,
        *,
        file_id: int | None = None,
        session_id: str | None = None,
        project: str | None = None,
        rule: str | None = None,
        seq: int | None = None,
        limit: int = 10_000,
    ) -> list[StoredFinding]:
        """Findings, filtered; ``seq`` (with ``file_id``) picks one line's findings through the (file_id, seq) index."""
        where: list[str] = []
        args: list[Any] = []
        if file_id is not None:
            where.append("fi.file_id=?")
            args.append(file_id)
        if seq is not None:
            where.append("fi.seq=?")
            args.append(seq)
        if session_id is not None:
            where.append("fi.session_id=?")
            args.append(session_id)
        if project:
            where.append("(s.project=? OR s.project LIKE ?)")
            args += [project, f"%/{project}"]
        if rule:
            where.append("fi.rule_id=?")
            args.append(rule)
        sql = f"""SELECT fi.id, fi.file_id, fi.session_id, fi.seq, fi.rule_id, fi.severity, fi.message, fi.guideline,
                         fi.related, fi.data, f.path, s.project, s.agent
                  FROM findings fi JOIN files f ON f.id=fi.file_id LEFT JOIN sessions s ON s.id=fi.session_id
                  {"WHERE " + " AND ".join(where) if where else ""} ORDER BY fi.file_id, fi.seq LIMIT ?"""
        cls = _rows().StoredFinding
        return [cls.from_dict(_finding_values(r)) for r in self.conn.execute(sql, (*args, limit))]

    def finding(self, finding_id: int) -> FindingDetail | None:
        """One finding by id (through the primary key: any finding of any store size)."""
        sql = """SELECT fi.id, fi.file_id, fi.session_id, fi.seq, fi.rule_id, fi.severity, fi.message, fi.guideline,
                        fi.related, fi.data, f.path, s.project, s.agent, s.cwd
                 FROM findings fi JOIN files f ON f.id=fi.file_id LEFT JOIN sessions s ON s.id=fi.session_id
                 WHERE fi.id=?"""
        r = self.conn.execute(sql, (finding_id,)).fetchone()
        if r is None:
            return None
        return cast("FindingDetail", _rows().FindingDetail.from_dict({**_finding_values(r), "cwd": r[13]}))

    def coach_inputs(self, paths: Sequence[str] | None = None) -> list[CoachInput]:
        """(file id, path, coach hash, session) of every coached session log (of ``paths`` when given)."""
        sql = f"""SELECT f.id, f.path, f.coach_hash, {SESSION_COLS}
                  FROM files f JOIN sessions s ON s.file_id=f.id WHERE f.status='ok' AND f.mtime_ns != 0"""
        rows = self.conn.execute(sql).fetchall()
        want = set(paths) if paths is not None else None
        out: list[CoachInput] = []
        for r in rows:
            if want is not None and r[1] not in want:
                continue
            out.append(CoachInput(cast(int, r[0]), cast(str, r[1]), cast("str | None", r[2]), row_to_session(r[3:])))
        return out

    @staticmethod
    def _finding_where(project: str | None, rule: str | None, session_id: str | None = None) -> tuple[str, list[Any]]:
        conds, args = [], []
        if project:
            conds.append("(s.project=? OR s.project LIKE ?)")
            args += [project, f"%/{project}"]
        if rule:
            conds.append("fi.rule_id=?")
            args.append(rule)
        if session_id:
            conds.append("fi.session_id=?")
            args.append(session_id)
        return ("WHERE " + " AND ".join(conds)) if conds else "", args

    def finding_counts(self, project: str | None = None, rule: str | None = None, session_id: str | None = None) -> list[FindingCount]:
        where, args = self._finding_where(project, rule, session_id)
        join = "LEFT JOIN sessions s ON s.id=fi.session_id" if project else ""  # only a project needs the session
        return [
            FindingCount(*r)
            for r in self.conn.execute(
                f"""SELECT fi.rule_id, fi.severity, count(*), count(DISTINCT fi.session_id)
                FROM findings fi {join} {where}
                GROUP BY fi.rule_id, fi.severity ORDER BY count(*) DESC""",
                args,
            )
        ]

    def finding_totals(self, project: str | None = None, rule: str | None = None, session_id: str | None = None) -> FindingTotal:
        """(findings, distinct sessions with a finding) for the selection."""
        where, args = self._finding_where(project, rule, session_id)
        join = "LEFT JOIN sessions s ON s.id=fi.session_id" if project else ""
        r = self.conn.execute(
            f"SELECT count(*), count(DISTINCT fi.session_id) FROM findings fi {join} {where}",
            args,
        ).fetchone() or (0, 0)  # an aggregate always has its row
        return FindingTotal(cast(int, r[0]), cast(int, r[1]))

    # ------------------------------------------------------------------ llm cache / conversations
    def cache_get(self, key: str) -> str | None:
        return self.conn.execute("SELECT value FROM llm_cache WHERE key=?", (key,)).get

    def cache_put(self, key: str, kind: str, model: str | None, value: str) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT INTO llm_cache(key, kind, model, created, value) VALUES(?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value, created=excluded.created",
                (key, kind, model, time.time(), value),
            )

    def conversation(self, session_id: str) -> list[ConversationMessage]:
        cls = _rows().ConversationMessage
        return [
            cls.from_dict({"role": r[0], "content": r[1], "created": r[2]})
            for r in self.conn.execute("SELECT role, content, created FROM conversations WHERE session_id=? ORDER BY id", (session_id,))
        ]

    def add_conversation(self, session_id: str, role: str, content: str) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT INTO conversations(session_id, role, content, created) VALUES(?,?,?,?)", (session_id, role, content, time.time())
            )

    def clear_conversation(self, session_id: str) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM conversations WHERE session_id=?", (session_id,))

    # ------------------------------------------------------------------ eval runs
    def add_eval_run(
        self,
        suite: str,
        suite_path: str | None,
        started_at: float,
        finished_at: float,
        git_commit: str | None,
        instructions_hash: str | None,
        summary: dict,
        results: Iterable[dict],
    ) -> int:
        with self.conn:
            self.conn.execute(
                "INSERT INTO eval_runs(suite, suite_path, started_at, finished_at, git_commit, instructions_hash, summary) VALUES(?,?,?,?,?,?,?)",
                (suite, suite_path, started_at, finished_at, git_commit, instructions_hash, _dumps(summary)),
            )
            run_id = self.conn.last_insert_rowid()
            self.conn.executemany(
                "INSERT INTO eval_results(run_id, session_id, case_id, check_id, passed, message, evidence_seq, data) VALUES(?,?,?,?,?,?,?,?)",
                [
                    (
                        run_id,
                        r.get("session_id"),
                        r.get("case_id"),
                        r["check_id"],
                        int(bool(r["passed"])),
                        r.get("message"),
                        r.get("evidence_seq"),
                        _dumps(r.get("data") or {}),
                    )
                    for r in results
                ],
            )
        return run_id

    def eval_runs(self, suite: str, limit: int = 50) -> list[EvalRun]:
        """A suite's runs, newest first."""
        cols = ("id", "suite", "suite_path", "started_at", "finished_at", "git_commit", "instructions_hash", "pinned", "summary")
        cls = _rows().EvalRun
        out = []
        for r in self.conn.execute(f"SELECT {', '.join(cols)} FROM eval_runs WHERE suite=? ORDER BY id DESC LIMIT ?", (suite, limit)):
            d = dict(zip(cols, r))
            d["summary"] = orjson.loads(d["summary"]) if d["summary"] else {}
            out.append(cls.from_dict(d))
        return out

    def eval_results(self, run_id: int) -> list[EvalResultRow]:
        """A run's results, in the order they were stored."""
        cols = ("session_id", "case_id", "check_id", "passed", "message", "evidence_seq", "data")
        cls = _rows().EvalResultRow
        out = []
        for r in self.conn.execute(f"SELECT {', '.join(cols)} FROM eval_results WHERE run_id=?", (run_id,)):
            d = dict(zip(cols, r))
            d["passed"] = bool(d["passed"])
            d["data"] = orjson.loads(d["data"]) if d["data"] else {}
            out.append(cls.from_dict(d))
        return out

    def pin_eval_run(self, suite: str, run_id: int) -> None:
        with self.conn:
            self.conn.execute("UPDATE eval_runs SET pinned=0 WHERE suite=?", (suite,))
            self.conn.execute("UPDATE eval_runs SET pinned=1 WHERE id=? AND suite=?", (run_id, suite))
