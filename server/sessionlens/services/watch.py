"""Which session logs under some roots changed since the store last saw them (the language server
follows the agents' log folders outside the workspace; the editor reports the workspace's own).

``RootWatcher`` is what the server uses: file-system events (``EventWatcher``: the watchfiles
library, i.e. the Rust notify crate over inotify / FSEvents / ReadDirectoryChangesW) on a thread of
its own, so an idle server does nothing at all; polling (``LogWatcher``) only for the roots events
cannot serve: the library missing, the OS refusing (inotify's watch limit), a network file system
(where events miss other machines' writes), or a watcher that failed while running.

``LogWatcher`` polls: a full pass walks the roots and reads the store's file rows.  In between, a poll only stats: the
known files (a log grows by appends, which change its size and mtime) and the known folders (a new
file or folder changes its folder's mtime: then the next poll walks again).  With 10,000 logs a poll
costs about one stat per file instead of a walk, a sort per folder and the whole files table.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sessionlens.agents import source_stat
from sessionlens.ingest.discovery import discover, in_skipped_dir, is_log_path

log = logging.getLogger(__name__)

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

    def full(self, roots: list[str]) -> list[str]:
        """A full pass now: walk ``roots`` and compare with the store."""
        return self._full(roots, time.monotonic())

    def seen(self, paths: Iterable[str]) -> None:
        """``paths`` were reported elsewhere (by an event): remember their stat, so as not to report them again."""
        for path in paths:
            try:
                self._files[path] = source_stat(path)
            except OSError:
                self._files.pop(path, None)

    def stat_known(self) -> list[str]:
        """The known files whose stat differs from what was last seen (no walk), each reported once."""
        out = []
        for path, known in self._files.items():
            try:
                seen = source_stat(path)
            except OSError:
                continue
            if seen != known:
                self._files[path] = seen
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


# ------------------------------------------------------------------------------------ events
#: File systems where local events miss what other machines write: their roots are polled.
REMOTE_FS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "afs",
        "ceph",
        "glusterfs",
        "9p",
        "lustre",
        "gpfs",
        "fuse.sshfs",
        "fuse.rclone",
        "fuse.s3fs",
        "fuse.gcsfuse",
        "davfs",
        "fuse.davfs2",
    }
)
#: Milliseconds between the event thread's checks (its only idle cost) and the longest a burst is grouped.
STEP_MS = 50
DEBOUNCE_MS = 200
#: Change kinds as watchfiles numbers them.
_ADDED = 1  # then 2 modified, 3 deleted
_SQLITE_SIDES = ("-wal", "-shm", "-journal")


class WatchUnavailable(Exception):
    """File-system events cannot serve these roots (the reason is the message): poll them."""


@dataclass
class Changes:
    """One batch of events, as log files: ``changed`` (new, grown, renamed to), ``deleted`` (removed,
    renamed away), ``other``: something else changed under a root (a companion file, an unknown
    name), for which the known files are stat'ed once."""

    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    other: bool = False


def classify(raw: Iterable[tuple[int, str]]) -> Changes:
    """What a batch of ``(kind, path)`` events means for the store.  A batch is a set (the order of a
    rename-then-recreate is lost), so the disk decides: a log that exists changed, one that does not
    was deleted; a folder that appeared is walked (files may have landed before its watch did)."""
    out = Changes()
    changed: dict[str, None] = {}
    deleted: dict[str, None] = {}
    added_dirs: set[str] = set()
    paths: dict[str, None] = {}
    for kind, path in sorted(raw, key=lambda e: e[1]):
        base = next((path[: -len(s)] for s in _SQLITE_SIDES if path.endswith(s)), None)
        if base is not None and is_log_path(base):  # a database's -wal grew: the database changed
            path = base
        if kind == _ADDED:
            added_dirs.add(path)
        paths[path] = None
    for path in paths:
        if os.path.isdir(path):
            if path in added_dirs:
                for f in discover([path]):
                    changed[f] = None
        elif is_log_path(path):
            if os.path.isfile(path):
                changed[path] = None
            elif not os.path.exists(path):
                deleted[path] = None
        elif not in_skipped_dir(path):  # Claude's tool-results and the like: never a source
            out.other = True
    out.changed, out.deleted = list(changed), list(deleted)
    return out


def remote_fs(path: str, mounts: str | None = None) -> str | None:
    """The type of the network file system ``path`` lives on, None for a local one (or no /proc)."""
    try:
        text = mounts if mounts is not None else open("/proc/self/mounts", encoding="utf-8", errors="replace").read()
    except OSError:
        return None
    best, kind = "", ""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        mnt = parts[1].replace("\\040", " ")
        if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
            best, kind = mnt, parts[2]
    return kind if kind in REMOTE_FS else None


class EventWatcher:
    """File-system events for ``roots`` on a thread of its own: ``on_change(Changes)`` is called from
    that thread with each batch; ``on_error(reason)`` once if the watcher stops working."""

    def __init__(
        self,
        roots: list[str],
        on_change: Callable[[Changes], None],
        on_error: Callable[[str], None] | None = None,
        *,
        step_ms: int = STEP_MS,
        debounce_ms: int = DEBOUNCE_MS,
    ):
        self.roots = list(roots)
        self._on_change = on_change
        self._on_error = on_error
        self.step_ms, self.debounce_ms = step_ms, debounce_ms
        self._stop = threading.Event()
        self._notify: Any = None
        self._thread: threading.Thread | None = None
        self.batches = 0

    def start(self) -> None:
        """Watch; raises ``WatchUnavailable`` when events cannot serve (library missing, OS limit)."""
        try:
            from watchfiles._rust_notify import RustNotify
        except ImportError as e:
            raise WatchUnavailable(f"the watchfiles library is not installed ({e})")
        try:
            # recursive, no polling of its own, unreadable sub-folders skipped rather than fatal
            self._notify = RustNotify(self.roots, False, False, 0, True, True)
        except (OSError, RuntimeError) as e:  # inotify's watch or instance limit, a root gone meanwhile
            raise WatchUnavailable(f"file-system events unavailable: {e}")
        self._thread = threading.Thread(target=self._run, name="sl-watch", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        notify = self._notify
        try:
            while not self._stop.is_set():
                raw = notify.watch(self.debounce_ms, self.step_ms, 0, self._stop)
                if isinstance(raw, str):  # 'stop', or a signal meant for the main thread
                    continue
                self.batches += 1
                ch = classify(raw)
                if ch.changed or ch.deleted or ch.other:
                    self._on_change(ch)
        except Exception as e:  # the OS dropped the watch (queue overflow, limit hit by a new folder...)
            if not self._stop.is_set():
                log.warning("file-system events stopped (%s): polling instead", e)
                if self._on_error is not None:
                    self._on_error(str(e) or type(e).__name__)
        finally:
            try:
                notify.close()
            except Exception:
                pass

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)


class RootWatcher:
    """Follows log roots: events where they serve, polling elsewhere (see the module's docstring).

    ``set_roots`` (re)starts the event thread when the roots change; events reach ``on_change`` (a
    list of changed log files, from the event thread: make it thread-safe); ``poll()``, called every
    ``poll_interval`` by its owner off the event loop, returns what polling found: the polled roots'
    changes, the catch-up pass after a (re)start (what changed before the watch began), and a stat
    of the known files after an event the names alone could not place.
    """

    def __init__(self, file_rows: Callable[[], dict], *, events: bool = True, fs_type: Callable[[str], str | None] | None = None):
        self._rows = file_rows
        self.events = events
        self._fs_type = fs_type or remote_fs
        self.on_change: Callable[[list[str]], None] = lambda paths: None
        self.on_deleted: Callable[[list[str]], None] = lambda paths: None
        self._roots: tuple[str, ...] = ()
        self._watcher: EventWatcher | None = None
        self.event_roots: list[str] = []
        self.polled: dict[str, str] = {}  # root -> why it is polled
        self._poller = LogWatcher(file_rows)
        self._known = LogWatcher(file_rows, full_pass_s=float("inf"))
        self._lock = threading.Lock()
        self._catch_up = False
        self._stat_known = False
        self._failed: str | None = None  # why events stopped working: everything is polled from then on
        self._reconfigure = False

    @property
    def roots(self) -> tuple[str, ...]:
        return self._roots

    @property
    def mode(self) -> str:
        """``events``, ``poll`` or ``mixed`` (some roots each way); ``idle`` without roots."""
        if not self._roots:
            return "idle"
        if not self.polled:
            return "events"
        return "poll" if not self.event_roots else "mixed"

    def set_roots(self, roots: list[str]) -> None:
        """Follow ``roots`` (a no-op when they are the ones followed)."""
        if tuple(roots) == self._roots and not self._reconfigure:
            return
        self._reconfigure = False
        self._stop_watcher()
        self._roots = tuple(roots)
        self.polled = {}
        events: list[str] = []
        for r in roots:
            why = self._failed or (None if self.events else "events are turned off")
            if why is None:
                fs = self._fs_type(os.path.realpath(r))
                why = f"on a network file system ({fs})" if fs else None
            if why is None:
                events.append(r)
            else:
                self.polled[r] = why
        self.event_roots = []
        if events:
            w = EventWatcher(events, self._deliver, self._broken)
            try:
                w.start()
                self._watcher, self.event_roots = w, events
                with self._lock:
                    self._catch_up = True
            except WatchUnavailable as e:
                log.info("%s: polling %d log folder(s)", e, len(events))
                self.polled.update({r: str(e) for r in events})
        for r, why in self.polled.items():
            log.info("polling %s: %s", r, why)

    def _deliver(self, ch: Changes) -> None:
        if ch.other:
            with self._lock:
                self._stat_known = True
        if ch.deleted:
            self._known.seen(ch.deleted)
            self.on_deleted(ch.deleted)
        if ch.changed:
            self._known.seen(ch.changed)
            self.on_change(ch.changed)

    def _broken(self, reason: str) -> None:
        self._failed = f"file-system events failed: {reason}"
        self._reconfigure = True  # the next poll() polls everything

    @property
    def needs_poll(self) -> bool:
        """Whether ``poll()`` has anything to do (cheap: the owner skips the call otherwise)."""
        return bool(self.polled) or self._catch_up or self._stat_known or self._reconfigure

    def poll(self) -> list[str]:
        if self._reconfigure:
            self.set_roots(list(self._roots))
        out: list[str] = []
        with self._lock:
            catch_up, stat_known = self._catch_up, self._stat_known
            self._catch_up = self._stat_known = False
        if catch_up and self.event_roots:
            out += self._known.full(self.event_roots)  # compares with the store
        elif stat_known:
            out += self._known.stat_known()
        if self.polled:
            out += self._poller.changed(list(self.polled))
        return list(dict.fromkeys(out))

    @property
    def full_passes(self) -> int:
        return self._poller.full_passes + self._known.full_passes

    def _stop_watcher(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    def close(self) -> None:
        self._stop_watcher()
        self._roots = ()
