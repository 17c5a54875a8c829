"""The log watcher behind the language server's polling: what changed, without walking every time."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from sessionlens.services.watch import LogWatcher
from tests.services.helpers import CLAUDE_TOOLS, CODEX_BIG, index, make_app


def _touch_later(path):
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_reports_new_grown_and_nothing_else(corpus, tmp_path):
    root = tmp_path / "agent" / "sessions"
    day = root / "2026" / "01" / "25"
    day.mkdir(parents=True)
    a = day / "a.jsonl"
    shutil.copyfile(corpus / CODEX_BIG, a)
    home = tmp_path / "home"
    index(home, root)
    app = make_app(home)
    try:
        w = LogWatcher(lambda: app.db().file_rows(), full_pass_s=3600)
        assert w.changed([str(root)]) == [] and w.full_passes == 1
        # nothing changed: polls stat, they do not walk
        assert w.changed([str(root)]) == [] and w.changed([str(root)]) == [] and w.full_passes == 1
        # an append is seen by the next poll, once
        with a.open("a") as f:
            f.write("\n")
        _touch_later(a)
        assert w.changed([str(root)]) == [str(a)] and w.full_passes == 1
        assert w.changed([str(root)]) == []
        # a new file in a new folder: its parent folder's mtime changed, so the next poll walks again
        other = root / "2026" / "01" / "26"
        other.mkdir()
        b = other / "b.jsonl"
        shutil.copyfile(corpus / CLAUDE_TOOLS, b)
        time.sleep(0.01)
        got = w.changed([str(root)])
        assert str(b) in got and w.full_passes == 2
        # other roots: a full pass
        assert w.changed([str(root), str(tmp_path / "missing")]) and w.full_passes == 3
    finally:
        app.close()


def test_full_pass_after_its_interval(corpus, tmp_path):
    root = tmp_path / "logs"
    root.mkdir()
    shutil.copyfile(corpus / CODEX_BIG, root / "a.jsonl")
    home = tmp_path / "home"
    app = make_app(home)
    try:
        w = LogWatcher(lambda: app.db().file_rows(), full_pass_s=0.0)
        assert w.changed([str(root)]) == [str(root / "a.jsonl")]  # not indexed yet
        assert w.changed([str(root)]) == [str(root / "a.jsonl")]  # each full pass compares with the store
        assert w.full_passes == 2
    finally:
        app.close()


# ------------------------------------------------------------------ file-system events (RootWatcher)
@pytest.fixture(scope="module")
def gen_logs(tmp_path_factory) -> list:
    """Three small sessions from the project's generator (Codex, Claude, Codex)."""
    import random

    from sessionlens.samples import generator as gen
    from sessionlens.samples import wordbank as wb

    out = tmp_path_factory.mktemp("gen")
    rng = random.Random(5)
    logs = []
    for i in range(3):
        proj = wb.PROJECTS[i % len(wb.PROJECTS)]
        make = gen.generate_claude_session if i % 2 else gen.generate_codex_session
        p = out / f"s{i}.jsonl"
        make(rng, path=p, start=gen.DEFAULT_START, target_bytes=3000, cwd=f"/home/dev/projects/{proj.name}", project=proj)
        logs.append(p)
    return logs


class _Seen:
    """What a RootWatcher hands on, collected from its event thread."""

    def __init__(self):
        import threading

        self.changed: list[str] = []
        self.deleted: list[str] = []
        self._cv = threading.Condition()

    def on_change(self, paths):
        with self._cv:
            self.changed += paths
            self._cv.notify_all()

    def on_deleted(self, paths):
        with self._cv:
            self.deleted += paths
            self._cv.notify_all()

    def wait(self, pred, timeout: float = 10.0) -> bool:
        with self._cv:
            return self._cv.wait_for(pred, timeout)


def _events_watcher(app, root, seen):
    from sessionlens.services.watch import RootWatcher

    w = RootWatcher(lambda: app.db().file_rows())
    w.on_change, w.on_deleted = seen.on_change, seen.on_deleted
    w.set_roots([str(root)])
    assert w.mode == "events", w.polled
    assert w.poll() == []  # the catch-up pass: everything under the root is indexed already
    return w


def _settle():
    time.sleep(0.4)  # longer than the watcher's grouping of a burst (200 ms)


def test_events_an_append_is_reported_once_and_nothing_else(gen_logs, tmp_path):
    root = tmp_path / "agent" / "sessions" / "2026" / "01" / "25"
    root.mkdir(parents=True)
    logs = [shutil.copyfile(src, root / src.name) for src in gen_logs[:2]]
    home = tmp_path / "home"
    index(home, root)
    app = make_app(home)
    seen = _Seen()
    w = _events_watcher(app, tmp_path / "agent", seen)
    try:
        with open(logs[0], "a") as f:
            f.write("\n")
        assert seen.wait(lambda: seen.changed)
        _settle()
        assert seen.changed == [str(logs[0])] and seen.deleted == []
        assert not w.needs_poll  # nothing for the poll loop to do while events serve
        (tmp_path / "agent" / "notes.txt").write_text("not a log")  # an unknown file: the known files are stat'ed once
        assert seen.wait(lambda: w.needs_poll)
        assert w.poll() == [] and not w.needs_poll
    finally:
        w.close()
        app.close()


def test_events_a_new_file_in_a_new_folder_and_a_folder_moved_in(gen_logs, tmp_path):
    root = tmp_path / "agent" / "sessions"
    day = root / "2026" / "01" / "25"
    day.mkdir(parents=True)
    srcs = gen_logs
    shutil.copyfile(srcs[0], day / srcs[0].name)
    home = tmp_path / "home"
    index(home, root)
    app = make_app(home)
    seen = _Seen()
    w = _events_watcher(app, root, seen)
    try:
        new_day = root / "2026" / "01" / "26"
        new_day.mkdir()
        b = new_day / srcs[1].name
        shutil.copyfile(srcs[1], b)
        assert seen.wait(lambda: str(b) in seen.changed)
        # a folder filled elsewhere and moved in whole: its files were never written under a watch
        staged = tmp_path / "staging" / "27"
        staged.mkdir(parents=True)
        shutil.copyfile(srcs[2], staged / srcs[2].name)
        staged.rename(root / "2026" / "01" / "27")
        c = root / "2026" / "01" / "27" / srcs[2].name
        assert seen.wait(lambda: str(c) in seen.changed)
        _settle()
        assert sorted(set(seen.changed)) == sorted([str(b), str(c)]) and seen.deleted == []
    finally:
        w.close()
        app.close()


def test_events_deleted_and_renamed_logs(gen_logs, tmp_path):
    root = tmp_path / "agent"
    root.mkdir()
    a, b = (shutil.copyfile(src, root / src.name) for src in gen_logs[:2])
    home = tmp_path / "home"
    index(home, root)
    app = make_app(home)
    seen = _Seen()
    w = _events_watcher(app, root, seen)
    try:
        os.remove(a)
        assert seen.wait(lambda: str(a) in seen.deleted)
        _settle()
        assert seen.changed == []  # a deleted log is nothing to index
        # rotation: the log renamed away, a fresh one written under its name
        rotated = root / ("old-" + b.name)
        os.rename(b, rotated)
        with open(b, "w") as f:
            f.write(a.name and open(rotated).readline())
        assert seen.wait(lambda: str(rotated) in seen.changed and str(b) in seen.changed)
        _settle()
        assert str(rotated) not in seen.deleted
    finally:
        w.close()
        app.close()


def test_polling_serves_when_the_library_is_missing(gen_logs, tmp_path, monkeypatch):
    import sys

    from sessionlens.services.watch import RootWatcher

    monkeypatch.setitem(sys.modules, "watchfiles", None)  # `import watchfiles` now raises ImportError
    monkeypatch.setitem(sys.modules, "watchfiles._rust_notify", None)
    root = tmp_path / "agent"
    root.mkdir()
    a = shutil.copyfile(gen_logs[0], root / "a.jsonl")
    home = tmp_path / "home"
    index(home, root)
    app = make_app(home)
    seen = _Seen()
    w = RootWatcher(lambda: app.db().file_rows())
    w.on_change = seen.on_change
    try:
        w.set_roots([str(root)])
        assert w.mode == "poll" and "watchfiles" in w.polled[str(root)]
        assert w.needs_poll and w.poll() == []
        with open(a, "a") as f:
            f.write("\n")
        _touch_later(a)
        assert w.poll() == [str(a)] and seen.changed == []  # found by polling, not by events
    finally:
        w.close()
        app.close()


def test_network_file_systems_are_polled(tmp_path):
    from sessionlens.services.watch import RootWatcher, remote_fs

    mounts = (
        "/dev/vda / ext4 rw 0 0\n"
        f"server:/export {tmp_path / 'nfs'} nfs4 rw,relatime 0 0\n"
        f"//nas/share {tmp_path / 'nfs' / 'deeper'} ext4 rw 0 0\n"
    )
    assert remote_fs(str(tmp_path / "nfs" / "a"), mounts) == "nfs4"
    assert remote_fs(str(tmp_path / "nfs" / "deeper" / "a"), mounts) is None  # the longest mount point wins
    assert remote_fs(str(tmp_path / "local"), mounts) is None
    (tmp_path / "nfs").mkdir()
    (tmp_path / "local").mkdir()
    w = RootWatcher(dict, fs_type=lambda p: remote_fs(p, mounts))
    try:
        w.set_roots([str(tmp_path / "nfs"), str(tmp_path / "local")])
        assert list(w.polled) == [str(tmp_path / "nfs")] and "nfs4" in w.polled[str(tmp_path / "nfs")]
        assert w.event_roots == [str(tmp_path / "local")] and w.mode == "mixed"
    finally:
        w.close()
