"""#17 items 4, 5 and 7: what a file is, is judged by its content (garbage first, megabyte first
lines, compressed or transcoded logs); what cannot be read is counted and named, one line each."""

from __future__ import annotations

import gzip
import os
import random
from pathlib import Path

import orjson
import pytest

from sessionlens.ingest import discovery
from tests.reliability.base_logs import corpus_logs, fresh_ids, generated
from tests.reliability.hostile import file_variants, record_lines
from tests.services.helpers import cli_env, make_app, run_cli


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict[str, bytes]:
    logs = generated(tmp_path_factory.mktemp("base"), seed=8)
    for rel, data in corpus_logs().items():
        if rel.startswith("claude/agentlogs"):
            logs["corpus-" + rel.replace("/", "_")] = data
    return logs


def _file_events(app, path: Path) -> tuple[str | None, int]:
    db = app.db()
    row = db.file_row(str(path))
    if row is None:
        return None, 0
    n = db.conn.execute("SELECT count(*) FROM events WHERE file_id=?", (row.id,)).fetchone()[0]
    return row.status, n


def test_item5_every_variant_is_read_or_named(base, tmp_path, figures):
    logs = tmp_path / "logs"
    rng = random.Random(5)
    expect: dict[Path, int | None] = {}
    for agent, data in base.items():
        for name, variant, readable in file_variants(data):
            sub = logs / agent
            sub.mkdir(parents=True, exist_ok=True)
            p = sub / f"{name}.jsonl"
            fresh = fresh_ids(data, rng)
            variant = next(v for n, v, _ in file_variants(fresh) if n == name)
            p.write_bytes(variant)
            if not readable:
                expect[p] = None
            elif name == "truncated-mid-line":
                expect[p] = record_lines(variant)
            else:
                expect[p] = record_lines(fresh)
        gz = logs / agent / "named.jsonl.gz"
        plain = fresh_ids(data, rng)
        gz.write_bytes(gzip.compress(plain))
        expect[gz] = record_lines(plain)
    app = make_app(tmp_path / "home")
    try:
        st = app.index([str(logs)])
        figures.add("inputs tried", len(expect))
        skipped = {p for p, _ in st.skipped}
        for p, want in expect.items():
            status, n = _file_events(app, p)
            figures.add("events checked", n)
            if want is None:
                if str(p) not in skipped:
                    figures.add("files lost", 1, f"{p.name}: not named among the skipped")
                continue
            if status != "ok" or n == 0:
                figures.add("files lost", 1, f"{p.parent.name}/{p.name}: {status}, {n} events")
            elif n != want:
                figures.add("events lost" if n < want else "events duplicated", abs(n - want), f"{p.parent.name}/{p.name}: {n} of {want}")
        assert st.not_sessions == sum(1 for p, r in st.skipped if r.startswith("not a session"))
    finally:
        app.close()
    figures.check()


def test_item5_skipped_files_are_named_in_the_json_summary(base, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "ok.jsonl").write_bytes(base["codex"])
    (logs / "notes.jsonl").write_bytes(orjson.dumps({"display": "hi", "pastedContents": {}}) + b"\n")
    (logs / "broken.jsonl.gz").write_bytes(gzip.compress(base["codex"])[:300])
    user = tmp_path / "user"
    user.mkdir()
    r = run_cli("index", "--json", "--home", str(tmp_path / "home"), str(logs), env=cli_env(user))
    assert r.returncode == 0, r.stderr
    idx = orjson.loads(r.stdout)["index"]
    reasons = {Path(s["path"]).name: s["reason"] for s in idx["skipped"]}
    assert set(reasons) == {"notes.jsonl", "broken.jsonl.gz"}
    assert reasons["notes.jsonl"].startswith("not a session log") and reasons["broken.jsonl.gz"].startswith("failed:")
    assert idx["not_sessions"] == 1 and len(idx["errors"]) == 1
    text = run_cli("index", "--home", str(tmp_path / "home2"), str(logs), env=cli_env(user))
    assert "skipped 2 file(s)" in text.stdout and "notes.jsonl: not a session log" in text.stdout
    # the next pass still names the file that failed, and why
    again = orjson.loads(run_cli("index", "--json", "--home", str(tmp_path / "home"), str(logs), env=cli_env(user)).stdout)
    [(path, reason)] = [(s["path"], s["reason"]) for s in again["index"]["skipped"]]
    assert path.endswith("broken.jsonl.gz") and reason.startswith("failed earlier:") and again["index"]["files_skipped"] == 3


def test_item5_an_unreadable_folder_is_named_and_the_rest_indexed(base, tmp_path, monkeypatch):
    logs = tmp_path / "logs"
    locked = logs / "locked"
    locked.mkdir(parents=True)
    (locked / "a.jsonl").write_bytes(base["codex"])
    (logs / "b.jsonl").write_bytes(fresh_ids(base["codex"], random.Random(9)))
    if os.geteuid() != 0:
        locked.chmod(0)
    else:  # root reads every folder: refuse this one as the file system would
        real = os.scandir

        def scandir(path="."):
            if os.fspath(path) == str(locked):
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(discovery.os, "scandir", scandir)
    app = make_app(tmp_path / "home")
    try:
        st = app.index([str(logs)])
        assert (str(locked), "unreadable folder: Permission denied") in st.skipped
        assert st.files_changed == 1 and _file_events(app, logs / "b.jsonl")[0] == "ok"
    finally:
        app.close()
        locked.chmod(0o755)


def test_item4_non_utf8_names_do_not_abort_the_pass(base, tmp_path, figures):
    logs = tmp_path / "logs"
    logs.mkdir()
    raw = os.fsencode(str(logs))
    with open(raw + b"/bad\xff.jsonl", "wb") as f:
        f.write(base["codex"])
    os.mkdir(raw + b"/dir\xfe")
    with open(raw + b"/dir\xfe/x.jsonl", "wb") as f:
        f.write(base["codex"])
    (logs / "good.jsonl").write_bytes(fresh_ids(base["codex"], random.Random(4)))
    app = make_app(tmp_path / "home")
    try:
        st = app.index([str(logs)])
        figures.add("inputs tried", 3)
        assert st.errors == [] and _file_events(app, logs / "good.jsonl")[0] == "ok"
        names = {Path(p).name: r for p, r in st.skipped}
        assert names == {"bad\\xff.jsonl": "file name is not UTF-8: not indexed", "dir\\xfe": "folder name is not UTF-8: not read"}
    finally:
        app.close()
    user = tmp_path / "user"
    user.mkdir()
    r = run_cli("index", "--json", "--home", str(tmp_path / "cli-home"), str(logs), env=cli_env(user))
    if r.returncode != 0:
        figures.add("crashes", 1, r.stderr[-200:])
    figures.check()


def test_item7_per_file_failures_are_one_line_without_verbose(base, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    for i in range(3):
        (logs / f"broken{i}.jsonl").write_bytes(gzip.compress(base["claude"])[:400])
    (logs / "ok.jsonl").write_bytes(base["codex"])
    user = tmp_path / "user"
    user.mkdir()
    r = run_cli("index", "--home", str(tmp_path / "home"), str(logs), env=cli_env(user))
    assert r.returncode == 0
    assert "Traceback" not in r.stderr
    warn = [ln for ln in r.stderr.splitlines() if "failed" in ln]
    assert len(warn) == 3 and all(ln.count("broken") == 1 for ln in warn), r.stderr
    assert len(r.stderr.splitlines()) <= 4, r.stderr
    v = run_cli("index", "-v", "--home", str(tmp_path / "home-v"), str(logs), env=cli_env(user))
    assert v.returncode == 0 and "Traceback" in v.stderr
