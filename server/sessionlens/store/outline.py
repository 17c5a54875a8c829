"""Outline queries for huge logs: a few notable events per line range, selected in SQL (the
``events_notable`` index) instead of reading every event of the file (``Store.outline_rows``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sessionlens.store.db import OutlineRow, Store

#: The rows ``events_notable`` holds (the query must repeat it for SQLite to use the partial index).
NOTABLE = "(kind IN ('error', 'patch', 'compaction') OR (kind = 'tool_result' AND (is_error = 1 OR exit_code != 0)))"

_ROW = """seq, kind, subtype, turn, tool, command,
          CASE WHEN kind IN ('tool_call', 'patch') THEN substr(text, 1, 8000) ELSE substr(text, 1, 200) END,
          files, flags, is_error, exit_code, call_id, agent_id, parent_call_id,
          CASE WHEN data LIKE '%"description"%' THEN json_extract(data, '$.extra.description') END,
          length, CASE WHEN data LIKE '%"line"%' THEN json_extract(data, '$.extra.line') END"""


#: What choosing among candidates needs of an event (no text: only the chosen ones' rows are read whole).
_BRIEF = """seq, kind, call_id, is_error, exit_code, CASE WHEN data LIKE '%"line"%' THEN json_extract(data, '$.extra.line') END"""


class Brief(NamedTuple):
    """An outline candidate before it is chosen: its kind, call, failure and editor line (None: its seq)."""

    seq: int
    kind: str
    call_id: str | None
    is_error: int | None
    exit_code: int | None
    line: int | None


class TurnHead(NamedTuple):
    """What a huge outline shows of a turn."""

    idx: int
    start_line: int
    end_line: int
    prompt: str | None
    duration_ms: int | None
    aborted: bool


class PlacedRow(NamedTuple):
    """An outline row with its line's byte length and its editor line (None: its seq)."""

    row: OutlineRow
    length: int
    line: int | None


def turn_heads(db: Store, session_id: str) -> list[TurnHead]:
    return [
        TurnHead(r[0], r[1], r[2], r[3], r[4], bool(r[5]))
        for r in db.conn.execute(
            "SELECT idx, start_line, end_line, substr(prompt, 1, 400), duration_ms, aborted FROM turns WHERE session_id=? ORDER BY idx",
            (session_id,),
        )
    ]


def turn_indexes(db: Store, session_id: str) -> list[int]:
    """The session's turn indexes, in order."""
    return [r[0] for r in db.conn.execute("SELECT idx FROM turns WHERE session_id=? ORDER BY idx", (session_id,))]


def turns_at(db: Store, session_id: str, idxs: Iterable[int]) -> dict[int, TurnHead]:
    """``turn_heads`` of a few turns, by index."""
    want = sorted(set(idxs))
    out: dict[int, TurnHead] = {}
    for i in range(0, len(want), 500):
        batch = want[i : i + 500]
        for r in db.conn.execute(
            f"""SELECT idx, start_line, end_line, substr(prompt, 1, 400), duration_ms, aborted FROM turns
                WHERE session_id=? AND idx IN ({",".join("?" * len(batch))})""",
            (session_id, *batch),
        ):
            out[r[0]] = TurnHead(r[0], r[1], r[2], r[3], r[4], bool(r[5]))
    return out


def _placed(rows: Iterable[tuple]) -> list[PlacedRow]:
    return [PlacedRow(OutlineRow(*r[:15]), r[15], r[16]) for r in rows]


def notable_briefs(db: Store, file_id: int, kind: str, lo: int, hi: int, limit: int) -> list[Brief]:
    """The first ``limit`` non-duplicate notable events (see ``NOTABLE``) of ``kind`` in lines ``lo``–``hi``, as
    ``Brief``s: the partial index, then only the few columns choosing needs (the chosen ones are read by ``rows_at``)."""
    return [
        Brief(*r)
        for r in db.conn.execute(
            f"""SELECT {_BRIEF} FROM events INDEXED BY events_notable
                WHERE file_id=? AND kind=? AND seq BETWEEN ? AND ? AND {NOTABLE} AND (flags & 1)=0 ORDER BY seq LIMIT ?""",
            (file_id, kind, lo, hi, limit),
        )
    ]


def call_briefs(db: Store, file_id: int, call_ids: Iterable[str], kinds: tuple[str, ...]) -> list[Brief]:
    """The non-duplicate events of ``kinds`` with these call ids (the call index), as ``Brief``s."""
    ids = sorted(set(call_ids))
    out: list[Brief] = []
    q = ",".join("?" * len(kinds))
    for i in range(0, len(ids), 500):
        batch = ids[i : i + 500]
        out += [
            Brief(*r)
            for r in db.conn.execute(
                f"""SELECT {_BRIEF} FROM events INDEXED BY events_call
                    WHERE file_id=? AND call_id IN ({",".join("?" * len(batch))}) AND kind IN ({q}) AND (flags & 1)=0 ORDER BY seq""",
                (file_id, *batch, *kinds),
            )
        ]
    return out


def rows_at(db: Store, file_id: int, seqs: Iterable[int]) -> dict[int, PlacedRow]:
    """{seq: its outline row} of a few events."""
    want = sorted(set(seqs))
    out: dict[int, PlacedRow] = {}
    for i in range(0, len(want), 500):
        batch = want[i : i + 500]
        for p in _placed(
            db.conn.execute(
                f"SELECT {_ROW} FROM events WHERE file_id=? AND seq IN ({','.join('?' * len(batch))})",
                (file_id, *batch),
            )
        ):
            out[p.row.seq] = p
    return out


def first_rows(db: Store, file_id: int, kinds: tuple[str, ...], lo: int, hi: int, limit: int) -> list[PlacedRow]:
    """The first ``limit`` non-duplicate events of ``kinds`` in lines ``lo``–``hi`` (frequent kinds: the scan stops soon)."""
    q = ",".join("?" * len(kinds))
    return _placed(
        db.conn.execute(
            f"""SELECT {_ROW} FROM events WHERE file_id=? AND seq BETWEEN ? AND ? AND kind IN ({q}) AND (flags & 1)=0
                ORDER BY seq LIMIT ?""",
            (file_id, lo, hi, *kinds, limit),
        )
    )


def last_seq(db: Store, file_id: int) -> tuple[int, int]:
    """(the last event's seq, its line's byte length); (1, 0) for an empty file."""
    r = db.conn.execute("SELECT seq, length FROM events WHERE file_id=? ORDER BY seq DESC LIMIT 1", (file_id,)).fetchone()
    return (int(r[0]), int(r[1])) if r else (1, 0)


def line_lengths(db: Store, file_id: int, seqs: Iterable[int]) -> dict[int, int]:
    """{seq: byte length of its line} of a few events."""
    want = sorted(set(seqs))
    out: dict[int, int] = {}
    for i in range(0, len(want), 500):
        batch = want[i : i + 500]
        out.update(
            db.conn.execute(f"SELECT seq, length FROM events WHERE file_id=? AND seq IN ({','.join('?' * len(batch))})", (file_id, *batch))
        )
    return out


def counts_in(db: Store, file_id: int, ranges: list[tuple[int, int]]) -> list[int]:
    """The events of each line range ``(first, last)``: a count over the file's seq index per range, many per
    statement (a ``GROUP BY`` of the lines' buckets sorted every event of a 2 GB rollout through a temp b-tree)."""
    out: list[int] = []
    for i in range(0, len(ranges), 200):
        batch = ranges[i : i + 200]
        sql = "SELECT " + ", ".join(["(SELECT count(*) FROM events WHERE file_id=? AND seq BETWEEN ? AND ?)"] * len(batch))
        r = db.conn.execute(sql, [x for a, b in batch for x in (file_id, a, b)]).fetchone()
        out += [int(n) for n in r or ()]
    return out
