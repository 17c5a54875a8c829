"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parent.parent


def corpus_root() -> Path:
    """The real-log corpus: ``$SESSIONLENS_CORPUS`` or ``<repo>/../shared/corpus``."""
    return Path(os.path.abspath(os.environ.get("SESSIONLENS_CORPUS") or (_REPO.parent / "shared" / "corpus")))


def log_sources() -> list[str]:
    """Parameters of a fixture that runs a test on generated logs, and on the corpus too when it
    is present (collected only then: a missing corpus is less coverage, not a skipped test)."""
    return ["generated", *(["corpus"] if corpus_root().is_dir() else [])]


@pytest.fixture(scope="session")
def corpus() -> Path:
    """Path to the corpus root; skips the test when the corpus is not present."""
    root = corpus_root()
    if not root.is_dir():
        pytest.skip(f"SESSIONLENS_CORPUS not found: {root}")
    return root


# generated sample sessions in a store, shared by the CLI tests (tests/cli_fixtures.py)
from tests.cli_fixtures import sample_logs, sample_store  # noqa: E402,F401
