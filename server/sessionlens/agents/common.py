"""Shared helpers for the log parsers: a line reader over bytes, fast JSON, timestamps, text bounds.

Pure functions, no I/O.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import re
from datetime import datetime
from typing import Any, Iterator

import orjson
from pydantic import BaseModel

from sessionlens.models import limits
from sessionlens.models.construct import construct as _construct
from sessionlens.models.session import (
    Agent,
    Event,
    EventKind,
    ParseProblem,
    ParseResult,
    ParserState,
    Session,
    TokenUsage,
    Turn,
    UsageRecord,
)

#: The head every parser shares: the event kinds it names most, and (re-exported below, ``__all__``) the
#: models it builds, so that a parser imports its toolkit from this one module.
META = EventKind.META
SYSTEM = EventKind.SYSTEM


def readme_path(module_file: str) -> str:
    """The ``README.md`` next to an agent package's ``__init__.py`` (its format facts)."""
    return os.path.join(os.path.dirname(module_file), "README.md")


def edit_diff(path: str | None, hunks: list[tuple[str | None, str | None]] | None = None, new_file: str | None = None) -> str:
    """The unified-diff-like text of a file edit that parsers put in a patch event: ``new_file`` (the
    whole content written), else one ``@@`` hunk per ``(old, new)`` pair."""
    path = path or "?"
    out: list[str] = [f"--- {path}", f"+++ {path}"]
    if new_file is not None:
        out.append("@@ new file @@")
        out.extend("+" + ln for ln in new_file.splitlines())
        return "\n".join(out)
    for old, new in hunks or []:
        out.append("@@")
        out.extend("-" + ln for ln in (old or "").splitlines())
        out.extend("+" + ln for ln in (new or "").splitlines())
    return "\n".join(out)


#: Maximum characters kept in ``Event.text``; longer text is cut and marked.
MAX_TEXT = 64 * 1024
TRUNCATION_MARK = "\n[… truncated by sessionlens]"
IMAGE_PLACEHOLDER = "[image]"
_B64_RUN = re.compile(r"[A-Za-z0-9+/=_-]*")
_DATE_CHARS = re.compile(r"[0-9TZ:.+\- ]*")

JSONDecodeError = orjson.JSONDecodeError
_fromisoformat = datetime.fromisoformat
logger = logging.getLogger(__name__)


def loads(raw: bytes | str) -> Any:
    """Parse one JSON document (orjson)."""
    return orjson.loads(raw)


def iter_lines(data: bytes, start_offset: int = 0, start_line: int = 0) -> Iterator[tuple[int, int, bytes, bool]]:
    """Yield ``(line_no, abs_offset, raw_line, terminated)`` for every non-blank line of ``data``.

    ``line_no`` is 1-based and absolute (``start_line`` lines were consumed before ``data``);
    ``abs_offset`` is the absolute byte offset of the line start (``data`` starts at
    ``start_offset``).  ``raw_line`` excludes the ``\\n`` (a ``\\r`` before it is kept; JSON treats it as whitespace).  Blank lines are
    skipped but counted.  ``terminated`` is False only for a last line without a newline.
    """
    pos = 0
    n = len(data)
    line_no = start_line
    find = data.find
    while pos < n:
        end = find(b"\n", pos)
        line_no += 1
        if end < 0:
            raw = data[pos:]
            if raw.strip():
                yield line_no, start_offset + pos, raw, False
            return
        raw = data[pos:end]
        if raw and not raw.isspace():
            yield line_no, start_offset + pos, raw, True
        pos = end + 1


def parse_ts(value: Any) -> datetime | None:
    """Parse an ISO-8601 timestamp (``…Z`` or with an offset) to an aware datetime; None if invalid."""
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None
    if not limits.ts_ok(dt):
        return None  # year 1 or 9999: out of every date function's range (LineParser reports it)
    return dt


def clip(text: str | None, limit: int = MAX_TEXT) -> str | None:
    """Bound ``text`` to ``limit`` characters, marking the cut."""
    if text is None:
        return None
    if len(text) > limit:
        return text[:limit] + TRUNCATION_MARK
    return text


def scrub_data_urls(text: str) -> str:
    """Replace inline ``data:<mime>;base64,…`` payloads with ``[image]`` (cheap: only scans on a hit)."""
    if ";base64," not in text:
        return text
    out: list[str] = []
    pos = 0
    while True:
        hit = text.find(";base64,", pos)
        if hit < 0:
            out.append(text[pos:])
            break
        start = text.rfind("data:", pos, hit)
        if start < 0 or hit - start > 100:
            out.append(text[pos : hit + 8])
            pos = hit + 8
            continue
        end = _B64_RUN.match(text, hit + 8).end()  # type: ignore[union-attr]  # always matches
        out.append(text[pos:start])
        out.append(IMAGE_PLACEHOLDER)
        pos = end
    return "".join(out)


#: images kept with an event (``extra['images']``, shown as thumbnails): at most this many per event ...
MAX_IMAGES = 4
#: ... each at most this many base64 characters (about 1.1 MB decoded); larger ones are counted only
MAX_IMAGE_B64 = 1_500_000
IMAGE_MIMES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_B64_FULL = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def image_entry(mime: Any, data: Any) -> dict[str, Any]:
    """One kept image ``{"mime", "data"}`` (base64), or ``{"mime", "bytes"}`` when too big or not an image."""
    if not isinstance(data, str):
        return {"mime": mime if isinstance(mime, str) else None}
    data = data.strip()
    size = len(data) * 3 // 4
    if mime not in IMAGE_MIMES or len(data) > MAX_IMAGE_B64 or not _B64_FULL.fullmatch(data):
        return {"mime": mime if isinstance(mime, str) else None, "bytes": size}
    return {"mime": mime, "data": data}


def image_from_data_url(url: Any) -> dict[str, Any] | None:
    """``data:image/png;base64,...`` -> an image entry (None for anything else, e.g. a remote URL)."""
    if not isinstance(url, str) or not url.startswith("data:"):
        return None
    head, sep, data = url.partition(",")
    if not sep or not head.endswith(";base64"):
        return None
    return image_entry(head[5:-7], data)


_EVENT_FIELDS = (
    "seq", "line", "offset", "length", "timestamp", "kind", "subtype", "role", "turn", "tool", "call_id", "command",
    "exit_code", "is_error", "duration_ms", "text", "files", "model", "usage", "usage_key", "duplicate", "sidechain",
    "agent_id", "parent_call_id", "message_id", "request_id", "uuid", "extra",
)  # fmt: skip
_EVENT_DEFAULTS: dict[str, Any] = {
    name: field.default for name, field in Event.model_fields.items() if not field.is_required() and field.default_factory is None
}
assert [(n, f.default_factory) for n, f in Event.model_fields.items() if f.default_factory] == [("files", list), ("extra", dict)], (
    "new_event sets the fields with a default factory by name"
)
assert {n: d for n, d in _EVENT_DEFAULTS.items() if d is not None} == {
    "length": 0,
    "is_error": False,
    "duplicate": False,
    "sidechain": False,
}, "new_event spells out the defaults"
#: every field, in order, with its default (None where the caller always sets it)
_EVENT_TEMPLATE: dict[str, Any] = {name: _EVENT_DEFAULTS.get(name) for name in _EVENT_FIELDS}
_EVENT_FIELDS_SET = set(_EVENT_FIELDS)  # shared by every event (see models.construct.construct)
_new_object = object.__new__
_set_dict = object.__setattr__
# BaseModel's slots, set through their descriptors (a little cheaper than object.__setattr__ by name)
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def event_of(values: dict[str, Any]) -> Event:
    """An ``Event`` of ``values`` (every field, correctly typed), without
    validation; ``models.construct.construct`` inlined (one call per event counts here)."""
    obj = _new_object(Event)
    _set_dict(obj, "__dict__", values)
    _set_fields_set(obj, _EVENT_FIELDS_SET)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


def new_event(
    line: int,
    offset: int,
    length: int,
    kind: EventKind,
    subtype: str | None,
    timestamp: datetime | None,
    turn: int | None,
    **fields: Any,
) -> Event:
    """Build an ``Event`` without validation (hot path); callers pass correctly typed values."""
    values = _EVENT_TEMPLATE.copy()  # a copy of a dict of the same keys is a memcpy; a literal of 28 keys costs 3x
    values["seq"] = values["line"] = line
    values["offset"] = offset
    values["length"] = length
    values["timestamp"] = timestamp
    values["kind"] = kind
    values["subtype"] = subtype
    values["turn"] = turn
    values["files"] = []  # the two fields with a default factory (checked at import)
    values["extra"] = {}
    if fields:
        values.update(fields)
    return event_of(values)


def event_with(
    line: int,
    offset: int,
    length: int,
    kind: EventKind,
    subtype: str | None,
    timestamp: datetime | None,
    turn: int | None,
    fields: dict[str, Any],
) -> Event:
    """``new_event`` with the other fields as a dict (a parser's ``_ev(**fields)`` passes its own
    keyword dict on instead of unpacking it again)."""
    values = _EVENT_TEMPLATE.copy()  # a copy of a dict of the same keys is a memcpy; a literal of 28 keys costs 3x
    values["seq"] = values["line"] = line
    values["offset"] = offset
    values["length"] = length
    values["timestamp"] = timestamp
    values["kind"] = kind
    values["subtype"] = subtype
    values["turn"] = turn
    values["files"] = []  # the two fields with a default factory (checked at import)
    values["extra"] = {}
    if fields:
        values.update(fields)
    return event_of(values)


def _usage_record(
    *, key: str, line: int, timestamp: datetime | None, model: str | None, usage: TokenUsage, speed: str | None, cost_usd: float | None
) -> UsageRecord:
    return _construct(
        UsageRecord,
        {"key": key, "line": line, "timestamp": timestamp, "model": model, "usage": usage, "speed": speed, "cost_usd": cost_usd},
    )


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (a record's optional sub-object)."""
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)  # the store range-checks it
    return None


def ts_str(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class TurnTracker:
    """Keeps the current turn across passes (as JSON-able state) and collects changed turns."""

    def __init__(self, state: ParserState) -> None:
        self.count = state.turns
        raw = state.data.get("turn")
        self.current: dict[str, Any] | None = None
        #: the current turn's index (``current["index"]``; None before the first turn): an attribute
        #: read for every event, kept in step by ``open``
        self.index: int | None = None
        if isinstance(raw, dict):
            cur = dict(raw)
            cur["started_at"] = parse_ts(cur.get("started_at"))
            cur["ended_at"] = parse_ts(cur.get("ended_at"))
            self.current = cur
            self.index = cur["index"]
        self.changed: dict[int, dict[str, Any]] = {}

    def open(
        self, line: int, ts: datetime | None, *, prompt: str | None = None, turn_id: str | None = None, model: str | None = None
    ) -> int:
        cur: dict[str, Any] = {
            "index": self.count,
            "start_line": line,
            "end_line": line,
            "started_at": ts,
            "ended_at": ts,
            "prompt": prompt,
            "model": model,
            "turn_id": turn_id,
            "aborted": False,
            "duration_ms": None,
        }
        self.count += 1
        self.current = cur
        self.index = cur["index"]
        self.changed[cur["index"]] = cur
        return cur["index"]

    def touch(self, line: int, ts: datetime | None) -> None:
        cur = self.current
        if cur is None:
            return
        cur["end_line"] = line
        if ts is not None:
            cur["ended_at"] = ts
        self.changed[cur["index"]] = cur

    def update(self, **fields: Any) -> None:
        cur = self.current
        if cur is None:
            return
        cur.update(fields)
        self.changed[cur["index"]] = cur

    def turns(self) -> list[Turn]:
        return [Turn.model_construct(**dict(t)) for _, t in sorted(self.changed.items())]

    def save(self, state: ParserState) -> None:
        state.turns = self.count
        state.turn = self.index
        if self.current is None:
            state.data.pop("turn", None)
        else:
            cur = dict(self.current)
            cur["started_at"] = ts_str(cur["started_at"])
            cur["ended_at"] = ts_str(cur["ended_at"])
            state.data["turn"] = cur


class BoundedMap:
    """A small insertion-ordered map that forgets its oldest entries (persisted as a list of pairs)."""

    def __init__(self, pairs: Any, limit: int = 1024) -> None:
        self.limit = limit
        self.map: dict[str, Any] = {}
        if isinstance(pairs, list):
            for item in pairs:
                if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
                    self.map[item[0]] = item[1]

    def get(self, key: str | None, default: Any = None) -> Any:
        if key is None:
            return default
        return self.map.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.map

    def set(self, key: str, value: Any) -> None:
        m = self.map
        m.pop(key, None)
        m[key] = value
        if len(m) > self.limit:
            del m[next(iter(m))]

    def dump(self) -> list[list[Any]]:
        return [[k, v] for k, v in self.map.items()]


class LineParser:
    """Drives one parse pass: splits lines, decodes JSON, reports problems, keeps offsets.

    Subclasses implement :meth:`handle` (one decoded JSON object → exactly one event, or a list of
    events for :class:`MultiEventParser`) and :meth:`finish`.
    """

    agent: str  # a registered agent's name (Agent members are strings too)

    def __init__(self, path: str, state: ParserState | None) -> None:
        self.path = path
        self.state = state.model_copy(deep=True) if state is not None else ParserState()
        st = self.state
        self.data = st.data
        self.events: list[Event] = []
        self.problems: list[ParseProblem] = []
        self.usage: dict[str, UsageRecord] = {}
        self.turns = TurnTracker(st)
        self.session: Session = st.session if st.session is not None else self.initial_session()
        if path and path not in self.session.source_files:
            self.session.source_files.append(path)
        self.model: str | None = st.model
        # session time range, kept in locals (pydantic attribute writes per line are slow)
        self.ts_min = self.session.started_at
        self.ts_max = self.session.ended_at
        self._stamp_raw: str | None = None  # the last timestamp string parsed, and what it gave
        self._stamp: datetime | None = None

    def timestamp_of(self, obj: dict[str, Any]) -> datetime | None:
        """The record's ``timestamp``, widening the session's time range with it."""
        raw = obj.get("timestamp")
        if raw == self._stamp_raw and raw is not None:
            return self._stamp  # the line before's (consecutive lines often share one): range already widened
        if raw.__class__ is not str or not raw:
            return None  # (parse_ts inlined below)
        try:
            ts: datetime | None = _fromisoformat(raw)
        except ValueError:
            ts = None
        if ts is not None and (ts.tzinfo is None or not limits.ts_ok(ts)):
            ts = None
        self._stamp_raw, self._stamp = raw, ts
        if ts is not None:
            if self.ts_min is None or ts < self.ts_min:
                self.ts_min = ts
            if self.ts_max is None or ts > self.ts_max:
                self.ts_max = ts
        return ts

    def initial_session(self) -> Session:  # pragma: no cover - overridden
        raise NotImplementedError

    def handle(self, obj: dict[str, Any], line: int, offset: int, length: int) -> Event | list[Event]:  # pragma: no cover
        raise NotImplementedError

    def finish(self) -> None:
        """Hook called once after the last consumed line (before state is saved)."""

    def parse(self, data: bytes) -> ParseResult:
        # A pass builds a few objects per line and frees none of them: the cyclic collector would
        # scan the growing heap again and again for cycles there are none of (events, dicts and
        # lists only).  It is paused for the pass (when it was on) and runs as usual afterwards.
        paused = gc.isenabled()
        if paused:
            gc.disable()
        try:
            return self._parse(data)
        finally:
            if paused:
                gc.enable()

    def _parse(self, data: bytes) -> ParseResult:
        st = self.state
        start_offset = st.offset
        start_line = st.line
        if data and self.data.get("_unterminated"):
            # the previous pass consumed a complete last line whose line break arrives now
            if data[:1] == b"\r":
                data = data[1:]
                start_offset += 1
            if data[:1] == b"\n":
                data = data[1:]
                start_offset += 1
                del self.data["_unterminated"]
            elif data:
                del self.data["_unterminated"]
        consumed_offset = start_offset
        consumed_line = start_line
        loads = orjson.loads
        handle = self.handle
        append = self.events.append
        for line_no, offset, raw, terminated in iter_lines(data, start_offset, start_line):
            try:
                obj = loads(raw)
            except orjson.JSONDecodeError as exc:
                if not terminated:
                    break  # still being written: leave it for the next pass
                self.problems.append(ParseProblem(line=line_no, offset=offset, message=f"malformed JSON: {exc}"))
                consumed_offset, consumed_line = offset + len(raw) + 1, line_no
                continue
            if not terminated:
                if not isinstance(obj, dict):
                    break  # e.g. a number cut short: wait for the newline
                self.data["_unterminated"] = True
            if obj.__class__ is not dict:  # orjson gives plain dicts
                self.problems.append(ParseProblem(line=line_no, offset=offset, message=f"line is JSON {type(obj).__name__}, not an object"))
            else:
                try:
                    ev = handle(obj, line_no, offset, len(raw))
                    first: Event | None
                    if isinstance(ev, list):  # a parser that emits several events per line (see MultiEventParser)
                        self.events.extend(ev)
                        first = ev[0] if ev else None
                    else:
                        append(ev)
                        first = ev
                    if first is not None and first.timestamp is None and isinstance(obj.get("timestamp"), str) and obj["timestamp"]:
                        stamp = obj["timestamp"]  # shown only when it looks like a date (no log text in messages)
                        shown = f" {stamp!r}" if len(stamp) <= 40 and _DATE_CHARS.fullmatch(stamp) else ""
                        self.problems.append(
                            ParseProblem(
                                line=line_no,
                                offset=offset,
                                severity="warning",
                                message=f"timestamp{shown} invalid or out of range: ignored",
                            )
                        )
                except Exception as exc:  # a value no handler foresaw: the line stays, as an unknown event
                    what = f"{type(exc).__name__}: {str(exc)[:200]}"
                    logger.warning("%s:%d: cannot interpret line: %s", self.path, line_no, what)
                    logger.info("%s:%d: cannot interpret line", self.path, line_no, exc_info=True)
                    self.problems.append(
                        ParseProblem(line=line_no, offset=offset, message=f"cannot interpret line: {what}", severity="warning")
                    )
                    t = obj.get("type")
                    self.events.append(
                        new_event(
                            line_no, offset, len(raw), EventKind.UNKNOWN, t[:80] if isinstance(t, str) else None, None, self.turns.index
                        )
                    )
            consumed_line = line_no
            consumed_offset = offset + len(raw) + 1 if terminated else start_offset + len(data)
        else:
            # trailing blank lines are consumed too
            tail = consumed_offset - start_offset
            if data.endswith(b"\n") and tail < len(data):
                consumed_line += data.count(b"\n", tail)
                consumed_offset = start_offset + len(data)
        self.finish()
        if self.ts_min is not None and (self.session.started_at is None or self.ts_min < self.session.started_at):
            self.session.started_at = self.ts_min
        if self.ts_max is not None and (self.session.ended_at is None or self.ts_max > self.session.ended_at):
            self.session.ended_at = self.ts_max
        st.offset = consumed_offset
        st.line = consumed_line
        st.model = self.model
        st.session = self.session
        self.turns.save(st)
        return ParseResult.model_construct(
            agent=self.agent,
            session=self.session.model_copy(deep=True),
            events=self.events,
            turns=self.turns.turns(),
            usage=list(self.usage.values()),
            problems=self.problems,
            state=st,
        )


class MultiEventParser(LineParser):
    """A JSONL parser whose lines can hold several events (a whole assistant message with its tool
    calls, as Pi writes them).  ``seq`` is the line while every line gives one event, and grows past
    it where a line gives several (kept in the state); each event keeps its file line in ``line`` and
    ``extra["line"]`` (the store restores ``Event.line`` from it; ``Store.line_map`` maps seq -> line)."""

    def next_event(
        self,
        line: int,
        offset: int,
        length: int,
        kind: EventKind,
        subtype: str | None,
        timestamp: datetime | None,
        turn: int | None,
        **fields: Any,
    ) -> Event:
        seq = max(line, int(self.data.get("seq") or 0) + 1)  # == line while lines hold one event each
        self.data["seq"] = seq
        extra = fields.pop("extra", None) or {}
        extra["line"] = line
        ev = new_event(seq, offset, length, kind, subtype, timestamp, turn, **fields)
        ev.line = line
        ev.extra = extra
        return ev


#: what parsers import from here (the models and kinds re-exported with the helpers)
__all__ = [
    "Agent",
    "as_dict",
    "as_int",
    "as_str",
    "BoundedMap",
    "clip",
    "edit_diff",
    "event_of",
    "event_with",
    "Event",
    "EventKind",
    "image_entry",
    "image_from_data_url",
    "IMAGE_MIMES",
    "IMAGE_PLACEHOLDER",
    "iter_lines",
    "JSONDecodeError",
    "limits",
    "LineParser",
    "loads",
    "MAX_IMAGE_B64",
    "MAX_IMAGES",
    "MAX_TEXT",
    "META",
    "MultiEventParser",
    "new_event",
    "parse_ts",
    "ParseProblem",
    "ParseResult",
    "ParserState",
    "readme_path",
    "scrub_data_urls",
    "Session",
    "SYSTEM",
    "TokenUsage",
    "TRUNCATION_MARK",
    "ts_str",
    "Turn",
    "TurnTracker",
    "UsageRecord",
]
