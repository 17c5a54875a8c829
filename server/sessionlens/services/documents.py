"""Views of an open session log (the language server's document features): outline, hover,
diagnostics, go-to-definition, code lenses, folding ranges.  Lines are 0-based here."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sessionlens.coach.redact import egress, redact_event
from sessionlens.models import Event, EventKind, Turn
from sessionlens.services import render
from sessionlens.services.base import Host
from sessionlens.services.links import inside_folders
from sessionlens.services.masking import FINDING_TEXT, mask_model
from sessionlens.services.outline import OutlineCache, OutlineNode, _tokens
from sessionlens.store import FileRow
from sessionlens.store.outline import turn_heads

if TYPE_CHECKING:
    from sessionlens.models.store import StoredSession


@dataclass
class DiagnosticInfo:
    line: int  # 0-based
    length: int
    severity: str  # error | warning | info | hint
    message: str
    source: str  # "sessionlens" (parse) | "sessionlens-coach"
    code: str
    related: list[dict[str, Any]] = field(default_factory=list)  # {path, line, message}
    data: dict[str, Any] = field(default_factory=dict)


#: files whose seq -> line map is kept (the map is read once per indexed version of a file, not per hover)
_LINE_MAPS_KEPT = 64


class Documents:
    def __init__(self, host: Host):
        self.host = host
        self.outlines = OutlineCache()
        # file id -> (indexed version, {line: first seq shown there}, {seqs whose line is not their seq})
        self._line_maps: dict[int, tuple[tuple[int, int, int], dict[int, int], frozenset[int]]] = {}

    def _lines_of(self, row: FileRow) -> tuple[dict[int, int], frozenset[int]]:
        """``({editor line: first seq there}, {seqs shown elsewhere})`` of an indexed file, cached per indexed
        version (size, mtime, offset): a plain one-event-per-line log has two empty maps."""
        key = (row.size, row.mtime_ns, row.offset)
        hit = self._line_maps.get(row.id)
        if hit is not None and hit[0] == key:
            return hit[1], hit[2]
        lm = self.host.db().line_map(row.id)
        first: dict[int, int] = {}
        for seq, line in lm.items():
            if line not in first or seq < first[line]:
                first[line] = seq
        if len(self._line_maps) >= _LINE_MAPS_KEPT:
            self._line_maps.clear()
        self._line_maps[row.id] = (key, first, frozenset(lm))
        return first, frozenset(lm)

    def _file(self, path: str) -> tuple[FileRow, StoredSession] | None:
        """The indexed file row and its session, or None when ``path`` is not an indexed session log."""
        db = self.host.db()
        row = db.file_row(os.path.abspath(path))
        if row is None or row.status != "ok" or not row.session_id:
            return None
        s = db.get_session(row.session_id)
        return (row, s) if s is not None else None

    def is_indexed(self, path: str) -> bool:
        return self._file(path) is not None

    def outline(self, path: str) -> list[OutlineNode]:
        """The session's outline: turns with their notable events, bounded for huge sessions (see
        ``outline.bound_outline``); cached per file until the file is indexed again."""
        found = self._file(path)
        if found is None:
            return []
        row, s = found
        return self.outlines.get(self.host.db(), path, row, s)

    def event_at(self, path: str, line0: int) -> tuple[StoredSession, Event] | None:
        found = self._file(path)
        if found is None:
            return None
        row, s = found
        db = self.host.db()
        line = line0 + 1
        first, moved = self._lines_of(row)
        # the first event shown at the line: one mapped there, or the event whose seq is the line (unless it moved)
        candidates = sorted({first[line]} if line in first else set()) + ([line] if line not in moved else [])
        for seq in sorted(candidates):
            ev = db.event(row.id, seq)
            if ev is not None:
                return s, ev
        return None

    def hover(self, path: str, line0: int) -> str | None:
        found = self.event_at(path, line0)
        if not found:
            return None
        s, ev = found
        db = self.host.db()
        fid = s.file_id
        result = call = None
        if ev.call_id:
            for other in db.events_by_call(fid, ev.call_id):
                if other.seq == ev.seq:
                    continue
                if other.kind == EventKind.TOOL_RESULT and ev.kind != EventKind.TOOL_RESULT:
                    result = other
                elif other.kind in (EventKind.TOOL_CALL, EventKind.PATCH) and ev.kind == EventKind.TOOL_RESULT:
                    call = other
        usage = db.usage_for_event(s.id, ev.usage_key) if ev.usage_key else None
        fnd = db.findings(file_id=fid, seq=ev.seq)
        # a display: masked
        md = render.event_markdown(
            redact_event(ev),
            result=redact_event(result) if result is not None else None,
            call=redact_event(call) if call is not None else None,
            usage=usage.model_dump() if usage is not None else None,
            findings=[f.model_dump() for f in fnd],
            agent=s.agent,
        )
        return str(egress(md))

    def diagnostics(self, path: str) -> list[DiagnosticInfo]:
        db = self.host.db()
        row = db.file_row(path)
        if row is None:
            return []
        spans = dict(db.line_spans(row.id))
        lines = db.line_map(row.id)
        out = []
        for p in db.problems(row.id):
            out.append(
                DiagnosticInfo(
                    line=p.line - 1,
                    length=max(spans.get(p.line, 0), 1),
                    severity=p.severity,
                    message=p.message,
                    source="sessionlens",
                    code="parse-error",
                )
            )
        for f in (mask_model(x, FINDING_TEXT) for x in db.findings(file_id=row.id)):
            related = []
            for r in f.related:
                rp = r.get("path") or path
                rl = r.get("line") or r.get("seq") or 1
                related.append({"path": rp, "line": rl - 1, "message": r.get("note") or f"related event (line {rl})"})
            out.append(
                DiagnosticInfo(
                    line=lines.get(f.seq, f.seq) - 1,
                    length=max(spans.get(f.seq, 0), 1),
                    severity=f.severity,
                    message=f.message,
                    source="sessionlens-coach",
                    code=f.rule_id,
                    related=related,
                    data={
                        "finding_id": f.id,
                        "rule_id": f.rule_id,
                        "guideline": f.guideline,
                        "session_id": f.session_id,
                        "agent": f.agent,
                        "project": f.project,
                        "seq": f.seq,
                    },
                )
            )
        return out

    def definition(self, path: str, line0: int) -> list[tuple[str, int]]:
        """The workspace file (and line, from the patch hunk) that an event edited or read.

        Paths in a log are data: a target must lie inside an open workspace folder (after resolving
        ``..`` and symlinks), so no log leads the editor to, or makes sessionlens read, ``/etc/passwd``."""
        found = self.event_at(path, line0)
        if not found:
            return []
        s, ev = found
        if not ev.files:
            return []
        workspace = list(self.host.workspace_folders)
        folders = [os.path.realpath(f) for f in workspace if f]
        if not folders:
            return []
        base = s.cwd or ""
        out = []
        for f in ev.files:
            if not isinstance(f, str) or not f or "\x00" in f:
                continue
            cands = [f] if os.path.isabs(f) else [os.path.join(base, f)] if os.path.isabs(base) else []
            for folder in workspace:
                if os.path.isabs(f) and base and f.startswith(base.rstrip("/") + "/"):
                    cands.append(os.path.join(folder, f[len(base.rstrip("/")) + 1 :]))
                elif not os.path.isabs(f):
                    cands.append(os.path.join(folder, f))
            target = next((c for c in cands if inside_folders(c, folders) and os.path.isfile(c)), None)
            if target is None:
                continue
            out.append((os.path.realpath(target), hunk_line(ev, os.path.realpath(target))))
        return out

    def lenses(self, path: str) -> list[tuple[int, str]]:
        found = self._file(path)
        if found is None:
            return []
        _row, s = found
        db = self.host.db()
        tusage = db.turn_usage(s.id)
        out = []
        for t in db.turns(s.id):
            u = tusage.get(t.index)
            parts = [
                f"Turn {t.index + 1}",
                f"{_tokens(u) if u is not None else 0:,} tokens",
                render.fmt_usd(u.cost_usd, not u.unknown) if u is not None else "$0",
                render.fmt_duration(t.duration_ms) if t.duration_ms else _span(t),
            ]
            out.append((t.start_line - 1, " · ".join(p for p in parts if p)))
        return out

    def folding(self, path: str) -> list[tuple[int, int]]:
        found = self._file(path)
        if found is None:
            return []
        _row, s = found
        # the turns' lines only (a 2 GB rollout has tens of thousands of turns: no Turn models)
        return [(t.start_line - 1, t.end_line - 1) for t in turn_heads(self.host.db(), s.id) if t.end_line > t.start_line]


def _span(t: Turn) -> str:
    if t.started_at and t.ended_at:
        return render.fmt_duration(int((t.ended_at - t.started_at).total_seconds() * 1000))
    return ""


_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)", re.M)


def hunk_line(ev: Event, target: str) -> int:
    """0-based line of the first hunk in the event's patch text, else of the edited text in ``target``."""
    text = ev.text or ""
    m = _HUNK.search(text)
    if m:
        return max(int(m.group(1)) - 1, 0)
    new = ev.extra.get("new_string") or ev.extra.get("old_string") if ev.extra else None
    first_plus = None
    for ln in text.splitlines():
        if ln.startswith("+") and not ln.startswith("+++") and ln[1:].strip():
            first_plus = ln[1:]
            break
    needle = (new or first_plus or "").splitlines()[0].strip() if (new or first_plus) else ""
    if needle:
        try:
            with open(target, encoding="utf-8", errors="replace") as fh:
                for i, line in enumerate(fh):
                    if needle in line:
                        return i
        except OSError:
            pass
    return 0
