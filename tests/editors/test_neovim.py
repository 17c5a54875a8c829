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
    env = dict(os.environ, SL_PYTHON=sys.executable, SL_FILE=str(log), SL_WS=str(ws), SL_HOME=str(tmp_path / "home"),
               SL_OUT=str(out), SL_HOVER_LINE=str(hover_line), HOME=str(tmp_path), SESSIONLENS_LOG="WARNING")
    env.pop("ANTHROPIC_API_KEY", None)
    proc = subprocess.run([nvim, "--headless", "-u", "NONE", "-c", f"luafile {HERE / 'nvim_lsp_check.lua'}"],
                          env=env, capture_output=True, text=True, timeout=120)
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
