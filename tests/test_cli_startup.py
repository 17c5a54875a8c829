"""What a read command's start-up leaves out must not change what it does: argparse builds only the
command a run surely parses (``cli._lean``), and logging is configured the moment anything imports
it (``cli._LoggingOnImport``) instead of up front, with the same records on stderr."""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import sys

import pytest

from sessionlens import cli

LEAN = [
    ["sessions"],
    ["--home", "/tmp/h", "sessions", "--limit", "3"],
    ["--home=/tmp/h", "--json", "-v", "cost", "--by", "week"],
    ["--samples", "--no-home-logs", "--show-secrets", "--wait", "2", "coach", "--rule", "x"],
    ["--verbose", "stats"],
    ["search", "a", "b", "--limit", "2", "--home", "/tmp/x"],
    ["show", "abc", "--markdown"],
    ["export", "abc", "--format", "json"],
]
NOT_LEAN = [
    ["-h", "sessions"],
    ["--help", "cost"],
    ["--hom", "/tmp/h", "sessions"],  # an abbreviation: argparse decides what follows it
    ["--home", "-x", "sessions"],
    ["--json=1", "sessions"],
    ["--", "sessions"],
    ["--home"],
    ["eval", "run"],
    ["serve"],
    [],
]


@pytest.mark.parametrize("argv", LEAN, ids=" ".join)
def test_a_lean_parser_parses_as_the_whole_one(argv):
    command = cli.command_of(argv)
    assert cli._lean(argv, command)
    lean = vars(cli.build_parser(command, lean=True).parse_args(argv))
    whole = vars(cli.build_parser().parse_args(argv))
    assert lean == whole


@pytest.mark.parametrize("argv", NOT_LEAN, ids=" ".join)
def test_no_lean_parser_where_argparse_could_read_the_words_otherwise(argv):
    assert not cli._lean(argv, cli.command_of(argv))


def _help(parser, argv) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        parser.parse_args(argv)
    return out.getvalue()


@pytest.mark.parametrize("command", sorted(cli.CORE_COMMANDS - {"__complete"}))
def test_a_command_s_help_is_the_same_from_the_lean_parser(command, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    argv = ["--home", "/tmp/h", command, "--help"]
    assert cli._lean(argv, command)
    text = _help(cli.build_parser(command, lean=True), argv)
    assert f"usage: sessionlens {command}" in text
    assert text == _help(cli.build_parser(), argv)


def test_main_parses_a_read_command_with_the_lean_parser(monkeypatch, tmp_path):
    built = []
    real = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda command=None, *, lean=False: built.append((command, lean)) or real(command, lean=lean))
    monkeypatch.setattr(cli, "cmd_stats", lambda args: 0)
    assert cli.main(["--home", str(tmp_path), "stats"]) == 0
    assert built == [("stats", True)]


_LOG_PROBE = """
import sys
from sessionlens import cli
assert "logging" not in sys.modules, "imported up front"
cli._configure_logging(verbose=VERBOSE)
assert "logging" not in sys.modules, "imported by the configuration"
import logging
logging.getLogger("sessionlens.probe").info("an info")
logging.getLogger("sessionlens.probe").warning("a warning %d", 7)
"""


@pytest.mark.parametrize("verbose", [False, True])
def test_logging_configured_when_first_imported(verbose):
    code = _LOG_PROBE.replace("VERBOSE", str(verbose))
    if verbose:  # (-v configures it up front, as before)
        code = code.replace('assert "logging" not in sys.modules, "imported by the configuration"\n', "")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    want = ("INFO sessionlens.probe: an info\n" if verbose else "") + "WARNING sessionlens.probe: a warning 7\n"
    assert r.stderr == want


def test_a_lazy_logger_is_the_logger_of_its_name(caplog):
    from sessionlens.models.lazy import lazy_logger

    log = lazy_logger("sessionlens.lazy-probe")
    with caplog.at_level("INFO", logger="sessionlens.lazy-probe"):
        log.info("hello %s", "there")
        assert log.isEnabledFor(20)
    assert [(r.name, r.getMessage()) for r in caplog.records] == [("sessionlens.lazy-probe", "hello there")]


@pytest.mark.parametrize("columns", [None, "", "0", "-3", "abc", "1", "57", "120"])
def test_the_help_width_is_argparse_s(columns, monkeypatch):
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert cli._help_width() == shutil.get_terminal_size().columns - 2
