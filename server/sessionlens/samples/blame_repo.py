"""A scripted git repository and the agent sessions that edited it (the agent-blame fixture).

``build(dest)`` writes ``dest/demo`` (a git repository with dated commits) and ``dest/logs`` (a Claude
Code projects folder and a Codex sessions folder) and returns what each line of the final files was
written by (``Fixture.expected``: per file, per line, the session id or None), the ground truth the
blame tests compare with.  The story:

1. a person commits ``README.md`` and ``src/app.py`` (c0);
2. Claude session A adds ``greet`` to app.py (Edit) and writes ``src/config.py`` (Write), then
   documents it in a second turn; the person commits (c1);
3. the person rewrites one of A's lines and deletes another, and commits (c2);
4. Codex session B (started from c2, recorded in its session_meta) adds ``farewell`` to app.py and
   a new ``src/util.py`` (apply_patch, with context lines it did not write); committed (c3);
5. the person renames ``src/util.py`` to ``src/helpers.py`` (git mv, c4);
6. Claude session C rewrites README.md whole (Write: its old lines were committed before C began:
   they are not C's), sets a new TIMEOUT and puts back the line the person deleted in (3) (the most
   recent writer of that line is C); its Edit of a file that does not exist was rejected (no line of
   it counts); left uncommitted.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

T0 = datetime(2026, 2, 9, 9, 0, tzinfo=timezone.utc)
SESSION_A = "5a1e0001-aaaa-4aaa-8aaa-000000000001"
SESSION_B = "019c5b00-bbbb-7bbb-8bbb-000000000002"
SESSION_C = "5a1e0003-cccc-4ccc-8ccc-000000000003"
PROMPT_A1 = "Add a greeting function and a config module"
PROMPT_A2 = "Document the config module"
PROMPT_B = "Add a farewell and a util module"
PROMPT_C = "Refresh the README and raise the timeout"

README_0 = "# demo\n\nA small demo project for sessionlens blame.\n"
APP_0 = '''"""The demo app."""

import sys


def main() -> int:
    print("hello")
    return 0
'''


@dataclass
class Fixture:
    root: Path
    repo: Path
    logs: Path  # holds claude/projects/... and codex/sessions/...
    claude_dir: Path
    codex_dir: Path
    expected: dict[str, list[str | None]] = field(default_factory=dict)  # rel path -> writer per line
    sessions: dict[str, str] = field(default_factory=dict)  # session id -> log path
    commits: dict[str, str] = field(default_factory=dict)  # c0.. -> sha
    turns: dict[str, int] = field(default_factory=dict)  # "rel:line (1-based)" -> 0-based turn of its edit


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _git(repo: Path, *args: str, when: datetime | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_AUTHOR_NAME="Dana Dev",
        GIT_AUTHOR_EMAIL="dana@example.com",
        GIT_COMMITTER_NAME="Dana Dev",
        GIT_COMMITTER_EMAIL="dana@example.com",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    if when is not None:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S+0000")
        env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
    return subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True).stdout


class _Claude:
    def __init__(self, path: Path, sid: str, cwd: str, start: datetime):
        self.path, self.sid, self.cwd, self.t = path, sid, cwd, start
        self.lines: list[str] = []
        self.n = 0
        self.parent: str | None = None

    def _emit(self, obj: dict) -> None:
        self.n += 1
        uid = f"{self.sid[:8]}-0000-4000-8000-{self.n:012d}"
        base = {
            "parentUuid": self.parent,
            "isSidechain": False,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.sid,
            "version": "2.1.38",
            "gitBranch": "main",
            "uuid": uid,
            "timestamp": _iso(self.t),
        }
        self.parent = uid
        self.lines.append(json.dumps({**base, **obj}))
        self.t += timedelta(seconds=7)

    def prompt(self, text: str) -> None:
        self._emit({"type": "user", "message": {"role": "user", "content": text}})

    def tool(self, name: str, inp: dict, *, error: str | None = None) -> None:
        cid = f"toolu_{self.sid[:4]}{self.n:04d}"
        self._emit(
            {
                "type": "assistant",
                "requestId": f"req_{self.sid[:4]}{self.n}",
                "message": {
                    "id": f"msg_{self.sid[:4]}{self.n}",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5-20250929",
                    "content": [{"type": "tool_use", "id": cid, "name": name, "input": inp}],
                    "stop_reason": "tool_use",
                    "usage": {"input_tokens": 120, "output_tokens": 80, "cache_read_input_tokens": 2000},
                },
            }
        )
        result: dict[str, object] = {"type": "tool_result", "tool_use_id": cid, "content": error or "The file has been updated."}
        if error:
            result["is_error"] = True
        self._emit({"type": "user", "message": {"role": "user", "content": [result]}})

    def say(self, text: str) -> None:
        self._emit(
            {
                "type": "assistant",
                "requestId": f"req_{self.sid[:4]}{self.n}",
                "message": {
                    "id": f"msg_{self.sid[:4]}{self.n}",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5-20250929",
                    "content": [{"type": "text", "text": text}],
                    "stop_reason": "end_turn",
                    "usage": {"input_tokens": 50, "output_tokens": 20},
                },
            }
        )

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("\n".join(self.lines) + "\n")


def _codex(path: Path, sid: str, cwd: str, start: datetime, commit: str, patch: str) -> None:
    t = start
    out: list[str] = []

    def line(typ: str, payload: dict) -> None:
        nonlocal t
        out.append(json.dumps({"timestamp": _iso(t), "type": typ, "payload": payload}))
        t += timedelta(seconds=5)

    line(
        "session_meta",
        {
            "id": sid,
            "timestamp": _iso(start),
            "cwd": cwd,
            "originator": "codex_cli_rs",
            "cli_version": "0.98.0",
            "source": "cli",
            "model_provider": "openai",
            "git": {"commit_hash": commit, "branch": "main", "repository_url": "https://example.com/demo.git"},
        },
    )
    line("event_msg", {"type": "task_started", "turn_id": "turn-1", "model_context_window": 258400})
    line("turn_context", {"turn_id": "turn-1", "cwd": cwd, "approval_policy": "on-request", "model": "gpt-5.3-codex", "summary": "auto"})
    line("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": PROMPT_B}]})
    line("event_msg", {"type": "user_message", "message": PROMPT_B, "images": []})
    line(
        "response_item",
        {"type": "custom_tool_call", "status": "completed", "call_id": "call_patch1", "name": "apply_patch", "input": patch},
    )
    line(
        "response_item",
        {
            "type": "custom_tool_call_output",
            "call_id": "call_patch1",
            "output": json.dumps(
                {
                    "output": "Success. Updated the following files:\nM src/app.py\nA src/util.py\n",
                    "metadata": {"exit_code": 0, "duration_seconds": 0.1},
                }
            ),
        },
    )
    line("event_msg", {"type": "agent_message", "message": "Added farewell() and src/util.py."})
    line("event_msg", {"type": "task_complete", "turn_id": "turn-1", "last_agent_message": "done"})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n")


def build(dest: Path) -> Fixture:
    dest = Path(dest)
    repo = dest / "demo"
    (repo / "src").mkdir(parents=True, exist_ok=True)
    logs = dest / "logs"
    claude_dir = logs / "claude"
    codex_dir = logs / "codex"
    proj = claude_dir / "projects" / ("-" + str(repo).strip("/").replace("/", "-").replace(".", "-"))
    fx = Fixture(root=dest, repo=repo, logs=logs, claude_dir=claude_dir, codex_dir=codex_dir)
    A, B, C = SESSION_A, SESSION_B, SESSION_C

    # 1. the person's first commit
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text(README_0)
    (repo / "src" / "app.py").write_text(APP_0)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "initial", when=T0)

    # 2. Claude session A
    a = _Claude(proj / f"{A}.jsonl", A, str(repo), T0 + timedelta(hours=1))
    a.prompt(PROMPT_A1)
    old = 'def main() -> int:\n    print("hello")'
    new = 'def greet(name: str) -> str:\n    return f"Hello, {name}!"\n\n\ndef main() -> int:\n    print(greet("world"))'
    a.tool("Edit", {"file_path": str(repo / "src" / "app.py"), "old_string": old, "new_string": new})
    app1 = APP_0.replace(old, new)
    config1 = (
        '"""Settings of the demo app."""\n\nTIMEOUT = 30\nVERBOSE = True\nRETRIES = 3\n\n\n'
        'def describe() -> str:\n    return f"timeout={TIMEOUT} retries={RETRIES}"\n'
    )
    a.tool("Write", {"file_path": str(repo / "src" / "config.py"), "content": config1})
    a.say("Added greet() and src/config.py.")
    a.prompt(PROMPT_A2)
    old2 = "RETRIES = 3\n"
    new2 = "RETRIES = 3\n# the number of attempts before giving up\nMAX_ATTEMPTS = RETRIES + 1\n"
    a.tool("Edit", {"file_path": str(repo / "src" / "config.py"), "old_string": old2, "new_string": new2})
    config2 = config1.replace(old2, new2)
    a.say("Documented the config.")
    a.write()
    (repo / "src" / "app.py").write_text(app1)
    (repo / "src" / "config.py").write_text(config2)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "greet and config (session A)", when=T0 + timedelta(hours=2))

    # 3. the person edits A's work
    app2 = app1.replace('    return f"Hello, {name}!"', '    return f"Hi there, {name}!"')
    config3 = config2.replace("VERBOSE = True\n", "")
    (repo / "src" / "app.py").write_text(app2)
    (repo / "src" / "config.py").write_text(config3)
    _git(repo, "commit", "-q", "-am", "friendlier greeting, no VERBOSE", when=T0 + timedelta(hours=3))
    c2 = _git(repo, "rev-parse", "HEAD").strip()

    # 4. Codex session B
    patch = (
        "*** Begin Patch\n*** Update File: src/app.py\n@@\n def main() -> int:\n"
        '-    print(greet("world"))\n+    print(greet("world"))\n+    print(farewell("world"))\n     return 0\n'
        '+\n+\n+def farewell(name: str) -> str:\n+    return f"Goodbye, {name}."\n'
        "*** Add File: src/util.py\n"
        '+"""Small helpers."""\n+\n+\n+def shout(text: str) -> str:\n+    return text.upper() + "!"\n'
        "*** End Patch"
    )
    _codex(
        codex_dir / "sessions" / "2026" / "02" / "09" / f"rollout-2026-02-09T13-00-00-{B}.jsonl",
        B,
        str(repo),
        T0 + timedelta(hours=4),
        c2,
        patch,
    )
    app3 = app2.replace(
        '    print(greet("world"))\n    return 0\n',
        '    print(greet("world"))\n    print(farewell("world"))\n    return 0\n\n\n'
        'def farewell(name: str) -> str:\n    return f"Goodbye, {name}."\n',
    )
    util = '"""Small helpers."""\n\n\ndef shout(text: str) -> str:\n    return text.upper() + "!"\n'
    (repo / "src" / "app.py").write_text(app3)
    (repo / "src" / "util.py").write_text(util)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "farewell and util (session B)", when=T0 + timedelta(hours=5))

    # 5. the person renames util.py
    _git(repo, "mv", "src/util.py", "src/helpers.py")
    _git(repo, "commit", "-q", "-m", "util -> helpers", when=T0 + timedelta(hours=5, minutes=30))

    # 6. Claude session C, uncommitted
    c = _Claude(proj / f"{C}.jsonl", C, str(repo), T0 + timedelta(hours=6))
    c.prompt(PROMPT_C)
    readme = README_0 + "\nRun it with `python -m src.app` from the repository root.\n"
    c.tool("Write", {"file_path": str(repo / "README.md"), "content": readme})
    c.tool(
        "Edit",
        {"file_path": str(repo / "src" / "config.py"), "old_string": "TIMEOUT = 30\n", "new_string": "TIMEOUT = 90\nVERBOSE = True\n"},
    )
    c.tool(
        "Edit",
        {"file_path": str(repo / "src" / "missing.py"), "old_string": "x = 1", "new_string": "x = 2  # never applied"},
        error="<tool_use_error>File does not exist.</tool_use_error>",
    )
    c.say("README refreshed; TIMEOUT is 90 now.")
    c.write()
    (repo / "README.md").write_text(readme)
    config4 = config3.replace("TIMEOUT = 30\n", "TIMEOUT = 90\nVERBOSE = True\n")
    (repo / "src" / "config.py").write_text(config4)

    fx.sessions = {A: str(a.path), C: str(c.path)}
    fx.commits = {"c2": c2}
    # the writer of every line of the final files, next to the line itself (checked against the files)
    script: dict[str, list[tuple[str | None, str]]] = {
        "README.md": [
            (None, "# demo"),
            (None, ""),
            (None, "A small demo project for sessionlens blame."),  # c0, before C began
            (C, ""),
            (C, "Run it with `python -m src.app` from the repository root."),
        ],
        "src/app.py": [
            (None, '"""The demo app."""'),
            (None, ""),
            (None, "import sys"),
            (None, ""),
            (None, ""),
            (A, "def greet(name: str) -> str:"),
            (None, '    return f"Hi there, {name}!"'),  # the person rewrote A's line
            (None, ""),
            (None, ""),  # A's blank lines next to the person's line: not matched alone
            (None, "def main() -> int:"),  # c0: context of A's and B's edits
            (A, '    print(greet("world"))'),  # B's patch re-adds it, but it was committed before B began
            (B, '    print(farewell("world"))'),
            (None, "    return 0"),  # c0
            (B, ""),
            (B, ""),
            (B, "def farewell(name: str) -> str:"),
            (B, '    return f"Goodbye, {name}."'),
        ],
        "src/config.py": [
            (A, '"""Settings of the demo app."""'),
            (A, ""),
            (C, "TIMEOUT = 90"),
            (C, "VERBOSE = True"),  # A wrote it, the person deleted it, C put it back: the most recent writer
            (A, "RETRIES = 3"),
            (A, "# the number of attempts before giving up"),
            (A, "MAX_ATTEMPTS = RETRIES + 1"),  # A's second turn
            (A, ""),
            (A, ""),
            (A, "def describe() -> str:"),
            (A, '    return f"timeout={TIMEOUT} retries={RETRIES}"'),
        ],
        "src/helpers.py": [  # B wrote it as src/util.py; the person renamed it
            (B, '"""Small helpers."""'),
            (B, ""),
            (B, ""),
            (B, "def shout(text: str) -> str:"),
            (B, '    return text.upper() + "!"'),
        ],
    }
    for rel, rows in script.items():
        actual = (repo / rel).read_text().split("\n")[:-1]
        if actual != [t for _, t in rows]:
            raise AssertionError(f"blame fixture: {rel} is not as scripted: {actual!r}")
        fx.expected[rel] = [w for w, _ in rows]
    fx.turns = {"src/config.py:6": 1, "src/config.py:1": 0}
    return fx


def writer_of(fx: Fixture, rel: str, line0: int) -> str | None:
    return fx.expected[rel][line0]


def main(argv: list[str] | None = None) -> int:
    """``python -m sessionlens.samples.blame_repo DEST``: write the fixture, print it as JSON."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m sessionlens.samples.blame_repo DEST\n")
        return 2
    fx = build(Path(args[0]))
    print(json.dumps({"repo": str(fx.repo), "logs": str(fx.logs), "expected": fx.expected, "sessions": fx.sessions}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
