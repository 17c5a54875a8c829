"""Log content is untrusted: hovers and rendered sessions escape it (no links, HTML or command: URIs come from a
log), and exports redact secrets."""

import json
import subprocess
import sys

from sessionlens.services.app import App
from sessionlens.services.settings import Settings
from tests.services.safety import assert_safe_markdown

EVIL = "see [click](command:workbench.action.terminal.new) <img src=x onerror=alert(1)> ![p](https://evil.test/p.png)"
SECRET = "sk-ant-api03-" + "A1b2C3d4E5f6G7h8I9j0" * 4 + "-AAAA"


def _log(tmp_path):
    lines = [
        {
            "timestamp": "2026-01-25T10:32:00.707Z",
            "type": "session_meta",
            "payload": {
                "id": "019bf4b5-e7b0-75a0-8bf2-05fbf1b13c9b",
                "timestamp": "2026-01-25T10:32:00.688Z",
                "cwd": str(tmp_path),
                "originator": "codex_exec",
                "cli_version": "0.89.0",
                "source": "exec",
            },
        },
        {"timestamp": "2026-01-25T10:32:00.708Z", "type": "turn_context", "payload": {"cwd": str(tmp_path), "model": "gpt-5.2-codex"}},
        {
            "timestamp": "2026-01-25T10:32:00.709Z",
            "type": "event_msg",
            "payload": {"type": "user_message", "message": EVIL + " key=" + SECRET},
        },
        {
            "timestamp": "2026-01-25T10:32:01.000Z",
            "type": "response_item",
            "payload": {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": EVIL}]},
        },
    ]
    p = tmp_path / "ws" / "evil.jsonl"
    p.parent.mkdir()
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return p


def test_hover_and_render_escape_log_content(tmp_path):
    p = _log(tmp_path)
    app = App(Settings(storePath=str(tmp_path / "home"), includeHomeLogs=False))
    app.index([str(p)])
    for md in (app.hover(str(p), 2), app.hover(str(p), 3), app.render_session(str(p))[1]):
        assert md
        assert_safe_markdown(md)  # no raw HTML, no command:/javascript: link, no remote image survives
        assert "onerror" in md  # the text is shown, only neutralised


def test_export_redacts_secrets(tmp_path):
    p = _log(tmp_path)
    home = tmp_path / "home"
    app = App(Settings(storePath=str(home), includeHomeLogs=False))
    app.index([str(p)])
    for fmt in ("markdown", "json"):
        out = subprocess.run(
            [sys.executable, "-m", "sessionlens", "--home", str(home), "export", str(p), "--format", fmt],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert SECRET not in out.stdout and "REDACTED" in out.stdout
        assert "onerror" in out.stdout
