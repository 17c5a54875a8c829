"""Exports (Markdown, JSON, JSON Lines, CSV) and the JSON Lines import.

Everything exported is redacted first (the one secret detector, :mod:`sessionlens.coach.redact`):
exports leave the machine.  The JSON Lines format is :mod:`sessionlens.models.export` (versioned,
``schemas/export-record.schema.json``, ``docs/export-format.md``).

An import writes each session into the store as the indexer would (the same row builder,
:func:`sessionlens.store.prepare_parse`), under a file row named ``sessionlens-import:<id>`` (no
file on disk), with the exported costs: importing reproduces sessions, events, tokens and cost
exactly.  A session already in the store is skipped, so importing twice changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from sessionlens import __version__
from sessionlens.coach.redact import redact, redact_obj
from sessionlens.ingest.edits import edit_rows
from sessionlens.models import Event, EventKind
from sessionlens.models.export import (
    EXPORT_FORMAT,
    EXPORT_VERSION,
    KNOWN_TYPES,
    ExportRecord,
    SessionInfo,
    UsageInfo,
)
from sessionlens.services.app import IMPORT_PREFIX, App
from sessionlens.store import StoreError


class ImportFormatError(StoreError):
    """The file is not a sessionlens JSON Lines export this version can read."""


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat() if ts is not None else None


def _session_info(app: App, sid: str) -> dict[str, Any]:
    s = app.db().get_session(sid)
    if s is None:
        raise StoreError(f"session {sid} vanished from the store")
    row = s.model_dump()
    info = {k: row[k] for k in SessionInfo.model_fields if k in row}
    info["started_at"] = _iso(s.started_at)
    info["ended_at"] = _iso(s.ended_at)
    info["source_path"] = s.path
    return info


def export_records(app: App, ids: Sequence[str]) -> Iterator[dict[str, Any]]:
    """The JSON Lines export of these sessions, record by record, redacted."""
    db = app.db()
    yield {
        "type": "header",
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": datetime.now(timezone.utc).isoformat(),
        "sessionlens": __version__,
        "redacted": True,
        "sessions": len(ids),
    }
    for sid in ids:
        s = db.get_session(sid)
        if s is None:
            continue
        yield redact_obj({"type": "session", "session": _session_info(app, sid)})
        for t in db.turns(sid):
            yield redact_obj({"type": "turn", "session_id": sid, "turn": t.model_dump(mode="json")})
        for e in db.events(s.file_id):
            yield redact_obj({"type": "event", "session_id": sid, "event": e.model_dump(mode="json", exclude_none=True)})
        for row in db.usage_rows(sid):
            u = row.model_dump()
            u["timestamp"] = _iso(u.pop("ts"))
            u["cost_known"] = bool(u["cost_known"])
            yield {"type": "usage", "session_id": sid, "usage": u}
        for f in db.findings(session_id=sid):
            yield redact_obj(
                {
                    "type": "finding",
                    "session_id": sid,
                    "finding": {k: getattr(f, k) for k in ("rule_id", "severity", "message", "seq", "guideline", "related", "data")},
                }
            )


def export_json(app: App, sid: str) -> dict[str, Any]:
    """One session as one JSON document (session, turns, events, usage totals, findings), redacted."""
    db = app.db()
    s = app.resolve_session(sid)
    payload = {
        "session": s.model_dump(),
        "turns": [t.model_dump(mode="json") for t in db.turns(s.id)],
        "events": [e.model_dump(mode="json", exclude_none=True) for e in db.events(s.file_id)],
        "usage": db.session_totals([s.id]).as_dict(),
        "findings": [f.model_dump() for f in db.findings(session_id=s.id)],
    }
    return redact_obj(payload)


def export_markdown(app: App, ids: Sequence[str]) -> str:
    parts = []
    for sid in ids:
        _title, md = app.render_session(sid, redact=True)
        parts.append(redact(md).rstrip() + "\n")
    return "\n---\n\n".join(parts)


CSV_COLUMNS = {
    "events": [
        "session_id",
        "seq",
        "timestamp",
        "kind",
        "subtype",
        "turn",
        "tool",
        "call_id",
        "command",
        "exit_code",
        "is_error",
        "duration_ms",
        "model",
        "text",
    ],
    "commands": ["session_id", "seq", "timestamp", "turn", "tool", "command", "exit_code", "is_error", "duration_ms", "result_seq"],
    "usage": [
        "session_id",
        "key",
        "seq",
        "timestamp",
        "model",
        "input",
        "cache_read",
        "cache_write_5m",
        "cache_write_1h",
        "output",
        "reasoning",
        "cost_usd",
        "cost_known",
    ],
}


def _ts(e: Event) -> str | None:
    return e.timestamp.isoformat() if e.timestamp else None


def export_csv(app: App, ids: Sequence[str], table: str) -> str:
    """One table of these sessions as CSV: ``events``, ``commands`` (calls with their results'
    exit codes and durations) or ``usage`` (tokens and cost per billed request).  Redacted."""
    db = app.db()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = CSV_COLUMNS[table]
    w.writerow(cols)
    for sid in ids:
        s = db.get_session(sid)
        if s is None:
            continue
        if table == "usage":
            for u in db.usage_rows(sid):
                w.writerow(
                    [
                        sid,
                        u.key,
                        u.seq,
                        _iso(u.ts),
                        u.model,
                        u.input,
                        u.cache_read,
                        u.cache_write_5m,
                        u.cache_write_1h,
                        u.output,
                        u.reasoning,
                        u.cost_usd,
                        int(bool(u.cost_known)),
                    ]
                )
            continue
        events = db.events(s.file_id)
        if table == "events":
            for e in events:
                if e.duplicate:
                    continue
                w.writerow(
                    [
                        sid,
                        e.seq,
                        _ts(e),
                        e.kind.value,
                        e.subtype,
                        e.turn,
                        e.tool,
                        e.call_id,
                        redact(e.command or ""),
                        e.exit_code,
                        int(e.is_error),
                        e.duration_ms,
                        e.model,
                        redact(e.text or ""),
                    ]
                )
            continue
        results = {e.call_id: e for e in events if e.kind == EventKind.TOOL_RESULT and e.call_id and not e.duplicate}
        for e in events:
            if e.duplicate or e.kind not in (EventKind.TOOL_CALL, EventKind.PATCH):
                continue
            r = results.get(e.call_id) if e.call_id else None
            exit_code = e.exit_code if e.exit_code is not None else (r.exit_code if r else None)
            is_error = e.is_error or bool(r and r.is_error)
            duration = e.duration_ms if e.duration_ms is not None else (r.duration_ms if r else None)
            w.writerow(
                [
                    sid,
                    e.seq,
                    _ts(e),
                    e.turn,
                    e.tool,
                    redact(e.command or e.text or ""),
                    exit_code,
                    int(is_error),
                    duration,
                    r.seq if r else None,
                ]
            )
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------- import

_RECORD = TypeAdapter(ExportRecord)


def read_export(path: Path) -> tuple[dict[str, Any], dict[str, dict[str, list[Any]]]]:
    """Validate an export file: (header, {session id: {"session": [..], "event": [..], ...}})."""
    header = None
    by_session: dict[str, dict[str, list[Any]]] = {}
    order: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as e:
                raise ImportFormatError(f"line {n} is not JSON ({e.msg})") from None
            if not isinstance(raw, dict):
                raise ImportFormatError(f"line {n} is not a JSON object")
            if header is None:
                if raw.get("type") != "header" or raw.get("format") != EXPORT_FORMAT:
                    raise ImportFormatError("not a sessionlens JSON Lines export (`sessionlens export --format jsonl` writes one)")
                if not isinstance(raw.get("version"), int) or raw["version"] > EXPORT_VERSION:
                    raise ImportFormatError(
                        f"export format version {raw.get('version')!r} is newer than this sessionlens reads "
                        f"({EXPORT_VERSION}); upgrade sessionlens"
                    )
            if raw.get("type") not in KNOWN_TYPES:
                continue  # a newer writer's record: ignored
            try:
                rec = _RECORD.validate_python(raw)
            except ValidationError as e:
                first = e.errors()[0]
                where = ".".join(str(x) for x in first.get("loc", ()))
                raise ImportFormatError(f"line {n}: {where}: {first.get('msg')}") from None
            if rec.type == "header":
                if header is None:
                    header = raw
                continue
            sid = rec.session.id if rec.type == "session" else rec.session_id
            if sid not in by_session:
                by_session[sid] = {t: [] for t in KNOWN_TYPES}
                order.append(sid)
            by_session[sid][rec.type].append(rec)
    if header is None:
        raise ImportFormatError("the file is empty")
    return header, {sid: by_session[sid] for sid in order}


def import_jsonl(app: App, path: Path, *, lock_timeout: float | None = None) -> dict[str, Any]:
    """Load an export into ``app``'s store; sessions already present are skipped (idempotent)."""
    from sessionlens.agents import names
    from sessionlens.ingest import PARSER_VERSION
    from sessionlens.models import Finding, ParseResult, ParserState, Session, UsageRecord
    from sessionlens.models.session import TokenUsage
    from sessionlens.store import prepare_parse

    _header, sessions = read_export(path)
    known_agents = set(names())
    db = app.db()
    imported, skipped, events = [], [], 0
    if not db.lock.acquire(timeout=lock_timeout):
        raise StoreError(f"another process is indexing {app.home}; try again later")
    try:
        for sid, recs in sessions.items():
            if not recs["session"]:
                raise ImportFormatError(f"records of session {sid} come without its session record")
            info: SessionInfo = recs["session"][0].session
            fpath = IMPORT_PREFIX + sid
            if db.get_session(sid) is not None or db.file_row(fpath) is not None:
                skipped.append(sid)
                continue
            agent = info.agent
            if agent not in known_agents:
                raise ImportFormatError(f"session {sid}: agent {agent!r} is not known to this sessionlens") from None
            session = Session(
                id=sid,
                agent=agent,
                cwd=info.cwd,
                project=info.project,
                git_branch=info.git_branch,
                git_commit=info.git_commit,
                git_remote=info.git_remote,
                models=info.models,
                cli_version=info.cli_version,
                originator=info.originator,
                started_at=info.started_at,
                ended_at=info.ended_at,
                parent_session_id=info.parent_session_id,
                agent_id=info.agent_id,
                title=info.title,
            )
            evs = [r.event for r in recs["event"]]
            usage: list[UsageInfo] = [r.usage for r in recs["usage"]]
            result = ParseResult(
                agent=agent,
                session=session,
                events=evs,
                turns=[r.turn for r in recs["turn"]],
                usage=[
                    UsageRecord(
                        key=u.key,
                        line=u.seq,
                        timestamp=u.timestamp,
                        model=u.model,
                        speed=u.speed,
                        cost_usd=u.log_cost_usd,
                        usage=TokenUsage(
                            input_tokens=u.input,
                            cache_read_tokens=u.cache_read,
                            cache_write_5m_tokens=u.cache_write_5m,
                            cache_write_1h_tokens=u.cache_write_1h,
                            output_tokens=u.output,
                            reasoning_tokens=u.reasoning,
                        ),
                    )
                    for u in usage
                ],
                state=ParserState(offset=0, line=max((e.seq for e in evs), default=0)),
            )
            with db.transaction():
                file_id = db.ensure_file(fpath)
                prepared = prepare_parse(
                    file_id,
                    result,
                    project=info.project,
                    project_name=Path(info.project).name if info.project else None,
                    usage_costs={u.key: (u.cost_usd, u.cost_known) for u in usage},
                    size=0,
                    mtime_ns=0,
                    head_len=0,
                    head_hash=None,
                    parser_version=PARSER_VERSION,
                )
                prepared.edit_rows = edit_rows(evs, cwd=session.cwd, root=info.project, commit=session.git_commit)
                written = db.write_prepared(prepared)
                db.replace_findings(
                    file_id,
                    written,
                    [
                        Finding(
                            rule_id=f.finding.rule_id,
                            severity=f.finding.severity,
                            message=f.finding.message,
                            session_id=written,
                            seq=f.finding.seq,
                            guideline=f.finding.guideline,
                            related=f.finding.related,
                            data=f.finding.data,
                        )
                        for f in recs["finding"]
                    ],
                )
            imported.append(written)
            events += len(evs)
        if imported:
            db.refresh_usage_days()  # the cost report's summary follows the imported requests
            app.search_index.sync(db)
    finally:
        db.lock.release()
    return {
        "file": str(path),
        "imported": len(imported),
        "skipped": len(skipped),
        "events": events,
        "sessions": imported,
        "skipped_ids": skipped,
    }
