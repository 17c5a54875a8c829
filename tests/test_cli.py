"""The ``sessionlens`` command line: every command's --json output, one-line errors, and the main
job on a machine without agent logs (the bundled samples).  Each test runs on logs from the
project's own generator, and again on the real corpus when it is present."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from sessionlens import cli
from sessionlens.samples.generator import generate_corpus
from tests.conftest import corpus_root, log_sources
from tests.services.helpers import CLAUDE_MAIN, cli_env, index, run_cli


@dataclass
class Source:
    """A store of indexed logs and what the tests know about them independently of sessionlens."""

    name: str
    roots: list[Path]  # what was indexed
    home: Path
    sessions: int  # session files (sub-agent files count: each is a session)
    main_id: str  # a Claude Code session with sub-agents
    main_path: Path
    codex_id: str
    min_events: int
    ambiguous: str  # a prefix of two top-level sessions
    word: str  # a word some tool call of each agent holds


def _ambiguous(ids: list[str]) -> str:
    """The shortest prefix that two of ``ids`` share."""
    best = ""
    ids = sorted(ids)
    for a, b in zip(ids, ids[1:]):
        n = len(os.path.commonprefix([a, b]))
        if n and (not best or n < len(best)):
            best = a[:n]
    assert best, ids
    return best[:1] if sum(i.startswith(best[:1]) for i in ids) > 1 else best


@pytest.fixture(scope="module", params=log_sources())
def src(request, tmp_path_factory) -> Source:
    root = tmp_path_factory.mktemp(f"cli-{request.param}")
    h = root / "home"
    if request.param == "corpus":
        corpus = corpus_root()
        # The CLI's behaviour is pinned on the Claude Code and Codex logs; other agents are covered by their own tests.
        roots = [corpus / "claude", corpus / "codex"]
        st = index(h, *roots)
        assert st.files_changed > 10
        return Source(
            "corpus",
            roots,
            h,
            15,
            "ae4a77f8-aedd-4bc1-888f-c94edc91af04",
            corpus / CLAUDE_MAIN,
            "019c8a59-e9dd-71f0-9ae3-4079fe9726a9",
            5000,
            "0",
            "README",
        )
    info = generate_corpus(root / "logs", seed=23, total_bytes=900_000)
    main = next(s for s in info.sessions if s.agent == "claude" and s.subagent_files)
    codex = next(s for s in info.sessions if s.agent == "codex")
    roots = [root / "logs" / "claude", root / "logs" / "codex"]
    st = index(h, *roots)
    assert st.files_changed == info.files
    return Source(
        "generated",
        roots,
        h,
        info.files,
        main.session_id,
        main.path,
        codex.session_id,
        sum(s.tool_calls for s in info.sessions),
        _ambiguous([s.session_id for s in info.sessions]),
        "pytest",
    )


@pytest.fixture(scope="module")
def home(src) -> Path:
    return src.home


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def run_json(capsys, *argv: str):
    rc, out, err = run(capsys, *argv, "--json")
    assert rc == 0, err
    return json.loads(out)


def test_index_json_on_an_indexed_store_reports_nothing_changed(capsys, src):
    d = run_json(capsys, "index", "--home", str(src.home), *map(str, src.roots))
    assert d["index"]["files_changed"] == 0 and d["index"]["files_skipped"] == d["index"]["files_seen"] == src.sessions
    assert {"files", "sessions", "events", "search_docs", "by_agent", "totals", "store"} <= d["store"].keys()
    assert d["store"]["by_agent"].keys() == {"codex", "claude"}


def test_search_json(capsys, src):
    home = src.home
    d = run_json(capsys, "search", src.word, "--home", str(home), "--limit", "5")
    assert d["total"] > 0 and 0 < len(d["hits"]) <= 5
    for h in d["hits"]:
        assert {"session_id", "line", "path", "agent", "kind", "snippet", "highlights", "link", "uri", "title"} <= h.keys()
        assert Path(h["path"]).is_file()
    d = run_json(capsys, "search", src.word, "--home", str(home), "--agent", "codex", "--kind", "tool_call")
    assert all(h["agent"] == "codex" and h["kind"] == "tool_call" for h in d["hits"])


def test_options_before_the_command_are_honoured(capsys, src):
    d = run_json(capsys, "--home", str(src.home), "search", src.word)
    assert d["total"] > 0


def test_sessions_json(capsys, src):
    home = src.home
    rows = run_json(capsys, "sessions", "--home", str(home))
    assert len(rows) == src.sessions
    assert {"id", "agent", "path", "started_at", "turns", "events", "tokens", "cost_usd", "cost_known", "project_name", "title"} <= rows[
        0
    ].keys()
    starts = [r["started_at"] for r in rows if r["started_at"]]
    assert starts == sorted(starts, reverse=True)
    codex = run_json(capsys, "sessions", "--home", str(home), "--agent", "codex")
    assert codex and all(r["agent"] == "codex" for r in codex) and len(codex) < len(rows)
    top = run_json(capsys, "sessions", "--home", str(home), "--no-subagents")
    assert len(top) < len(rows)


def test_show_json_by_id_prefix_and_path(capsys, src):
    home = src.home
    d = run_json(capsys, "show", src.codex_id[:8], "--home", str(home))
    assert d["session"]["id"] == src.codex_id
    assert d["timeline"] and {"line", "time", "text"} <= d["timeline"][0].keys()
    assert d["problems"] == []
    by_path = run_json(capsys, "show", str(src.main_path), "--home", str(home))
    assert by_path["session"]["id"] == src.main_id
    md = run_json(capsys, "show", src.main_id, "--markdown", "--home", str(home))
    assert md["title"] and md["markdown"].startswith("#")


def test_stats_json(capsys, src):
    d = run_json(capsys, "stats", "--home", str(src.home))
    assert d["sessions"] == src.sessions and d["events"] > src.min_events and d["search_docs"] > src.min_events // 5
    assert d["totals"]["requests"] > 0 and d["totals"]["cost_usd"] > 0


@pytest.mark.parametrize("by", ["day", "week", "month", "session", "model", "project", "agent"])
def test_cost_json(capsys, home, by):
    d = run_json(capsys, "cost", "--by", by, "--home", str(home))
    assert d["by"] == by and d["rows"]
    assert all(by in r for r in d["rows"])
    assert {"input", "cache_read", "cache_write", "output", "cost_usd", "unpriced_requests", "requests"} <= d["totals"].keys()
    assert d["totals"]["requests"] == sum(r["requests"] for r in d["rows"])


def test_cost_totals_agree_across_groupings(capsys, home):
    totals = {by: run_json(capsys, "cost", "--by", by, "--home", str(home))["totals"] for by in ("day", "model", "session")}
    assert totals["day"] == totals["model"] == totals["session"]


def test_coach_json(capsys, src):
    home, SID = src.home, src.main_id
    d = run_json(capsys, "coach", "--home", str(home))
    assert d["counts"] and {"rule_id", "severity", "findings", "sessions"} <= d["counts"][0].keys()
    assert d["findings"] and {"rule_id", "severity", "message", "path", "seq", "session_id"} <= d["findings"][0].keys()
    one = run_json(capsys, "coach", "--session", SID, "--home", str(home))
    assert one["findings"] and all(f["session_id"] == SID for f in one["findings"])


@pytest.mark.parametrize(
    "argv, code",
    [
        (["show", "no-such-session"], cli.EXIT_NOT_FOUND),
        (["sessions", "--since", "not-a-date"], cli.EXIT_USAGE),
        (["search", "x", "--since", "yesterday-ish"], cli.EXIT_USAGE),
        (["cost", "--until", "2026-13-45"], cli.EXIT_USAGE),
        (["coach", "--session", "nope"], cli.EXIT_NOT_FOUND),
        (["show", "<ambiguous>"], cli.EXIT_NOT_FOUND),  # several sessions start with it
    ],
)
def test_errors_are_one_line_with_their_exit_code(capsys, src, argv, code):
    argv = [src.ambiguous if a == "<ambiguous>" else a for a in argv]
    rc, out, err = run(capsys, *argv, "--home", str(src.home))
    assert rc == code
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sessionlens") and "unexpected" not in lines[0], err


def test_not_a_store_is_a_clear_error(capsys, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "sessionlens.db").write_bytes(b"this is not sqlite\n" * 100)
    rc, out, err = run(capsys, "stats", "--home", str(bad))
    assert rc == 1 and out == ""
    assert err.strip() == f"sessionlens: {bad / 'sessionlens.db'} is not a sessionlens store (not an SQLite database)"


def test_error_in_a_subprocess_has_no_traceback(home, tmp_path):
    res = run_cli("show", "no-such-session", "--home", str(home), env=cli_env(tmp_path))
    assert res.returncode == cli.EXIT_NOT_FOUND
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert "no indexed session matches 'no-such-session'" in res.stderr


def test_main_job_without_agent_logs_uses_the_samples_in_their_own_store(tmp_path):
    env = cli_env(tmp_path / "user")
    (tmp_path / "user").mkdir()
    h = tmp_path / "h"
    res = run_cli("--home", str(h), env=env)
    assert res.returncode == 0, res.stderr
    assert "here are the bundled sample sessions (fictional)" in res.stdout
    assert str(h / "samples" / "store") in res.stdout
    assert "Store: " in res.stdout and "Latest sessions" in res.stdout
    assert "sessions (claude: " in res.stdout and "sessionlens --samples search" in res.stdout
    # the user's own store holds none of them; --samples sees them
    own = json.loads(run_cli("--home", str(h), "stats", "--json", env=env).stdout)
    assert own["sessions"] == 0
    samples = json.loads(run_cli("--home", str(h), "--samples", "sessions", "--json", env=env).stdout)
    assert len(samples) > 5
    marker = h / "samples" / "logs" / ".sessionlens-samples"
    logs = sorted((h / "samples" / "logs").rglob("*.jsonl"))
    mtimes = [p.stat().st_mtime_ns for p in logs]
    again = run_cli("--home", str(h), "--json", env=env)
    assert again.returncode == 0, again.stderr
    d = json.loads(again.stdout)
    assert d["samples"] and d["index"]["files_changed"] == 0 and d["index"]["files_seen"] > 5
    assert [p.stat().st_mtime_ns for p in logs] == mtimes and marker.is_file()  # not rewritten
    assert d["store"]["sessions"] > 5 and len(d["sessions"]) == 10


def test_real_logs_never_mix_with_the_samples(tmp_path, src):
    user = tmp_path / "user"
    env = cli_env(user)
    h = tmp_path / "h"
    user.mkdir()
    assert run_cli("--home", str(h), env=env).returncode == 0  # the samples, apart
    # an older sessionlens had indexed the samples into the user's store
    assert run_cli("--home", str(h), "index", str(h / "samples" / "logs"), env=env).returncode == 0
    proj = user / ".claude" / "projects" / "spotter"
    proj.mkdir(parents=True)
    (proj / src.main_path.name).write_bytes(src.main_path.read_bytes())
    res = run_cli("--home", str(h), env=env)
    assert res.returncode == 0, res.stderr
    assert "sample sessions" not in res.stdout and "removed" in res.stderr
    rows = json.loads(run_cli("--home", str(h), "sessions", "--json", env=env).stdout)
    assert rows and all(str(h / "samples") not in r["path"] for r in rows)
    assert {r["id"].split(":")[0] for r in rows} == {src.main_id}
    # deleting the samples folder removes the samples
    shutil.rmtree(h / "samples")
    assert json.loads(run_cli("--home", str(h), "--samples", "stats", "--json", env=env).stdout)["sessions"] == 0


def test_prefix_of_a_session_with_subagents_resolves_to_the_session(capsys, src):
    d = run_json(capsys, "show", src.main_id[:8], "--home", str(src.home))
    assert d["session"]["id"] == src.main_id
