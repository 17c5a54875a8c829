"""The terminal as a user meets it: every read command as a new process on a prepared store (wall
and CPU time, process start included), side by side with ripgrep over the raw logs for search and
ccusage 18 / 20 (``daily``, re-parsing the Claude logs) for the cost report.

    .venv/bin/python -m tests.perf.bench_cli --home STORE --corpus RAW_LOGS [--reps 7]

``run.py`` calls ``bench_cli(...)`` (``--only cli``).  The baselines are installed into a cache
folder (never the repository): ripgrep from Debian when missing, ccusage with npm
(``ccusage@18`` and ``ccusage@20.0.24``, whose native build is ``@ccusage/ccusage-linux-x64``).
The machine is shared: every figure carries the load average at the time, and CPU time (user +
system of the process and its children, from ``wait4``) is reported next to wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.perf.bench_idle import load

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("SESSIONLENS_PERF_CACHE", Path.home() / ".cache" / "sessionlens-perf"))
CCUSAGE = {"18": "ccusage@18", "20": "ccusage@20.0.24"}
SEARCH_WORDS = "regression test"  # two words (a phrase for ripgrep -F), frequent in the generated logs


#: rows of run.py's target table (paths under ``results["cli"]``)
TARGETS = [
    ("CLI read command, slowest median (wall, process start included)", ("cli", "max_wall_ms"), "<=", 150, "ms"),
    ("cost --by day: speed-up vs ccusage 20 daily", ("cli", "ccusage20", "speedup"), ">=", 10, "×"),
    ("search command: speed-up vs rg -c -F", ("cli", "search_vs_rg"), ">=", 1, "×"),
]


def run(ctx) -> dict[str, Any]:
    """run.py's hook: the main corpus's store and raw logs."""
    assert ctx.home is not None and ctx.corpus is not None, "needs the main corpus and its store"
    return bench_cli(ctx.home, Path(ctx.corpus["root"]), reps=7, say=ctx.say)


# ------------------------------------------------------------------------------- running things
def timed(cmd: list[str], *, env: dict[str, str] | None = None, cwd: str | None = None) -> tuple[float, float, int, bytes]:
    """Run ``cmd`` once: (wall seconds, CPU seconds of it and its children, exit code, stdout)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    out = p.stdout.read() if p.stdout else b""
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_utime + ru.ru_stime, p.returncode, out


def repeat(cmd: list[str], reps: int, **kw: Any) -> dict[str, Any]:
    """One warm-up run, then ``reps``: medians of wall and CPU time, the load average meanwhile."""
    timed(cmd, **kw)
    walls, cpus = [], []
    code, out = 0, b""
    for _ in range(reps):
        w, c, code, out = timed(cmd, **kw)
        walls.append(w)
        cpus.append(c)
    return {
        "wall_ms": round(statistics.median(walls) * 1000, 1),
        "cpu_ms": round(statistics.median(cpus) * 1000, 1),
        "wall_min_ms": round(min(walls) * 1000, 1),
        "exit": code,
        "load": load(),
        "out": out,
    }


def import_ms(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """One run under ``python -X importtime``: the import time it reports (the sum of every module's
    own time, ms: inflated by the measuring itself), how many modules and whether pydantic was one."""
    if Path(cmd[0]).name != Path(sys.executable).name:  # the console script: run by its interpreter
        cmd = [sys.executable, *cmd]
    p = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    rows = [ln.split("|") for ln in p.stderr.splitlines() if ln.startswith("import time:") and "self [us]" not in ln]
    own = sum(int(r[0].removeprefix("import time:").strip()) for r in rows if len(r) == 3)
    names = {r[2].strip() for r in rows if len(r) == 3}
    return {"import_ms": round(own / 1000, 1), "modules": len(names), "pydantic": "pydantic" in names}


# ------------------------------------------------------------------------------- baselines
def ensure_ripgrep(say=print) -> str | None:
    rg = shutil.which("rg")
    if rg:
        return rg
    say("installing ripgrep (apt-get) ...")
    for cmd in (["apt-get", "install", "-y", "-q", "ripgrep"], ["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "ripgrep"]):
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if shutil.which("rg"):
            break
    return shutil.which("rg")


def ensure_ccusage(version: str, say=print) -> list[str] | None:
    """``ccusage`` ``version`` installed under the cache folder (npm); the command that runs it."""
    prefix = CACHE / f"ccusage-{version}"
    bin_ = prefix / "node_modules" / ".bin" / "ccusage"
    if not bin_.exists():
        if not shutil.which("npm"):
            say("npm not found: ccusage is skipped")
            return None
        say(f"installing {CCUSAGE[version]} into {prefix} (npm) ...")
        prefix.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(
            ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error", CCUSAGE[version]],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if r.returncode != 0 or not bin_.exists():
            say(f"ccusage {version} could not be installed: {r.stderr.strip()[-300:]}")
            return None
    native = prefix / "node_modules" / "@ccusage" / "ccusage-linux-x64" / "bin" / "ccusage"
    if native.exists():  # ccusage 20 ships a native build: run it directly (made executable, as its launcher does)
        if not os.access(native, os.X_OK):
            native.chmod(0o755)
        return [str(native)]
    return [str(bin_)]


def ccusage_version(cmd: list[str]) -> str:
    try:
        return subprocess.run([*cmd, "--version"], capture_output=True, text=True, timeout=60).stdout.strip().removeprefix("ccusage ")
    except Exception:
        return "?"


# ------------------------------------------------------------------------------- the benchmark
def read_commands(home: Path, session: str) -> list[tuple[str, list[str]]]:
    """(label, arguments) of every read command, as a person types them (and ``--json`` as scripts do)."""
    h = ["--home", str(home)]
    cmds = [
        ("search", ["search", *SEARCH_WORDS.split(), "--limit", "20"]),
        ("sessions", ["sessions"]),
        ("show", ["show", session]),
        ("cost --by day", ["cost", "--by", "day"]),
        ("coach", ["coach"]),
        ("stats", ["stats"]),
    ]
    out = []
    for label, args in cmds:
        out.append((label, [*h, *args]))
        out.append((label + " --json", [*h, "--json", *args]))
    return out


def _a_session(home: Path, env: dict[str, str]) -> str:
    """A session of median size (``show`` of the largest would time the terminal, not sessionlens)."""
    r = subprocess.run(
        [sys.executable, "-m", "sessionlens", "--home", str(home), "--json", "sessions", "--limit", "200"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    rows = sorted(json.loads(r.stdout), key=lambda s: s.get("events") or 0)
    return rows[len(rows) // 2]["id"]


def sessionlens_command() -> list[str]:
    """The command as users run it: the ``sessionlens`` console script next to this interpreter (the
    venv's; it imports the package from ``PYTHONPATH`` like ``-m`` does, without runpy's ~4 ms), else
    ``python -m sessionlens``."""
    script = Path(sys.executable).with_name("sessionlens")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "sessionlens"]


def bench_cli(home: Path, corpus: Path, *, reps: int = 7, baselines: bool = True, say=print) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "server"), os.environ.get("PYTHONPATH", "")]),
        "NO_COLOR": "1",
        "COLUMNS": "120",
    }
    env.pop("SESSIONLENS_HOME", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: byte-code cached (compiled below), not compiled per run
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "server" / "sessionlens")], env=env, stdout=subprocess.DEVNULL)
    sl = sessionlens_command()
    session = _a_session(home, env)
    res: dict[str, Any] = {
        "store_mb": round(sum(f.stat().st_size for f in home.rglob("*") if f.is_file()) / 1e6, 1),
        "corpus_mb": round(sum(f.stat().st_size for f in corpus.rglob("*") if f.is_file()) / 1e6, 1),
        "reps": reps,
        "runner": "console script" if len(sl) == 1 else "python -m sessionlens",
        "commands": [],
    }
    base = repeat([sys.executable, "-c", "pass"], reps, env=env)
    res["python_start"] = {k: base[k] for k in ("wall_ms", "cpu_ms", "load")}
    say(f"CLI read commands on a {res['store_mb']:,} MB store ({reps} runs each, load {load()}) ...")
    for label, args in read_commands(home, session):
        r = repeat([*sl, *args], reps, env=env)
        imp = import_ms([*sl, *args], env)
        res["commands"].append({"command": label, **{k: r[k] for k in ("wall_ms", "cpu_ms", "wall_min_ms", "exit", "load")}, **imp})
        say(
            f"  sessionlens {label:<22} {r['wall_ms']:8.1f} ms wall {r['cpu_ms']:8.1f} ms CPU  (exit {r['exit']}, load {r['load']}; "
            f"imports {imp['import_ms']} ms, {imp['modules']} modules{', pydantic' if imp['pydantic'] else ''})"
        )
    res["max_wall_ms"] = max(c["wall_ms"] for c in res["commands"])
    res["max_cpu_ms"] = max(c["cpu_ms"] for c in res["commands"])
    if not baselines:
        return res
    # search vs ripgrep over the raw logs (the same phrase, counted per file)
    rg = ensure_ripgrep(say)
    ours = next(c for c in res["commands"] if c["command"] == "search")
    if rg:
        r = repeat([rg, "-c", "-F", SEARCH_WORDS, str(corpus)], reps)
        res["ripgrep"] = {
            "command": f"rg -c -F '{SEARCH_WORDS}'",
            **{k: r[k] for k in ("wall_ms", "cpu_ms", "load")},
            "files_matched": len(r["out"].splitlines()),
        }
        res["search_vs_rg"] = round(r["wall_ms"] / ours["wall_ms"], 2)
        res["search_vs_rg_cpu"] = round(r["cpu_ms"] / ours["cpu_ms"], 2)
        say(f"  rg -c -F '{SEARCH_WORDS}'            {r['wall_ms']:8.1f} ms wall {r['cpu_ms']:8.1f} ms CPU  (load {r['load']})")
    # cost by day vs ccusage daily over the Claude logs (ccusage reads CLAUDE_CONFIG_DIR/projects)
    cost = next(c for c in res["commands"] if c["command"] == "cost --by day --json")
    claude = corpus / "claude"
    for v in CCUSAGE:
        cmd = ensure_ccusage(v, say)
        if not cmd or not claude.is_dir():
            continue
        cenv = {**os.environ, "CLAUDE_CONFIG_DIR": str(claude), "NO_COLOR": "1"}
        r = repeat([*cmd, "daily", "--json", "--offline"], max(3, reps // 2), env=cenv)
        entry = {
            "version": ccusage_version(cmd),
            **{k: r[k] for k in ("wall_ms", "cpu_ms", "exit", "load")},
            "speedup": round(r["wall_ms"] / cost["wall_ms"], 1),
            "speedup_cpu": round(r["cpu_ms"] / cost["cpu_ms"], 1),
        }
        res[f"ccusage{v}"] = entry
        say(
            f"  ccusage {entry['version']:<10} daily     {r['wall_ms']:8.1f} ms wall {r['cpu_ms']:8.1f} ms CPU  "
            f"(exit {r['exit']}, load {r['load']}): sessionlens {entry['speedup']}× faster"
        )
    return res


def markdown(res: dict[str, Any]) -> list[str]:
    ps = res["python_start"]
    lines = [
        "",
        f"CLI read commands, each a new process ({res.get('runner', 'python -m sessionlens')}) on a {res['store_mb']:,} MB store ({res['corpus_mb']:,} MB of raw logs); "
        f"median of {res['reps']} runs after a warm-up, output to a pipe, CPU = user + system from wait4 "
        f"(an empty `python -c pass` takes {ps['wall_ms']} ms wall / {ps['cpu_ms']} ms CPU at the same time):",
        "",
        "| command | wall | CPU | imports (-X importtime) | load (1/5/15) |",
        "|---|---|---|---|---|",
    ]
    for c in res["commands"]:
        imp = f"{c['import_ms']} ms, {c['modules']} modules{' (pydantic)' if c.get('pydantic') else ''}" if "import_ms" in c else "–"
        lines.append(f"| `sessionlens {c['command']}` | {c['wall_ms']} ms | {c['cpu_ms']} ms | {imp} | {c['load']} |")
    if "ripgrep" in res:
        r = res["ripgrep"]
        lines.append(f"| `{r['command']}` over the raw logs | {r['wall_ms']} ms | {r['cpu_ms']} ms | – | {r['load']} |")
    for v in CCUSAGE:
        c = res.get(f"ccusage{v}")
        if c:
            lines.append(f"| `ccusage daily --json --offline` ({c['version']}) | {c['wall_ms']} ms | {c['cpu_ms']} ms | – | {c['load']} |")
    extra = []
    if "search_vs_rg" in res:
        extra.append(f"search vs ripgrep: {res['search_vs_rg']}× (wall), {res['search_vs_rg_cpu']}× (CPU)")
    for v in CCUSAGE:
        c = res.get(f"ccusage{v}")
        if c:
            extra.append(f"cost --by day vs ccusage {c['version']}: {c['speedup']}× faster (wall), {c['speedup_cpu']}× (CPU)")
    if extra:
        lines += ["", "; ".join(extra) + "."]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tests.perf.bench_cli", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--home", type=Path, required=True, help="an indexed store")
    ap.add_argument("--corpus", type=Path, required=True, help="the raw logs it was indexed from (claude/ and codex/ below)")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--no-baselines", action="store_true")
    args = ap.parse_args(argv)
    res = bench_cli(args.home, args.corpus, reps=args.reps, baselines=not args.no_baselines)
    print(json.dumps(res, indent=2))
    print("\n".join(markdown(res)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
