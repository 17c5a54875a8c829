"""Reading an agent's SQLite database without touching it.

Opening an agent's database directly - even with ``mode=ro`` - can write its ``-shm`` (the WAL
index is shared memory backed by that file) and, when the last connection closes in read-write
mode, checkpoint and delete the ``-wal`` that may hold most of the rows.  ``immutable=1`` would
ignore the WAL altogether.  So a snapshot copies ``db``, ``db-wal`` and ``db-shm`` (those that
exist) into a private temporary folder and opens the copy: the agent's files are only read, and the
copy sees every committed row, including those still in the WAL.

The copy is a consistent read when the agent is not writing at that moment; a torn copy (a WAL
frame half-copied) fails SQLite's checksums and those frames are ignored, so at worst the snapshot
misses the newest transaction until the next pass.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

SQLITE_MAGIC = b"SQLite format 3\x00"
SIDE_SUFFIXES = ("-wal", "-shm")


def is_sqlite(head: bytes) -> bool:
    return head.startswith(SQLITE_MAGIC)


def source_files(path: str) -> list[str]:
    """The database and those of its ``-wal`` / ``-shm`` that exist."""
    return [path] + [path + s for s in SIDE_SUFFIXES if os.path.exists(path + s)]


def stat_key(path: str) -> tuple[int, int]:
    """``(size, mtime_ns)`` over the database and its WAL: changes when either does (a commit in WAL
    mode only appends to the ``-wal``)."""
    size, mtime = 0, 0
    for p in (path, path + "-wal"):
        try:
            st = os.stat(p)
        except OSError:
            if p == path:
                raise
            continue
        size += st.st_size
        mtime = max(mtime, st.st_mtime_ns)
    return size, mtime


@contextmanager
def snapshot(path: str) -> Iterator[sqlite3.Connection]:
    """A read-only connection to a private copy of ``path`` (+ its WAL); the copy is removed after."""
    tmp = tempfile.mkdtemp(prefix="sessionlens-db-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        name = os.path.join(tmp, "source.db")
        with open(path, "rb") as src, open(name, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        wal = path + "-wal"
        try:
            with open(wal, "rb") as src, open(name + "-wal", "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except FileNotFoundError:
            pass
        # the -shm is not copied: SQLite rebuilds the WAL index from the -wal (the copy is ours to write)
        conn = sqlite3.connect(name, timeout=0, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA query_only=1")
            yield conn
        finally:
            conn.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def tables(conn: sqlite3.Connection) -> frozenset[str]:
    return frozenset(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"))
