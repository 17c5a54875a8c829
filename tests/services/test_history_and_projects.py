"""History outlives files (a deleted log still opens from the store, in the services and the CLI);
a project is the repository root, not a cwd sub-folder; injected user records stay inside turns."""

from __future__ import annotations

import json
import subprocess
import sys

from sessionlens.ingest import claude
from sessionlens.services.app import App
from sessionlens.services.settings import Settings

SID = "5e5e5e5e-1111-4222-8333-444444444444"


def _line(uuid, content, **kw):
    return {
        "parentUuid": None,
        "isSidechain": False,
        "type": "user",
        "cwd": kw.pop("cwd", "/w/proj/assets"),
        "sessionId": SID,
        "uuid": uuid,
        "timestamp": f"2026-02-11T10:00:0{kw.pop('sec', 0)}Z",
        "message": {"role": "user", "content": content},
        **kw,
    }


def _asst(uuid, text, sec):
    return {
        "parentUuid": None,
        "isSidechain": False,
        "type": "assistant",
        "cwd": "/w/proj/assets",
        "sessionId": SID,
        "uuid": uuid,
        "timestamp": f"2026-02-11T10:00:0{sec}Z",
        "requestId": f"r{uuid}",
        "message": {
            "id": f"m{uuid}",
            "role": "assistant",
            "model": "claude-opus-4-6",
            "content": [{"type": "text", "text": text}],
            "usage": {"input_tokens": 1, "output_tokens": 1},
        },
    }


def _write(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")


def _session(tmp_path):
    lines = [
        _line("u1", "fix the **build**", sec=1),
        _asst("a1", "Done: `make` passes.", 2),
        _line("n1", "<task-notification><task-id>b1</task-id>finished</task-notification>", sec=3),
        _line("s1", [{"type": "text", "text": "<system-reminder>be brief</system-reminder>"}], sec=4),
        _asst("a2", "The background task finished.", 5),
        _line("u2", [{"type": "text", "text": "<system-reminder>ctx</system-reminder>"}, {"type": "text", "text": "now ship it"}], sec=6),
        _asst("a3", "   \n\n", 7),
    ]
    p = tmp_path / ".claude" / "projects" / "-w-proj" / f"{SID}.jsonl"
    _write(p, lines)
    return p


def test_injected_records_are_meta_inside_the_turn_and_project_is_the_root(tmp_path):
    p = _session(tmp_path)
    r = claude.parse(p.read_bytes(), str(p))
    kinds = [(e.line, e.kind.value, e.subtype) for e in r.events]
    assert kinds[2] == (3, "system", "user/injected") and kinds[3][:2] == (4, "system")
    assert r.events[2].extra["tag"] == "task-notification"
    assert [t.start_line for t in r.turns] == [1, 6]  # a turn starts at a human prompt only
    assert r.turns[1].prompt == "now ship it" and r.events[5].extra["injected"] == ["system-reminder"]
    assert r.events[6].text is None  # a whitespace-only text block says nothing
    assert r.session.project == "/w/proj"  # from Claude's project folder name, not the cwd sub-folder
    app = App(Settings(storePath=str(tmp_path / "home"), includeHomeLogs=False))
    app.index([str(p)])
    [row] = app.sessions(limit=10, workspace_only=False)
    assert row["project"] == "/w/proj" and row["project_name"] == "proj"
    names = [n.name for n in app.outline(str(p))[0].children]
    assert names == ["Turn 1: fix the **build**", "Turn 2: now ship it"]


def test_deleted_log_still_opens_from_the_store(tmp_path):
    p = _session(tmp_path)
    home = tmp_path / "home"
    app = App(Settings(storePath=str(home), includeHomeLogs=False))
    app.index([str(p)])
    before = app.render_session_html(SID)
    assert "no longer exists" not in before
    p.unlink()
    app.index([str(tmp_path / ".claude")])  # a later pass over the folder keeps the history
    [row] = app.sessions(limit=10, workspace_only=False)
    assert row["id"] == SID and row["log_missing"] is True
    page = app.render_session_html(SID)
    assert "The log file no longer exists" in page and "<strong>build</strong>" in page and 'id="e5"' in page
    _t, md = app.render_session(str(p))  # by its old path too
    assert "no longer exists" in md and "The background task finished." in md
    for cmd in (["show", SID], ["show", SID, "--markdown"], ["export", SID, "--format", "html"]):
        out = subprocess.run([sys.executable, "-m", "sessionlens", "--home", str(home), *cmd], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "background task finished" in out.stdout or "now ship it" in out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "sessionlens", "--home", str(home), "show", SID], capture_output=True, text=True, timeout=120
    )
    assert "log file deleted" in out.stdout
