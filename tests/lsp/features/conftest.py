"""Fixtures of the handler unit tests: a generated corpus indexed once per module, a fresh fake context per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionlens.samples.generator import generate_corpus
from tests.lsp.fakes import FakeServer, make_app


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("lsp-unit")
    corpus = generate_corpus(root / "logs", seed=11, total_bytes=250_000)
    app = make_app(root / "home", workspace=[root])
    stats = app.index([str(root / "logs")])
    app.close()
    assert stats.files_seen == len(corpus.sessions) + sum(1 for _ in (root / "logs").rglob("subagents/*.jsonl")) and stats.events > 0
    logs = sorted((root / "logs").rglob("*.jsonl"))
    return {"root": root, "home": root / "home", "logs": logs, "corpus": corpus}


@pytest.fixture
def ls(indexed) -> FakeServer:
    srv = FakeServer(make_app(indexed["home"], workspace=[indexed["root"]]))
    yield srv
    srv.close()
    srv.app.close()


@pytest.fixture
def log_path(indexed) -> Path:
    """The largest main-session log (sub-agent logs excluded)."""
    mains = [p for p in indexed["logs"] if "subagents" not in p.parts]
    return max(mains, key=lambda p: p.stat().st_size)
