"""Shell completion scripts: valid for their shell, and completing commands, options and session ids."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sessionlens import cli
from sessionlens.cli_completion import generate
from tests.cli_fixtures import run
from tests.services.helpers import REPO

BIN = REPO / ".venv" / "bin"


def _need(shell: str) -> str:
    path = shutil.which(shell)
    assert path, f"{shell} is not installed (scripts/system-deps.sh installs it)"
    return path


@pytest.fixture(scope="module")
def scripts(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("completion")
    out = {}
    for sh in ("bash", "zsh", "fish"):
        p = d / f"sessionlens.{sh}"
        p.write_text(generate(cli.build_parser(), sh))
        out[sh] = p
    return out


@pytest.mark.parametrize("shell, check", [("bash", ["-n"]), ("zsh", ["-n"]), ("fish", ["--no-execute"])])
def test_scripts_are_valid_for_their_shell(scripts, shell, check):
    r = subprocess.run([_need(shell), *check, str(scripts[shell])], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_completion_command_prints_the_script(capsys):
    rc, out, _ = run(capsys, "completion", "bash")
    assert rc == 0 and "complete -F _sessionlens sessionlens" in out
    rc, _out, err = run(capsys, "completion", "tcsh")
    assert rc == cli.EXIT_USAGE and "invalid choice: 'tcsh'" in err


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def _bash_complete(script: Path, *words: str) -> list[str]:
    prog = f"""source {script}
COMP_WORDS=({" ".join(repr(w) if w else '""' for w in words)})
COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))
_sessionlens
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    r = subprocess.run([_need("bash"), "-c", prog], capture_output=True, text=True, env=_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    return [x for x in r.stdout.splitlines() if x]


def test_bash_completes_commands_options_and_choices(scripts):
    want = sorted(c for c in cli.build_parser()._subparsers._group_actions[0].choices if c.startswith("se"))
    assert len(want) >= 2 and sorted(_bash_complete(scripts["bash"], "sessionlens", "se")) == want
    assert "--limit" in _bash_complete(scripts["bash"], "sessionlens", "search", "--")
    assert _bash_complete(scripts["bash"], "sessionlens", "cost", "--by", "") == [
        "day",
        "week",
        "month",
        "session",
        "model",
        "project",
        "agent",
    ]
    assert _bash_complete(scripts["bash"], "sessionlens", "eval", "") == ["run", "dataset", "history", "pin", "playground"]
    assert _bash_complete(scripts["bash"], "sessionlens", "--home", "/tmp", "completion", "") == ["bash", "zsh", "fish"]


def test_bash_and_fish_complete_session_ids(scripts, sample_store, capsys):
    ids = [r["id"] for r in __import__("json").loads(_json_sessions(capsys, sample_store))]
    prefix = ids[0][:4]
    want = sorted(i for i in ids if i.startswith(prefix))
    got = _bash_complete(scripts["bash"], "sessionlens", "--home", str(sample_store), "show", prefix)
    assert sorted(got) == want
    got = _bash_complete(scripts["bash"], "sessionlens", "--home", str(sample_store), "search", "x", "--session", prefix)
    assert sorted(got) == want
    r = subprocess.run(
        [_need("fish"), "-c", f"source {scripts['fish']}; complete -C 'sessionlens --home {sample_store} show {prefix}'"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert sorted(ln.split("\t")[0] for ln in r.stdout.splitlines() if ln) == want


def test_fish_completes_commands_with_descriptions(scripts):
    r = subprocess.run(
        [_need("fish"), "-c", f"source {scripts['fish']}; complete -C 'sessionlens sea'"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert r.stdout.strip() == "search\tfull-text search across sessions"


def test_zsh_script_defines_the_completion_function(scripts):
    prog = f"autoload -U compinit && compinit -u -D; source {scripts['zsh']}; whence -w _sessionlens; print $_comps[sessionlens]"
    r = subprocess.run([_need("zsh"), "-f", "-c", prog], capture_output=True, text=True, env=_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    assert "_sessionlens: function" in r.stdout and r.stdout.strip().endswith("_sessionlens")


def test_hidden_id_command_lists_ids_newest_first(capsys, sample_store):
    rc, out, _ = run(capsys, "--home", str(sample_store), "__complete", "ids")
    listed = out.split()
    assert rc == 0 and listed
    rows = __import__("json").loads(_json_sessions(capsys, sample_store))
    assert listed[: len(rows)] == [r["id"] for r in rows]  # same order as `sessions`
    rc, out, _ = run(capsys, "--help")
    assert "__complete" not in out


def _json_sessions(capsys, home) -> str:
    rc, out, err = run(capsys, "sessions", "--home", str(home), "--limit", "1000", "--json")
    assert rc == 0, err
    return out


def _zsh_complete(script: Path, *words: str) -> list[str]:
    """Run the zsh completion function with the completion builtins replaced by printers."""
    prog = f"""compdef() {{ : }}
source {script}
compadd() {{ local i; for ((i = 1; i <= $#; i++)); do if [[ ${{@[i]}} == -- ]]; then print -l -- "${{@[i+1,-1]}}"; return; fi; done }}
_describe() {{ print -l -- "${{(@P)${{@[-1]}}}}" }}
_files() {{ print FILES }}
_directories() {{ print DIRS }}
words=({" ".join(repr(w) if w else "''" for w in words)}); CURRENT=$#words
_sessionlens
"""
    r = subprocess.run([_need("zsh"), "-f", "-c", prog], capture_output=True, text=True, env=_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    return [x for x in r.stdout.splitlines() if x]


def test_zsh_completes_commands_options_choices_files_and_ids(scripts, sample_store, capsys):
    z = scripts["zsh"]
    assert "search:full-text search across sessions" in _zsh_complete(z, "sessionlens", "se")
    assert any(x.startswith("--limit:at most N hits") for x in _zsh_complete(z, "sessionlens", "search", "--l"))
    from sessionlens.agents import names

    assert _zsh_complete(z, "sessionlens", "search", "--agent", "") == list(names())
    assert _zsh_complete(z, "sessionlens", "index", "") == ["FILES"]
    assert _zsh_complete(
        z,
        "sessionlens",
        "--home",
        "",
    ) == ["DIRS"]
    ids = [r["id"] for r in __import__("json").loads(_json_sessions(capsys, sample_store))]
    prefix = ids[0][:4]
    got = _zsh_complete(z, "sessionlens", "--home", str(sample_store), "show", prefix)
    assert sorted(got) == sorted(i for i in ids if i.startswith(prefix))
