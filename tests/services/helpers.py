"""Helpers shared by the store, search, services and CLI tests: indexing into a tmp home, and a
path-keyed snapshot of everything derived from the logs (to compare two stores)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import apsw
import tantivy

from sessionlens.services.app import App
from sessionlens.services.settings import Settings

REPO = Path(__file__).resolve().parents[2]
# the CLI of the interpreter running the tests (any venv, CI or not)
SESSIONLENS = [sys.executable, "-m", "sessionlens"]
CODEX_BIG = "codex/localpush/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl"
CODEX_SMALL = "codex/localpush/rollout-2026-02-23T12-41-04-019c8a4d-8f45-7010-8b5d-7fad920aa6f9.jsonl"
CLAUDE_MAIN = "claude/spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl"
CLAUDE_TOOLS = "claude/spotter/tool_heavy.jsonl"


def make_app(home: Path) -> App:
    """An App on ``home`` that never reads the machine's own agent logs."""
    return App(Settings(storePath=str(home), includeHomeLogs=False))


def index(home: Path, *paths: Path | str):
    app = make_app(home)
    try:
        return app.index([str(p) for p in paths])
    finally:
        app.close()


def cli_env(home_dir: Path) -> dict[str, str]:
    """Environment for a ``sessionlens`` subprocess: HOME is an empty tmp dir, no agent homes."""
    env = {k: v for k, v in os.environ.items() if k not in ("CODEX_HOME", "CLAUDE_CONFIG_DIR", "SESSIONLENS_HOME", "XDG_DATA_HOME")}
    env["HOME"] = str(home_dir)
    return env


def run_cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*SESSIONLENS, *args], capture_output=True, text=True, env=env, timeout=timeout)


def spawn_cli(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([*SESSIONLENS, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def lines_of(path: Path) -> list[bytes]:
    """The complete, non-blank lines of a log (a partial last line does not count)."""
    data = Path(path).read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    return [ln for ln in complete.split(b"\n") if ln.strip()]


# ---------------------------------------------------------------------------- snapshots

_SID_SUFFIX = re.compile(r"@(\d+)$")


def _conn(home: Path) -> apsw.Connection:
    return apsw.Connection(str(Path(home) / "sessionlens.db"), flags=apsw.SQLITE_OPEN_READONLY)


def snapshot(home: Path) -> dict[str, Any]:
    """Every table derived from the logs, with file ids replaced by paths and without indexing
    ids/timestamps, plus the search documents.  Equal snapshots == equal stores."""
    c = _conn(home)
    try:
        paths = dict(c.execute("SELECT id, path FROM files"))

        def sid(s: str | None) -> str | None:
            if s is None:
                return None
            m = _SID_SUFFIX.search(s)
            return s[: m.start()] + "@" + paths.get(int(m.group(1)), "?") if m else s

        def rows(sql: str, fid_col: int | None = 0, sid_cols: tuple[int, ...] = ()) -> list[tuple]:
            out = []
            for r in c.execute(sql):
                r = list(r)
                if fid_col is not None:
                    r[fid_col] = paths.get(r[fid_col], r[fid_col])
                for i in sid_cols:
                    r[i] = sid(r[i])
                out.append(tuple(r))
            return sorted(out, key=repr)

        snap = {
            "files": rows("SELECT path, agent, size, offset, lines, parser_version, status, session_id FROM files", None, (7,)),
            "sessions": rows(
                "SELECT file_id, id, agent, cwd, project, git_branch, git_commit, git_remote, models, cli_version, originator,"
                " started_at, ended_at, parent_session_id, agent_id, title, events, turns FROM sessions",
                0,
                (1,),
            ),
            "events": rows(
                "SELECT file_id, seq, session_id, offset, length, ts, kind, subtype, turn, tool, call_id, command, exit_code,"
                " is_error, duration_ms, text, files, model, usage_key, flags, agent_id, parent_call_id, data FROM events",
                0,
                (2,),
            ),
            "turns": rows(
                "SELECT file_id, session_id, idx, start_line, end_line, started_at, ended_at, prompt, model, turn_id, aborted,"
                " duration_ms FROM turns",
                0,
                (1,),
            ),
            "usage": rows(
                "SELECT file_id, key, session_id, seq, turn, ts, day, model, agent, project, input, cache_read, cache_write_5m,"
                " cache_write_1h, output, reasoning, speed, cost_usd, cost_known, log_cost_usd FROM usage",
                0,
                (2,),
            ),
            "problems": rows("SELECT file_id, line, offset, severity, message FROM problems"),
            "findings": rows(
                "SELECT file_id, session_id, seq, rule_id, severity, message, guideline, related, data FROM findings", 0, (1,)
            ),
            "search_queue": c.execute("SELECT count(*) FROM search_queue").fetchone()[0],
        }
    finally:
        c.close()
    snap["search_docs"] = search_docs(home, paths)
    return snap


def search_docs(home: Path, paths: dict[int, str] | None = None) -> list[tuple]:
    """Every document of the Tantivy index as (path, line, session, kind, tool, text)."""
    if paths is None:
        c = _conn(home)
        paths = dict(c.execute("SELECT id, path FROM files"))
        c.close()
    from sessionlens.search.index import build_schema

    idx = tantivy.Index(build_schema(), path=str(Path(home) / "index"), reuse=True)
    searcher = idx.searcher()
    n = searcher.num_docs
    out = []
    if n:
        res = searcher.search(tantivy.Query.all_query(), limit=n + 10)
        for _score, addr in res.hits:
            d = searcher.doc(addr)
            session = d.get_first("session")
            m = _SID_SUFFIX.search(session or "")
            if m:
                session = session[: m.start()] + "@" + paths.get(int(m.group(1)), "?")
            out.append(
                (
                    paths.get(d.get_first("file_id"), "?"),
                    d.get_first("line"),
                    session,
                    d.get_first("kind"),
                    d.get_first("tool"),
                    d.get_first("text"),
                )
            )
    return sorted(out)


def assert_same_store(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Compare two snapshots table by table (a readable first difference instead of a huge diff)."""
    assert a.keys() == b.keys()
    for table in a:
        x, y = a[table], b[table]
        if x == y:
            continue
        if isinstance(x, list):
            sx, sy = set(map(repr, x)), set(map(repr, y))
            only_a = sorted(sx - sy)[:3]
            only_b = sorted(sy - sx)[:3]
            raise AssertionError(f"table {table} differs: {len(x)} vs {len(y)} rows; only in first: {only_a}; only in second: {only_b}")
        raise AssertionError(f"{table} differs: {x!r} vs {y!r}")
