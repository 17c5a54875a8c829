"""The server in a real editor: headless Neovim (Debian's package) starts it on a corpus log and checks
the outline, a hover and the diagnostics."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import corpus_root

HERE = Path(__file__).resolve().parent


def test_neovim_outline_hover_diagnostics(tmp_path):
    nvim = shutil.which("nvim")
    assert nvim, "Neovim is required for this test: `make setup` installs it (apt-get install neovim)"
    src = corpus_root() / "claude" / "spotter" / "short.jsonl"
    if not src.exists():
        pytest.skip(f"SESSIONLENS_CORPUS not found: {corpus_root()}")
    ws = tmp_path / "ws"
    ws.mkdir()
    log = ws / "short.jsonl"
    shutil.copyfile(src, log)
    lines = log.read_text().split("\n")
    hover_line = next(i for i, l in enumerate(lines) if '"tool_use"' in l and '"Bash"' in l)
    out = tmp_path / "result.json"
    env = dict(
        os.environ,
        SL_PYTHON=sys.executable,
        SL_FILE=str(log),
        SL_WS=str(ws),
        SL_HOME=str(tmp_path / "home"),
        SL_OUT=str(out),
        SL_HOVER_LINE=str(hover_line),
        HOME=str(tmp_path),
        SESSIONLENS_LOG="WARNING",
    )
    env.pop("ANTHROPIC_API_KEY", None)
    proc = subprocess.run(
        [nvim, "--headless", "-u", "NONE", "-c", f"luafile {HERE / 'nvim_lsp_check.lua'}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.exists(), f"nvim wrote no result (rc={proc.returncode}): {proc.stderr[-2000:]}"
    res = json.loads(out.read_text())
    assert res["ok"], res.get("error")
    session = res["symbols"][0]
    turns = [c for c in session["children"] if c["name"].startswith("Turn ")]
    assert turns and "mix phx.server" in turns[0]["name"]
    hover = res["hover"]["contents"]["value"]
    assert "Bash" in hover and "mix phx.server" in hover
    codes = {d["code"] for d in res["diagnostics"]}
    assert "rejected-tool-use" in codes
    rejected = next(d for d in res["diagnostics"] if d["code"] == "rejected-tool-use")
    assert "rejected" in lines[rejected["lnum"]].lower() or "doesn't want to proceed" in lines[rejected["lnum"]]


def test_neovim_plugin_transcript_and_lenses(tmp_path):
    """editors/nvim/lua/sessionlens.lua: .jsonl logs get a filetype and the server, the per-turn lenses are
    drawn, :SessionlensTranscript opens the session as a Markdown buffer (also by id, after the log is gone)."""
    nvim = shutil.which("nvim")
    assert nvim, "Neovim is required for this test: `make setup` installs it (apt-get install neovim)"
    src = corpus_root() / "claude" / "agentlogs" / "crud.jsonl"
    if not src.exists():
        pytest.skip(f"SESSIONLENS_CORPUS not found: {corpus_root()}")
    ws = tmp_path / "ws"
    ws.mkdir()
    log = ws / "crud.jsonl"
    shutil.copyfile(src, log)
    out = tmp_path / "result.json"
    env = dict(
        os.environ,
        SL_PYTHON=sys.executable,
        SL_FILE=str(log),
        SL_HOME=str(tmp_path / "home"),
        SL_OUT=str(out),
        SL_PLUGIN=str(HERE.parents[1] / "editors" / "nvim"),
        SL_SESSION="8122657c-fe54-4dc9-89a3-20049e8a84f7",
        HOME=str(tmp_path),
        SESSIONLENS_LOG="WARNING",
    )
    env.pop("ANTHROPIC_API_KEY", None)
    proc = subprocess.run(
        [nvim, "--headless", "-u", "NONE", "-c", f"luafile {HERE / 'nvim_transcript_check.lua'}"],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.exists(), f"nvim wrote no result (rc={proc.returncode}): {proc.stderr[-2000:]}"
    res = json.loads(out.read_text())
    assert res["ok"], (res.get("error"), res.get("steps"))
    assert res["filetype"] == "jsonl"
    assert res["lenses"] and res["lenses"][0]["title"].startswith("Turn 1 · ")
    assert res["lens_marks"] > 0, "the lenses are drawn as virtual text"
    md = res["transcript"]
    assert res["transcript_filetype"] == "markdown"
    assert md.startswith("# create a file `JOKE.md`") or md.startswith("# create a file \\`JOKE.md\\`")
    assert "## Turn 1" in md and "- [x] " in md  # the todo list as a checklist
    assert "**🔧 Write JOKE.md**" in md and '"file_path"' not in md
    assert "```diff" in md
    assert "2025\\-10" not in md and "claude\\-sonnet" not in md  # no escaped Markdown
    assert "## Turn 1" in res["by_id"] or "JOKE" in res["by_id"]
