"""Range checks for values that come from logs (hostile input): integers SQLite can store, token
counts whose sums cannot overflow, timestamps every date function accepts, JSON that serializes.

Pure functions, no I/O; used at the parsers' edge (``ingest``) and again where rows are built for
the store (``store.prepare_parse``), so an adapter that forgets a check still cannot break a pass.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sessionlens.models.lazy import lazy_module

if TYPE_CHECKING:
    import orjson
else:  # imported on first use (a read command that decodes no JSON column never does): models/lazy.py
    orjson = lazy_module("orjson")


#: SQLite INTEGER range.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: Most tokens one billed request may count.  A request of a trillion tokens is no request; at this
#: bound 9 million records still sum within int64, so totals cannot overflow.
MAX_TOKENS = 10**12
#: Longest duration kept (a year): a step that took longer is a bad value, not a slow tool.
MAX_DURATION_MS = 365 * 24 * 3600 * 1000
#: Exit codes: POSIX keeps 8 bits, Windows 32; anything wider is a parsing accident.
EXIT_MIN, EXIT_MAX = -(2**31), 2**32 - 1
#: Timestamps kept: 1970-01-02 .. 2999-12-31 UTC (year 1 or 9999 with an offset overflows
#: ``datetime``; ``time.localtime`` fails on some platforms outside this range).
TS_MIN = datetime(1970, 1, 2, tzinfo=timezone.utc)
TS_MAX = datetime(2999, 12, 31, tzinfo=timezone.utc)
TS_MIN_EPOCH = TS_MIN.timestamp()
TS_MAX_EPOCH = TS_MAX.timestamp()
#: Nesting kept in a JSON value stored from a log (orjson serializes at most 255 levels).
MAX_DEPTH = 64


def clamp_int(value: Any, lo: int = INT64_MIN, hi: int = INT64_MAX) -> int | None:
    """``value`` as an int within ``[lo, hi]``: None for non-numbers, NaN and infinities; floats are
    truncated; out-of-range values are clamped."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value >= hi:
            return hi
        if value <= lo:
            return lo
        value = int(value)
    elif not isinstance(value, int):
        return None
    if value > hi:
        return hi
    if value < lo:
        return lo
    return value


def int_ok(value: Any, lo: int = INT64_MIN, hi: int = INT64_MAX) -> bool:
    """True for an int (not bool) within ``[lo, hi]`` (or None)."""
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi)


def tokens(value: Any) -> int:
    """A token count: an int in ``[0, MAX_TOKENS]`` (negative, missing or junk → 0)."""
    v = clamp_int(value, 0, MAX_TOKENS)
    return v or 0


def ts_ok(dt: datetime | None) -> bool:
    """True when ``dt`` (aware) lies within ``TS_MIN .. TS_MAX``."""
    if dt is None:
        return True
    try:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return TS_MIN <= dt <= TS_MAX
    except (OverflowError, ValueError):
        return False


def epoch(dt: datetime | None) -> float | None:
    """Seconds since the epoch of ``dt``; None for None and for out-of-range values."""
    if dt is None:
        return None
    try:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        ts = dt.timestamp()
    except (OverflowError, ValueError, OSError):
        return None
    return ts if TS_MIN_EPOCH <= ts <= TS_MAX_EPOCH else None


def epoch_ok(ts: Any) -> float | None:
    """An epoch-seconds float within the kept range, else None."""
    if isinstance(ts, bool) or not isinstance(ts, (int, float)):
        return None
    try:
        ts = float(ts)
    except OverflowError:
        return None
    return ts if TS_MIN_EPOCH <= ts <= TS_MAX_EPOCH else None


def bounded(obj: Any, depth: int = MAX_DEPTH) -> Any:
    """A copy of a JSON-like value that serializes: nesting below ``depth`` levels becomes ``"[…]"``,
    integers beyond 64 bits become strings, non-finite floats None."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return obj if INT64_MIN <= obj <= 2**64 - 1 else str(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if depth <= 0:
        return "[…]"
    if isinstance(obj, dict):
        return {str(k): bounded(v, depth - 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [bounded(v, depth - 1) for v in obj]
    return str(obj)


def dumps(obj: Any) -> str:
    """``orjson.dumps`` that never fails on log content (deep nesting, huge ints): bounded on error."""
    try:
        return orjson.dumps(obj, default=str).decode()
    except (orjson.JSONEncodeError, TypeError, ValueError, OverflowError):
        return orjson.dumps(bounded(obj), default=str).decode()
