"""Idle cost of the language server: CPU used over a minute while 10,000 logs outside the workspace
are followed and nothing changes, and how long an append takes to become searchable with no
editor telling the server (the server's own watcher finds it).  Measured twice: with file-system
events (watchfiles) and with the polling fallback (watchfiles hidden from the server).

    .venv/bin/python -m tests.perf.bench_idle --files 10000 --seconds 60

``run.py`` calls ``bench_idle(...)`` (``--only idle``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.perf.corpus import small_files_corpus
from tests.perf.lspclient import LspClient

REPO = Path(__file__).resolve().parents[2]


#: rows of run.py's target table (paths under ``results["idle"]``)
TARGETS = [
    ("idle server, the small-files corpus watched (10,000 logs by default), 60 s: CPU", ("idle", "idle_cpu_pct"), "<=", 0.5, "% of a core"),
    ("append → searchable, found by the server's own watcher (max)", ("idle", "append_max_ms"), "<=", 250, "ms"),
]


def run(ctx) -> dict[str, Any]:
    """run.py's hook: its own copy of the 10,000-file corpus (appends would disturb the re-scan benchmark's)."""
    n = ctx.args.small_files
    return bench_idle(ctx.work / f"idle-small-{n}", ctx.work / f"home-idle-{n}", files=n, seconds=60, rounds=8, say=ctx.say)


def load() -> str:
    """The load averages (1, 5, 15 min), to print next to a timing taken on a shared machine."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread) of a process so far, in seconds: the scheduler's
    nanoseconds per thread (``/proc/PID/task/*/schedstat``), else ``/proc/PID/stat``'s ticks."""
    total = 0
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                total += int(Path(f"/proc/{pid}/task/{t}/schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
        if total:
            return total / 1e9
    except OSError:
        pass
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _append(path: Path, token: str) -> None:
    """A line as the agent writes it (the corpus alternates Claude and Codex sessions)."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    head = path.read_text(encoding="utf-8", errors="replace")[:2000]
    if '"session_meta"' in head or '"response_item"' in head:
        obj: dict[str, Any] = {
            "timestamp": now,
            "type": "response_item",
            "payload": {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": f"idle marker {token}"}]},
        }
    else:
        obj = {
            "type": "user",
            "timestamp": now,
            "message": {"role": "user", "content": f"idle marker {token}"},
            "uuid": token,
            "sessionId": "perf-idle",
            "cwd": "/home/dev/projects/perf",
        }
    with path.open("ab") as f:
        f.write(json.dumps(obj).encode() + b"\n")


def _quantile(xs: list[float], q: float) -> float:
    """The ``q`` quantile of ``xs`` (nearest rank)."""
    ys = sorted(xs)
    return ys[min(len(ys) - 1, max(0, -(-int(q * len(ys) * 1000) // 1000) - 1))]


def _hide_watchfiles(into: Path) -> str:
    """A folder that, first on PYTHONPATH, makes ``import watchfiles`` fail as if it were not installed."""
    pkg = into / "watchfiles"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("raise ImportError('watchfiles hidden by the benchmark')\n")
    return str(into)


def measure(root: Path, home: Path, *, seconds: float, rounds: int, poll: bool, settle: float = 5.0) -> dict[str, Any]:
    ws = Path(tempfile.mkdtemp(prefix="sl-idle-ws-"))
    paths = [str(REPO / "server"), str(REPO)]
    if poll:
        paths.insert(0, _hide_watchfiles(ws / "hidden"))
    client = LspClient(env={"PYTHONPATH": os.pathsep.join(paths)}, cwd=str(REPO))
    out: dict[str, Any] = {"mode": "poll" if poll else "events"}
    try:
        t0 = time.perf_counter()
        client.initialize({"storePath": str(home), "includeHomeLogs": False, "logRoots": [str(root)]}, ws)
        client.wait_notification(lambda m: m.get("method") == "sessionlens/status" and m["params"].get("state") == "idle")
        out["ready_s"] = round(time.perf_counter() - t0, 2)
        time.sleep(settle)  # the watcher's catch-up pass, the first polls
        pid = client.proc.pid
        c0, w0 = cpu_seconds(pid), time.perf_counter()
        time.sleep(seconds)
        c1, w1 = cpu_seconds(pid), time.perf_counter()
        out["idle_seconds"] = round(w1 - w0, 1)
        out["idle_cpu_ms"] = round((c1 - c0) * 1000, 1)
        out["idle_cpu_pct"] = round(100 * (c1 - c0) / (w1 - w0), 3)
        out["idle_load"] = load()
        files = sorted(root.rglob("*.jsonl"))
        lat, cpu = [], []
        loads: list[str] = []
        for i in range(rounds):
            target = files[(i * 997 + 13) % len(files)]
            token = f"zqidle{int(time.time() * 1000) % 10**9}x{i}{'p' if poll else 'e'}"
            c0 = cpu_seconds(pid)
            t0 = time.perf_counter()
            _append(target, token)
            while True:
                _, res = client.request(
                    "workspace/executeCommand", {"command": "sessionlens.search", "arguments": [{"query": token, "workspace_only": False}]}
                )
                if res and res.get("total"):
                    break
                if time.perf_counter() - t0 > 30:
                    raise TimeoutError(f"appended line {token} not searchable after 30 s ({out['mode']})")
                time.sleep(0.02)  # polling harder would take the server's CPU from the pass it measures
            lat.append(time.perf_counter() - t0)
            cpu.append(cpu_seconds(pid) - c0)
            loads.append(load().split()[0])  # the server's CPU for it: its watcher, the index pass, the searches polled
            time.sleep(0.3)
        out["append_ms"] = [round(x * 1000, 1) for x in lat]
        out["append_p50_ms"] = round(statistics.median(lat) * 1000, 1)
        out["append_p90_ms"] = round(_quantile(lat, 0.9) * 1000, 1)
        out["append_max_ms"] = round(max(lat) * 1000, 1)
        # per append: the server's CPU for it (every thread) and the load then, so a one-off can be told apart:
        # a slow append whose CPU is as low as the others' waited (a loaded machine, a lock), one whose CPU is
        # high did more work (a merge of the search index, a collection of the whole heap, a re-scan, the coach)
        out["append_cpu_ms"] = [round(x * 1000, 1) for x in cpu]
        out["append_cpu_ms_p50"] = round(statistics.median(cpu) * 1000, 1)
        out["append_cpu_ms_max"] = round(max(cpu) * 1000, 1)
        out["append_loads"] = loads
        out["append_load"] = load()
    finally:
        client.close()
        shutil.rmtree(ws, ignore_errors=True)
    return out


def bench_idle(
    root: Path, home: Path, *, files: int = 10_000, seconds: float = 60, rounds: int = 5, poll_baseline: bool = True, say=print
) -> dict[str, Any]:
    """Both modes on the same corpus and store (indexed by the first server: a cold index of ``files`` logs)."""
    small_files_corpus(root, files=files)
    say(f"idle server over {files:,} logs, {seconds:.0f} s each mode (load {load()}) ...")
    res: dict[str, Any] = {"files": files, "events": measure(root, home, seconds=seconds, rounds=rounds, poll=False)}
    if poll_baseline:
        res["poll"] = measure(root, home, seconds=seconds, rounds=rounds, poll=True)
    ev = res["events"]
    res["idle_cpu_pct"] = ev["idle_cpu_pct"]
    res["append_max_ms"] = ev["append_max_ms"]
    res["append_p50_ms"] = ev["append_p50_ms"]
    res["append_p90_ms"] = ev["append_p90_ms"]
    return res


def markdown(res: dict[str, Any]) -> list[str]:
    ev, po = res["events"], res.get("poll")
    lines = [
        "",
        f"Idle language server following {res['files']:,} logs outside the workspace, nothing changing "
        f"(CPU time of the server process from /proc over {ev['idle_seconds']} s):",
        "",
        "| watcher | idle CPU | CPU ms | load (1/5/15) | append → searchable p50 / p90 / max | server CPU per append (p50 / max) | load |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in (ev, po):
        if r:
            lines.append(
                f"| {'file-system events (watchfiles)' if r['mode'] == 'events' else 'polling fallback (1 s)'} | "
                f"{r['idle_cpu_pct']} % of a core | {r['idle_cpu_ms']} | {r['idle_load']} | "
                f"{r['append_p50_ms']} / {r.get('append_p90_ms', '–')} / {r['append_max_ms']} ms | "
                f"{r['append_cpu_ms_p50']} / {r.get('append_cpu_ms_max', '–')} ms | {r['append_load']} |"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tests.perf.bench_idle", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-poll", action="store_true", help="skip the polling baseline")
    ap.add_argument(
        "--work", type=Path, default=Path(os.environ.get("SESSIONLENS_PERF_CACHE", Path.home() / ".cache" / "sessionlens-perf")) / "work"
    )
    args = ap.parse_args(argv)
    work = args.work.expanduser()
    res = bench_idle(
        work / f"small-{args.files}",
        work / f"home-idle-{args.files}",
        files=args.files,
        seconds=args.seconds,
        rounds=args.rounds,
        poll_baseline=not args.no_poll,
    )
    print(json.dumps(res, indent=2))
    print("\n".join(markdown(res)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
