"""sessionlens benchmarks: one command, a table on stdout, JSON in tests/perf/out/, Markdown in tests/perf/RESULTS.md.

    .venv/bin/python -m tests.perf.run                       # 1 GB corpus with a 200 MB file (the targets)
    .venv/bin/python -m tests.perf.run --size 10MB --big 2MB --small-files 500   # a quick smoke run

Corpora are generated once (seeded) and cached under ``--work`` (default ~/.cache/sessionlens-perf).
ripgrep (Debian ``ripgrep``) and ccusage 18.0.11 (npm, into ~/.cache/sessionlens-perf) are installed
when missing, and the output says so.  Not part of the default test run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.perf.corpus import main_corpus, parse_size, small_files_corpus
from tests.perf.lspclient import LspClient

REPO = Path(__file__).resolve().parents[2]
OUT_DIR = REPO / "tests" / "perf" / "out"
RESULTS_MD = REPO / "tests" / "perf" / "RESULTS.md"
CACHE = Path(os.environ.get("SESSIONLENS_PERF_CACHE", Path.home() / ".cache" / "sessionlens-perf"))
CCUSAGE_VERSION = "18.0.11"

#: The fixed query mix: (label, sessionlens query, filters, ripgrep arguments for the same question).
QUERIES: list[tuple[str, str, dict[str, str], list[str]]] = [
    ("word", "migration", {}, ["-i", "-w", "migration"]),
    ("word", "cache", {}, ["-i", "-w", "cache"]),
    ("word", "fixture", {}, ["-i", "-w", "fixture"]),
    ("rare word", "ValueError", {}, ["-i", "-w", "ValueError"]),
    ("two words", "database index", {}, ["-i", r"\bdatabase\b.*\bindex\b|\bindex\b.*\bdatabase\b"]),
    ("phrase", '"regression test"', {}, ["-i", "-F", "regression test"]),
    ("phrase", '"sequential scan"', {}, ["-i", "-F", "sequential scan"]),
    ("filter kind", "pytest", {"kind": "tool_call"}, ["-i", r'"(function_call|tool_use)".*\bpytest\b']),
    ("filter agent", "error", {"agent": "claude"}, ["-i", "-w", "error", "--glob", "**/claude/**"]),
    ("filter tool+word", "cargo", {"tool": "exec_command"}, ["-i", r'"exec_command".*\bcargo\b']),
]


# ---------------------------------------------------------------------------------------- helpers
def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


def ms(x: float) -> float:
    return round(x * 1000, 2)


def say(msg: str) -> None:
    print(msg, flush=True)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "ram_gb": ram_gb, "cpu": cpu, "python": platform.python_version(),
            "os": platform.platform()}


def ensure_ripgrep() -> str | None:
    rg = shutil.which("rg")
    if rg:
        return rg
    say("ripgrep is missing: installing Debian's ripgrep (apt-get install -y ripgrep) ...")
    try:
        subprocess.run(["apt-get", "install", "-y", "-q", "ripgrep"], check=False, capture_output=True, timeout=600)
        if not shutil.which("rg"):
            subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True, timeout=600)
            subprocess.run(["apt-get", "install", "-y", "-q", "ripgrep"], check=False, capture_output=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        say(f"  could not install ripgrep: {e}")
    return shutil.which("rg")


def ensure_ccusage() -> list[str] | None:
    prefix = CACHE / "npm"
    script = prefix / "node_modules" / "ccusage" / "dist" / "index.js"
    if not script.exists():
        say(f"ccusage {CCUSAGE_VERSION} is missing: npm install --prefix {prefix} ccusage@{CCUSAGE_VERSION} ...")
        prefix.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(prefix), f"ccusage@{CCUSAGE_VERSION}"],
                           check=False, capture_output=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as e:
            say(f"  could not install ccusage: {e}")
    if script.exists():
        return ["node", str(script)]
    binp = prefix / "node_modules" / ".bin" / "ccusage"
    return [str(binp)] if binp.exists() else None


def run_worker(home: Path, paths: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "server"), str(REPO)])}
    p = subprocess.run([sys.executable, "-m", "tests.perf.worker", str(home), *paths], capture_output=True, text=True,
                       env=env, cwd=str(REPO))
    if p.returncode != 0:
        raise RuntimeError(f"indexing worker failed:\n{p.stderr[-4000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------- benchmarks
def bench_index(corpus: dict, home: Path, runs: int = 3) -> dict[str, Any]:
    """Cold indexing, ``runs`` times from an empty store (the median counts; the peak RSS is the
    highest of all runs), then a warm re-scan of the last store."""
    roots = [str(Path(corpus["root"]) / "codex"), str(Path(corpus["root"]) / "claude")]
    colds = []
    for i in range(max(runs, 1)):
        shutil.rmtree(home, ignore_errors=True)
        say(f"cold index of {corpus['bytes'] / 1e6:,.0f} MB in {corpus['files']:,} files (run {i + 1} of {runs}) ...")
        cold = run_worker(home, roots)
        say(f"  {cold['seconds']:.1f} s, {cold['stats']['events']:,} events, peak RSS {cold['peak_rss_mb']:.0f} MB")
        colds.append(cold)
    cold = sorted(colds, key=lambda c: c["seconds"])[len(colds) // 2]
    st = cold["stats"]
    warm = run_worker(home, roots)
    return {
        "cold_seconds": round(cold["seconds"], 3),
        "cold_runs_seconds": [round(c["seconds"], 2) for c in colds],
        "cold_mb_per_s": round(corpus["bytes"] / 1e6 / cold["seconds"], 2),
        "cold_events_per_s": round(st["events"] / cold["seconds"]),
        "events": st["events"],
        "search_docs": st["search_docs"],
        "peak_rss_mb": round(max(c["peak_rss_mb"] for c in colds), 1),
        "peak_rss_main_mb": round(max(c.get("peak_rss_main_mb", c["peak_rss_mb"]) for c in colds), 1),
        "peak_rss_worker_mb": round(max(c.get("peak_rss_children_mb", 0.0) for c in colds), 1),
        "warm_rescan_seconds": round(warm["index_seconds"], 3),
        "warm_files_seen": warm["stats"]["files_seen"],
        "warm_files_changed": warm["stats"]["files_changed"],
        "counts": cold["counts"],
    }


def bench_rescan_many(root: Path, home: Path, files: int) -> dict[str, Any]:
    small_files_corpus(root, files=files)
    shutil.rmtree(home, ignore_errors=True)
    say(f"cold index of {files:,} small files ...")
    cold = run_worker(home, [str(root)])
    warm = [run_worker(home, [str(root)]) for _ in range(3)]
    secs = [w["index_seconds"] for w in warm]
    return {
        "files": cold["stats"]["files_seen"],
        "cold_seconds": round(cold["seconds"], 2),
        "rescan_seconds": round(statistics.median(secs), 3),
        "rescan_runs": [round(s, 3) for s in secs],
        "rescan_changed": warm[-1]["stats"]["files_changed"],
    }


def bench_search(app, corpus: dict, rg: str | None, reps: int, rg_reps: int) -> dict[str, Any]:
    for _label, q, f, _ in QUERIES:  # warm the searcher and page cache
        app.search(q, limit=20, **f)
    lat: list[float] = []
    per_query = []
    for label, q, f, rg_args in QUERIES:
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            res = app.search(q, limit=20, **f)
            ts.append(time.perf_counter() - t0)
        lat += ts
        row: dict[str, Any] = {"label": label, "query": q, "filters": f, "total": res["total"], "p50_ms": ms(statistics.median(ts))}
        if rg:
            rts = []
            for _ in range(rg_reps):
                t0 = time.perf_counter()
                p = subprocess.run([rg, "-c", "--no-messages", *rg_args, corpus["root"]], capture_output=True, text=True)
                rts.append(time.perf_counter() - t0)
            row["rg_ms"] = ms(statistics.median(rts))
            row["rg_matching_lines"] = sum(int(x.rsplit(":", 1)[1]) for x in p.stdout.splitlines() if ":" in x)
        per_query.append(row)
    out: dict[str, Any] = {"queries": per_query, "samples": len(lat), "p50_ms": ms(pct(lat, 50)), "p95_ms": ms(pct(lat, 95)),
                           "p99_ms": ms(pct(lat, 99)), "max_ms": ms(max(lat))}
    if rg:
        rg_all = [r["rg_ms"] for r in per_query]
        out["rg_p50_ms"] = round(statistics.median(rg_all), 1)
        out["speedup_vs_rg_p50"] = round(out["rg_p50_ms"] / out["p50_ms"], 1) if out["p50_ms"] else None
    return out


def bench_cost(app, corpus: dict, ccusage: list[str] | None, reps: int = 10) -> dict[str, Any]:
    app.cost_report("day")
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        rep = app.cost_report("day")
        ts.append(time.perf_counter() - t0)
    ts_model = []
    for _ in range(reps):
        t0 = time.perf_counter()
        app.cost_report("model")
        ts_model.append(time.perf_counter() - t0)
    ours_claude = app.cost_report("day", agent="claude")["totals"]
    out: dict[str, Any] = {"day_p50_ms": ms(statistics.median(ts)), "day_max_ms": ms(max(ts)),
                           "model_p50_ms": ms(statistics.median(ts_model)), "rows": len(rep["rows"]),
                           "totals_all": rep["totals"], "ours_claude": ours_claude}
    if ccusage:
        env = {**os.environ, "CLAUDE_CONFIG_DIR": str(Path(corpus["root"]) / "claude"), "TZ": os.environ.get("TZ", "UTC")}
        t0 = time.perf_counter()
        p = subprocess.run([*ccusage, "daily", "--json", "--offline"], capture_output=True, text=True, env=env, timeout=1800)
        out["ccusage_seconds"] = round(time.perf_counter() - t0, 3)
        try:
            tot = json.loads(p.stdout)["totals"]
            out["ccusage_claude"] = {
                "input": tot.get("inputTokens"), "output": tot.get("outputTokens"),
                "cache_write": tot.get("cacheCreationTokens"), "cache_read": tot.get("cacheReadTokens"),
                "cost_usd": round(tot.get("totalCost") or 0.0, 6),
            }
            out["diff_claude"] = {k: (ours_claude.get(k) or 0) - (v or 0) for k, v in out["ccusage_claude"].items()}
        except (ValueError, KeyError, TypeError) as e:
            out["ccusage_error"] = f"{e}: {p.stderr[-500:]}"
    return out


def bench_otlp(app) -> dict[str, Any]:
    """OTLP export throughput: every session to a loopback receiver that discards the body; the baseline
    in the same run is the mapping + protobuf encoding alone (no HTTP)."""
    import http.server
    import threading

    from sessionlens.services.otlp import OtlpExport
    from sessionlens.telemetry import otlp as wire

    class Sink(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        ex = OtlpExport(app, f"http://127.0.0.1:{srv.server_address[1]}")
        sel = ex.select()
        t0 = time.perf_counter()
        n = size = 0
        for s in sel:
            spans = ex.spans_for(s)
            n += len(spans)
            size += len(wire.encode(spans, ex.resource))
        encode_s = time.perf_counter() - t0
        st = ex.run(sel, resume=False)
    finally:
        srv.shutdown()
    return {"sessions": len(sel), "spans": st.spans, "bytes": st.bytes, "seconds": round(st.seconds, 3),
            "spans_per_s": round(st.spans / st.seconds) if st.seconds else None,
            "encode_only_seconds": round(encode_s, 3), "encode_only_spans_per_s": round(n / encode_s) if encode_s else None}


def _append_line(path: str, token: str, agent: str) -> None:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if agent == "codex":
        obj = {"timestamp": now, "type": "response_item",
               "payload": {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": f"benchmark marker {token}"}]}}
    else:
        obj = {"type": "user", "timestamp": now, "message": {"role": "user", "content": f"benchmark marker {token}"},
               "uuid": token, "sessionId": "perf", "cwd": "/home/dev/projects/perf"}
    with open(path, "ab") as f:
        f.write(json.dumps(obj).encode() + b"\n")


def bench_lsp(corpus: dict, home: Path, rounds: int) -> dict[str, Any]:
    root = Path(corpus["root"])
    big = corpus["big_file"]
    init = {"storePath": str(home), "includeHomeLogs": False, "logRoots": [str(root)], "pollInterval": 5}
    client = LspClient(env={"PYTHONPATH": os.pathsep.join([str(REPO / "server"), str(REPO)])}, cwd=str(REPO))
    out: dict[str, Any] = {}
    try:
        client.initialize(init, root)
        client.wait_notification(lambda m: m.get("method") == "sessionlens/status" and m["params"].get("state") == "idle")
        uri = Path(big).as_uri()
        ds = []
        nsym = 0
        for _ in range(rounds):
            dt, res = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
            ds.append(dt)
            nsym = _count_symbols(res or [])
        out["document_symbol_first_ms"] = ms(ds[0])
        out["document_symbol_p50_ms"] = ms(statistics.median(ds))
        out["document_symbol_symbols"] = nsym
        lines = corpus["big_file_lines"]
        hv = []
        for i in range(1, 41):
            dt, _ = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                          "position": {"line": (i * 7919 * 13) % max(lines, 1), "character": 0}})
            hv.append(dt)
        out["hover_p50_ms"] = ms(statistics.median(hv))
        out["hover_p95_ms"] = ms(pct(hv, 95))
        ws = []
        for _label, q, _f, _ in QUERIES:
            q = q.strip('"')
            for _ in range(3):
                dt, _ = client.request("workspace/symbol", {"query": q})
                ws.append(dt)
        out["workspace_symbol_p50_ms"] = ms(statistics.median(ws))
        out["workspace_symbol_p95_ms"] = ms(pct(ws, 95))
        # first diagnostics after opening a file (a mid-size file, opened with its text like an editor does)
        files = sorted(corpus["all_files"], key=lambda p: os.path.getsize(p))
        picks = [files[len(files) // 2], files[len(files) * 3 // 4], files[-2] if len(files) > 1 else files[-1]]
        dg = []
        for p in picks:
            text = Path(p).read_text(encoding="utf-8", errors="replace")
            u = Path(p).as_uri()
            client.drain()
            t0 = time.perf_counter()
            client.notify("textDocument/didOpen", {"textDocument": {"uri": u, "languageId": "jsonl", "version": 1, "text": text}})
            t1, _ = client.wait_notification(lambda m, u=u: m.get("method") == "textDocument/publishDiagnostics"
                                             and m["params"]["uri"] == u, timeout=120)
            dg.append(t1 - t0)
        out["first_diagnostics_ms"] = [ms(x) for x in dg]
        out["first_diagnostics_p50_ms"] = ms(statistics.median(dg))
        # append → searchable: append a line, tell the server (as an editor's file watcher does), poll search
        target = next((p for p in files[len(files) // 2:] if "/codex/" in p), files[-1])
        agent = "codex" if "/codex/" in target else "claude"
        ap = []
        for i in range(rounds):
            token = f"zqperf{int(time.time() * 1000) % 10**9}x{i}"
            t0 = time.perf_counter()
            _append_line(target, token, agent)
            client.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": Path(target).as_uri(), "type": 2}]})
            while True:
                _, res = client.request("workspace/executeCommand", {"command": "sessionlens.search", "arguments": [{"query": token}]})
                if res and res.get("total"):
                    break
                if time.perf_counter() - t0 > 30:
                    raise TimeoutError(f"appended line {token} not searchable after 30 s")
                time.sleep(0.005)
            ap.append(time.perf_counter() - t0)
            time.sleep(0.2)
        out["append_to_searchable_ms"] = [ms(x) for x in ap]
        out["append_to_searchable_p50_ms"] = ms(statistics.median(ap))
        out["append_to_searchable_max_ms"] = ms(max(ap))
    finally:
        client.close()
    return out


def _count_symbols(items: list[dict]) -> int:
    return sum(1 + _count_symbols(i.get("children") or []) for i in items)


# ---------------------------------------------------------------------------------------- report
TARGETS = [
    # (label, path in results, comparison, target, unit)
    ("cold indexing throughput", ("index", "cold_mb_per_s"), ">=", 30, "MB/s"),
    ("cold indexing peak RSS", ("index", "peak_rss_mb"), "<=", 500, "MB"),
    ("no-change re-scan of 10,000 files", ("rescan", "rescan_seconds"), "<=", 1.0, "s"),
    ("append → searchable (max)", ("lsp", "append_to_searchable_max_ms"), "<=", 1000, "ms"),
    ("search p50", ("search", "p50_ms"), "<=", 5, "ms"),
    ("search p99", ("search", "p99_ms"), "<=", 50, "ms"),
    ("search speed-up vs ripgrep at p50", ("search", "speedup_vs_rg_p50"), ">=", 20, "×"),
    ("documentSymbol on the big file", ("lsp", "document_symbol_p50_ms"), "<=", 300, "ms"),
    ("hover on the big file (p50)", ("lsp", "hover_p50_ms"), "<=", 20, "ms"),
    ("cost report (by day)", ("cost", "day_p50_ms"), "<=", 200, "ms"),
]


def _get(results: dict, path: tuple[str, ...]):
    cur: Any = results
    for k in path:
        if not isinstance(cur, dict) or k not in cur:
            return None
        cur = cur[k]
    return cur


def targets_table(results: dict) -> list[tuple[str, str, str, str]]:
    rows = []
    for label, path, op, target, unit in TARGETS:
        v = _get(results, path)
        if v is None:
            rows.append((label, "not run", f"{op} {target} {unit}", "–"))
            continue
        ok = v >= target if op == ">=" else v <= target
        rows.append((label, f"{v:,} {unit}", f"{op} {target} {unit}", "✅" if ok else "❌"))
    return rows


def markdown(results: dict) -> str:
    m = results["machine"]
    c = results["corpus"]
    lines = [
        "# sessionlens performance", "",
        f"Measured {results['date']} on {m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, Python {m['python']}, {m['os']}.", "",
        f"Reproduce: `{results['command']}`", "",
        f"Corpus: {c['bytes'] / 1e6:,.0f} MB in {c['files']:,} files ({c['codex_sessions']} Codex, {c['claude_sessions']} Claude sessions, "
        f"seeded generator), largest file {c['big_file_bytes'] / 1e6:,.0f} MB ({c['big_file_lines']:,} lines).", "",
        "| measure | result | target | |", "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {t} | {ok} |" for a, b, t, ok in targets_table(results)]
    idx = results.get("index") or {}
    if idx:
        lines += ["", f"Cold indexing: {idx['cold_seconds']} s, {idx['cold_events_per_s']:,} events/s ({idx['events']:,} events, "
                  f"{idx['search_docs']:,} search documents); warm re-scan of the same corpus with nothing changed: "
                  f"{idx['warm_rescan_seconds']} s."]
    s = results.get("search") or {}
    if s:
        lines += ["", f"Search over {s['samples']} timed queries: p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms, p99 {s['p99_ms']} ms"
                  + (f"; ripgrep over the raw files, same queries: median {s['rg_p50_ms']} ms ({s['speedup_vs_rg_p50']}× slower)." if "rg_p50_ms" in s else "."),
                  "", "| query | filters | hits | sessionlens p50 | ripgrep |", "|---|---|---|---|---|"]
        for q in s["queries"]:
            lines.append(f"| `{q['query']}` | {', '.join(f'{k}={v}' for k, v in q['filters'].items()) or '–'} | {q['total']:,} | "
                         f"{q['p50_ms']} ms | {q.get('rg_ms', '–')} ms |")
    lsp = results.get("lsp") or {}
    if lsp:
        lines += ["", f"LSP over stdio: documentSymbol on the big file {lsp['document_symbol_p50_ms']} ms "
                  f"(first call {lsp['document_symbol_first_ms']} ms, {lsp['document_symbol_symbols']:,} symbols), hover p50 "
                  f"{lsp['hover_p50_ms']} ms / p95 {lsp['hover_p95_ms']} ms, workspace/symbol p50 {lsp['workspace_symbol_p50_ms']} ms, "
                  f"first diagnostics after didOpen p50 {lsp['first_diagnostics_p50_ms']} ms, append → searchable "
                  f"p50 {lsp['append_to_searchable_p50_ms']} ms / max {lsp['append_to_searchable_max_ms']} ms."]
    cost = results.get("cost") or {}
    if cost:
        lines += ["", f"Cost report by day: {cost['day_p50_ms']} ms ({cost['rows']} rows); by model: {cost['model_p50_ms']} ms."]
        if "ccusage_claude" in cost:
            ours, theirs = cost["ours_claude"], cost["ccusage_claude"]
            lines += [f"ccusage {CCUSAGE_VERSION} (`daily --json --offline`) on the same Claude logs: {cost['ccusage_seconds']} s.", "",
                      "| Claude totals | sessionlens | ccusage |", "|---|---|---|"]
            for k in ("input", "output", "cache_write", "cache_read", "cost_usd"):
                lines.append(f"| {k} | {ours.get(k):,} | {theirs.get(k):,} |")
            lines += ["", "Differences come from deduplication: sessionlens keeps one usage row per billed request "
                      "(message id + request id, the copy with the largest output) across all files, sub-agent files included; "
                      "ccusage keeps the first copy it meets of each message id + request id pair."]
    rs = results.get("rescan") or {}
    if rs:
        lines += ["", f"No-change re-scan of {rs['files']:,} files: {rs['rescan_seconds']} s (median of {len(rs['rescan_runs'])})."]
    lines += notes(results)
    return "\n".join(lines) + "\n"


def notes(results: dict) -> list[str]:
    """How the figures come about, and why a missed target is missed."""
    idx = results.get("index") or {}
    out = ["", "## Notes", ""]
    if idx:
        out.append(
            "- Indexing: a pass with at least 48 MB to parse is cut into jobs (a file, or an 8 MB chunk of a bigger one). "
            "A worker process and the main process both prepare jobs - read, parse, price, turn into rows, and run the "
            "coach (rules + guideline checks) on a file parsed whole - and the main process alone writes them to SQLite, "
            "in job order, a transaction per 16 MB; the worker's answers cross through a tmpfs spool. Files of several "
            "chunks go first (each chunk continues from the previous one's state), and the coach reads them back once "
            "written, knowing already which lines hold secrets. Tantivy then indexes with two threads and a 256 MB heap "
            "(the worker has exited). Peak RSS is the sum over both processes, sampled every 100 ms "
            f"(each process's own peak: main {idx.get('peak_rss_main_mb', '–')} MB, worker {idx.get('peak_rss_worker_mb', '–')} MB, "
            "not at the same moment).")
        runs = idx.get("cold_runs_seconds") or []
        if len(runs) > 1:
            out.append(
                f"- Cold indexing is the median of {len(runs)} cold runs ({', '.join(f'{r:.1f}' for r in runs)} s): "
                "on this shared 2-core machine the same run varies by about 10 %.")
        if idx.get("cold_mb_per_s", 0) < 30:
            out.append(
                "- Cold indexing throughput misses its target: both cores are busy for the whole pass (parsing and the "
                "coach about 55 % of the CPU, SQLite writes 15 %, Tantivy 25 %), so only less CPU per byte helps.")
    lsp = results.get("lsp") or {}
    if lsp:
        out.append(
            "- documentSymbol: the outline of a huge session is bounded: beyond 300 turns, consecutive turns fold "
            "into blocks; a turn or block keeps its 100 most notable events (errors, failing calls, patches, then "
            "calls, then messages) within about 3,000 symbols in all, plus a \"… K more events\" entry covering "
            "the rest. It is built once per file version (first call) and cached; hover reads one line's findings.")
    return out


def print_table(results: dict) -> None:
    rows = targets_table(results)
    w = max(len(r[0]) for r in rows)
    say("")
    for a, b, t, ok in rows:
        say(f"{a:<{w}}  {b:>16}  {t:>14}  {ok}")


# ---------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.perf.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="1GB", help="corpus size (default 1GB)")
    ap.add_argument("--big", default="200MB", help="size of the one big Codex file (default 200MB; 0 for none)")
    ap.add_argument("--small-files", type=int, default=10_000, help="files for the no-change re-scan benchmark (default 10000)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--cold-runs", type=int, default=3, help="cold indexing runs; the median counts (default 3)")
    ap.add_argument("--work", type=Path, default=CACHE / "work", help="where corpora and stores live (default ~/.cache/sessionlens-perf/work)")
    ap.add_argument("--out", type=Path, default=OUT_DIR / "results.json")
    ap.add_argument("--only", default="index,rescan,search,lsp,cost,otlp", help="comma-separated benchmarks to run")
    ap.add_argument("--no-markdown", action="store_true", help=f"do not rewrite {RESULTS_MD.relative_to(REPO)}")
    args = ap.parse_args(argv)
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    total = parse_size(args.size)
    big = parse_size(args.big) or None
    work = args.work.expanduser()
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": (".venv/bin/python -m tests.perf.run " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))).strip(),
    }
    say(f"machine: {results['machine']}")
    rg = ensure_ripgrep() if "search" in only else None
    if "search" in only and not rg:
        say("ripgrep unavailable: the ripgrep comparison is skipped")
    cc = ensure_ccusage() if "cost" in only else None
    if "cost" in only and not cc:
        say("ccusage unavailable: the ccusage comparison is skipped")
    tag = f"{args.size}-{args.big}-s{args.seed}".replace("/", "_")
    say(f"corpus {args.size} (big file {args.big}, seed {args.seed}) under {work} ...")
    corpus = main_corpus(work / f"corpus-{tag}", total_bytes=total, big_bytes=big, seed=args.seed)
    results["corpus"] = {k: v for k, v in corpus.items() if k != "all_files"}
    home = work / f"home-{tag}"
    if "index" in only or not (home / "sessionlens.db").exists():
        results["index"] = bench_index(corpus, home, args.cold_runs)
    if "rescan" in only:
        results["rescan"] = bench_rescan_many(work / f"small-{args.small_files}", work / f"home-small-{args.small_files}", args.small_files)
    if "search" in only or "cost" in only or "otlp" in only:
        sys.path.insert(0, str(REPO / "server"))
        from sessionlens.services.app import App
        from sessionlens.services.settings import Settings

        app = App(Settings(storePath=str(home), includeHomeLogs=False))
        if "search" in only:
            say("search latency ...")
            results["search"] = bench_search(app, corpus, rg, reps=30, rg_reps=2)
        if "cost" in only:
            say("cost report ...")
            results["cost"] = bench_cost(app, corpus, cc)
        if "otlp" in only:
            say("OTLP export throughput ...")
            results["otlp"] = bench_otlp(app)
        app.close()
    if "lsp" in only:
        say("LSP latencies ...")
        results["lsp"] = bench_lsp(corpus, home, rounds=5)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print_table(results)
    md = markdown(results)
    if not args.no_markdown:
        RESULTS_MD.write_text(md)
    say(f"\nwrote {args.out}" + ("" if args.no_markdown else f" and {RESULTS_MD}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
