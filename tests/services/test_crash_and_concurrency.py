"""A SIGKILLed indexer resumes to the same store as a clean run; two indexers on one store
serialize on the writer lock; ``--wait 0`` gives up with one clear line."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import apsw
import pytest

from sessionlens.samples.generator import generate_corpus
from sessionlens.store import WriterLock
from tests.services.helpers import assert_same_store, cli_env, index, lines_of, run_cli, snapshot, spawn_cli


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A ~6 MB generated corpus (dozens of files, so a run spans many commits) and the snapshot
    of a clean single run over it."""
    root = tmp_path_factory.mktemp("gen")
    info = generate_corpus(root / "logs", seed=11, total_bytes=6_000_000)
    assert info.files > 10
    clean = root / "clean"
    st = index(clean, root / "logs")
    assert st.files_changed == info.files and not st.errors
    return root / "logs", snapshot(clean), root / "user"


def _events(home: Path) -> int:
    try:
        c = apsw.Connection(str(home / "sessionlens.db"), flags=apsw.SQLITE_OPEN_READONLY)
        try:
            return c.execute("SELECT count(*) FROM events").fetchone()[0]
        finally:
            c.close()
    except apsw.Error:  # not created or not migrated yet
        return 0


def test_killed_run_resumes_to_the_clean_result(generated, tmp_path):
    logs, clean, user = generated
    user.mkdir(exist_ok=True)
    env = cli_env(user)
    home = tmp_path / "home"
    proc = spawn_cli("index", "--home", str(home), str(logs), env=env)
    try:
        deadline = time.monotonic() + 60
        while _events(home) == 0 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the indexer finished before it could be killed"
    assert 0 < _events(home) < len(clean["events"]), "the kill did not land in the middle of the run"

    again = run_cli("index", "--home", str(home), str(logs), env=env)
    assert again.returncode == 0, again.stderr
    after = snapshot(home)
    for path, *_ in after["files"]:
        n = sum(1 for e in after["events"] if e[0] == path)
        assert n == len(lines_of(Path(path))), path
    c = apsw.Connection(str(home / "sessionlens.db"))
    assert c.execute("SELECT count(*) FROM (SELECT 1 FROM events GROUP BY file_id, seq HAVING count(*) > 1)").fetchone()[0] == 0
    c.close()
    assert len(after["search_docs"]) == len(clean["search_docs"])
    assert after["search_queue"] == 0
    assert_same_store(after, clean)


def test_two_concurrent_indexers_serialize(generated, tmp_path):
    logs, clean, user = generated
    user.mkdir(exist_ok=True)
    env = cli_env(user)
    home = tmp_path / "home"
    procs = [spawn_cli("index", "--home", str(home), "--json", str(logs), env=env) for _ in range(2)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    for rc, _out, err in results:
        assert rc == 0, err
        assert "Traceback" not in err
    # both finished: either one waited for the other (and then found nothing left to do), or
    # their passes interleaved file by file; the sum of their work is one pass
    assert_same_store(snapshot(home), clean)


@pytest.mark.parametrize("before_command", [False, True], ids=["after", "before"])
def test_wait_zero_gives_up_with_one_line(generated, tmp_path, before_command):
    logs, _clean, user = generated
    user.mkdir(exist_ok=True)
    env = cli_env(user)
    home = tmp_path / "home"
    index(home, logs / "claude")  # an existing store
    lock = WriterLock(home / "writer.lock")
    assert lock.acquire(timeout=0)
    try:
        args = (
            ["--wait", "0", "index", "--home", str(home), str(logs / "claude")]
            if before_command
            else ["index", "--wait", "0", "--home", str(home), str(logs / "claude")]
        )
        res = run_cli(*args, env=env)
    finally:
        lock.release()
    assert res.returncode == 5  # EXIT_BUSY: another process holds the writer lock
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sessionlens: another process is indexing"), res.stderr
    assert res.stdout == ""
    # the lock is free again: the same command now succeeds
    ok = run_cli("index", "--wait", "0", "--home", str(home), str(logs / "claude"), env=env)
    assert ok.returncode == 0, ok.stderr
