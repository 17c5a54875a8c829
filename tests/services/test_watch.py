"""The log watcher behind the language server's polling: what changed, without walking every time."""

from __future__ import annotations

import os
import shutil
import time

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
