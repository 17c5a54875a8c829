"""A store of generated sample sessions for the CLI tests (hermetic: no corpus needed), with one
realistic-looking API key planted where the generator writes its example key."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest

from sessionlens import cli
from sessionlens.samples import generator as gen
from sessionlens.samples import wordbank as wb
from tests.services.helpers import index

_rng = random.Random(18)


#: looks like a real Anthropic key (not an "EXAMPLE" placeholder), so every detector masks it
def _alnum(n: int) -> str:
    return "".join(_rng.choice(string.ascii_letters + string.digits) for _ in range(n))


PLANTED_KEY = f"sk-ant-api03-{_alnum(20)}-{_alnum(30)}_{_alnum(41)}AA"


@pytest.fixture(scope="session")
def sample_logs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cli-samples") / "logs"
    gen.generate_corpus(root, seed=7, total_bytes=1_500_000)
    planted = 0
    for f in root.rglob("*.jsonl"):
        text = f.read_text()
        if wb.SECRET_TOKEN in text:
            f.write_text(text.replace(wb.SECRET_TOKEN, PLANTED_KEY))
            planted += 1
    assert planted, "the sample corpus should carry a secret"
    return root


@pytest.fixture(scope="session")
def sample_store(sample_logs, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("cli-store") / "home"
    st = index(home, sample_logs)
    assert st.files_changed > 5
    return home


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def run_json(capsys, *argv: str):
    rc, out, err = run(capsys, *argv, "--json")
    assert rc == 0, err
    return json.loads(out)
