"""A small sync may leave its commit's merges to a thread (``merge_in_background``: the language
server's appends): the appended documents are searchable when the pass returns, the next writer of
the same process waits for the merge, another process's writer waits the merge out instead of
failing on Tantivy's lock, and closing the app lets the merge finish.  Many such appends keep the
segment count bounded (merges do happen) and the documents are what a sync without them gives."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.services.helpers import make_app, search_docs


def _claude_line(i: int, token: str) -> str:
    return json.dumps(
        {
            "type": "user",
            "sessionId": "5e55a0e1-0000-4000-8000-00000000beef",
            "uuid": f"u{i}",
            "timestamp": f"2026-01-02T03:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "cwd": "/tmp/proj",
            "message": {"role": "user", "content": f"marker {token} number {i}"},
        }
    )


def _segments(home: Path) -> int:
    return len(list((home / "index").glob("*.idx")))


@pytest.fixture()
def log(tmp_path) -> Path:
    p = tmp_path / "logs" / "proj" / "5e55a0e1-0000-4000-8000-00000000beef.jsonl"
    p.parent.mkdir(parents=True)
    p.write_text(_claude_line(0, "zqstart") + "\n")
    return p


def _append(path: Path, i: int, token: str) -> None:
    with path.open("a") as f:
        f.write(_claude_line(i, token) + "\n")


def test_appends_are_searchable_when_the_pass_returns_and_merges_happen(tmp_path, log):
    home = tmp_path / "home"
    app = make_app(home)
    try:
        app.index([str(log.parent.parent)])
        search = app.search_index
        most = 0
        for i in range(1, 41):
            token = f"zqappend{i}x"
            _append(log, i, token)
            app.index([str(log)], merge_in_background=True)
            assert search.background_merges == i  # every one of these passes left its merges to the thread
            assert app.search(token, workspace_only=False)["total"] == 1, token  # searchable now, not after the merge
            most = max(most, _segments(home))
        search.wait_merges()
        # 41 commits, one segment each: without the merges there would be 41 segments
        assert most < 30 and _segments(home) < 30, (most, _segments(home))
        assert app.search("zqstart", workspace_only=False)["total"] == 1
        docs = search_docs(home)
    finally:
        app.close()
    # the same log indexed in one pass, merges waited for: the same documents
    other = tmp_path / "other"
    again = make_app(other)
    try:
        again.index([str(log.parent.parent)])
        assert search_docs(other) == docs
    finally:
        again.close()


def test_another_process_waits_for_the_merge_instead_of_failing(tmp_path, log):
    """While this process's merge thread holds Tantivy's writer lock, a second process's sync takes
    the store's writer lock and then waits for Tantivy's (``new_writer``), then succeeds."""
    home = tmp_path / "home"
    app = make_app(home)
    try:
        app.index([str(log.parent.parent)])
        search = app.search_index
        writer = search.new_writer(heap_size=15_000_000)  # stands for a merge still running here
        script = (
            "import sys, time\n"
            "from tests.services.helpers import make_app\n"
            f"app = make_app({str(home)!r})\n"
            "t = time.perf_counter()\n"
            f"app.index([{str(log)!r}])\n"
            "print(round(time.perf_counter() - t, 3))\n"
            "print(app.search('zqlater', workspace_only=False)['total'])\n"
            "app.close()\n"
        )
        _append(log, 1, "zqlater")
        proc = subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(Path(__file__).parents[2])
        )
        time.sleep(1.0)  # the other process is waiting for Tantivy's lock now
        assert proc.poll() is None, proc.communicate()
        del writer  # the "merge" ends: the lock is free
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        waited, total = out.split()
        assert float(waited) >= 0.5 and int(total) == 1
    finally:
        app.close()


def test_closing_the_app_waits_for_the_merge(tmp_path, log):
    home = tmp_path / "home"
    app = make_app(home)
    app.index([str(log.parent.parent)])
    for i in range(1, 12):
        _append(log, i, f"zqclose{i}x")
        app.index([str(log)], merge_in_background=True)
    search = app.search_index
    assert search._merging is not None
    app.close()
    assert search._merging is None
    # the lock is free: a writer opens at once
    w = search._opened().writer(heap_size=15_000_000, num_threads=1)
    del w
