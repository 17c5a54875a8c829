"""Compliance fixtures: corpus logs copied into temporary projects with their own AGENTS.md / CLAUDE.md."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.coach.conftest import fake_anthropic  # noqa: F401

IMAGES = "codex/agentlogs/images.jsonl"  # edits a .tsx file, runs `git commit`, no tests; cwd /Users/philipp/dev/agentlogs
CRUD = "codex/agentlogs/crud.jsonl"  # writes JOKE.md, runs `rm`; cwd /Users/philipp/dev/agentlogs/fixtures
CLAUDE_HEAVY = "claude/spotter/tool_heavy.jsonl"  # `mix phx.server`, WebFetch, WebSearch
IMAGES_CWD = "/Users/philipp/dev/agentlogs"
IMAGES_COMMIT = "16bfe274b2d793bd2569758864053bf971019735"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    home = tmp_path / "userhome"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CODEX_HOME", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)


def copy_log(corpus: Path, rel: str, dest_dir: Path, replace: dict[str, str] | None = None) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / rel.replace("/", "__")
    if replace:
        text = (corpus / rel).read_text(encoding="utf-8")
        for a, b in replace.items():
            text = text.replace(a, b)
        dest.write_text(text, encoding="utf-8")
    else:
        shutil.copyfile(corpus / rel, dest)
    return dest


def make_app(tmp_path: Path, folders=()):
    from sessionlens.services.app import App
    from sessionlens.services.settings import Settings

    app = App(Settings.model_validate({"storePath": str(tmp_path / "home"), "includeHomeLogs": False}))
    app.workspace_folders = [str(f) for f in folders]
    return app


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        text=True,
        env={
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@e",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@e",
            "HOME": str(repo),
            "PATH": "/usr/bin:/bin",
        },
    ).stdout.strip()


AGENTS_MD = """# Agent rules

## Git

- Never commit. <!-- sessionlens: id=no-commit must-not-run=/\\bgit\\s+commit\\b/ -->
- Use `rg` instead of `grep`.

## Deploy

- Only deploy from CI. <!-- sessionlens: must-not-run=/\\bkubectl\\s+apply\\b/ -->

Be kind to reviewers.
"""
