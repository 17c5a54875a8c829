"""Crash safety and concurrency at CI size: ``kill -9`` at random points of a cold pass over
generated logs with hostile files among them, then overlapping indexers, a growing log and a
search loop on one store.  The store must stay consistent: integrity ok after every kill, and the
end state equal to a clean sequential run (no event lost or duplicated, same usage, same findings,
same search documents)."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import apsw
import pytest

from sessionlens.samples.generator import generate_corpus
from tests.reliability.base_logs import fresh_ids
from tests.reliability.hostile import file_variants, value_variants
from tests.services.helpers import SESSIONLENS, assert_same_store, cli_env, index, run_cli, snapshot, spawn_cli

KILLS = 6


def _events(home: Path) -> int:
    try:
        c = apsw.Connection(str(home / "sessionlens.db"), flags=apsw.SQLITE_OPEN_READONLY)
        try:
            return c.execute("SELECT count(*) FROM events").fetchone()[0]
        finally:
            c.close()
    except apsw.Error:
        return 0


def _integrity(home: Path) -> str:
    c = apsw.Connection(str(home / "sessionlens.db"), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        return c.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        c.close()


def _diff_events(a: dict, b: dict) -> tuple[int, int]:
    """(lost, duplicated) events of store ``b`` against the reference ``a``."""
    ka = {(r[0], r[1]) for r in a["events"]}
    kb = [(r[0], r[1]) for r in b["events"]]
    return len(ka - set(kb)), len(kb) - len(set(kb)) + len(set(kb) - ka)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash")
    logs = root / "logs"
    info = generate_corpus(logs, seed=29, total_bytes=3_000_000)
    rng = random.Random(29)
    some = sorted((logs / "codex").rglob("*.jsonl"))[:2] + sorted((logs / "claude").rglob("*.jsonl"))[:2]
    hostile = logs / "hostile"
    hostile.mkdir()
    for p in some:
        data = p.read_bytes()
        for name, variant in value_variants(data, rng, 2, per_file=5):
            (hostile / f"{p.stem[:20]}-{name}.jsonl").write_bytes(fresh_ids(variant, rng))
        for name, variant, _ in file_variants(fresh_ids(data, rng)):
            (hostile / f"{p.stem[:20]}-{name}.jsonl").write_bytes(variant)
    clean = root / "clean"
    st = index(clean, logs)
    assert not [e for e in st.errors if "corrupt" not in e and "gzip" not in e.lower()], st.errors
    user = root / "user"
    user.mkdir()
    return root, logs, snapshot(clean), cli_env(user), info


def test_kill_9_at_random_points_loses_and_duplicates_nothing(corpus, tmp_path, figures):
    root, logs, clean, env, _ = corpus
    home = tmp_path / "home"
    rng = random.Random(4)
    total = len(clean["events"])
    for _ in range(KILLS):
        proc = spawn_cli("index", "--home", str(home), str(logs), env=env)
        try:
            start = _events(home)
            deadline = time.monotonic() + 60
            while _events(home) == start and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.003)
            time.sleep(rng.uniform(0, 0.25))
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
        if proc.returncode == -signal.SIGKILL:
            figures.add("kills")
        if _integrity(home) != "ok":
            figures.add("integrity failures", 1, _integrity(home))
        if _events(home) >= total:
            break
    assert figures.counts["kills"] >= 2, "no kill landed in the middle of a run"
    again = run_cli("index", "--home", str(home), str(logs), env=env)
    if again.returncode != 0:
        figures.add("crashes", 1, again.stderr[-300:])
    after = snapshot(home)
    lost, dup = _diff_events(clean, after)
    figures.add("events checked", len(after["events"]))
    figures.add("events lost", lost)
    figures.add("events duplicated", dup)
    figures.check()
    assert_same_store(clean, after)


def test_overlapping_indexers_a_growing_log_and_searches_agree_with_a_sequential_run(corpus, tmp_path, figures):
    root, logs, _, env, _ = corpus
    grow_src = sorted((logs / "codex").rglob("*.jsonl"))[0].read_bytes()
    grow = logs / "growing" / "rollout-2026-03-09T10-00-00-0195e0f0-aaaa-7000-8000-00000000beef.jsonl"
    grow.parent.mkdir(exist_ok=True)
    data = fresh_ids(grow_src, random.Random(3))
    cut = len(data) // 3
    grow.write_bytes(data[:cut])
    home = tmp_path / "home"
    procs = [spawn_cli("index", "--home", str(home), str(logs), env=env) for _ in range(3)]
    searches = 0
    try:
        pos = cut
        step = max(len(data) // 12, 1)
        while pos < len(data) or any(p.poll() is None for p in procs):
            if pos < len(data):
                with open(grow, "ab") as f:  # appended in pieces, often cutting a line in two
                    f.write(data[pos : pos + step])
                pos += step
            r = subprocess.run(
                [*SESSIONLENS, "search", "error", "--home", str(home), "--json"], capture_output=True, text=True, env=env, timeout=60
            )
            searches += 1
            if r.returncode != 0 and "no such table" not in r.stderr and "not initialized" not in r.stderr:
                figures.add("crashes", 1, f"search: {r.stderr[-200:]}")
            if searches >= 12 and pos >= len(data):
                break
    finally:
        for p in procs:
            p.wait(timeout=120)
            if p.returncode != 0:
                figures.add("crashes", 1, (p.stderr.read() if p.stderr else "")[-300:])
    final = run_cli("index", "--home", str(home), str(logs), env=env)
    assert final.returncode == 0, final.stderr
    if _integrity(home) != "ok":
        figures.add("integrity failures", 1)
    seq_home = tmp_path / "sequential"
    index(seq_home, logs)
    a, b = snapshot(seq_home), snapshot(home)
    lost, dup = _diff_events(a, b)
    figures.add("events checked", len(b["events"]))
    figures.add("events lost", lost)
    figures.add("events duplicated", dup)
    figures.add("inputs tried", searches)
    figures.check()
    assert_same_store(a, b)
