"""``sessionlens blame FILE[:LINE]``: the terminal view and the --json contract, on the scripted repository."""

from __future__ import annotations

import json

import pytest

from sessionlens.samples import blame_repo
from tests.cli_fixtures import run
from tests.test_cli_json import validate

NAMES = {blame_repo.SESSION_A: "A", blame_repo.SESSION_B: "B", blame_repo.SESSION_C: "C"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("cliblame")
    fx = blame_repo.build(root / "fx")
    home = root / "home"
    from tests.services.helpers import index

    index(home, fx.logs)
    return fx, home


def test_json_names_every_lines_writer(capsys, world):
    fx, home = world
    for rel, want in fx.expected.items():
        rc, out, err = run(capsys, "blame", str(fx.repo / rel), "--home", str(home), "--json")
        assert rc == 0, err
        doc = json.loads(out)
        validate("blame", doc)
        sessions = [s["session_id"] for s in doc["sessions"]]
        got = [NAMES[sessions[x["session"]]] if x["session"] is not None else None for x in doc["lines"]]
        assert got == [NAMES.get(w) if w else None for w in want], rel
        assert [x["text"] for x in doc["lines"]] == (fx.repo / rel).read_text().split("\n")[:-1]


def test_file_colon_line_tells_the_edit_and_its_link(capsys, world):
    fx, home = world
    rc, out, err = run(capsys, "blame", f"{fx.repo / 'src/config.py'}:7", "--home", str(home))
    assert rc == 0, err
    assert "line 7: Claude Code · 2026-02-09 · turn 2: Document the config module · Edit of config.py" in out
    assert f"sessionlens://session/{blame_repo.SESSION_A}?event=" in out
    rc, out, _ = run(capsys, "blame", f"{fx.repo / 'src/app.py'}:7", "--home", str(home))  # the person's line
    assert rc == 0 and "line 7: not written by an agent session" in out
    doc = json.loads(run(capsys, "blame", f"{fx.repo / 'src/helpers.py'}:4", "--home", str(home), "--json")[1])
    validate("blame", doc)
    assert doc["writer"]["session_id"] == blame_repo.SESSION_B and doc["writer"]["path"] == "src/util.py"
    assert [x["line"] for x in doc["lines"]] == [4]


def test_whole_file_lists_sessions_and_marks_lines(capsys, world):
    fx, home = world
    rc, out, _ = run(capsys, "blame", str(fx.repo / "src/app.py"), "--home", str(home))
    assert rc == 0
    head, *rest = out.splitlines()
    assert head.startswith("src/app.py: edited in 2 agent sessions, last ")
    assert any("[1] Codex" in ln for ln in rest) and any("[2] Claude Code" in ln for ln in rest)
    farewell = next(ln for ln in rest if "def farewell" in ln)
    human = next(ln for ln in rest if "Hi there" in ln)
    assert farewell.lstrip().startswith("[1]") and not human.lstrip().startswith("[")


def test_errors_are_one_line_with_their_exit_code(capsys, world, tmp_path):
    fx, home = world
    rc, _, err = run(capsys, "blame", str(tmp_path / "nope.py"), "--home", str(home))
    assert rc == 4 and err.count("\n") == 1 and "no such file" in err
    rc, _, err = run(capsys, "blame", f"{fx.repo / 'README.md'}:99", "--home", str(home))
    assert rc == 2 and "no line 99" in err
    (tmp_path / "plain.txt").write_text("hello\n")
    rc, out, _ = run(capsys, "blame", str(tmp_path / "plain.txt"), "--home", str(home))
    assert rc == 0 and "no agent session edited this file" in out
