"""A tiny stand-in for `codex exec {prompt}`: writes a real-format Codex rollout into $CODEX_HOME.

Behaviour is driven by the prompt and the worktree's AGENTS.md, so tests can script outcomes:
* a prompt containing ``SLOW`` sleeps for a minute first (to hit the runner's timeout);
* a prompt containing ``BREAK`` runs a command that fails (exit 2);
* when AGENTS.md contains ``run tests``, the agent runs ``pytest -q`` after editing;
* the final message is ``Done: <prompt>`` plus ``(tested)`` when tests ran.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path


def main() -> int:
    prompt = sys.argv[1]
    if "SLOW" in prompt:
        time.sleep(60)
    cwd = os.getcwd()
    agents = Path(cwd, "AGENTS.md").read_text() if Path(cwd, "AGENTS.md").exists() else ""
    run_tests = "run tests" in agents
    sid = str(uuid.uuid4())
    t0 = datetime.now(timezone.utc)
    day = Path(os.environ["CODEX_HOME"], "sessions", t0.strftime("%Y/%m/%d"))
    day.mkdir(parents=True, exist_ok=True)
    path = day / f"rollout-{t0.strftime('%Y-%m-%dT%H-%M-%S')}-{sid}.jsonl"
    clock = [t0]
    lines: list[dict] = []
    total = {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0, "reasoning_output_tokens": 0, "total_tokens": 0}

    def emit(typ: str, payload: dict) -> None:
        clock[0] += timedelta(milliseconds=700)
        lines.append({"timestamp": clock[0].isoformat(timespec="milliseconds").replace("+00:00", "Z"), "type": typ, "payload": payload})

    def tokens(inp: int, out: int) -> None:
        last = {
            "input_tokens": inp,
            "cached_input_tokens": 0,
            "output_tokens": out,
            "reasoning_output_tokens": 0,
            "total_tokens": inp + out,
        }
        for k in total:
            total[k] += last[k]
        emit(
            "event_msg",
            {
                "type": "token_count",
                "info": {"total_token_usage": dict(total), "last_token_usage": last, "model_context_window": 258400},
                "rate_limits": None,
            },
        )

    def shell(cmd: str, code: int, out: str) -> None:
        cid = "call_" + uuid.uuid4().hex[:20]
        emit("response_item", {"type": "function_call", "name": "exec_command", "arguments": json.dumps({"cmd": cmd}), "call_id": cid})
        tokens(1200, 40)
        emit(
            "response_item",
            {
                "type": "function_call_output",
                "call_id": cid,
                "output": f"Chunk ID: abc123\nWall time: 0.1000 seconds\nProcess exited with code {code}\nOriginal token count: 5\nOutput:\n{out}",
            },
        )

    emit(
        "session_meta",
        {
            "id": sid,
            "timestamp": t0.isoformat().replace("+00:00", "Z"),
            "cwd": cwd,
            "originator": "codex_exec",
            "cli_version": "0.104.0",
            "source": "exec",
            "model_provider": "openai",
            "base_instructions": {"text": "You are Codex."},
        },
    )
    emit(
        "response_item",
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": f"# AGENTS.md instructions for {cwd}\n\n<INSTRUCTIONS>\n{agents}\n</INSTRUCTIONS>"}],
        },
    )
    emit("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": prompt}]})
    emit("event_msg", {"type": "task_started", "turn_id": "turn-1", "model_context_window": 258400})
    emit("event_msg", {"type": "user_message", "message": prompt, "images": []})
    emit(
        "turn_context", {"cwd": cwd, "approval_policy": "never", "sandbox_policy": {"type": "danger-full-access"}, "model": "gpt-5.3-codex"}
    )
    shell("ls", 0, "README.md\n")
    cid = "call_" + uuid.uuid4().hex[:20]
    emit(
        "response_item",
        {
            "type": "custom_tool_call",
            "status": "completed",
            "call_id": cid,
            "name": "apply_patch",
            "input": f"*** Begin Patch\n*** Add File: {cwd}/src/answer.py\n+ANSWER = 42\n*** End Patch",
        },
    )
    emit(
        "response_item",
        {
            "type": "custom_tool_call_output",
            "call_id": cid,
            "output": json.dumps(
                {
                    "output": f"Success. Updated the following files:\nA {cwd}/src/answer.py\n",
                    "metadata": {"exit_code": 0, "duration_seconds": 0.0},
                }
            ),
        },
    )
    if "BREAK" in prompt:
        shell("make build", 2, "make: *** [build] Error 2\n")
    if run_tests:
        shell("pytest -q", 0, "1 passed in 0.01s\n")
    answer = f"Done: {prompt}" + (" (tested)" if run_tests else "")
    emit("event_msg", {"type": "agent_message", "message": answer})
    emit("response_item", {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": answer}]})
    tokens(1500, 60)
    emit("event_msg", {"type": "task_complete", "turn_id": "turn-1", "last_agent_message": answer})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    print(answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
