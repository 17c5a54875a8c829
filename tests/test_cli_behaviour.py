"""The CLI as a person meets it (issue #18): one test per reported defect, each asserting the exit
code and the message, on a store of generated sample sessions (hermetic)."""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

import pytest

from sessionlens import cli
from tests.cli_fixtures import PLANTED_KEY, run, run_json
from tests.services.helpers import REPO, index


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "unexpected" not in err and "panicked" not in err
    return lines[0]


@pytest.fixture
def empty_home(tmp_path, monkeypatch) -> Path:
    """HOME without any agent logs (the machine's own logs never leak into a test)."""
    home = tmp_path / "user"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("CODEX_HOME", "CLAUDE_CONFIG_DIR", "SESSIONLENS_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(var, raising=False)
    return home


# ---------------------------------------------------------------------------------------------- validation at the edge


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_search_limit_must_be_a_positive_number(capsys, sample_store, value):
    rc, out, err = run(capsys, "search", "pytest", "--limit", value, "--home", str(sample_store))
    assert rc == cli.EXIT_USAGE and out == ""
    line = one_line_error(err)
    assert line.startswith("sessionlens search: argument --limit:") and "see `sessionlens search --help`" in line


def test_sessions_limit_zero_is_a_usage_error_not_an_empty_store(capsys, sample_store):
    rc, out, err = run(capsys, "sessions", "--limit", "0", "--home", str(sample_store))
    assert rc == cli.EXIT_USAGE and "must be at least 1" in one_line_error(err) and "indexed yet" not in err + out


@pytest.mark.parametrize("query", ["", "   "])
def test_empty_search_is_a_usage_error(capsys, sample_store, query):
    rc, out, err = run(capsys, "search", query, "--home", str(sample_store))
    assert rc == cli.EXIT_USAGE and out == ""
    assert "empty search query" in one_line_error(err)


def test_home_that_is_a_file_is_a_usage_error(capsys, tmp_path):
    f = tmp_path / "passwd"
    f.write_text("root:x:0:0:root:/root:/bin/bash\n")
    rc, out, err = run(capsys, "--home", str(f), "sessions")
    assert rc == cli.EXIT_USAGE and out == ""
    assert one_line_error(err) == f"sessionlens: --home {f} is not a directory (it names the folder that holds the store)"


def test_home_below_a_file_and_unwritable_output_are_one_line_errors(capsys, tmp_path, sample_store):
    f = tmp_path / "passwd"
    f.write_text("x\n")
    rc, out, err = run(capsys, "--home", str(f / "store"), "sessions")
    assert rc == cli.EXIT_USAGE and "is not a directory" in one_line_error(err)
    rows = run_json(capsys, "sessions", "--home", str(sample_store))
    rc, out, err = run(capsys, "export", rows[0]["id"], "-o", str(f / "out.md"), "--home", str(sample_store))
    assert rc == cli.EXIT_ERROR and out == ""
    assert one_line_error(err) == f"sessionlens: {f / 'out.md'}: Not a directory"


def test_since_accepts_unix_seconds(capsys, sample_store):
    all_rows = run_json(capsys, "sessions", "--home", str(sample_store), "--limit", "1000")
    assert all_rows
    newest = max(r["started_at"] for r in all_rows)
    from datetime import datetime

    ts = int(datetime.fromisoformat(newest.replace("Z", "+00:00")).timestamp())
    rows = run_json(capsys, "sessions", "--home", str(sample_store), "--since", str(ts))
    assert 0 < len(rows) < len(all_rows)
    rows = run_json(capsys, "sessions", "--home", str(sample_store), "--since", "1700000000")
    assert len(rows) == len(all_rows)  # 2023-11-14: every sample session is later


@pytest.mark.parametrize(
    "argv, code, needle",
    [
        (["sessions", "--since", "not-a-date"], cli.EXIT_USAGE, "argument --since: 'not-a-date'"),
        (["search", "x", "--until", "2026-13-45"], cli.EXIT_USAGE, "argument --until"),
        (["cost", "--agent", "vim"], cli.EXIT_USAGE, "unknown agent 'vim'"),
        (["show", "no-such-session"], cli.EXIT_NOT_FOUND, "no indexed session matches 'no-such-session'"),
        (["coach", "--session", "nope"], cli.EXIT_NOT_FOUND, "no indexed session matches 'nope'"),
        (["export"], cli.EXIT_USAGE, "name a session, or a selection"),
        (["export", "--project", "no-such-project"], cli.EXIT_NOT_FOUND, "no sessions match --project no-such-project"),
        (["import", "/no/such/bundle.jsonl"], cli.EXIT_NOT_FOUND, "/no/such/bundle.jsonl: no such file"),
        (["nosuchcommand"], cli.EXIT_USAGE, "invalid choice: 'nosuchcommand'"),
    ],
)
def test_errors_map_to_exit_codes_and_one_line(capsys, sample_store, argv, code, needle):
    rc, out, err = run(capsys, *argv, "--home", str(sample_store))
    assert rc == code, err
    assert out == ""
    assert needle in one_line_error(err)


def test_eval_run_of_a_missing_file_says_it_does_not_exist(capsys, sample_store, tmp_path):
    missing = tmp_path / "missing.eval.json"
    rc, out, err = run(capsys, "eval", "run", str(missing), "--home", str(sample_store))
    assert rc == cli.EXIT_NOT_FOUND
    assert one_line_error(err) == f"sessionlens: {missing}: no such file or directory"


def test_eval_history_of_an_unknown_suite_is_not_found(capsys, sample_store):
    rc, out, err = run(capsys, "eval", "history", "nosuchsuite", "--home", str(sample_store))
    assert rc == cli.EXIT_NOT_FOUND and out == ""
    assert "no recorded runs of suite 'nosuchsuite'" in one_line_error(err)


def test_coach_rejects_an_unknown_rule_listing_the_known_ones(capsys, sample_store):
    rc, out, err = run(capsys, "coach", "--rule", "nosuchrule", "--home", str(sample_store))
    assert rc == cli.EXIT_NOT_FOUND and out == ""
    line = one_line_error(err)
    assert "unknown coach rule 'nosuchrule'; known rules:" in line
    from sessionlens.coach.rules import RULES

    assert all(r in line for r in RULES)


# ---------------------------------------------------------------------------------------------- nothing matched vs nothing indexed


@pytest.mark.parametrize(
    "argv, what",
    [
        (["--since", "1d"], "--since 1d"),
        (["--project", "nosuchproject"], "--project nosuchproject"),
        (["--since", "2020-01-01", "--until", "2020-01-02"], "--since 2020-01-01, --until 2020-01-02"),
    ],
)
def test_sessions_that_match_nothing_say_so(capsys, sample_store, argv, what):
    n = run_json(capsys, "stats", "--home", str(sample_store))["sessions"]
    rc, out, err = run(capsys, "sessions", *argv, "--home", str(sample_store))
    assert rc == 0 and err == ""
    assert out.strip() == f"No sessions match {what} ({n} sessions indexed)."


def test_an_empty_store_says_nothing_is_indexed(capsys, tmp_path):
    home = tmp_path / "h"
    rc, out, _ = run(capsys, "sessions", "--home", str(home))
    assert rc == 0 and out.startswith("No sessions indexed yet")
    rc, out, _ = run(capsys, "search", "pytest", "--home", str(home))
    assert rc == 0 and out.startswith("Nothing is indexed yet")
    rc, out, _ = run(capsys, "coach", "--home", str(home))
    assert rc == 0 and out.startswith("Nothing is indexed yet")


def test_search_that_matches_nothing_names_the_query(capsys, sample_store):
    rc, out, _ = run(capsys, "search", "zzqqxxnotaword", "--home", str(sample_store))
    assert rc == 0 and out.startswith("No matches for 'zzqqxxnotaword' in ") and "indexed session" in out


# ---------------------------------------------------------------------------------------------- index


def test_index_of_a_missing_path_fails(capsys, tmp_path):
    rc, out, err = run(capsys, "index", "/nonexistent/path", "--home", str(tmp_path / "h"))
    assert rc == cli.EXIT_NOT_FOUND and out == ""
    assert one_line_error(err) == "sessionlens: /nonexistent/path: no such file or directory"


def test_index_of_a_file_that_is_no_session_log_says_so(capsys, tmp_path):
    f = tmp_path / "passwd"
    f.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n")
    rc, out, err = run(capsys, "index", str(f), "--home", str(tmp_path / "h"))
    assert rc == cli.EXIT_ERROR and out == ""
    assert one_line_error(err) == f"sessionlens: {f}: not a session log of any agent sessionlens reads"


def test_index_without_any_logs_gives_a_hint(capsys, tmp_path, empty_home):
    rc, out, err = run(capsys, "index", "--home", str(tmp_path / "h"))
    assert rc == 0
    assert out.startswith("No agent logs found (looked in ~/.codex/sessions")
    assert "`sessionlens index PATH`" in out and "sample sessions" in out


# ---------------------------------------------------------------------------------------------- coach summary


def test_coach_summary_honours_rule_and_counts_distinct_sessions(capsys, sample_store):
    every = run_json(capsys, "coach", "--home", str(sample_store), "--limit", "100000")
    assert len(every["counts"]) > 1
    assert every["totals"]["findings"] == len(every["findings"]) == sum(c["findings"] for c in every["counts"])
    distinct = len({f["session_id"] for f in every["findings"]})
    assert every["totals"]["sessions"] == distinct
    assert distinct < sum(c["sessions"] for c in every["counts"])  # the old, wrong total
    rule = every["counts"][0]["rule_id"]
    one = run_json(capsys, "coach", "--rule", rule, "--home", str(sample_store), "--limit", "100000")
    assert [c["rule_id"] for c in one["counts"]] == [rule]
    assert one["totals"]["sessions"] == len({f["session_id"] for f in one["findings"]})
    rc, out, _ = run(capsys, "coach", "--rule", rule, "--home", str(sample_store))
    assert rc == 0
    known = {c["rule_id"] for c in every["counts"]}
    table_rules = {w[0] for ln in out.splitlines() if (w := ln.split()) and w[0] in known}
    assert table_rules == {rule}
    total = next(ln for ln in out.splitlines() if ln.startswith("Total"))
    assert total.split()[-2:] == [f"{one['totals']['findings']:,}", f"{one['totals']['sessions']:,}"]


# ---------------------------------------------------------------------------------------------- search hits


def test_tool_call_hits_do_not_repeat_their_command_and_show_the_description(capsys, sample_store):
    d = run_json(capsys, "search", "tool:Bash", "--kind", "tool_call", "--home", str(sample_store), "--limit", "50")
    assert d["hits"]
    for h in d["hits"]:
        s = h["snippet"].strip()
        half = len(s) // 2
        assert not (len(s) > 6 and s[:half].strip() == s[half:].strip()), s  # "pytest -q pytest -q"
    described = [h for h in d["hits"] if h["description"]]
    assert described, "sample Bash calls carry a description"
    rc, out, _ = run(capsys, "search", "tool:Bash", "--kind", "tool_call", "--home", str(sample_store), "--limit", "50")
    assert rc == 0
    assert f"# {described[0]['description']}" in out


@pytest.mark.parametrize("word, tool", [("Edit", "Edit"), ("apply_patch", "apply_patch")])
def test_a_plain_tool_name_finds_its_calls(capsys, sample_store, word, tool):
    by_field = run_json(capsys, "search", f"tool:{tool}", "--home", str(sample_store), "--limit", "5")
    assert by_field["total"] > 0
    plain = run_json(capsys, "search", word, "--home", str(sample_store), "--limit", "200")
    assert any(h["tool"] == tool for h in plain["hits"]), [h["tool"] for h in plain["hits"]][:10]


# ---------------------------------------------------------------------------------------------- ids and titles


def test_ids_have_one_width_with_an_ellipsis_and_subagents_differ(capsys, sample_store):
    rows = run_json(capsys, "sessions", "--home", str(sample_store), "--limit", "1000")
    subs = [r for r in rows if r["parent_session_id"]]
    assert subs, "the samples have sub-agent sessions"
    shown = {r["id"]: cli._row_id(r) for r in rows}
    assert len(set(shown.values())) == len(shown)  # parent and sub-agent never look the same
    assert {len(v) for v in shown.values()} == {cli.ID_WIDTH}
    assert all(v.endswith("…") for r, v in zip(rows, shown.values()) if len(r["id"]) > cli.ID_WIDTH and not r["parent_session_id"])
    assert all("›" in shown[r["id"]] for r in subs)
    rc, out, _ = run(capsys, "sessions", "--home", str(sample_store), "--limit", "1000")
    for r in rows:
        assert shown[r["id"]] in out
    # the short forms resolve back to the sessions they stand for
    for r in [rows[0], subs[0]]:
        assert run_json(capsys, "show", shown[r["id"]], "--home", str(sample_store))["session"]["id"] == r["id"]


def test_long_titles_are_cut_with_an_ellipsis(capsys, sample_store):
    rows = run_json(capsys, "sessions", "--home", str(sample_store), "--limit", "1000")
    long = [r for r in rows if r["title"] and len(r["title"]) > cli.TITLE_WIDTH]
    assert long
    rc, out, _ = run(capsys, "sessions", "--home", str(sample_store), "--limit", "1000")
    assert cli.cut(long[0]["title"], cli.TITLE_WIDTH) in out
    assert cli.cut(long[0]["title"], cli.TITLE_WIDTH).endswith("…")
    assert cli.cut("short", 60) == "short" and cli.cut("a" * 70, 60) == "a" * 59 + "…"


# ---------------------------------------------------------------------------------------------- markdown in a terminal


def test_show_markdown_in_a_terminal_is_rendered_not_escaped(capsys, sample_store, monkeypatch):
    rows = run_json(capsys, "sessions", "--home", str(sample_store), "--limit", "1000")
    sid = max(rows, key=lambda r: r["cost_usd"])["id"]
    raw = run_json(capsys, "show", sid, "--markdown", "--home", str(sample_store))["markdown"]
    assert raw.startswith("#")  # the Markdown source (escaped minimally since the reader's renderer)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(cli.sys.stdout, "isatty", lambda: True, raising=False)
    cli._CONSOLES.clear()
    try:
        rc, out, _ = run(capsys, "show", sid, "--markdown", "--home", str(sample_store))
    finally:
        cli._CONSOLES.clear()
    assert rc == 0 and out.strip()
    assert "\\-" not in out and "\\." not in out and "\\$" not in out  # ... the terminal shows the text
    assert not re.search(r"\x1b\[(?:\d+;)*(?:3[0-8]|9[0-7]|4[0-8])(?:;|m)", out)  # NO_COLOR: no colour codes


def test_show_markdown_piped_is_markdown(capsys, sample_store):
    rows = run_json(capsys, "sessions", "--home", str(sample_store))
    rc, out, _ = run(capsys, "show", rows[0]["id"], "--markdown", "--home", str(sample_store))
    assert rc == 0 and out.startswith("#")


# ---------------------------------------------------------------------------------------------- cost tables


def test_cost_tables_have_human_headers_dollars_and_one_precision(capsys, sample_store):
    rc, out, _ = run(capsys, "cost", "--by", "model", "--home", str(sample_store))
    assert rc == 0
    head = out.splitlines()[0]
    assert head.split()[:3] == ["Model", "Input", "Cache"] and "Cost" in head
    assert "cost_usd" not in out and "unpriced_requests" not in out and "cache_read" not in out
    amounts = re.findall(r"(?:<)?\$[\d,]+\.\d+", out)
    assert amounts and all(re.fullmatch(r"<?\$[\d,]+\.\d\d", a) for a in amounts)
    d = run_json(capsys, "cost", "--by", "model", "--home", str(sample_store))
    assert cli.money(d["totals"]["cost_usd"]) in out.splitlines()[-1]


def test_money_and_plurals():
    assert cli.money(0) == "$0.00" and cli.money(0.001) == "<$0.01" and cli.money(3.8) == "$3.80"
    assert cli.money(1234.5) == "$1,234.50" and cli.money(None) == "unknown"
    assert cli.plural(1, "session") == "1 session" and cli.plural(2, "session") == "2 sessions"
    assert cli.plural(1, "match", "matches") == "1 match" and cli.plural(0, "match", "matches") == "0 matches"


def test_summary_uses_plurals(capsys, tmp_path, sample_logs):
    home = tmp_path / "one"
    one = sorted(sample_logs.rglob("rollout-*.jsonl"))[0]
    index(home, one)
    rc, out, _ = run(capsys, "stats", "--home", str(home))
    assert rc == 0
    assert "1 session (codex: 1) in 1 project," in out and "1 sessions" not in out and "1 projects" not in out


# ---------------------------------------------------------------------------------------------- help


def _parsers(p: argparse.ArgumentParser, path=()):
    yield path, p
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sp in a.choices.items():
                if not name.startswith("__"):
                    yield from _parsers(sp, (*path, name))


def test_every_option_has_help_and_every_command_examples():
    missing, no_examples = [], []
    for path, p in _parsers(cli.build_parser()):
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                continue
            if a.help is None or (a.help != argparse.SUPPRESS and not a.help.strip()):
                missing.append(f"{' '.join(path)} {'/'.join(a.option_strings) or a.dest}")
        if path and path[0] not in ("eval", "rules") and "examples:" not in (p.epilog or ""):
            no_examples.append(" ".join(path))
    assert missing == [] and no_examples == []


def test_help_shows_examples_and_exit_codes(capsys):
    rc, out, _ = run(capsys, "--help")
    assert rc == 0 and "examples:" in out and "exit codes:" in out
    rc, out, _ = run(capsys, "search", "--help")
    assert rc == 0 and "sessionlens search pytest" in out and "--limit N" in out and "at most N hits" in out


# ---------------------------------------------------------------------------------------------- secrets

#: a word of the planted key as the search tokenizer splits it (sk / ant / api03 / <this>)
KEY_WORD = PLANTED_KEY.split("-")[3]


def _key_hit(capsys, home, *extra):
    return run_json(capsys, "search", KEY_WORD, "--home", str(home), "--limit", "50", *extra)


def test_search_masks_secrets_unless_asked(capsys, sample_store):
    masked = _key_hit(capsys, sample_store)
    assert masked["hits"]
    assert all(KEY_WORD not in json.dumps(h) for h in masked["hits"])
    assert all("[REDACTED:anthropic_key]" in h["snippet"] for h in masked["hits"])
    rc, out, _ = run(capsys, "search", KEY_WORD, "--home", str(sample_store))
    assert rc == 0 and KEY_WORD not in out and "[REDACTED:anthropic_key]" in out
    shown = _key_hit(capsys, sample_store, "--show-secrets")
    assert len(shown["hits"]) == len(masked["hits"]) and all(KEY_WORD in h["snippet"] for h in shown["hits"])


def test_search_masks_a_secret_cut_by_the_snippet_edge(capsys, sample_store):
    d = run_json(capsys, "search", "staging key", "--home", str(sample_store), "--limit", "50")
    assert d["hits"]
    for h in d["hits"]:
        assert PLANTED_KEY[:16] not in h["snippet"] and "sk-ant-api03" not in h["snippet"], h["snippet"]


def test_show_masks_secrets_unless_asked(capsys, sample_store):
    sid = _key_hit(capsys, sample_store)["hits"][0]["session_id"]
    for argv in (["show", sid], ["show", sid, "--markdown"], ["show", sid, "--json"], ["show", sid, "--markdown", "--json"]):
        rc, out, _ = run(capsys, *argv, "--home", str(sample_store))
        assert rc == 0 and "sk-ant-api03-" not in out and KEY_WORD[:8] not in out, argv
    rc, out, _ = run(capsys, "show", sid, "--show-secrets", "--markdown", "--json", "--home", str(sample_store))
    assert rc == 0 and KEY_WORD in out


def test_terminal_output_cannot_carry_escape_sequences():
    assert cli.safe("ok\x1b[31mred\x1b]8;;http://x\x07") == "ok�[31mred�]8;;http://x�"
    assert cli.safe("a\u202eb") == "a�b" and cli.safe("tab\there\nline") == "tab\there\nline"


# ---------------------------------------------------------------------------------------------- docs and make


def test_readme_example_evals_say_they_show_failures_and_chromium_comes_from_apt():
    text = (REPO / "README.md").read_text()
    i = text.index("eval run examples/evals/agent-quality.eval.json")
    around = text[i - 600 : i + 900]
    assert "meant to fail" in around or "show failures" in around
    assert "caches them in\n`~/.cache/sessionlens-ci`" not in text
    assert "Chromium from apt" in text or "Chromium (from apt" in text


def test_make_demo_installs_no_system_packages_and_says_what_it_does():
    mk = (REPO / "Makefile").read_text()
    demo = re.search(r"^demo:(.*)\n((?:\t.*\n)*)", mk, re.M)
    assert demo
    prereqs = demo.group(1).split()
    assert "setup" not in prereqs  # setup runs scripts/system-deps.sh (Neovim, ripgrep: tests only)
    venv = re.search(r"^\$\(BIN\)/\.installed:.*\n((?:\t.*\n)*)", mk, re.M).group(1)
    assert "echo" in venv.splitlines()[0]  # the first thing it does is say so
    assert "system-deps" not in venv and "system-deps" not in demo.group(2)
    setup = re.search(r"^test-python:(.*)$", mk, re.M).group(1)
    assert "setup" in setup


# ---------------------------------------------------------------------------------------------- start-up


@pytest.mark.parametrize("argv", [["--help"], ["sessions", "--json"], ["completion", "bash"]])
def test_rich_is_not_imported_for_help_json_or_scripts(sample_store, argv):
    import subprocess
    import sys

    prog = (
        "import sys, contextlib, io\nfrom sessionlens import cli\n"
        f"with contextlib.redirect_stdout(io.StringIO()): rc = cli.main({argv + ['--home', str(sample_store)]!r})\n"
        "print(rc, 'rich' in sys.modules)"
    )
    r = subprocess.run(
        [sys.executable, "-c", prog],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "server"), str(REPO)])},
    )
    assert r.stdout.split() == ["0", "False"], r.stderr


# ---------------------------------------------------------------------------------------------- stats: unknown is not unpriced


def test_stats_tells_sessions_without_tokens_from_unpriced_requests(capsys, tmp_path):
    """A Cursor transcript records no tokens: `stats` says so, and does not count it as a request with an unknown price."""
    logs = tmp_path / ".cursor" / "projects" / "Users-me-dev-app" / "agent-transcripts"
    logs.mkdir(parents=True)
    lines = [
        {"role": "user", "message": {"content": [{"type": "text", "text": "<user_query>\nList the files here.\n</user_query>"}]}},
        {"role": "assistant", "message": {"content": [{"type": "text", "text": "There are two files: a.py and b.py."}]}},
    ]
    (logs / "0b0c3f8e-1111-4222-8333-944455556666.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    home = tmp_path / "store"
    index(home, tmp_path / ".cursor")
    rc, out, err = run(capsys, "stats", "--home", str(home))
    assert rc == 0, err
    cost_line = next(line for line in out.splitlines() if line.strip().startswith("cost:"))
    assert "1 session of agents that record no tokens" in cost_line, cost_line
    assert "unknown prices" not in cost_line, cost_line
