"""The OpenCode adapters in the registry: detection by content, the storage tree as a directory source
whose companions decide "changed", and the data folder from XDG_DATA_HOME / OPENCODE_DATA_DIR."""

from __future__ import annotations

import json
from pathlib import Path

from sessionlens import agents
from sessionlens.agents import opencode
from tests.services.helpers import make_app


def _tree(root: Path) -> Path:
    (root / "session" / "p").mkdir(parents=True)
    (root / "message" / "ses_x").mkdir(parents=True)
    (root / "part" / "msg_1").mkdir(parents=True)
    anchor = root / "session" / "p" / "ses_x.json"
    anchor.write_text(
        json.dumps(
            {
                "id": "ses_x",
                "projectID": "p",
                "directory": "/w",
                "title": "t",
                "time": {"created": 1_750_000_000_000, "updated": 1_750_000_001_000},
            }
        )
    )
    (root / "message" / "ses_x" / "msg_1.json").write_text(
        json.dumps({"id": "msg_1", "sessionID": "ses_x", "role": "user", "time": {"created": 1_750_000_000_000}})
    )
    (root / "part" / "msg_1" / "prt_1.json").write_text(json.dumps({"id": "prt_1", "type": "text", "text": "first wombat"}))
    return anchor


def test_a_new_part_file_reindexes_the_tree_session(tmp_path: Path):
    anchor = _tree(tmp_path / "data" / "storage")
    assert agents.detect(str(anchor), anchor.read_bytes()).name == "opencode-storage"
    app = make_app(tmp_path / "home")
    try:
        app.index([str(tmp_path / "data")])
        [s] = app.sessions(agent="opencode", workspace_only=False)
        assert s["id"] == "ses_x" and s["agent"] == "opencode" and s["events"] == 1
        assert app.index([str(tmp_path / "data")]).files_changed == 0
        (tmp_path / "data" / "storage" / "part" / "msg_1" / "prt_2.json").write_text(
            json.dumps({"id": "prt_2", "type": "text", "text": "second wombat"})
        )
        assert app.index([str(tmp_path / "data")]).files_changed == 1
        assert app.sessions(agent="opencode", workspace_only=False)[0]["events"] == 2
        assert app.search("wombat", agent="opencode")["total"] == 2
    finally:
        app.close()


def test_data_dir_env_overrides(tmp_path: Path):
    home = str(tmp_path)
    assert opencode.data_dir(home, {}) == f"{home}/.local/share/opencode"
    assert opencode.data_dir(home, {"XDG_DATA_HOME": "/x"}) == "/x/opencode"
    assert opencode.data_dir(home, {"XDG_DATA_HOME": "/x", "OPENCODE_DATA_DIR": "/o"}) == "/o"
    roots = opencode.roots(home, {"XDG_DATA_HOME": "/x"})
    assert roots == ["/x/opencode/opencode.db"]
    assert opencode.storage_roots(home, {}) == [f"{home}/.local/share/opencode/storage/session"]


def test_variants_are_not_agents_of_their_own():
    assert "opencode" in agents.names() and "opencode-storage" not in agents.names()
    assert "copilot" in agents.names() and "copilot-legacy" not in agents.names()
    assert agents.get("opencode-storage").agent_name == "opencode"
    assert agents.get("copilot-legacy").agent_name == "copilot"
