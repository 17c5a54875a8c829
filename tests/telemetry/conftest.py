"""Stores for the telemetry tests: the project's generated corpus (hermetic) and the real corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionlens.samples.generator import generate_corpus
from tests.services.helpers import make_app


@pytest.fixture(scope="session")
def generated_app(tmp_path_factory):
    root = tmp_path_factory.mktemp("otel-gen")
    generate_corpus(root / "logs", seed=11, total_bytes=600_000)
    app = make_app(root / "home")
    app.index([str(root / "logs")])
    yield app
    app.close()


@pytest.fixture(scope="session")
def corpus_app(corpus: Path, tmp_path_factory):
    home = tmp_path_factory.mktemp("otel-corpus") / "home"
    app = make_app(home)
    app.index([str(corpus)])
    yield app
    app.close()
