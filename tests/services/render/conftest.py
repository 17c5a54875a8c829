"""Stores for the renderer tests: generated sessions (hermetic) and, when present, the whole corpus."""

from __future__ import annotations

import random
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sessionlens.samples.generator import escape_cwd, generate_claude_session, generate_codex_session
from sessionlens.services.app import App
from sessionlens.services.settings import Settings


def make_app(home: Path) -> App:
    return App(Settings(storePath=str(home), includeHomeLogs=False))


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A Claude and a Codex session from the sample generator, indexed."""
    root = tmp_path_factory.mktemp("gen")
    cwd = "/home/dev/projects/shop"
    start = datetime(2026, 2, 1, 9, 0, tzinfo=timezone.utc)
    cl = root / "claude" / escape_cwd(cwd) / "11111111-2222-4333-8444-555555555555.jsonl"
    cl.parent.mkdir(parents=True)
    generate_claude_session(random.Random(7), path=cl, start=start, turns=4, cwd=cwd, session_id="11111111-2222-4333-8444-555555555555")
    cx = root / "codex" / "rollout-2026-02-01T09-00-00-019c0000-0000-7000-8000-000000000001.jsonl"
    cx.parent.mkdir(parents=True)
    generate_codex_session(random.Random(8), path=cx, start=start, turns=4, cwd=cwd)
    app = make_app(root / "home")
    app.index([str(root / "claude"), str(root / "codex")])
    return app


@pytest.fixture(scope="module")
def corpus_app(tmp_path_factory, corpus):
    """Every corpus log (copied: the corpus is read-only), indexed."""
    root = tmp_path_factory.mktemp("corpus")
    logs = root / "logs"
    shutil.copytree(corpus, logs, ignore=shutil.ignore_patterns("SOURCES.md"))
    app = make_app(root / "home")
    app.index([str(logs)])
    return app


def all_sessions(app: App) -> list[dict]:
    return app.sessions(limit=10_000, workspace_only=False, include_subagents=True)
