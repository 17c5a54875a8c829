"""Helpers shared by the agent-adapter tests."""

from __future__ import annotations

from sessionlens.models.session import ParseResult, TokenUsage


def merge_usage(results: list[ParseResult]) -> dict[str, tuple]:
    """Merge usage records like the store does: per key keep the largest output count."""
    merged: dict[str, tuple] = {}
    for r in results:
        for rec in r.usage:
            old = merged.get(rec.key)
            if old is None or rec.usage.output_tokens > old[0].output_tokens:
                merged[rec.key] = (rec.usage, rec.model)
    return merged


def totals(usage: dict) -> TokenUsage:
    t = TokenUsage()
    for u, _ in usage.values():
        t = t.add(u)
    return t


def copy_db(src, dst_dir):
    """Copy a database with its ``-wal`` / ``-shm`` into ``dst_dir`` (tests open copies only); returns the copy."""
    import shutil
    from pathlib import Path

    src, dst_dir = Path(src), Path(dst_dir)
    dst_dir.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(src) + suffix)
        if p.exists():
            shutil.copyfile(p, dst_dir / (src.name + suffix))
    return dst_dir / src.name


def open_copy(src, dst_dir):
    """A read-only connection to a private copy of ``src`` (with its WAL)."""
    import sqlite3

    copy = copy_db(src, dst_dir)
    conn = sqlite3.connect(copy)
    conn.execute("PRAGMA query_only=1")
    return conn
