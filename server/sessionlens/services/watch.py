"""Which session logs under some roots changed since the store last saw them, cheap enough to ask
every second (the language server polls the agents' log folders, outside the workspace).

A full pass walks the roots and reads the store's file rows.  In between, a poll only stats: the
known files (a log grows by appends, which change its size and mtime) and the known folders (a new
file or folder changes its folder's mtime: then the next poll walks again).  With 10,000 logs a poll
costs about one stat per file instead of a walk, a sort per folder and the whole files table.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from sessionlens.agents import source_stat
from sessionlens.ingest.discovery import discover

#: Seconds between full passes even when no folder changed (a file replaced by a rename, say).
FULL_PASS_S = 30.0


class LogWatcher:
    def __init__(self, file_rows: Callable[[], dict], *, full_pass_s: float = FULL_PASS_S):
        self._rows = file_rows
        self.full_pass_s = full_pass_s
        self._roots: tuple[str, ...] | None = None
        self._files: dict[str, tuple[int, int]] = {}  # path -> (size, mtime_ns) as last indexed or reported
        self._dirs: dict[str, int] = {}  # folder -> mtime_ns
        self._full_at = 0.0
        self.full_passes = 0

    def changed(self, roots: list[str]) -> list[str]:
        """The log files under ``roots`` that are new or differ from what was last indexed or reported."""
        now = time.monotonic()
        if tuple(roots) != self._roots or now - self._full_at >= self.full_pass_s or self._dir_changed():
            return self._full(roots, now)
        out = []
        for path, known in self._files.items():
            try:
                seen = source_stat(path)  # a database's -wal counts
            except OSError:
                continue
            if seen != known:
                self._files[path] = seen  # reported once; the index pass takes it from there
                out.append(path)
        return out

    def _dir_changed(self) -> bool:
        for d, mtime in self._dirs.items():
            try:
                if os.stat(d).st_mtime_ns != mtime:
                    return True
            except OSError:
                return True
        return False

    def _full(self, roots: list[str], now: float) -> list[str]:
        self.full_passes += 1
        rows = self._rows()
        dirs: list[str] = []
        files: dict[str, tuple[int, int]] = {}
        out = []
        for path in discover(roots, dirs):
            try:
                seen = source_stat(path)  # a database's -wal counts
            except OSError:
                continue
            files[path] = seen
            r = rows.get(path)
            if r is None or (r.size, r.mtime_ns) != seen:
                out.append(path)
        mtimes = {}
        for d in dirs:
            try:
                mtimes[d] = os.stat(d).st_mtime_ns
            except OSError:
                continue
        self._roots, self._files, self._dirs, self._full_at = tuple(roots), files, mtimes, now
        return out
