"""`sessionlens doctor` on a home with and without a short Claude Code retention setting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sessionlens import cli
from sessionlens.services.doctor import run_checks
from sessionlens.services.settings import Settings
from tests.cli_fixtures import run
from tests.services.helpers import index


@pytest.fixture
def user_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "user"
    (home / ".claude" / "projects").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    for var in ("CODEX_HOME", "CLAUDE_CONFIG_DIR", "SESSIONLENS_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(var, raising=False)
    return home


def _retention(report):
    return [c for c in report["checks"] if c["id"] == "claude-retention"]


def test_default_retention_is_a_warning_with_the_setting_to_change(user_home, tmp_path):
    rep = run_checks(Settings(storePath=str(tmp_path / "store")))
    (r,) = _retention(rep)
    assert r["status"] == "warn"
    assert "older than 30 days" in r["title"] and "cleanupPeriodDays is not set" in r["title"]
    assert '"cleanupPeriodDays": 365' in r["fix"] and "~/.claude/settings.json" in r["fix"]
    assert any("sessionlens keeps what it indexed" in d for d in r["details"])


@pytest.mark.parametrize(
    "days, status, needle",
    [(7, "warn", "older than 7 days"), (400, "ok", "keeps transcripts for 400 days"), (0, "warn", "is 0: not a number of days")],
)
def test_retention_setting_is_read(user_home, tmp_path, days, status, needle):
    (user_home / ".claude" / "settings.json").write_text(json.dumps({"cleanupPeriodDays": days, "model": "opus"}))
    (r,) = _retention(run_checks(Settings(storePath=str(tmp_path / "store"))))
    assert r["status"] == status and needle in r["title"]


def test_broken_claude_settings_is_an_error_and_exit_1(user_home, tmp_path, capsys):
    (user_home / ".claude" / "settings.json").write_text("{not json")
    rc, out, err = run(capsys, "doctor", "--home", str(tmp_path / "store"))
    assert rc == cli.EXIT_ERROR
    assert "settings.json is not valid JSON" in out and "fix: repair ~/.claude/settings.json" in out


def test_doctor_reports_roots_store_index_and_pending_work(user_home, tmp_path, sample_logs, capsys):
    # a Claude log in the user's home, indexed, then grown: pending work
    src = next(sample_logs.rglob("claude/projects/*/*.jsonl"))
    proj = user_home / ".claude" / "projects" / src.parent.name
    proj.mkdir()
    log = proj / src.name
    log.write_bytes(src.read_bytes())
    store = tmp_path / "store"
    index(store, log)
    (user_home / ".claude" / "settings.json").write_text('{"cleanupPeriodDays": 7}')
    rc, out, _ = run(capsys, "doctor", "--home", str(store))
    assert rc == 0
    assert "claude: ~/.claude/projects — 1 log file" in out
    assert f"{store}: 1 session, " in out
    assert "every log found is indexed" in out
    assert "! Claude Code deletes transcripts older than 7 days" in out
    with open(log, "ab") as fh:
        fh.write(src.read_bytes().splitlines(keepends=True)[0])
    d = json.loads(run(capsys, "doctor", "--home", str(store), "--json")[1])
    pending = next(c for c in d["checks"] if c["id"] == "pending")
    assert pending["status"] == "warn" and "0 new and 1 changed" in pending["title"] and pending["fix"]
    log.unlink()
    d = json.loads(run(capsys, "doctor", "--home", str(store), "--json")[1])
    kept = next(c for c in d["checks"] if c["id"] == "kept")
    assert "stay in the store" in kept["title"]


def test_doctor_without_a_store_says_how_to_make_one(user_home, tmp_path, capsys):
    rc, out, _ = run(capsys, "doctor", "--home", str(tmp_path / "nothing"))
    assert rc == 0 and "no store yet at" in out and "fix: run `sessionlens`" in out
    assert not (tmp_path / "nothing" / "sessionlens.db").exists()  # the doctor writes nothing
