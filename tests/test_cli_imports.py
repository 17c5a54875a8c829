"""A read command imports only what it runs (issue #19: every read command within 150 ms, process
start included, where importing pydantic alone costs ~60-100 ms).  Not a timing assert: each
command runs in a fresh interpreter on the generated sample store, and the modules it loaded are
checked - no web server, LLM client, language server or agent adapter (parser) for any of them, no
rich for ``--json``, no pydantic for the commands that need no validated model, no search index
but for ``search`` and ``stats``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

#: a fresh interpreter runs the command (its output to /dev/null) and writes the loaded modules to argv[1]
_PROBE = """
import json, os, sys
out = sys.argv[1]
sys.stdout = open(os.devnull, "w")
from sessionlens import cli
rc = cli.main(sys.argv[2:])
sys.stdout = sys.__stdout__
with open(out, "w") as f:
    redact = sys.modules.get("sessionlens.coach.redact")
    json.dump({"rc": rc, "modules": sorted(sys.modules), "detector_compiled": getattr(redact, "_compiled", None)}, f)
"""

#: never needed by a read command
NEVER = ("aiohttp", "anthropic", "pygls", "lsprotocol", "asyncio", "sessionlens.web", "sessionlens.lsp", "sessionlens.coach.llm")
#: the agent adapters and their parsers (the registry's facts answer a read command's questions)
ADAPTER_PREFIX = "sessionlens.agents."
ADAPTER_EXEMPT = (
    "sessionlens.agents.base",
    "sessionlens.agents.paths",
    "sessionlens.agents.registry",
    "sessionlens.agents.sniff",
    "sessionlens.agents.sqlite",
)

COMMANDS: dict[str, list[str]] = {
    "search": ["search", "pytest", "--limit", "5"],
    "sessions": ["sessions"],
    "show": ["show", "{session}"],
    "cost": ["cost", "--by", "day"],
    "cost-week": ["cost", "--by", "week"],
    "cost-session": ["cost", "--by", "session"],
    "coach": ["coach"],
    "stats": ["stats"],
}
#: commands that build no pydantic model (the store's read rows are plain: models/row.py; ``show``'s
#: timeline reads ``models.store.StoredEvent`` rows): all of them
PYDANTIC_FREE: set[str] = set(COMMANDS)


#: commands that render no Markdown (``show``'s timeline names events: services/render/tools.py)
MARKDOWN_FREE = set(COMMANDS)

#: commands whose piped output (a table: cli.PlainTable, or lines: cli._plain_lines) needs no rich
RICH_FREE_PIPED = set(COMMANDS)
#: commands that log nothing, so never import logging (~8 ms: the CLI configures it when it is imported)
LOGGING_FREE = set(COMMANDS)
#: commands that import no shutil (~3 ms with bz2 and lzma: argparse's help width is computed without it)
SHUTIL_FREE = {"cost", "cost-week", "cost-session", "sessions", "coach", "show"}
#: commands that need no adapter contract (agents.base: dataclasses; a listing asks agents.paths)
CONTRACT_FREE = {"cost", "cost-week", "cost-session", "sessions", "coach", "search", "stats"}
#: commands that decode no JSON column with orjson (it pulls in dataclasses, inspect and uuid) and
#: build no dataclass
ORJSON_FREE = {"cost", "cost-week", "sessions"}
#: commands whose texts hold no secret on the sample store: the detector's patterns are never compiled
#: (``may_hold_secret`` says so with the few regexes compiled at import)
DETECTOR_UNCOMPILED = {"cost", "cost-week", "cost-session", "sessions", "stats"}


def _run(store: Path, tmp_path: Path, argv: list[str]) -> dict:
    out = tmp_path / "modules.json"
    env_cmd = [sys.executable, "-c", _PROBE, str(out), "--home", str(store), *argv]
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}  # piped as a script's pipe is (pytest sets 80)
    r = subprocess.run(env_cmd, capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    got = json.loads(out.read_text())
    assert got["rc"] == 0, (argv, r.stderr)
    return got


def _loaded(store: Path, tmp_path: Path, argv: list[str]) -> set[str]:
    return set(_run(store, tmp_path, argv)["modules"])


@pytest.fixture(scope="module")
def session_id(sample_store) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "sessionlens", "--home", str(sample_store), "--json", "sessions", "--limit", "1"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(r.stdout)[0]["id"]


def _cases():
    for name, argv in COMMANDS.items():
        for as_json in (False, True):
            yield pytest.param(name, argv, as_json, id=name + (" --json" if as_json else ""))


@pytest.mark.parametrize(("name", "argv", "as_json"), list(_cases()))
def test_a_read_command_imports_only_what_it_runs(sample_store, session_id, tmp_path, name, argv, as_json):
    args = (["--json"] if as_json else []) + [a.format(session=session_id) for a in argv]
    got = _run(sample_store, tmp_path, args)
    mods = set(got["modules"])
    label = name + (" --json" if as_json else "")
    for prefix in NEVER:
        assert not {m for m in mods if m == prefix or m.startswith(prefix + ".")}, f"{name} imported {prefix}"
    adapters = {m for m in mods if m.startswith(ADAPTER_PREFIX) and not m.startswith(ADAPTER_EXEMPT)}
    assert not adapters, f"{name} imported agent adapters: {sorted(adapters)}"
    if as_json or name in RICH_FREE_PIPED:
        assert "rich" not in mods, f"{label} imported rich"
    if name not in ("search", "stats"):  # (stats counts the searchable documents)
        assert "tantivy" not in mods, f"{name} opened the search index"
    if label in PYDANTIC_FREE or name in PYDANTIC_FREE:
        assert "pydantic" not in mods, f"{label} imported pydantic"
    if name in MARKDOWN_FREE:
        assert "markdown_it" not in mods, f"{label} imported markdown_it"
    if name in LOGGING_FREE:
        assert "logging" not in mods, f"{label} imported logging"
    if name in SHUTIL_FREE:
        assert "shutil" not in mods, f"{label} imported shutil"
    if name in CONTRACT_FREE:
        assert "sessionlens.agents.base" not in mods, f"{label} imported the adapter contract (agents.base)"
    if name in ORJSON_FREE:
        assert "orjson" not in mods, f"{label} imported orjson"
        assert "dataclasses" not in mods, f"{label} imported dataclasses"
    if name in DETECTOR_UNCOMPILED:
        assert got["detector_compiled"] is not True, f"{label} compiled the secret detector's patterns"
