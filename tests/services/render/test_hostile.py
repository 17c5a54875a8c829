"""Hostile content in every field a log can fill: the HTML transcript, the exported page, the
Markdown transcript, every hover and every outline name stay safe (no raw HTML, scripts, event
handlers, command:/javascript:/file:/data: links, remote images)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from tests.services.render.conftest import make_app
from tests.services.safety import assert_safe_html, assert_safe_markdown

EVIL = (
    "<script>alert(1)</script> <img src=x onerror=alert(2)> [c](command:workbench.action.terminal.new) "
    "[j](javascript:alert(3)) [f](file:///etc/passwd) [d](data:text/html;base64,PHNjcmlwdD4=) "
    '<a href="javascript:alert(4)">a</a> <javascript:alert(5)> ![r](https://evil.test/p.png) '
    "[ref][r1] <details open ontoggle=alert(6)>x</details> &#106;avascript:alert(7) "
    "<style>body{display:none}</style> \"'><svg/onload=alert(8)>\n\n[r1]: command:evil\n"
)
SID = "0a0a0a0a-1111-4222-8333-444444444444"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def _claude_lines(cwd: str) -> list[dict]:
    def base(uuid, parent=None, **kw):
        return {
            "parentUuid": parent,
            "isSidechain": False,
            "userType": "external",
            "cwd": cwd,
            "sessionId": SID,
            "version": "2.1.39<b>",
            "gitBranch": "main<script>x</script>",
            "uuid": uuid,
            "timestamp": "2026-02-11T10:00:00.000Z",
            **kw,
        }

    def asst(uuid, content, mid):
        return base(
            uuid,
            type="assistant",
            requestId="req_" + mid,
            message={
                "id": mid,
                "role": "assistant",
                "model": "claude-opus-4-6<img src=x onerror=alert(9)>",
                "content": content,
                "usage": {"input_tokens": 3, "output_tokens": 5},
            },
        )

    return [
        {"type": "summary", "summary": "Title " + EVIL, "leafUuid": "u1"},
        base(
            "u1",
            type="user",
            message={
                "role": "user",
                "content": [
                    {"type": "text", "text": "Prompt " + EVIL},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                    {"type": "image", "source": {"type": "base64", "media_type": "text/html", "data": "PHNjcmlwdD4="}},
                    {"type": "image", "source": {"type": "url", "url": "https://evil.test/x.png"}},
                ],
            },
        ),
        asst("a1", [{"type": "thinking", "thinking": "Think " + EVIL, "signature": "s"}], "m1"),
        asst("a2", [{"type": "text", "text": "Answer **bold** " + EVIL}], "m2"),
        asst(
            "a3",
            [
                {
                    "type": "tool_use",
                    "id": "t1",
                    "name": "Bash<script>",
                    "input": {"command": "echo '" + EVIL + "'", "description": "Desc " + EVIL},
                }
            ],
            "m3",
        ),
        base(
            "r1",
            type="user",
            message={
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "is_error": True, "content": "Exit code 1\n" + EVIL}],
            },
            toolUseResult={"stdout": "", "stderr": "err " + EVIL, "interrupted": False},
        ),
        asst(
            "a4",
            [
                {
                    "type": "tool_use",
                    "id": "t2",
                    "name": "Edit",
                    "input": {"file_path": "/w/<script>a.py", "old_string": "x = 1\n" + EVIL, "new_string": "x = 2\n" + EVIL},
                }
            ],
            "m4",
        ),
        base(
            "r2",
            type="user",
            message={"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t2", "content": "ok " + EVIL}]},
            toolUseResult={
                "filePath": "/w/a.py",
                "structuredPatch": [
                    {"oldStart": 3, "oldLines": 1, "newStart": 3, "newLines": 1, "lines": ["-x = 1 " + EVIL, "+x = 2 " + EVIL]}
                ],
            },
        ),
        asst(
            "a5",
            [
                {
                    "type": "tool_use",
                    "id": "t3",
                    "name": "TodoWrite",
                    "input": {
                        "todos": [
                            {"content": "Todo " + EVIL, "status": "completed", "activeForm": "x"},
                            {"content": "Second <b>", "status": "in_progress", "activeForm": "y"},
                        ]
                    },
                }
            ],
            "m5",
        ),
        asst(
            "a6",
            [
                {
                    "type": "tool_use",
                    "id": "t4",
                    "name": "mcp__evil__<script>",
                    "input": {"url": "javascript:alert(10)", "nested": {"html": EVIL}},
                }
            ],
            "m6",
        ),
        base(
            "r4",
            type="user",
            message={
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t4",
                        "content": [
                            {"type": "text", "text": "img " + EVIL},
                            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG + "<script>"}},
                        ],
                    }
                ],
            },
        ),
        base("n1", type="user", message={"role": "user", "content": "<task-notification>" + EVIL + "</task-notification>"}),
        base(
            "p1",
            type="progress",
            data={"type": "hook_progress", "hookEvent": "PreToolUse<script>", "hookName": EVIL, "command": "rm -rf / " + EVIL},
            toolUseID="t9",
            parentToolUseID="t1",
        ),
        base("s1", type="system", subtype="api_error<script>", level="error", content="Err " + EVIL),
        base(
            "c1",
            type="system",
            subtype="compact_boundary",
            content="Compacted " + EVIL,
            compactMetadata={"trigger": "auto<script>", "preTokens": 10},
        ),
    ]


def _codex_lines(cwd: str) -> list[dict]:
    def w(t, typ, payload):
        return {"timestamp": t, "type": typ, "payload": payload}

    return [
        w(
            "2026-02-11T10:00:00Z",
            "session_meta",
            {
                "id": "019c0000-0000-7000-8000-0000000000aa",
                "timestamp": "2026-02-11T10:00:00Z",
                "cwd": cwd,
                "originator": "codex<script>",
                "cli_version": "0.9<b>",
            },
        ),
        w("2026-02-11T10:00:00Z", "turn_context", {"cwd": cwd, "model": "gpt-5<script>"}),
        w(
            "2026-02-11T10:00:01Z",
            "event_msg",
            {
                "type": "user_message",
                "message": "Prompt " + EVIL,
                "images": ["data:image/png;base64," + PNG, "https://evil.test/y.png", "data:text/html;base64,PHNjcmlwdD4="],
            },
        ),
        w(
            "2026-02-11T10:00:02Z",
            "response_item",
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Answer " + EVIL}]},
        ),
        w(
            "2026-02-11T10:00:03Z",
            "response_item",
            {
                "type": "custom_tool_call",
                "name": "apply_patch",
                "call_id": "c1",
                "input": "*** Begin Patch\n*** Update File: <script>.py\n@@ " + EVIL + "\n-a\n+b " + EVIL + "\n*** End Patch",
            },
        ),
        w(
            "2026-02-11T10:00:04Z",
            "response_item",
            {
                "type": "function_call",
                "name": "update_plan",
                "call_id": "c2",
                "arguments": json.dumps({"plan": [{"step": "Step " + EVIL, "status": "completed"}, {"step": "Two", "status": "pending"}]}),
            },
        ),
        w("2026-02-11T10:00:05Z", "response_item", {"type": "function_call_output", "call_id": "c2", "output": "Out " + EVIL}),
    ]


def _write(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")


def _walk(nodes):
    for n in nodes:
        yield n
        yield from _walk(n.children)


def test_hostile_content_is_safe_everywhere(tmp_path):
    cwd = str(tmp_path / "w")
    cl = tmp_path / "logs" / f"{SID}.jsonl"
    cx = tmp_path / "logs" / "rollout-2026-02-11T10-00-00-019c0000-0000-7000-8000-0000000000aa.jsonl"
    _write(cl, _claude_lines(cwd))
    _write(cx, _codex_lines(cwd))
    home = tmp_path / "home"
    app = make_app(home)
    app.index([str(tmp_path / "logs")])
    sessions = app.sessions(limit=100, workspace_only=False)
    assert len(sessions) == 2
    for s in sessions:
        page = app.render_session_html(s["id"])
        assert_safe_html(page, page=True)
        parts = app.render_session_parts(s["id"])
        assert_safe_html(parts["body"])
        assert "onerror" in parts["body"] and "&lt;script&gt;" in parts["body"]  # shown, as text
        # images: only the valid PNG the log carried, as data: (the HTML one, the URL and the bad data are not shown)
        srcs = re.findall(r'src="([^"]+)"', parts["body"])
        assert srcs and all(x.startswith("data:image/png;base64,") for x in srcs)
        assert "evil.test/x.png" not in " ".join(srcs) and "text/html" not in " ".join(srcs)
        _t, md = app.render_session(s["id"])
        assert_safe_markdown(md)
        for e in app.db().events(s["file_id"]):
            hover = app.hover(s["path"], e.line - 1)
            if hover:
                assert_safe_markdown(hover)
        for n in _walk(app.outline(s["path"])):
            assert "{" not in n.name or "{display" in n.name  # never raw JSON input
    # the exported file: safe, self-contained, secrets-free
    out = subprocess.run(
        [sys.executable, "-m", "sessionlens", "--home", str(home), "export", SID, "--format", "html"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert_safe_html(out.stdout, page=True)
    assert "default-src 'none'" in out.stdout
    assert not re.search(r"<(link|iframe|object|embed)\b", out.stdout)


def test_claude_hostile_fields_land_where_expected(tmp_path):
    """The checks above are not vacuous: each hostile field did reach the transcript."""
    cwd = str(tmp_path / "w")
    cl = tmp_path / "logs" / f"{SID}.jsonl"
    _write(cl, _claude_lines(cwd))
    app = make_app(tmp_path / "home")
    app.index([str(cl)])
    body = app.render_session_parts(SID)["body"]
    for needle in (
        "Prompt ",
        "Answer <strong>bold</strong>",
        "Think ",
        "Desc ",
        "err ",
        "Todo ",
        "img ",
        "hook ",
        "Err ",
        "Compacted ",
        "x = 2",
        "☑",
        "◐",
    ):
        assert needle in body, needle
    s = app.resolve_session(SID)
    assert s.title.startswith("Title ")  # the summary's leafUuid (u1) is a line of this file
    turns = app.db().turns(SID)
    assert len(turns) == 1  # the <task-notification> record did not open a turn


def test_terminal_escapes_and_control_characters_never_reach_the_page():
    """Tool output keeps terminal colours (`\\x1b[2m`) and OSC links: the page drops them, other controls show as U+FFFD."""
    from sessionlens.services.render.html import esc

    out = esc("\x1b[2mCompacted\x1b[22m \x1b]8;;http://evil.test\x07link\x1b]8;;\x07 a\x00b\x7fc <\tend\n")
    assert out == "Compacted link a\ufffdb\ufffdc &lt;\tend\n"
    assert esc("plain <b>") == "plain &lt;b&gt;"
