"""Agent blame on a large store: what a hover costs on a workspace file many sessions edited.

    .venv/bin/python -m tests.perf.bench_blame --home STORE      # a store indexed by tests.perf.run

On the store (the 1 GB corpus's, when ``run.py`` calls it): the repository-relative path with the most
edits is written out as a workspace file (the lines those edits produced, one line in five changed by
"a person", half of it committed to git) and blamed the way the language server does:

* ``backfill_s``: building the edits index of a store indexed before it existed (from its events);
* ``cold_ms``: the first blame of the file (edits lookup, ``git log`` for renames, ``git blame``, matching);
* ``hover_p50_ms`` / ``hover_p95_ms``: a hover on every line afterwards (the file unchanged: cached);
* ``edited_ms``: the first blame after the text changed (a keystroke: git blame and matching again);
* ``untouched_ms``: a hover on a file no session edited (the cost every other file pays).

CPU-bound and single-threaded: every figure is printed with the load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
NAME = "blame"
TARGETS = [
    ("agent blame: hover p50 (on the main corpus's store)", ("blame", "hover_p50_ms"), "<=", 5, "ms"),
    ("agent blame: hover on a file no session edited", ("blame", "untouched_ms"), "<=", 5, "ms"),
]


def _load() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return float("nan")


def _git(repo: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_AUTHOR_NAME="bench",
        GIT_AUTHOR_EMAIL="b@example.com",
        GIT_COMMITTER_NAME="bench",
        GIT_COMMITTER_EMAIL="b@example.com",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)


def bench(home: Path, work: Path) -> dict[str, Any]:
    sys.path.insert(0, str(REPO / "server"))
    from sessionlens.ingest.edits import hunks_of
    from sessionlens.services import blame
    from sessionlens.services.app import App
    from sessionlens.services.settings import Settings
    from sessionlens.store import Store
    from sessionlens.store import edits as edits_store

    t0 = time.perf_counter()
    st = Store(home)  # a store from before the edits index builds it here, once
    backfill = time.perf_counter() - t0
    conn = st.conn
    rows = conn.execute("SELECT count(*), count(DISTINCT path) FROM edits").fetchone()
    store_mb = round(os.path.getsize(home / "sessionlens.db") / 1e6, 1)
    top = conn.execute(
        "SELECT path, count(*) FROM edits WHERE repo IS NOT NULL AND op IN ('edit','write','add') GROUP BY path ORDER BY 2 DESC LIMIT 1"
    ).fetchone()
    if top is None:
        st.close()
        return {"error": "no edits in the store", "edit_rows": rows[0]}
    rel, n_edits = top
    lines: list[str] = []
    for fid, seq in conn.execute("SELECT file_id, seq FROM edits WHERE path=? ORDER BY ts LIMIT 400", (rel,)).fetchall():
        ev = st.event(fid, seq)
        if ev is None:
            continue
        for h in hunks_of(ev):
            lines.extend(h.lines)
    st.close()
    lines = lines[:4000] or ["x = 1"]
    lines = [f"{x}  # changed by a person" if i % 5 == 4 else x for i, x in enumerate(lines)]
    repo = Path(tempfile.mkdtemp(prefix="blame-", dir=work)) / "project"
    target = repo / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    half = len(lines) // 2
    _git(repo, "init", "-q")
    target.write_text("\n".join(lines[:half]) + "\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "half")
    text = "\n".join(lines) + "\n"
    target.write_text(text)
    untouched = repo / "NOT_EDITED_BY_ANY_SESSION.txt"
    untouched.write_text("nothing here\n" * 200)

    app = App(Settings(storePath=str(home), includeHomeLogs=False))
    app.workspace_folders = [str(repo)]
    load_before = _load()
    t0 = time.perf_counter()
    c0 = time.process_time()
    rep = blame.report(app, str(target), text, 0)
    cold = time.perf_counter() - t0
    cold_cpu = time.process_time() - c0
    hovers = []
    n = len(lines)
    for i in range(0, n, max(n // 300, 1)):
        t = time.perf_counter()
        blame.hover_info(app, str(target), text, i)  # what the language server's hover runs
        hovers.append(time.perf_counter() - t)
    edited = text.replace(lines[1], lines[1] + " # typed", 1)
    t0 = time.perf_counter()
    blame.hover_info(app, str(target), edited, 1)
    edited_s = time.perf_counter() - t0
    utext = untouched.read_text()
    ut = []
    for _ in range(50):
        t = time.perf_counter()
        blame.hover_info(app, str(untouched), utext + " ", 0)  # a new text each time: no cache
        utext += " "
        ut.append(time.perf_counter() - t)
    app.close()
    ms = lambda s: round(s * 1000, 2)  # noqa: E731
    hovers.sort()
    return {
        "store_mb": store_mb,
        "edit_rows": rows[0],
        "edited_paths": rows[1],
        "backfill_s": round(backfill, 2),
        "file": rel,
        "file_lines": n,
        "edits_of_file": n_edits,
        "attributed_lines": rep["attributed"],
        "sessions_of_file": len(rep["sessions"]),
        "git": rep["git"],
        "cold_ms": ms(cold),
        "cold_cpu_ms": ms(cold_cpu),
        "hover_p50_ms": ms(statistics.median(hovers)),
        "hover_p95_ms": ms(hovers[int(len(hovers) * 0.95) - 1]),
        "hovers": len(hovers),
        "edited_ms": ms(edited_s),
        "untouched_ms": ms(statistics.median(ut)),
        "load_before": load_before,
        "load_after": _load(),
        "edits_lookup_ms": _lookup_ms(home, rel, edits_store),
    }


def _lookup_ms(home: Path, rel: str, edits_store) -> float:
    from sessionlens.store import Store

    st = Store(home)
    t = time.perf_counter()
    for _ in range(20):
        edits_store.for_paths(st.conn, [rel])
    st.close()
    return round((time.perf_counter() - t) / 20 * 1000, 2)


def run(ctx) -> dict[str, Any]:
    """``tests.perf.run`` entry point: on the main corpus's store."""
    if ctx.home is None or not (Path(ctx.home) / "sessionlens.db").exists():
        return {"error": "no store (run the main benchmarks first)"}
    res = bench(Path(ctx.home), Path(ctx.work))
    ctx.say(f"blame: {res}")
    return res


def markdown(res: dict[str, Any]) -> list[str]:
    if not res or res.get("error"):
        return [f"Agent blame: {res.get('error') if res else 'not run'}."]
    return [
        f"Agent blame on a {res['store_mb']} MB store ({res['edit_rows']:,} edit hunks over {res['edited_paths']:,} paths; "
        f"building the index from the stored events: {res['backfill_s']} s): `{res['file']}` ({res['file_lines']:,} lines, "
        f"{res['edits_of_file']:,} edits, {res['sessions_of_file']} sessions, {res['attributed_lines']:,} lines attributed). "
        f"First blame {res['cold_ms']} ms (git blame included), hover p50 {res['hover_p50_ms']} ms / p95 {res['hover_p95_ms']} ms, "
        f"after a keystroke {res['edited_ms']} ms, a file no session edited {res['untouched_ms']} ms "
        f"(load {res['load_before']} → {res['load_after']}).",
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--home", required=True, help="an indexed store")
    p.add_argument("--work", default=tempfile.gettempdir())
    a = p.parse_args(argv)
    print(json.dumps(bench(Path(a.home), Path(a.work)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
