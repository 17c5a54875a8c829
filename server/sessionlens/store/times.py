"""Times as the store keeps them (unix seconds) and as users write them."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

from sessionlens.store.db import StoreError


def parse_time(value: str | float | int | None, *, end: bool = False) -> float | None:
    """Accept unix seconds, ISO dates/times, or relative spans like ``7d``, ``12h``, ``2w``."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    v = str(value).strip()
    m = re.fullmatch(r"(\d+)\s*([smhdw])", v)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        return time.time() - n * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    if v in ("today", "yesterday"):
        d = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        return d.timestamp() - (86400 if v == "yesterday" else 0)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            d = datetime.fromisoformat(v).astimezone()
            return d.timestamp() + (86400 if end else 0)
        d = datetime.fromisoformat(v.replace("Z", "+00:00"))
        if d.tzinfo is None:
            d = d.astimezone()
        return d.timestamp()
    except ValueError:
        raise StoreError(f"cannot read the time {value!r}: use an ISO date (2026-02-23), a timestamp, or a span like 7d") from None


def iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z") if ts is not None else None
