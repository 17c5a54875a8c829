"""A scripted guideline history: a git repository whose AGENTS.md gains a guideline at a commit, with
generated Codex sessions before and after it (for the guideline impact view and its tests).

Before 2026-02-03 the agent often edits without testing and loops on failing commands; the commit
of 2026-02-03 adds "Run the tests after every change" (checked by the coach rule
``no-tests-after-edit``); after it, the sessions mostly test their edits.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ADDED = datetime(2026, 2, 3, 9, 0, tzinfo=timezone.utc)
FIRST = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
GUIDELINE = "Run the tests after every change and report the result."
AGENTS_V1 = "# Agent instructions\n\n- Keep functions small and focused.\n"
AGENTS_V2 = AGENTS_V1 + f"- {GUIDELINE} <!-- sessionlens: rule=no-tests-after-edit -->\n"


@dataclass
class GuidelineHistory:
    repo: Path
    logs: Path
    agents_md: Path
    added: datetime
    guideline_line: int  # 1-based line of the guideline in AGENTS.md
    before: list[Path] = field(default_factory=list)
    after: list[Path] = field(default_factory=list)


def _git(repo: Path, *args: str, when: datetime | None = None) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "dev",
        "GIT_AUTHOR_EMAIL": "dev@example.invalid",
        "GIT_COMMITTER_NAME": "dev",
        "GIT_COMMITTER_EMAIL": "dev@example.invalid",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def write_session(
    path: Path,
    *,
    sid: str,
    start: datetime,
    cwd: str,
    test_after_edit: bool,
    failing_retries: int = 0,
    tokens: int = 20_000,
    commit: str | None = None,
) -> None:
    """A small Codex rollout: one turn that edits ``app.py``; then runs the tests (or only
    ``git status``); ``failing_retries`` times the same failing command, with no edit in between."""
    t = start
    lines: list[str] = []
    total = {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0, "reasoning_output_tokens": 0, "total_tokens": 0}

    def line(kind: str, payload: dict) -> None:
        nonlocal t
        t += timedelta(seconds=2)
        lines.append(json.dumps({"timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "type": kind, "payload": payload}))

    def shell(cid: str, cmd: str, code: int, out: str) -> None:
        line("response_item", {"type": "function_call", "name": "exec_command", "arguments": json.dumps({"cmd": cmd}), "call_id": cid})
        line(
            "response_item",
            {
                "type": "function_call_output",
                "call_id": cid,
                "output": f"Wall time: 0.5 seconds\nProcess exited with code {code}\nOutput:\n{out}",
            },
        )

    def usage() -> None:
        last = {
            "input_tokens": tokens,
            "cached_input_tokens": tokens // 2,
            "output_tokens": tokens // 10,
            "reasoning_output_tokens": 0,
            "total_tokens": tokens + tokens // 10,
        }
        for k, v in last.items():
            total[k] += v
        line(
            "event_msg",
            {"type": "token_count", "info": {"total_token_usage": dict(total), "last_token_usage": last, "model_context_window": 258400}},
        )

    meta: dict[str, Any] = {
        "id": sid,
        "timestamp": start.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "cwd": cwd,
        "originator": "codex_cli_rs",
        "cli_version": "0.104.0",
        "source": "cli",
        "model_provider": "openai",
    }
    if commit:
        meta["git"] = {"commit_hash": commit, "branch": "main"}
    line("session_meta", meta)
    line("event_msg", {"type": "task_started", "turn_id": f"{sid}-t1", "model_context_window": 258400})
    line("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Fix the greeting"}]})
    line("event_msg", {"type": "user_message", "message": "Fix the greeting", "images": []})
    line("turn_context", {"turn_id": f"{sid}-t1", "cwd": cwd, "model": "gpt-5.3-codex", "approval_policy": "on-request"})
    usage()
    for i in range(failing_retries):
        shell(f"call_f{i}", "python tools/lint.py", 1, "Traceback (most recent call last):\nImportError: cannot import name 'x'")
    line(
        "response_item",
        {
            "type": "custom_tool_call",
            "status": "completed",
            "call_id": "call_p1",
            "name": "apply_patch",
            "input": f"*** Begin Patch\n*** Update File: {cwd}/app.py\n@@\n-print('hello')\n+print('hi')\n*** End Patch",
        },
    )
    line(
        "response_item",
        {
            "type": "custom_tool_call_output",
            "call_id": "call_p1",
            "output": json.dumps(
                {
                    "output": f"Success. Updated the following files:\nM {cwd}/app.py\n",
                    "metadata": {"exit_code": 0, "duration_seconds": 0.1},
                }
            ),
        },
    )
    usage()
    if test_after_edit:
        shell("call_t1", "pytest -q", 0, "3 passed in 0.12s")
    else:
        shell("call_s1", "git status --short", 0, " M app.py")
    line("event_msg", {"type": "agent_message", "message": "Done."})
    line("event_msg", {"type": "task_complete", "turn_id": f"{sid}-t1", "last_agent_message": "Done."})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def make_guideline_history(
    root: Path, *, before: int = 8, after: int = 8, violated_before: int = 7, violated_after: int = 1
) -> GuidelineHistory:
    """Write the repository under ``root/repo`` and the session logs under ``root/logs``.

    Before the guideline, ``violated_before`` sessions edit without testing and retry a failing
    command three times; after it, ``violated_after`` sessions edit without testing (no loops)."""
    repo, logs = root / "repo", root / "logs"
    repo.mkdir(parents=True)
    logs.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    agents = repo / "AGENTS.md"
    agents.write_text(AGENTS_V1, encoding="utf-8")
    (repo / "app.py").write_text("print('hello')\n", encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "initial instructions", when=FIRST - timedelta(days=1))
    hist = GuidelineHistory(
        repo,
        logs,
        agents,
        ADDED,
        guideline_line=AGENTS_V2.splitlines().index(f"- {GUIDELINE} <!-- sessionlens: rule=no-tests-after-edit -->") + 1,
    )
    for i in range(before):
        start = FIRST + timedelta(days=i * 3)
        bad = i < violated_before
        path = logs / f"rollout-{start:%Y-%m-%dT%H-%M-%S}-before{i}.jsonl"
        write_session(
            path,
            sid=f"00000000-0000-4000-8000-00000000b{i:03d}",
            start=start,
            cwd=str(repo),
            test_after_edit=not bad,
            failing_retries=3 if bad else 0,
            tokens=30_000 if bad else 20_000,
        )
        hist.before.append(path)
    agents.write_text(AGENTS_V2, encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "AGENTS.md: run the tests after every change", when=ADDED)
    for i in range(after):
        start = ADDED + timedelta(days=1 + i * 3)
        bad = i < violated_after
        path = logs / f"rollout-{start:%Y-%m-%dT%H-%M-%S}-after{i}.jsonl"
        write_session(path, sid=f"00000000-0000-4000-8000-00000000a{i:03d}", start=start, cwd=str(repo), test_after_edit=not bad)
        hist.after.append(path)
    return hist
