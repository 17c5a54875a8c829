"""Eval test fixtures: one store with the corpus and a generated session holding a fake secret."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sessionlens.samples.generator import generate_codex_session
from sessionlens.services.app import App
from sessionlens.services.settings import Settings
from tests.coach.conftest import fake_anthropic  # noqa: F401  (fixture re-export)

CODEX_CRUD = "codex/agentlogs/crud.jsonl"
CODEX_IMAGES = "codex/agentlogs/images.jsonl"
CLAUDE_MAIN = "claude/spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl"
CLAUDE_SHORT = "claude/spotter/short.jsonl"
CLAUDE_TOOLS = "claude/spotter/tool_heavy.jsonl"
CLAUDE_SUB = "claude/spotter/subagent.jsonl"


def make_app(home: Path, **llm) -> App:
    kw = {"storePath": str(home), "includeHomeLogs": False}
    if llm:
        kw["llm"] = llm
    return App(Settings(**kw))


@pytest.fixture(scope="session")
def indexed(corpus, tmp_path_factory) -> Path:
    """A store home with the whole corpus plus one generated Codex session leaking a fake secret."""
    root = tmp_path_factory.mktemp("evals")
    gen = root / "gen" / "rollout-2026-01-05T08-30-00-secret.jsonl"
    generate_codex_session(
        random.Random(3),
        path=gen,
        start=datetime(2026, 1, 5, 8, 30, tzinfo=timezone.utc),
        turns=1,
        cwd="/home/dev/projects/secretproj",
        problems=("secret",),
    )
    home = root / "home"
    app = make_app(home)
    app.index([str(corpus), str(gen.parent)])
    app.close()
    return home


@pytest.fixture
def app(indexed) -> App:
    a = make_app(indexed)
    yield a
    a.close()


def session_by_path(app: App, corpus: Path, rel: str) -> dict:
    s = app.db().session_for_path(str(corpus / rel))
    assert s is not None, rel
    return s


def line_of(path: str, seq: int) -> str:
    return Path(path).read_text(encoding="utf-8").split("\n")[seq - 1]
