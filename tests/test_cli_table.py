"""The piped-table renderer (``cli.PlainTable``) writes exactly the bytes rich writes for the same
table, on random tables (widths, justification, footers, titles, the one-cell symbols the CLI uses),
and leaves to rich what it cannot lay out (a table wider than the width, wide characters, forced
colour, a rich renderable in a cell); piped lines (search hits, findings, ``show``'s timeline) are
rich's bytes too."""

from __future__ import annotations

import io
import json
import random

import pytest
from rich.console import Console
from rich.text import Text

from sessionlens import cli

_ALPHABET = "abcdefghijklmnopqrstuvwxyz ABCDEF0123456789$,.-_:/`'\"()[]|#…↳⊘›·"


def _rich(columns, rows, footer, title, width: int, monkeypatch) -> str:
    monkeypatch.setattr(cli, "_plain_width", lambda: None)
    table = cli._table(columns, rows, footer=footer, title=title)
    assert not isinstance(table, cli.PlainTable)
    buf = io.StringIO()
    Console(file=buf, width=width, highlight=False, markup=False, emoji=False, soft_wrap=True).print(table)
    monkeypatch.undo()
    return buf.getvalue()


def _plain(columns, rows, footer, title, width: int, monkeypatch) -> str | None:
    monkeypatch.setattr(cli, "_plain_width", lambda: width)
    table = cli._table(columns, rows, footer=footer, title=title)
    monkeypatch.undo()
    return table.render() if isinstance(table, cli.PlainTable) else None


def _word(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, n))).strip() or "x"


@pytest.mark.parametrize("seed", range(60))
def test_a_piped_table_is_the_bytes_rich_writes(seed, monkeypatch):
    rng = random.Random(seed)
    heads = ["Day", "Model", "Input", "Cost", "Title", "Project", "Id", "Agent", "Message", "Rule"]
    columns = [(h, rng.choice(["left", "right"])) for h in rng.sample(heads, rng.randint(1, 7))]
    rows = [[_word(rng, 24) if rng.random() < 0.7 else f"{rng.randint(0, 10**7):,}" for _ in columns] for _ in range(rng.randint(0, 12))]
    footer = [_word(rng, 8) if rng.random() < 0.5 else "" for _ in columns] if rng.random() < 0.5 else None
    title = "Latest sessions" if rng.random() < 0.3 else None
    width = 200
    plain = _plain(columns, rows, footer, title, width, monkeypatch)
    assert plain is not None
    assert plain == _rich(columns, rows, footer, title, width, monkeypatch)


def test_what_it_cannot_lay_out_is_left_to_rich(monkeypatch):
    cols = [("Title", "left"), ("Cost", "right")]
    assert _plain(cols, [["x" * 300, "$1"]], None, None, 200, monkeypatch) is not None  # wider: Title shrinks
    assert _plain([("Title", "left")], [["x" * 300]], ["y" * 250], None, 200, monkeypatch) is None  # rich would wrap that footer
    assert _plain(cols, [["漢字", "$1"]], None, None, 200, monkeypatch) is None  # two cells per character
    assert _plain(cols, [[Text("styled"), "$1"]], None, None, 200, monkeypatch) is None  # a rich renderable
    assert _plain(cols, [["ok", "$1"]], None, None, 200, monkeypatch) is not None
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert cli._plain_width() is None  # rich colours piped output then: rich writes it


@pytest.mark.parametrize("seed", range(20))
def test_piped_lines_are_the_bytes_rich_writes(seed, monkeypatch, capsys):
    """Search hits, findings and hints piped: each line as rich prints it (no colour, no wrapping)."""
    rng = random.Random(seed)
    pool = _ALPHABET + "漢字éü🙂\n  "
    texts = [cli.safe("".join(rng.choice(pool) for _ in range(rng.randint(0, 300)))) for _ in range(rng.randint(1, 5))]
    monkeypatch.setattr(cli, "_plain_width", lambda: 120)
    assert cli._plain_lines(*texts)
    got = capsys.readouterr().out
    buf = io.StringIO()
    con = Console(file=buf, width=120, highlight=False, markup=False, emoji=False, soft_wrap=True)
    for t in texts:
        con.print(Text(t))
    assert got == buf.getvalue()
    assert not cli._plain_lines("a\tb")  # rich expands tabs: rich prints that one


@pytest.mark.parametrize("seed", range(80))
def test_a_table_wider_than_the_width_is_the_bytes_rich_writes(seed, monkeypatch):
    """Wider than the width: the free-text columns shrink (cells end in "…"), the others overflow, as rich lays them out."""
    rng = random.Random(1000 + seed)
    heads = ["Day", "Model", "Input", "Cost", "Title", "Project", "Id", "Agent", "Message", "Rule"]
    columns = [(h, rng.choice(["left", "right"])) for h in rng.sample(heads, rng.randint(1, 8))]
    longest = rng.choice([8, 24, 60, 120])
    rows = [
        [_word(rng, longest) if rng.random() < 0.7 else f"{rng.randint(0, 10**7):,}" for _ in columns] for _ in range(rng.randint(0, 12))
    ]
    footer = [_word(rng, rng.choice([8, 30])) if rng.random() < 0.5 else "" for _ in columns] if rng.random() < 0.5 else None
    title = "Latest sessions" if rng.random() < 0.3 else None
    width = rng.choice([5, 10, 20, 40, 60, 80, 100, 120])
    plain = _plain(columns, rows, footer, title, width, monkeypatch)
    if plain is not None:
        assert plain == _rich(columns, rows, footer, title, width, monkeypatch)


@pytest.mark.parametrize("secrets", [False, True], ids=["masked", "--show-secrets"])
def test_show_piped_is_the_bytes_rich_writes(sample_store, secrets, monkeypatch, capsys):
    """``show`` piped writes its lines without rich: the same bytes as through rich's console, for every
    sample session (sub-agents, failed calls, a planted secret)."""
    assert cli.main(["--home", str(sample_store), "--json", "sessions", "--limit", "1000"]) == 0
    ids = [r["id"] for r in json.loads(capsys.readouterr().out)]
    assert len(ids) > 5
    flag = ["--show-secrets"] if secrets else []
    masked = 0
    for sid in ids:
        assert cli.main(["--home", str(sample_store), "show", sid, *flag]) == 0
        plain = capsys.readouterr().out
        with monkeypatch.context() as m:
            m.setattr(cli, "_plain_width", lambda: None)  # rich prints it (as when a line has a tab)
            assert cli.main(["--home", str(sample_store), "show", sid, *flag]) == 0
        assert plain == capsys.readouterr().out, sid
        masked += "[REDACTED:" in plain
    assert bool(masked) is not secrets
