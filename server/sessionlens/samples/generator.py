"""Seeded generator of realistic Codex rollouts and Claude Code transcripts.

Used for the first-run demo (:func:`sample_home`), documentation examples and performance
benchmarks (:func:`generate_corpus`, the CLI).  Output is **deterministic**: every id,
timestamp and text is derived from the caller's ``random.Random`` and ``start`` datetime, so the
same seed always produces byte-identical files.

Shapes are calibrated on the real corpus (``tests/samples/measure_corpus.py``; 6 Codex files /
3,353 lines, 9 Claude files / 2,630 lines, measured 2026-11):

* Codex line mix: token_count 20%, function_call 13.5%, function_call_output 13.5%,
  response_item/message 12%, turn_context 10%, agent_message 8%, reasoning 8% (+ the same number
  of agent_reasoning mirrors), custom_tool_call(apply_patch) 1.5%, web_search_call 0.2%.
  334 of 673 token_count snapshots (~50%) repeat the previous total: Codex re-emits one after
  every turn_context.  Per model request: turn_context, token_count (repeat), reasoning,
  optional commentary message, 1-4 calls, token_count (new), outputs.
* Codex tools: exec_command 341, write_stdin 72, apply_patch 51, MCP ~30, update_plan 2;
  ~11 tool calls per user turn; turns per file 1, 1, 1, 1, 3, 38.
* Claude line mix: progress 67% (hook_progress 57%, bash_progress 8.6%, agent_progress 1.7%),
  assistant/tool_use 11%, tool_result 11%, assistant/text 7%, file-history-snapshot 1.5%,
  prompts 1.3%, thinking 0.6%.  408 assistant lines for 217 responses (one line per content
  block, usage copied, output_tokens growing).  Tools: Bash 128, Edit 68, Read 40,
  WebSearch 12, WebFetch 12, Write 8, Glob 8, TodoWrite 5, Task 3, Grep 1.
* Sizes (line bytes): Claude tool_result p50 2.4 KB, p90 9 KB, p99 23 KB, max 28 KB; assistant
  text p50 0.9 KB; thinking p50 1.4 KB; tool_use p50 1.1 KB; Codex token_count ~0.7 KB,
  turn_context ~0.9 KB, function_call ~0.2 KB.  Tool outputs here: 35% tiny (< 300 B), else
  lognormal(median 1.5 KB, sigma 1.2) which reproduces p90 ~7 KB / p99 ~24 KB.

Some sessions carry deliberate "problems" for the coach demo (see :data:`PROBLEMS`).
"""

from __future__ import annotations

import argparse
import base64
import functools
import logging
import math
import random
import re
import string
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import orjson

from sessionlens.samples import wordbank as wb

log = logging.getLogger(__name__)

#: Problems a session can be seeded with.
#: ``repeat_failure``: the same command fails the same way three times in a row;
#: ``edits_no_tests``: the session ends with file edits and no test run afterwards;
#: ``huge_output``: one tool output of hundreds of KB; ``secret``: a fake API key in the log.
PROBLEMS = ("repeat_failure", "edits_no_tests", "huge_output", "secret")

DEFAULT_START = datetime(2026, 1, 5, 8, 30, tzinfo=timezone.utc)
SAMPLE_SEED = 7
SAMPLE_BYTES = 1_500_000


@dataclass(frozen=True)
class Shape:
    """What the sessions are made of, beyond their vocabulary.  The default is the generator's
    classic output (byte-identical to earlier versions for a seed); :data:`REAL_SHAPE` adds what real
    homes hold besides: pasted screenshots and images read by the agent (base64 on one line, twice in
    Claude's lines: the message and ``toolUseResult``), large tool outputs (a log, a big file: 50 KB
    to a few MB), long single lines (minified JSON, a bundle), hooks on every Claude tool call,
    sub-agent files, and Codex's many small lines (short outputs and reasoning, long turn contexts)."""

    name: str = "generated"
    #: a Claude Read returns an image / a Claude or Codex prompt carries a pasted screenshot
    image_read_rate: float = 0.0
    image_prompt_rate: float = 0.0
    #: a tool output is a large one (lognormal around ``big_output_median`` bytes, at most 4 MB)
    big_output_rate: float = 0.0
    big_output_median: int = 150_000
    #: a tool output is one long line without newlines (minified JSON)
    long_line_rate: float = 0.0
    #: a Claude session runs hooks (progress lines around every tool call)
    hooks_rate: float = 0.5
    #: the weight of the Task tool (a sub-agent file) among Claude's tools
    task_weight: int = 2
    #: Codex: tool outputs scaled by this; reasoning's encrypted content in this range of bytes
    codex_output_scale: float = 1.0
    codex_reasoning: tuple[int, int] = (400, 2500)
    #: Codex: developer instructions repeated in every turn context (bytes)
    codex_turn_context_pad: int = 0


CLASSIC_SHAPE = Shape()
#: Calibrated on the real corpus (``tests/perf/corpus.py`` reports both side by side): Claude's
#: progress lines ~2/3 of the lines, Codex's median line ~0.2-0.3 KB, plus the heavy tail real homes hold.
REAL_SHAPE = Shape(
    name="real-shaped",
    image_read_rate=0.006,
    image_prompt_rate=0.006,
    big_output_rate=0.004,
    long_line_rate=0.004,
    hooks_rate=1.0,
    task_weight=3,
    codex_output_scale=0.3,
    codex_reasoning=(120, 600),
    codex_turn_context_pad=160,
)
SHAPES = {"generated": CLASSIC_SHAPE, "classic": CLASSIC_SHAPE, "real": REAL_SHAPE, "real-shaped": REAL_SHAPE}

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_HEX = "0123456789abcdef"
_MB = 1 << 20


# --------------------------------------------------------------------------------------------
# results


@dataclass
class GeneratedInfo:
    """What one generated session contains (used by tests and benchmark summaries)."""

    path: Path
    agent: str  # "codex" | "claude"
    session_id: str
    bytes: int
    lines: int
    turns: int
    tool_calls: int
    project: str
    problems: tuple[str, ...] = ()
    subagent_files: list[Path] = field(default_factory=list)
    subagent_bytes: int = 0
    #: Codex: the last ``total_token_usage``; Claude: the sum over distinct message ids of the
    #: largest usage copy (input, cache_creation_input, cache_read_input, output).
    token_total: dict[str, int] = field(default_factory=dict)
    #: Codex: token_count events whose total changed; Claude: distinct (message.id, requestId).
    usage_records: int = 0

    @property
    def total_bytes(self) -> int:
        return self.bytes + self.subagent_bytes


@dataclass
class CorpusInfo:
    root: Path
    sessions: list[GeneratedInfo]
    seconds: float = 0.0

    @property
    def total_bytes(self) -> int:
        return sum(s.total_bytes for s in self.sessions)

    @property
    def files(self) -> int:
        return sum(1 + len(s.subagent_files) for s in self.sessions)

    def summary(self) -> str:
        by_agent: dict[str, int] = {}
        for s in self.sessions:
            by_agent[s.agent] = by_agent.get(s.agent, 0) + 1
        biggest = max((s.bytes for s in self.sessions), default=0)
        problems = sum(1 for s in self.sessions if s.problems)
        rate = self.total_bytes / _MB / self.seconds if self.seconds else 0.0
        return (
            f"{self.root}: {len(self.sessions)} sessions ({', '.join(f'{k} {v}' for k, v in sorted(by_agent.items()))}), "
            f"{self.files} files, {self.total_bytes / _MB:.1f} MiB, largest file {biggest / _MB:.1f} MiB, "
            f"{problems} sessions with seeded problems, {self.seconds:.1f}s ({rate:.0f} MiB/s)"
        )


# --------------------------------------------------------------------------------------------
# shared text pools (built once from a fixed seed, so they never depend on the caller's rng)


class _Pools:
    def __init__(self) -> None:
        r = random.Random(20260105)
        projects = wb.PROJECTS
        self.log_text = "\n".join(_fill(r, r.choice(wb.LOG_LINES), r.choice(projects)) for _ in range(12000)) + "\n"
        self.code_text = "\n".join(_fill(r, r.choice(wb.CODE_LINES), r.choice(projects)) for _ in range(8000)) + "\n"
        self.log_starts = _line_starts(self.log_text)
        self.code_starts = _line_starts(self.code_text)
        self.b64 = base64.urlsafe_b64encode(r.randbytes(96 * 1024)).decode().rstrip("=")
        self.sig = base64.b64encode(r.randbytes(48 * 1024)).decode()
        self._png = b""

    def png_b64(self, rng: random.Random) -> str:
        """A base64 PNG of a screenshot's size (lognormal around 90 KB, 8 KB to 1.5 MB)."""
        if not self._png:
            r = random.Random(7)
            self._png = b"\x89PNG\r\n\x1a\n" + r.randbytes(1_200_000)
        n = max(8_000, min(1_150_000, int(rng.lognormvariate(math.log(68_000), 0.9))))
        s = rng.randrange(8, len(self._png) - n)
        return base64.b64encode(self._png[:8] + self._png[s : s + n]).decode()


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", text)][:-1]


@functools.lru_cache(maxsize=1)
def _pools() -> _Pools:
    return _Pools()


@functools.lru_cache(maxsize=512)
def _fields(template: str) -> tuple[str, ...]:
    return tuple(sorted({name for _, name, _, _ in string.Formatter().parse(template) if name}))


_FILLERS: dict[str, Any] = {
    "mod": lambda r, p: r.choice(p.stack.modules),
    "fn": lambda r, p: r.choice(wb.FUNCS),
    "Fn": lambda r, p: "".join(x.title() for x in r.choice(wb.FUNCS).split("_")),
    "cls": lambda r, p: r.choice(wb.CLASSES),
    "field": lambda r, p: r.choice(wb.FIELDS),
    "table": lambda r, p: r.choice(p.tables),
    "svc": lambda r, p: r.choice(p.services),
    "err": lambda r, p: r.choice(p.stack.error_types),
    "msg": lambda r, p: r.choice(wb.ERR_MSGS),
    "file": lambda r, p: f"{r.choice(p.stack.dirs)}/{r.choice(p.stack.modules)}.{p.stack.ext}",
    "test": lambda r, p: f"test_{r.choice(wb.FUNCS)}",
    "title": lambda r, p: r.choice(wb.REASONING_TITLES),
    "n": lambda r, p: r.randrange(2, 900),
    "col": lambda r, p: r.randrange(1, 80),
    "port": lambda r, p: r.choice((5432, 6379, 8000, 8080, 3000, 9000)),
    "hex": lambda r, p: "".join(r.choices(_HEX, k=12)),
    "hex2": lambda r, p: "".join(r.choices(_HEX, k=12)),
}


def _fill(rng: random.Random, template: str, proj: wb.ProjectSpec) -> str:
    """Fill the ``{placeholders}`` of a word-bank template with random project vocabulary."""
    return template.format(**{name: _FILLERS[name](rng, proj) for name in _fields(template)})


def _slice(rng: random.Random, text: str, starts: list[int], size: int) -> str:
    """About ``size`` characters of whole lines from a pool, wrapping around when needed."""
    if size <= 0:
        return ""
    parts: list[str] = []
    remaining = size
    while remaining > 0:
        s = starts[rng.randrange(len(starts))]
        end = text.find("\n", min(len(text) - 1, s + remaining))
        end = len(text) if end < 0 else end + 1
        parts.append(text[s:end])
        remaining -= end - s
    return "".join(parts)


def _out_size(rng: random.Random) -> int:
    """Tool-output size in bytes following the measured distribution (see module docstring)."""
    if rng.random() < 0.35:
        return rng.randrange(0, 300)
    return min(60_000, int(rng.lognormvariate(math.log(1500), 1.2)))


# --------------------------------------------------------------------------------------------
# ids and time


def _uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _uuid7(rng: random.Random, t: float) -> str:
    ms = int(t * 1000) & ((1 << 48) - 1)
    value = (ms << 80) | (7 << 76) | (rng.getrandbits(12) << 64) | (2 << 62) | rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def _token(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(_ALNUM, k=n))


_ISO_CACHE: dict[int, str] = {}


def _iso(t: float) -> str:
    """RFC 3339 UTC with milliseconds, like both agents write (``2026-01-05T09:00:00.123Z``)."""
    ms = int(t * 1000)
    sec = ms // 1000
    prefix = _ISO_CACHE.get(sec)
    if prefix is None:
        if len(_ISO_CACHE) > 4096:
            _ISO_CACHE.clear()
        prefix = _ISO_CACHE[sec] = datetime.fromtimestamp(sec, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.")
    return f"{prefix}{ms % 1000:03d}Z"


class _Writer:
    """Buffered JSONL writer that counts bytes and lines."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fh = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._buf: list[bytes] = []
        self._pending = 0
        self.bytes = 0
        self.lines = 0

    def emit(self, obj: dict[str, Any]) -> None:
        data = orjson.dumps(obj) + b"\n"
        self._buf.append(data)
        self._pending += len(data)
        self.bytes += len(data)
        self.lines += 1
        if self._pending > 4 * _MB:
            self._flush()

    def _flush(self) -> None:
        self._fh.write(b"".join(self._buf))
        self._buf.clear()
        self._pending = 0

    def close(self) -> None:
        self._flush()
        self._fh.close()


# --------------------------------------------------------------------------------------------
# simulated shell commands shared by both agents


@dataclass
class _Cmd:
    cmd: str
    output: str
    exit_code: int
    wall: float
    kind: str  # test | build | read | search | git | docker | ls | env | log
    path: str | None = None


class _Workspace:
    """A fake project checkout: knows its files and produces commands with plausible output."""

    def __init__(self, rng: random.Random, proj: wb.ProjectSpec, cwd: str, shape: Shape = CLASSIC_SHAPE) -> None:
        self.rng = rng
        self.shape = shape
        self.proj = proj
        self.cwd = cwd
        self.pools = _pools()
        st = proj.stack
        self.files = sorted({f"{d}/{m}.{st.ext}" for d in st.dirs[:4] for m in rng.sample(st.modules, 3)})
        self.output_scale = 1.0  # Codex's outputs under a real shape are shorter
        self.tests = [f"tests/test_{m}.{st.ext}" if st.lang == "python" else f"src/{m}.test.{st.ext}" for m in st.modules[:5]]

    def fill(self, template: str) -> str:
        return _fill(self.rng, template, self.proj)

    def sentence(self, n: int = 1) -> str:
        return " ".join(self.fill(self.rng.choice(wb.SENTENCES)) for _ in range(n))

    def file(self) -> str:
        return self.rng.choice(self.files)

    def abspath(self, rel: str) -> str:
        return f"{self.cwd}/{rel}"

    def code(self, size: int) -> str:
        return _slice(self.rng, self.pools.code_text, self.pools.code_starts, size)

    def logs(self, size: int) -> str:
        return _slice(self.rng, self.pools.log_text, self.pools.log_starts, size)

    def test_failure(self) -> str:
        rng = self.rng
        st = self.proj.stack
        err = rng.choice(st.error_types)
        return f"{err}: {rng.choice(wb.ERR_MSGS)}"

    def command(self, size_cap: int, kind: str | None = None) -> _Cmd:
        rng = self.rng
        st = self.proj.stack
        kind = kind or rng.choices(("test", "build", "read", "search", "git", "docker", "ls"), weights=(22, 10, 28, 18, 10, 6, 6))[0]
        size = min(size_cap, _out_size(rng))
        if self.output_scale != 1.0:
            size = int(size * self.output_scale)
        shape = self.shape
        if shape.big_output_rate and kind in ("test", "build", "read", "docker") and rng.random() < shape.big_output_rate:
            size = min(size_cap, 4 * _MB, int(rng.lognormvariate(math.log(shape.big_output_median), 0.9)))
        if shape.long_line_rate and rng.random() < shape.long_line_rate:
            n = min(size_cap, 2 * _MB, int(rng.lognormvariate(math.log(60_000), 1.0)))
            rows = ",".join(
                orjson.dumps({"id": i, "name": self.fill("{fn}"), "status": "ok", "path": self.file()}).decode()
                for i in range(max(1, n // 70))
            )
            return _Cmd(
                rng.choice(("curl -s localhost:8080/api/items", "cat dist/manifest.json", "jq -c . data/export.json")),
                f'{{"items":[{rows}]}}\n',
                0,
                rng.uniform(0.05, 2),
                "read",
            )
        if kind == "test":
            cmd = self.fill(rng.choice(st.test_cmds))
            failing = rng.random() < 0.28
            body = self.logs(size)
            if failing:
                failure = self.test_failure()
                tail = f"\nFAILED {rng.choice(self.tests)}::test_{rng.choice(wb.FUNCS)} - {failure}\n1 failed, {rng.randrange(3, 120)} passed in {rng.uniform(0.5, 40):.2f}s\n"
                return _Cmd(cmd, body + tail, 1, rng.uniform(1, 60), kind)
            tail = f"\n{rng.randrange(3, 300)} passed in {rng.uniform(0.4, 40):.2f}s\n"
            return _Cmd(cmd, body + tail, 0, rng.uniform(1, 60), kind)
        if kind == "build":
            cmd = self.fill(rng.choice(st.build_cmds))
            code = 1 if rng.random() < 0.15 else 0
            return _Cmd(cmd, self.logs(size), code, rng.uniform(0.5, 90), kind)
        if kind == "read":
            path = self.file()
            a = rng.randrange(1, 200)
            cmd = rng.choice((f"sed -n '{a},{a + 160}p' {path}", f"cat {path}", f"nl -ba {path} | sed -n '{a},{a + 80}p'"))
            return _Cmd(cmd, self.code(size), 0, rng.uniform(0.01, 0.2), kind, path)
        if kind == "search":
            sym = rng.choice(wb.FUNCS + wb.CLASSES)
            cmd = rng.choice((f'rg -n "{sym}" {rng.choice(st.dirs)}', f"rg --files | rg {rng.choice(st.modules)}", f"grep -rn '{sym}' ."))
            lines = [f"{self.file()}:{rng.randrange(1, 400)}:{line}" for line in self.code(min(size, 4000)).splitlines()[:40]]
            return _Cmd(cmd, "\n".join(lines) + ("\n" if lines else ""), 0 if lines else 1, rng.uniform(0.01, 0.3), kind)
        if kind == "git":
            cmd = rng.choice(("git status --short", "git diff --stat", "git log --oneline -8", "git diff"))
            if cmd == "git diff":
                out = self.code(size)
            elif cmd == "git log --oneline -8":
                out = "\n".join(f"{''.join(rng.choices(_HEX, k=7))} {self.fill(rng.choice(wb.SUMMARY_TITLES))}" for _ in range(8)) + "\n"
            else:
                out = "\n".join(f" M {f}" for f in rng.sample(self.files, min(3, len(self.files)))) + "\n"
            return _Cmd(cmd, out, 0, rng.uniform(0.01, 0.2), kind)
        if kind == "docker":
            svc = rng.choice(self.proj.services)
            cmd = rng.choice(
                (f"docker compose up -d {svc}", f"docker compose logs --tail=200 {svc}", "docker compose ps", f"docker compose build {svc}")
            )
            return _Cmd(cmd, self.logs(size), 0, rng.uniform(0.5, 30), kind)
        d = rng.choice(self.proj.stack.dirs)
        listing = "\n".join(
            f"-rw-r--r--  1 dev dev {rng.randrange(200, 40000):>6} Jan  {rng.randrange(1, 28):>2} 10:{rng.randrange(10, 59)} {f.rsplit('/', 1)[-1]}"
            for f in self.files[:12]
        )
        return _Cmd(f"ls -la {d}", f"total {rng.randrange(8, 200)}\n{listing}\n", 0, rng.uniform(0.01, 0.05), "ls")

    def repeat_failure(self) -> _Cmd:
        """A command that fails identically every time it is run (for the coach demo)."""
        st = self.proj.stack
        if self.proj.services and self.rng.random() < 0.5:
            svc = self.proj.services[0]
            port = 5432 if "postgres" in svc or svc == "db" else 8080
            out = (
                f"[+] Running 1/2\n ✔ Network {self.proj.name}_default  Created\n ⠿ Container {self.proj.name}-{svc}-1  Starting\n"
                f"Error response from daemon: driver failed programming external connectivity on endpoint "
                f"{self.proj.name}-{svc}-1: Bind for 0.0.0.0:{port} failed: port is already allocated\n"
            )
            return _Cmd(f"docker compose up -d {svc}", out, 1, 2.4, "docker")
        cmd = self.fill(st.test_cmds[1 if len(st.test_cmds) > 1 else 0])
        dep = {
            "python": "ModuleNotFoundError: No module named 'psycopg2'",
            "typescript": "Error: Cannot find module '@prisma/client'",
            "go": "package github.com/acme/internal/store: cannot find package",
            "rust": "error[E0432]: unresolved import `sqlx::postgres`",
        }[st.lang]
        out = f"ImportError while loading conftest '{self.cwd}/tests/conftest.py'.\n{dep}\nERROR: collection failed\n"
        return _Cmd(cmd, out, 1 if st.lang != "python" else 4, 1.1, "test")

    def huge_output(self, size: int) -> _Cmd:
        svc = self.rng.choice(self.proj.services)
        return _Cmd(self.rng.choice((f"docker compose logs {svc}", "cat logs/app.log", "npm ls --all")), self.logs(size), 0, 3.2, "log")

    def env_dump(self) -> _Cmd:
        out = (
            "DATABASE_URL=postgres://dev:dev@localhost:5432/app\nREDIS_URL=redis://localhost:6379/0\n"
            f"ANTHROPIC_API_KEY={wb.SECRET_TOKEN}\nOPENAI_API_KEY={wb.OPENAI_SECRET}\nLOG_LEVEL=debug\n"
        )
        return _Cmd("cat .env", out, 0, 0.01, "env")

    def patch(self, add: bool = False) -> tuple[str, str]:
        """(relative path, apply_patch body)."""
        rng = self.rng
        rel = (
            f"{rng.choice(self.proj.stack.dirs)}/{rng.choice(self.proj.stack.modules)}_{rng.choice(('utils', 'v2', 'helpers'))}.{self.proj.stack.ext}"
            if add
            else self.file()
        )
        if add:
            body = "".join(f"+{line}\n" for line in self.code(rng.randrange(200, 2500)).splitlines())
            return rel, f"*** Begin Patch\n*** Add File: {self.abspath(rel)}\n{body}*** End Patch"
        hunks = []
        for _ in range(rng.randrange(1, 4)):
            old = self.code(rng.randrange(40, 400)).splitlines()
            new = self.code(rng.randrange(40, 500)).splitlines()
            ctx = self.code(60).splitlines()[:2]
            hunks.append("@@\n" + "".join(f" {c}\n" for c in ctx) + "".join(f"-{o}\n" for o in old) + "".join(f"+{n}\n" for n in new))
        return rel, f"*** Begin Patch\n*** Update File: {self.abspath(rel)}\n{''.join(hunks)}*** End Patch"


def _check_problems(problems: Iterable[str]) -> tuple[str, ...]:
    problems = tuple(problems)
    unknown = sorted(set(problems) - set(PROBLEMS))
    if unknown:
        raise ValueError(f"unknown problems {unknown}; choose from {list(PROBLEMS)}")
    return tuple(p for p in PROBLEMS if p in problems)


def _plan_problem_turns(rng: random.Random, problems: Iterable[str], turns: int) -> dict[str, int]:
    """Which turn each problem lands in (edits_no_tests always in the last turn)."""
    out: dict[str, int] = {}
    for p in problems:
        out[p] = turns - 1 if p == "edits_no_tests" else rng.randrange(turns)
    return out


def _problems_for_turn(problems: tuple[str, ...], where: dict[str, int], turn: int, final: bool) -> list[str]:
    """Problems to inject in ``turn``: ``edits_no_tests`` in the final turn, the rest where planned."""
    out = []
    for p in problems:
        if p == "edits_no_tests":
            if final:
                out.append(p)
        elif where.get(p) == turn or (final and where.get(p, 0) > turn):
            out.append(p)
    return out


def _default_turns(rng: random.Random) -> int:
    # corpus: most files have 1-3 turns, a few have dozens
    return min(40, 1 + int(rng.expovariate(1 / 3)))


def _steps(rng: random.Random) -> int:
    return min(25, 1 + int(rng.expovariate(1 / 4)))


# --------------------------------------------------------------------------------------------
# Codex


class _Codex:
    CONTEXT_WINDOW = 258400

    def __init__(self, rng: random.Random, w: _Writer, ws: _Workspace, start: datetime, model: str) -> None:
        self.rng = rng
        self.w = w
        self.ws = ws
        self.t = start.timestamp()
        self.model = model
        self.ctx_tokens = rng.randrange(9000, 16000)
        self.total: dict[str, int] | None = None
        self.last: dict[str, int] | None = None
        self.usage_records = 0
        self.tool_calls = 0
        self.turn_id = ""
        self.rl_primary = rng.uniform(1, 30)
        self.rl_secondary = rng.uniform(1, 40)
        self.resets = int(self.t) + rng.randrange(3600, 18000)
        self.history: list[dict[str, Any]] = []

    def tick(self, lo: float, hi: float) -> None:
        self.t += self.rng.uniform(lo, hi)

    def line(self, typ: str, payload: dict[str, Any]) -> None:
        self.w.emit({"timestamp": _iso(self.t), "type": typ, "payload": payload})
        self.t += self.rng.uniform(0.0005, 0.02)

    def event(self, payload: dict[str, Any]) -> None:
        self.line("event_msg", payload)

    def item(self, payload: dict[str, Any]) -> None:
        self.line("response_item", payload)

    def rate_limits(self) -> dict[str, Any]:
        self.rl_primary = min(100.0, self.rl_primary + self.rng.random() * 0.3)
        return {
            "limit_id": "codex",
            "limit_name": None,
            "primary": {"used_percent": float(int(self.rl_primary)), "window_minutes": 300, "resets_at": self.resets},
            "secondary": {"used_percent": float(int(self.rl_secondary)), "window_minutes": 10080, "resets_at": self.resets + 400000},
            "credits": {"has_credits": False, "unlimited": False, "balance": None},
            "plan_type": None,
        }

    def token_count(self, new: bool, output_tokens: int = 0) -> None:
        """Emit a token_count; ``new`` bills one request, otherwise re-emit the last totals."""
        if new:
            rng = self.rng
            inp = self.ctx_tokens
            cached = min(inp, (int(inp * rng.uniform(0.75, 0.99)) // 128) * 128)
            reasoning = int(output_tokens * rng.uniform(0.0, 0.6))
            last = {
                "input_tokens": inp,
                "cached_input_tokens": cached,
                "output_tokens": output_tokens,
                "reasoning_output_tokens": reasoning,
                "total_tokens": inp + output_tokens,
            }
            prev = self.total or dict.fromkeys(last, 0)
            self.total = {k: prev[k] + v for k, v in last.items()}
            self.last = last
            self.ctx_tokens += output_tokens
            self.usage_records += 1
        info = (
            None
            if self.total is None
            else {
                "total_token_usage": dict(self.total),
                "last_token_usage": dict(self.last or {}),
                "model_context_window": self.CONTEXT_WINDOW,
            }
        )
        self.event({"type": "token_count", "info": info, "rate_limits": self.rate_limits()})

    def turn_context(self) -> None:
        cwd = self.ws.cwd
        pad = self.ws.shape.codex_turn_context_pad
        extra = {"developer_instructions": ("<collaboration_mode>" + self.ws.pools.log_text[:pad] + "</collaboration_mode>")} if pad else {}
        self.line(
            "turn_context",
            {
                **extra,
                "turn_id": self.turn_id,
                "cwd": cwd,
                "approval_policy": "on-request",
                "sandbox_policy": {
                    "type": "workspace-write",
                    "writable_roots": [cwd],
                    "network_access": False,
                    "exclude_tmpdir_env_var": False,
                    "exclude_slash_tmp": False,
                },
                "model": self.model,
                "personality": "pragmatic",
                "collaboration_mode": {
                    "mode": "default",
                    "settings": {"model": self.model, "reasoning_effort": "high", "developer_instructions": None},
                },
                "effort": "high",
                "summary": "auto",
                "user_instructions": f"# AGENTS.md\n- Run `{self.ws.proj.stack.test_cmds[0]}` before you finish.\n- Keep changes small.",
                "truncation_policy": {"mode": "tokens", "limit": 10000},
            },
        )
        self.token_count(new=False)

    def reasoning(self) -> None:
        title = f"**{self.rng.choice(wb.REASONING_TITLES)}**"
        self.event({"type": "agent_reasoning", "text": title})
        enc = self.ws.pools.b64
        n = self.rng.randrange(*self.ws.shape.codex_reasoning)
        s = self.rng.randrange(0, len(enc) - n)
        self.item(
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": title}],
                "content": None,
                "encrypted_content": "gAAAAA" + enc[s : s + n],
            }
        )

    def agent_message(self, text: str, phase: str) -> None:
        self.event({"type": "agent_message", "message": text})
        self.item({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}], "phase": phase})

    def call_id(self) -> str:
        return "call_" + _token(self.rng, 24)

    def exec_output(self, c: _Cmd) -> str:
        chunk = "".join(self.rng.choices(_HEX, k=6))
        return (
            f"Chunk ID: {chunk}\nWall time: {c.wall:.4f} seconds\nProcess exited with code {c.exit_code}\n"
            f"Original token count: {len(c.output) // 4}\nOutput:\n{c.output}"
        )


def generate_codex_session(
    rng: random.Random,
    *,
    path: Path,
    start: datetime,
    target_bytes: int | None = None,
    turns: int | None = None,
    cwd: str,
    project: wb.ProjectSpec | None = None,
    model: str = "gpt-5.3-codex",
    problems: Iterable[str] = (),
    session_id: str | None = None,
    shape: Shape = CLASSIC_SHAPE,
) -> GeneratedInfo:
    """Write one Codex rollout (wrapped era, 0.104-style) to ``path``.

    Generation stops after ``turns`` user turns, or else once the file reaches
    ``target_bytes`` (±10% from ~50 KB up; seeded problems add up to ~30 KB); with neither, a
    turn count is drawn from the measured distribution.  ``problems`` is a subset of
    :data:`PROBLEMS`.
    """
    problems = _check_problems(problems)
    proj = project or rng.choice(wb.PROJECTS)
    ws = _Workspace(rng, proj, cwd, shape)
    ws.output_scale = shape.codex_output_scale
    sid = session_id or _uuid7(rng, start.timestamp())
    n_turns = turns if turns is not None else (None if target_bytes else _default_turns(rng))
    where = _plan_problem_turns(rng, problems, n_turns or 1)
    final = False
    w = _Writer(path)
    c = _Codex(rng, w, ws, start, model)
    budget = target_bytes or 0

    def over(frac: float = 0.97) -> bool:
        return bool(budget) and w.bytes >= budget * frac

    def cap() -> int:
        return max(200, (budget - w.bytes) // 3) if budget else 10**9

    c.line(
        "session_meta",
        {
            "id": sid,
            "timestamp": _iso(c.t - rng.uniform(0.5, 20)),
            "cwd": cwd,
            "originator": rng.choice(("codex_cli_rs", "Codex Desktop", "codex_exec")),
            "cli_version": rng.choice(("0.104.0", "0.104.0-alpha.1", "0.101.0")),
            "source": "cli",
            "model_provider": "openai",
            "base_instructions": {
                "text": "You are Codex, based on GPT-5. You are running as a coding agent in the Codex CLI on a user's computer.\n\n"
                + ws.sentence(12)
            },
            "git": {
                "commit_hash": "".join(rng.choices(_HEX, k=40)),
                "branch": rng.choice(("main", "main", "develop", f"feature/{proj.stack.modules[0]}")),
                "repository_url": f"git@github.com:acme/{proj.name}.git",
            },
        },
    )
    c.item(
        {
            "type": "message",
            "role": "developer",
            "content": [
                {
                    "type": "input_text",
                    "text": "<permissions instructions>Filesystem sandboxing defines which files can be read or written. `sandbox_mode` is `workspace-write`. Network access is restricted. `approval_policy` is `on-request`.</permissions instructions>",
                }
            ],
        }
    )
    c.item(
        {
            "type": "message",
            "role": "user",
            "content": [
                {
                    "type": "input_text",
                    "text": f"# AGENTS.md instructions for {cwd}\n\n<INSTRUCTIONS>\n- Run `{proj.stack.test_cmds[0]}` before finishing.\n- Use `docker compose` for services.\n</INSTRUCTIONS>",
                }
            ],
        }
    )
    c.item(
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": f"<environment_context>\n  <cwd>{cwd}</cwd>\n  <shell>zsh</shell>\n</environment_context>"}
            ],
        }
    )

    # with a byte budget, stop a little early when an "edits without tests" turn must follow
    stop_at = 0.90 if "edits_no_tests" in problems else 0.97
    done_turns = 0
    while True:
        final = n_turns is not None and done_turns == n_turns - 1
        _codex_turn(c, _problems_for_turn(problems, where, done_turns, final), over, cap, budget)
        done_turns += 1
        if final or (budget and over(stop_at)):
            break
        # occasional compaction between turns, always when the context gets large
        if c.ctx_tokens > 180_000 or rng.random() < 0.03:
            repl = c.history[-8:] + [{"type": "compaction", "encrypted_content": "gAAAAA" + ws.pools.b64[: rng.randrange(2000, 13000)]}]
            c.tick(5, 40)
            c.line("compacted", {"message": "", "replacement_history": repl})
            c.event({"type": "context_compacted"})
            c.ctx_tokens = rng.randrange(15000, 30000)
    if not final and "edits_no_tests" in problems:  # the byte budget ended the session
        _codex_turn(c, ["edits_no_tests"], over, cap, budget)
        done_turns += 1
    w.close()
    return GeneratedInfo(
        path=path,
        agent="codex",
        session_id=sid,
        bytes=w.bytes,
        lines=w.lines,
        turns=done_turns,
        tool_calls=c.tool_calls,
        project=proj.name,
        problems=problems,
        token_total=dict(c.total or {}),
        usage_records=c.usage_records,
    )


def _codex_turn(c: _Codex, problems: list[str], over: Callable[..., bool], cap: Callable[[], int], budget: int) -> None:
    rng, ws = c.rng, c.ws
    c.tick(20, 900)
    c.turn_id = _uuid7(rng, c.t)
    prompt = ws.fill(rng.choice(wb.PROMPTS))
    if "secret" in problems and rng.random() < 0.5:
        prompt += f"\nUse this key for the integration test: ANTHROPIC_API_KEY={wb.SECRET_TOKEN}"
        problems = [p for p in problems if p != "secret"]
    c.event({"type": "task_started", "turn_id": c.turn_id, "model_context_window": c.CONTEXT_WINDOW, "collaboration_mode_kind": "default"})
    content: list[dict[str, Any]] = [{"type": "input_text", "text": prompt}]
    if ws.shape.image_prompt_rate and rng.random() < ws.shape.image_prompt_rate:  # a pasted screenshot
        content = [
            {"type": "input_text", "text": "<image name=[Image #1]>"},
            {"type": "input_image", "image_url": "data:image/png;base64," + ws.pools.png_b64(rng)},
            {"type": "input_text", "text": "</image>"},
            {"type": "input_text", "text": prompt + " [Image #1]"},
        ]
    c.item({"type": "message", "role": "user", "content": content})
    c.history.append({"type": "message", "role": "user", "content": [{"type": "input_text", "text": prompt}]})
    c.event({"type": "user_message", "message": prompt, "images": [], "local_images": [], "text_elements": []})
    c.ctx_tokens += len(prompt) // 4 + 40

    # build the list of planned steps: each step is a list of call kinds
    n_steps = _steps(rng)
    plan: list[list[Any]] = []
    for _ in range(n_steps):
        k = rng.choices((1, 2, 3, 4), weights=(55, 25, 12, 8))[0]
        plan.append([rng.choices(("exec", "patch", "web", "mcp"), weights=(80, 12, 2, 4))[0] for _ in range(k)])
    no_tests = "edits_no_tests" in problems
    if no_tests:  # read a little, then edit, and never run the tests afterwards
        plan = [[("kind", rng.choice(("read", "search")))] for _ in range(rng.randrange(1, 3))] + [
            ["patch"] for _ in range(rng.randrange(2, 4))
        ]

    def insert(steps: list[list[Any]]) -> None:
        at = 0 if no_tests else rng.randrange(len(plan) + 1)
        plan[at:at] = steps

    if "repeat_failure" in problems:
        failing = ws.repeat_failure()
        insert([[("fixed", failing)] for _ in range(3)])
    if "huge_output" in problems:
        size = max(48_000, min(2 * _MB, (budget // 5) if budget else 400_000))
        insert([[("fixed", ws.huge_output(size))]])
    if "secret" in problems:
        insert([[("fixed", ws.env_dump())]])

    aborted = rng.random() < 0.04 and not no_tests
    abort_at = rng.randrange(len(plan)) if aborted and plan else -1
    for si, step in enumerate(plan):
        c.tick(1, 25)
        c.turn_context()
        c.reasoning()
        if rng.random() < 0.6:
            c.agent_message(ws.sentence(rng.randrange(1, 3)), "commentary")
        outputs: list[dict[str, Any]] = []
        for call in step:
            c.tool_calls += 1
            cid = c.call_id()
            if call == "web":
                q = ws.fill(
                    rng.choice(
                        (
                            "{err} {msg} python",
                            "docker compose healthcheck {svc}",
                            "alembic migration add column default {table}",
                            "pytest fixture {fn} async",
                        )
                    )
                )
                c.item({"type": "web_search_call", "status": "completed", "action": {"type": "search", "query": q, "queries": [q]}})
                continue
            if call == "patch":
                rel, body = ws.patch(add=rng.random() < 0.15)
                c.item({"type": "custom_tool_call", "status": "completed", "call_id": cid, "name": "apply_patch", "input": body})
                ok = rng.random() > 0.05
                msg = (
                    f"Success. Updated the following files:\n{'A' if '*** Add File' in body else 'M'} {ws.abspath(rel)}\n"
                    if ok
                    else f"apply_patch verification failed: Failed to find expected lines in {ws.abspath(rel)}"
                )
                outputs.append(
                    {
                        "type": "custom_tool_call_output",
                        "call_id": cid,
                        "output": orjson.dumps(
                            {"output": msg, "metadata": {"exit_code": 0 if ok else 1, "duration_seconds": round(rng.uniform(0, 0.3), 1)}}
                        ).decode(),
                    }
                )
                continue
            if call == "mcp":
                sql = ws.fill("SELECT id, {field} FROM {table} ORDER BY created_at DESC LIMIT 20")
                c.item(
                    {
                        "type": "function_call",
                        "name": "mcp__postgres__query",
                        "arguments": orjson.dumps({"sql": sql}).decode(),
                        "call_id": cid,
                    }
                )
                rows = [{"id": rng.randrange(1, 99999), "value": _token(rng, 12)} for _ in range(rng.randrange(0, 20))]
                outputs.append({"type": "function_call_output", "call_id": cid, "output": orjson.dumps(rows).decode()})
                continue
            if isinstance(call, tuple) and call[0] == "fixed":
                cmd = call[1]
            elif isinstance(call, tuple):
                cmd = ws.command(cap(), call[1])
            else:
                cmd = ws.command(cap())
            args: dict[str, Any] = {"cmd": cmd.cmd}
            if rng.random() < 0.5:
                args["workdir"] = ws.cwd
            if cmd.wall > 10 and rng.random() < 0.3:
                args["yield_time_ms"] = 10000
            c.item({"type": "function_call", "name": "exec_command", "arguments": orjson.dumps(args).decode(), "call_id": cid})
            outputs.append({"type": "function_call_output", "call_id": cid, "output": c.exec_output(cmd)})
            c.ctx_tokens += len(cmd.output) // 4
        c.token_count(new=True, output_tokens=rng.randrange(30, 900))
        if si == abort_at:
            c.tick(2, 30)
            c.event({"type": "turn_aborted", "turn_id": c.turn_id, "reason": "interrupted"})
            return
        c.tick(0.05, 15)
        for out in outputs:
            c.item(out)
        if over(0.99) and not no_tests:
            break
    c.tick(1, 20)
    c.turn_context()
    c.reasoning()
    answer = ws.sentence(rng.randrange(2, 7))
    c.agent_message(answer, "final_answer")
    c.history.append(
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": answer}], "phase": "final_answer"}
    )
    c.token_count(new=True, output_tokens=len(answer) // 4 + rng.randrange(20, 400))
    c.event({"type": "task_complete", "turn_id": c.turn_id, "last_agent_message": answer})


# --------------------------------------------------------------------------------------------
# Claude Code

_REJECTED = (
    "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, "
    "the new_string was NOT written to the file). STOP what you are doing and wait for the user to tell you how to proceed."
)
_TOOL_WEIGHTS = (
    ("Bash", 42),
    ("Edit", 20),
    ("Read", 16),
    ("Grep", 6),
    ("Glob", 4),
    ("Write", 4),
    ("WebSearch", 3),
    ("TodoWrite", 3),
    ("Task", 2),
)


class _Claude:
    def __init__(
        self,
        rng: random.Random,
        w: _Writer,
        ws: _Workspace,
        start: datetime,
        model: str,
        sid: str,
        version: str,
        branch: str,
        slug: str,
        agent_id: str | None = None,
    ) -> None:
        self.rng, self.w, self.ws = rng, w, ws
        self.t = start.timestamp()
        self.model = model
        self.sid = sid
        self.parent: str | None = None
        self.common: dict[str, Any] = {
            "isSidechain": agent_id is not None,
            "userType": "external",
            "cwd": ws.cwd,
            "sessionId": sid,
            "version": version,
            "gitBranch": branch,
        }
        if agent_id is not None:
            self.common["agentId"] = agent_id
        self.common["slug"] = slug
        self.ctx_tokens = rng.randrange(12000, 26000)
        self.pending_tokens = rng.randrange(2000, 9000)
        self.sub_responses: dict[str, dict[str, int]] = {}
        self.responses: dict[str, dict[str, int]] = {}
        self.tool_calls = 0
        self.hooks = agent_id is None and rng.random() < ws.shape.hooks_rate
        self.edited: list[str] = []
        self.subagents: list[tuple[Path, int]] = []

    def tick(self, lo: float, hi: float) -> None:
        self.t += self.rng.uniform(lo, hi)

    def entry(self, typ: str, fields: dict[str, Any], parent: str | None | bool = True, advance: bool = True) -> str:
        """Write a uuid-carrying line; returns its uuid.  ``parent=True`` chains to the previous line."""
        u = _uuid4(self.rng)
        obj = {
            "parentUuid": self.parent if parent is True else parent,
            **self.common,
            "type": typ,
            **fields,
            "uuid": u,
            "timestamp": _iso(self.t),
        }
        self.w.emit(obj)
        if advance:
            self.parent = u
        self.t += self.rng.uniform(0.001, 0.05)
        return u

    def progress(self, data: dict[str, Any], tool_use_id: str, parent_tool_use_id: str) -> None:
        u = _uuid4(self.rng)
        self.w.emit(
            {
                "parentUuid": self.parent,
                **self.common,
                "type": "progress",
                "data": data,
                "toolUseID": tool_use_id,
                "parentToolUseID": parent_tool_use_id,
                "uuid": u,
                "timestamp": _iso(self.t),
            }
        )
        self.t += self.rng.uniform(0.001, 0.3)

    def hook(self, event: str, tool: str, tool_use_id: str) -> None:
        if not self.hooks:
            return
        for cmd in ("$HOME/.claude/hooks/notify.sh mark", "cd ${CLAUDE_PLUGIN_ROOT}/hooks && bun run ./dist/on-tool.js"):
            self.progress(
                {"type": "hook_progress", "hookEvent": event, "hookName": f"{event}:{tool}", "command": cmd}, tool_use_id, tool_use_id
            )

    def prompt(self, text: str, image: str | None = None) -> str:
        u = _uuid4(self.rng)
        backups = {
            f: {"backupFileName": f"{''.join(self.rng.choices(_HEX, k=16))}@v1", "version": 1, "backupTime": _iso(self.t)}
            for f in self.edited[-5:]
        }
        self.w.emit(
            {
                "type": "file-history-snapshot",
                "messageId": u,
                "snapshot": {"messageId": u, "trackedFileBackups": backups, "timestamp": _iso(self.t)},
                "isSnapshotUpdate": False,
            }
        )
        content: Any = (
            text
            if image is None
            else [{"type": "text", "text": text}, {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": image}}]
        )
        self.w.emit(
            {
                "parentUuid": self.parent,
                **self.common,
                "type": "user",
                "message": {"role": "user", "content": content},
                "uuid": u,
                "timestamp": _iso(self.t),
                "thinkingMetadata": {"maxThinkingTokens": 31999},
                "todos": [],
                "permissionMode": "acceptEdits",
            }
        )
        self.parent = u
        self.pending_tokens += len(text) // 4 + 10
        return u

    def response(self, blocks: list[dict[str, Any]]) -> list[str]:
        """One API response, written one line per content block with a growing usage copy."""
        rng = self.rng
        msg_id = "msg_01" + _token(rng, 22)
        req_id = "req_011C" + _token(rng, 20)
        out_final = sum(len(orjson.dumps(b)) for b in blocks) // 4 + rng.randrange(5, 60)
        creation = self.pending_tokens
        cache_read = self.ctx_tokens
        inp = rng.choice((1, 3, 3, 3, 5, 8))
        uuids = []
        for i, block in enumerate(blocks):
            out = out_final if i == len(blocks) - 1 else max(1, min(out_final, rng.randrange(1, 40) + out_final * i // len(blocks)))
            usage = {
                "input_tokens": inp,
                "cache_creation_input_tokens": creation,
                "cache_read_input_tokens": cache_read,
                "cache_creation": {"ephemeral_5m_input_tokens": creation, "ephemeral_1h_input_tokens": 0},
                "output_tokens": out,
                "service_tier": "standard",
                "inference_geo": "global",
            }
            message = {
                "model": self.model,
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": usage,
            }
            uuids.append(self.entry("assistant", {"message": message, "requestId": req_id}))
            self.tick(0.2, 3)
        self.responses[f"{msg_id}:{req_id}"] = {
            "input_tokens": inp,
            "cache_creation_input_tokens": creation,
            "cache_read_input_tokens": cache_read,
            "output_tokens": out_final,
        }
        self.ctx_tokens += creation + out_final
        self.pending_tokens = 0
        return uuids

    def thinking(self) -> dict[str, Any]:
        sig = self.ws.pools.sig
        n = self.rng.randrange(200, 1400)
        s = self.rng.randrange(0, len(sig) - n)
        return {"type": "thinking", "thinking": self.ws.sentence(self.rng.randrange(2, 8)), "signature": "Eu" + sig[s : s + n]}

    def tool_result(self, tool_use_id: str, source: str, content: Any, result: Any, is_error: bool = False) -> None:
        block: dict[str, Any] = {"tool_use_id": tool_use_id, "type": "tool_result", "content": content}
        if is_error:
            block["is_error"] = True
        self.entry("user", {"message": {"role": "user", "content": [block]}, "toolUseResult": result, "sourceToolAssistantUUID": source})
        self.pending_tokens += len(content if isinstance(content, str) else orjson.dumps(content)) // 4


def _step(name: str) -> tuple[str, _Cmd | None]:
    return (name, None)


def _claude_tool(
    c: _Claude, name: str, cap: int, fixed: _Cmd | None = None, reject: bool = False
) -> tuple[dict[str, Any], Callable[[str, str], None]]:
    """(tool_use input, ``finish(tool_use_id, assistant_uuid)`` writing the progress + result lines)."""
    rng, ws = c.rng, c.ws
    if name == "Bash":
        cmd = fixed or ws.command(cap)
        inp: dict[str, Any] = {
            "command": cmd.cmd,
            "description": ws.fill(rng.choice(("Run the {mod} tests", "Inspect {file}", "Check {svc} status", "Search for {fn}"))),
        }
        if cmd.wall > 20:
            inp["timeout"] = 300000

        def finish(tid: str, src: str) -> None:
            c.hook("PreToolUse", "Bash", tid)
            if reject:
                c.tool_result(tid, src, _REJECTED, "User rejected tool use", True)
                return
            for k in range(0 if c.common["isSidechain"] else min(6, int(cmd.wall // 3))):
                tail = cmd.output[-80:]
                c.progress(
                    {
                        "type": "bash_progress",
                        "output": tail,
                        "fullOutput": tail,
                        "elapsedTimeSeconds": 3 * (k + 1),
                        "totalLines": cmd.output.count("\n"),
                        "timeoutMs": inp.get("timeout", 120000),
                    },
                    f"bash-progress-{k}",
                    tid,
                )
            c.t += cmd.wall
            c.hook("PostToolUse", "Bash", tid)
            if cmd.exit_code:
                text = f"Exit code {cmd.exit_code}\n{cmd.output}"
                c.tool_result(tid, src, text, "Error: " + text, True)
            else:
                c.tool_result(
                    tid,
                    src,
                    cmd.output,
                    {"stdout": cmd.output, "stderr": "", "interrupted": False, "isImage": False, "noOutputExpected": False},
                )

        return inp, finish
    if name in ("Read", "Edit", "Write"):
        rel = (
            ws.file()
            if name != "Write"
            else f"{rng.choice(ws.proj.stack.dirs)}/{rng.choice(ws.proj.stack.modules)}_helpers.{ws.proj.stack.ext}"
        )
        path = ws.abspath(rel)
        if name == "Read" and ws.shape.image_read_rate and rng.random() < ws.shape.image_read_rate:
            png = ws.pools.png_b64(rng)
            path = ws.abspath(f"docs/screenshots/{rng.choice(wb.FUNCS)}.png")
            inp = {"file_path": path}

            def finish(tid: str, src: str) -> None:
                c.hook("PostToolUse", "Read", tid)
                c.tool_result(
                    tid,
                    src,
                    [{"type": "image", "source": {"type": "base64", "data": png, "media_type": "image/png"}}],
                    {
                        "type": "image",
                        "file": {
                            "base64": png,
                            "type": "image/png",
                            "originalSize": len(png) * 3 // 4,
                            "dimensions": {"originalWidth": 1512, "originalHeight": 982},
                        },
                    },
                )

            return inp, finish
        if name == "Read":
            text = ws.code(min(cap, max(200, _out_size(rng) // 2)))
            lines = text.splitlines()
            inp = {"file_path": path}

            def finish(tid: str, src: str) -> None:
                numbered = "\n".join(f"{i:>6}→{line}" for i, line in enumerate(lines, 1))
                c.hook("PostToolUse", "Read", tid)
                c.tool_result(
                    tid,
                    src,
                    numbered,
                    {
                        "type": "text",
                        "file": {"filePath": path, "content": text, "numLines": len(lines), "startLine": 1, "totalLines": len(lines)},
                    },
                )

            return inp, finish
        if name == "Write":
            content = ws.code(rng.randrange(300, 3000))
            inp = {"file_path": path, "content": content}

            def finish(tid: str, src: str) -> None:
                c.edited.append(path)
                c.hook("PostToolUse", "Write", tid)
                c.tool_result(
                    tid,
                    src,
                    f"File created successfully at: {path}",
                    {"type": "create", "filePath": path, "content": content, "structuredPatch": [], "originalFile": None},
                )

            return inp, finish
        original = ws.code(min(cap, rng.randrange(800, 12000)))
        olines = original.splitlines() or [""]
        a = rng.randrange(len(olines))
        old = "\n".join(olines[a : a + rng.randrange(1, 6)])
        new = ws.code(rng.randrange(40, 400)).rstrip("\n")
        inp = {"replace_all": False, "file_path": path, "old_string": old, "new_string": new}

        def finish(tid: str, src: str) -> None:
            c.hook("PreToolUse", "Edit", tid)
            if reject:
                c.tool_result(tid, src, _REJECTED, "User rejected tool use", True)
                return
            c.edited.append(path)
            c.hook("PostToolUse", "Edit", tid)
            snippet = "\n".join(f"{i:>6}→{line}" for i, line in enumerate(new.splitlines(), a + 1))
            patch = [
                {
                    "oldStart": a + 1,
                    "oldLines": old.count("\n") + 1,
                    "newStart": a + 1,
                    "newLines": new.count("\n") + 1,
                    "lines": [f"-{x}" for x in old.splitlines()] + [f"+{x}" for x in new.splitlines()],
                }
            ]
            c.tool_result(
                tid,
                src,
                f"The file {path} has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n{snippet}",
                {
                    "filePath": path,
                    "oldString": old,
                    "newString": new,
                    "originalFile": original,
                    "structuredPatch": patch,
                    "userModified": False,
                    "replaceAll": False,
                },
            )

        return inp, finish
    if name == "Grep":
        pattern = rng.choice(wb.FUNCS + wb.CLASSES)
        inp = {"pattern": pattern, "path": ws.cwd, "output_mode": "content"}
        hits = [f"{ws.abspath(ws.file())}:{rng.randrange(1, 400)}:{line}" for line in ws.code(rng.randrange(0, 3000)).splitlines()[:30]]

        def finish(tid: str, src: str) -> None:
            text = "\n".join(hits) if hits else "No matches found"
            c.tool_result(tid, src, text, {"mode": "content", "numFiles": 0, "filenames": [], "content": text, "numLines": len(hits)})

        return inp, finish
    if name == "Glob":
        pattern = f"{rng.choice(ws.proj.stack.dirs)}/**/*.{ws.proj.stack.ext}"
        names = [ws.abspath(f) for f in ws.files]
        inp = {"pattern": pattern}

        def finish(tid: str, src: str) -> None:
            c.hook("PostToolUse", "Glob", tid)
            c.tool_result(
                tid,
                src,
                "\n".join(names),
                {"filenames": names, "durationMs": rng.randrange(2, 90), "numFiles": len(names), "truncated": False},
            )

        return inp, finish
    if name == "WebSearch":
        q = ws.fill(
            rng.choice(
                (
                    "{err} {msg}",
                    "docker compose healthcheck {svc}",
                    "pytest parametrize fixture {fn}",
                    "postgres migration add column not null default",
                )
            )
        )
        inp = {"query": q}

        def finish(tid: str, src: str) -> None:
            links = [
                {"title": f"{q} - Stack Overflow", "url": f"https://stackoverflow.com/questions/{rng.randrange(10**7, 8 * 10**7)}"},
                {"title": f"{ws.proj.stack.lang} docs", "url": f"https://docs.example.org/{ws.proj.stack.lang}/{rng.choice(wb.FUNCS)}"},
            ]
            text = f'Web search results for query: "{q}"\n\nLinks: {orjson.dumps(links).decode()}\n\n{ws.sentence(3)}'
            c.tool_result(
                tid,
                src,
                text,
                {
                    "query": q,
                    "results": [{"tool_use_id": "srvtoolu_01" + _token(rng, 22), "content": links}, ws.sentence(2)],
                    "durationSeconds": round(rng.uniform(2, 12), 3),
                },
            )

        return inp, finish
    if name == "TodoWrite":
        todos = [
            {"content": ws.fill(t), "status": s, "activeForm": ws.fill(t)}
            for t, s in zip(rng.sample(wb.SUMMARY_TITLES, 3), ("completed", "in_progress", "pending"))
        ]
        inp = {"todos": todos}

        def finish(tid: str, src: str) -> None:
            c.tool_result(
                tid,
                src,
                "Todos have been modified successfully. Ensure that you continue to use the todo list to track your progress. Please proceed with the current tasks if applicable",
                {"oldTodos": [], "newTodos": todos},
            )

        return inp, finish
    # Task: a sub-agent in <sid>/subagents/agent-<id>.jsonl
    desc = ws.fill(rng.choice(("Find callers of {fn}", "Investigate {err} in {mod}", "Review {file} for bugs")))
    prompt = ws.fill(rng.choice(wb.PROMPTS)) + "\nReport file paths and line numbers."
    inp = {"description": desc, "prompt": prompt, "subagent_type": rng.choice(("general-purpose", "Explore"))}

    def finish_task(tid: str, src: str) -> None:
        sub_start = c.t
        agent_id = "a" + "".join(rng.choices(_HEX, k=6))
        sub_path = c.w.path.parent / c.sid / "subagents" / f"agent-{agent_id}.jsonl"
        sub_w = _Writer(sub_path)
        sub = _Claude(
            rng,
            sub_w,
            ws,
            datetime.fromtimestamp(c.t, timezone.utc),
            "claude-sonnet-4-5-20250929",
            c.sid,
            c.common["version"],
            c.common["gitBranch"],
            c.common["slug"],
            agent_id=agent_id,
        )
        sub.entry("user", {"message": {"role": "user", "content": prompt}}, parent=None)
        n_steps = rng.randrange(1, 5)
        for _ in range(n_steps):
            tname = rng.choice(("Read", "Grep", "Bash", "Glob"))
            tinp, tfinish = _claude_tool(sub, tname, min(cap, 20000))
            sub_tid = "toolu_01" + _token(rng, 22)
            src_uuid = sub.response([{"type": "tool_use", "id": sub_tid, "name": tname, "input": tinp, "caller": {"type": "direct"}}])[-1]
            c.progress(
                {
                    "message": {
                        "type": "assistant",
                        "message": {"role": "assistant", "content": [{"type": "tool_use", "id": sub_tid, "name": tname, "input": tinp}]},
                        "uuid": src_uuid,
                        "timestamp": _iso(sub.t),
                    },
                    "normalizedMessages": [],
                    "type": "agent_progress",
                    "prompt": prompt,
                    "agentId": agent_id,
                },
                "agent_msg_01" + _token(rng, 22),
                tid,
            )
            sub.tick(0.5, 5)
            tfinish(sub_tid, src_uuid)
            sub.tool_calls += 1
        final = ws.sentence(rng.randrange(3, 8))
        sub.response([{"type": "text", "text": final}])
        sub_w.close()
        c.subagents.append((sub_path, sub_w.bytes))
        c.t = max(c.t, sub.t)
        total = {
            k: sum(r[k] for r in sub.responses.values())
            for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")
        }
        c.tool_result(
            tid,
            src,
            [{"type": "text", "text": final}],
            {
                "status": "completed",
                "prompt": prompt,
                "agentId": agent_id,
                "content": [{"type": "text", "text": final}],
                "totalDurationMs": int((sub.t - sub_start) * 1000),
                "totalTokens": sum(total.values()),
                "totalToolUseCount": sub.tool_calls,
                "usage": {**total, "service_tier": "standard"},
            },
        )
        c.sub_responses.update(sub.responses)

    return inp, finish_task


def generate_claude_session(
    rng: random.Random,
    *,
    path: Path,
    start: datetime,
    target_bytes: int | None = None,
    turns: int | None = None,
    cwd: str,
    project: wb.ProjectSpec | None = None,
    model: str = "claude-opus-4-6",
    problems: Iterable[str] = (),
    session_id: str | None = None,
    version: str = "2.1.39",
    shape: Shape = CLASSIC_SHAPE,
) -> GeneratedInfo:
    """Write one Claude Code transcript (2.1.x-style) to ``path`` (+ ``<sid>/subagents/``).

    ``path`` should be ``<projects>/<escaped-cwd>/<session_id>.jsonl``; the session id defaults
    to the file stem when it looks like a uuid.  Sizing works as in
    :func:`generate_codex_session` (the byte budget covers the main file only).
    """
    problems = _check_problems(problems)
    proj = project or rng.choice(wb.PROJECTS)
    ws = _Workspace(rng, proj, cwd, shape)
    sid = session_id or (path.stem if len(path.stem) == 36 else _uuid4(rng))
    n_turns = turns if turns is not None else (None if target_bytes else _default_turns(rng))
    where = _plan_problem_turns(rng, problems, n_turns or 1)
    w = _Writer(path)
    slug = (
        "-".join(rng.choice(("lexical", "humble", "quiet", "brisk", "amber", "cosmic", "tidy", "bold", "lucky", "swift")) for _ in range(1))
        + "-"
        + rng.choice(("painting", "seeking", "river", "falcon", "garden", "compass", "lantern"))
        + "-"
        + rng.choice(("whisper", "umbrella", "meadow", "engine", "harbor"))
    )
    c = _Claude(rng, w, ws, start, model, sid, version, rng.choice(("main", "main", "develop", f"fix/{proj.stack.modules[1]}")), slug)
    budget = target_bytes or 0

    def over(frac: float = 0.97) -> bool:
        return bool(budget) and w.bytes >= budget * frac

    def cap() -> int:
        return max(200, (budget - w.bytes) // 3) if budget else 10**9

    if c.hooks:
        hid = _uuid4(rng)
        c.progress(
            {
                "type": "hook_progress",
                "hookEvent": "SessionStart",
                "hookName": "SessionStart:startup",
                "command": "$HOME/.claude/hooks/notify.sh clear",
            },
            hid,
            hid,
        )
    stop_at = 0.90 if "edits_no_tests" in problems else 0.97
    done_turns = 0
    final = False
    title = ws.fill(rng.choice(wb.SUMMARY_TITLES))
    while True:
        final = n_turns is not None and done_turns == n_turns - 1
        _claude_turn(c, _problems_for_turn(problems, where, done_turns, final), over, cap, budget)
        done_turns += 1
        if final or (budget and over(stop_at)):
            break
        if c.ctx_tokens > 160_000 or rng.random() < 0.03:
            _claude_compact(c)
    if not final and "edits_no_tests" in problems:
        _claude_turn(c, ["edits_no_tests"], over, cap, budget)
        done_turns += 1
    w.emit({"type": "summary", "summary": title, "leafUuid": c.parent})
    w.close()
    responses = {**c.responses, **c.sub_responses}
    total = {
        k: sum(r[k] for r in responses.values())
        for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")
    }
    return GeneratedInfo(
        path=path,
        agent="claude",
        session_id=sid,
        bytes=w.bytes,
        lines=w.lines,
        turns=done_turns,
        tool_calls=c.tool_calls,
        project=proj.name,
        problems=problems,
        subagent_files=[p for p, _ in c.subagents],
        subagent_bytes=sum(b for _, b in c.subagents),
        token_total=total,
        usage_records=len(responses),
    )


def _claude_compact(c: _Claude) -> None:
    rng, ws = c.rng, c.ws
    c.tick(30, 300)
    pre = c.ctx_tokens
    summary = (
        "This session is being continued from a previous conversation that ran out of context. The summary below covers the earlier portion of the conversation.\n\nAnalysis:\n"
        + ws.sentence(rng.randrange(8, 20))
    )
    agent_id = "acompact-" + "".join(rng.choices(_HEX, k=6))
    sub_path = c.w.path.parent / c.sid / "subagents" / f"agent-{agent_id}.jsonl"
    sub_w = _Writer(sub_path)
    sub = _Claude(
        rng,
        sub_w,
        ws,
        datetime.fromtimestamp(c.t, timezone.utc),
        c.model,
        c.sid,
        c.common["version"],
        c.common["gitBranch"],
        c.common["slug"],
        agent_id=agent_id,
    )
    sub.ctx_tokens = pre
    sub.entry(
        "user",
        {"message": {"role": "user", "content": "Your task is to create a detailed summary of the conversation so far."}},
        parent=None,
    )
    sub.response([{"type": "text", "text": summary}])
    sub_w.close()
    c.subagents.append((sub_path, sub_w.bytes))
    c.sub_responses.update(sub.responses)
    logical = c.parent
    c.entry(
        "system",
        {
            "logicalParentUuid": logical,
            "subtype": "compact_boundary",
            "content": "Conversation compacted",
            "isMeta": False,
            "level": "info",
            "compactMetadata": {"trigger": rng.choice(("auto", "manual")), "preTokens": pre},
        },
        parent=None,
    )
    c.entry("user", {"message": {"role": "user", "content": summary}, "isVisibleInTranscriptOnly": True, "isCompactSummary": True})
    c.ctx_tokens = rng.randrange(15000, 30000)
    c.pending_tokens = c.ctx_tokens


def _claude_turn(c: _Claude, problems: list[str], over: Callable[..., bool], cap: Callable[[], int], budget: int) -> None:
    rng, ws = c.rng, c.ws
    c.tick(20, 900)
    turn_start = c.t
    prompt = ws.fill(rng.choice(wb.PROMPTS))
    if "secret" in problems:
        prompt += f"\nThe staging key is {wb.SECRET_TOKEN} if you need it."
    shape = ws.shape
    image = ws.pools.png_b64(rng) if shape.image_prompt_rate and rng.random() < shape.image_prompt_rate else None
    c.prompt(prompt, image)
    names = [n for n, _ in _TOOL_WEIGHTS]
    weights = [shape.task_weight if n == "Task" else wt for n, wt in _TOOL_WEIGHTS]
    n_steps = _steps(rng)
    plan: list[list[tuple[str, _Cmd | None]]] = [
        [(n, None) for n in rng.choices(names, weights=weights, k=rng.choices((1, 2, 3), weights=(70, 20, 10))[0])] for _ in range(n_steps)
    ]
    no_tests = "edits_no_tests" in problems
    if no_tests:
        plan = [[_step("Read")] for _ in range(rng.randrange(1, 3))] + [[_step("Edit")] for _ in range(rng.randrange(2, 4))]

    def insert(steps: list[list[tuple[str, _Cmd | None]]]) -> None:
        at = 0 if no_tests else rng.randrange(len(plan) + 1)
        plan[at:at] = steps

    if "repeat_failure" in problems:
        failing = ws.repeat_failure()
        insert([[("Bash", failing)] for _ in range(3)])
    if "huge_output" in problems:
        insert([[("Bash", ws.huge_output(max(48_000, min(2 * _MB, (budget // 5) if budget else 400_000))))]])
    rejected_turn = False
    for step in plan:
        c.tick(1, 20)
        blocks: list[dict[str, Any]] = []
        if rng.random() < 0.12:
            blocks.append(c.thinking())
        if rng.random() < 0.45:
            blocks.append({"type": "text", "text": ws.sentence(rng.randrange(1, 4))})
        finishers = []
        for name, fixed in step:
            if no_tests and name == "Bash" and fixed is None:
                name = "Read"
            reject = name in ("Bash", "Edit") and fixed is None and rng.random() < 0.03
            inp, finish = _claude_tool(c, name, cap(), fixed, reject)
            tid = "toolu_01" + _token(rng, 22)
            blocks.append({"type": "tool_use", "id": tid, "name": name, "input": inp, "caller": {"type": "direct"}})
            finishers.append((tid, finish, reject))
            c.tool_calls += 1
        uuids = c.response(blocks)
        src = uuids[-1]
        for tid, finish, reject in finishers:
            c.tick(0.05, 3)
            finish(tid, src)
            rejected_turn = rejected_turn or reject
        if rejected_turn or (over(0.99) and not no_tests):
            break
    if not rejected_turn:
        c.tick(1, 15)
        c.response(([c.thinking()] if rng.random() < 0.2 else []) + [{"type": "text", "text": ws.sentence(rng.randrange(2, 7))}])
    if c.hooks:
        c.entry(
            "system",
            {
                "subtype": "stop_hook_summary",
                "hookCount": 1,
                "hookInfos": [{"command": "$HOME/.claude/hooks/notify.sh mark"}],
                "hookErrors": [],
                "preventedContinuation": False,
                "stopReason": "",
                "hasOutput": False,
                "level": "suggestion",
                "toolUseID": _uuid4(rng),
            },
        )
    c.entry("system", {"subtype": "turn_duration", "durationMs": int((c.t - turn_start) * 1000), "isMeta": False})


# --------------------------------------------------------------------------------------------
# corpora


def escape_cwd(cwd: str) -> str:
    """Claude Code's project directory name for ``cwd`` (every non-alphanumeric becomes ``-``)."""
    return re.sub(r"[^A-Za-z0-9]", "-", cwd)


def _session_size(rng: random.Random, remaining: int) -> int:
    size = int(rng.lognormvariate(math.log(150_000), 1.1))
    size = max(24_000, min(8 * _MB, size))
    if remaining - size < 24_000:  # do not leave a sliver behind
        size = remaining
    return size


def _session_problems(rng: random.Random, index: int) -> tuple[str, ...]:
    # the first sessions cover every problem once so that even the small demo shows them all
    chosen = {PROBLEMS[index]} if index < len(PROBLEMS) else set()
    for p, prob in (("repeat_failure", 0.12), ("edits_no_tests", 0.15), ("huge_output", 0.04), ("secret", 0.03)):
        if rng.random() < prob:
            chosen.add(p)
    return tuple(p for p in PROBLEMS if p in chosen)


def _write_session(
    root: Path, agent: str, seed: int, t: datetime, size: int, proj: wb.ProjectSpec, problems: tuple[str, ...], shape: Shape = CLASSIC_SHAPE
) -> GeneratedInfo:
    rng = random.Random(seed)
    cwd = f"/home/dev/projects/{proj.name}"
    if agent == "codex":
        sid = _uuid7(rng, t.timestamp())
        path = root / "codex" / "sessions" / t.strftime("%Y/%m/%d") / f"rollout-{t.strftime('%Y-%m-%dT%H-%M-%S')}-{sid}.jsonl"
        model = rng.choice(("gpt-5.3-codex", "gpt-5.3-codex", "gpt-5.2-codex", "gpt-5.1-codex-mini"))
        return generate_codex_session(
            rng, path=path, start=t, target_bytes=size, cwd=cwd, project=proj, model=model, problems=problems, session_id=sid, shape=shape
        )
    sid = _uuid4(rng)
    path = root / "claude" / "projects" / escape_cwd(cwd) / f"{sid}.jsonl"
    model = rng.choice(("claude-opus-4-6", "claude-opus-4-6", "claude-sonnet-4-5-20250929"))
    return generate_claude_session(
        rng, path=path, start=t, target_bytes=size, cwd=cwd, project=proj, model=model, problems=problems, session_id=sid, shape=shape
    )


def generate_corpus(
    root: Path,
    *,
    seed: int = 7,
    total_bytes: int = 2_000_000,
    big_file_bytes: int | None = None,
    codex_share: float = 0.5,
    start: datetime = DEFAULT_START,
    shape: Shape = CLASSIC_SHAPE,
) -> CorpusInfo:
    """Generate a corpus laid out like real homes under ``root``.

    * ``root/codex/sessions/YYYY/MM/DD/rollout-<local time>-<uuid>.jsonl`` (use ``root/codex``
      as ``CODEX_HOME``);
    * ``root/claude/projects/<escaped-cwd>/<sid>.jsonl`` plus ``<sid>/subagents/`` (use
      ``root/claude`` as the Claude config dir).

    Sessions span six weeks from ``start`` over the fake projects in
    :data:`wordbank.PROJECTS`.  ``total_bytes`` is the overall size (sub-agent files included);
    ``big_file_bytes`` adds one Codex rollout of that size (counted in the total, which grows to
    fit it).  ``shape`` is what sessions hold besides text (:data:`REAL_SHAPE`: images, large
    outputs, long lines, hooks and sub-agents as in real homes).
    """
    if total_bytes <= 0:
        raise ValueError("total_bytes must be positive")
    if not 0.0 <= codex_share <= 1.0:
        raise ValueError("codex_share must be between 0 and 1")
    t0 = time.perf_counter()
    root = Path(root)
    master = random.Random(seed)
    sessions: list[GeneratedInfo] = []
    remaining = max(total_bytes, big_file_bytes or 0)
    if big_file_bytes:
        t = start + timedelta(days=3, hours=master.randrange(9, 17), seconds=master.randrange(3600))
        info = _write_session(
            root, "codex", master.getrandbits(64), t, big_file_bytes, master.choice(wb.PROJECTS), ("repeat_failure", "huge_output"), shape
        )
        sessions.append(info)
        remaining -= info.total_bytes
    index = 0
    while remaining >= 12_000:
        size = _session_size(master, remaining)
        agent = "codex" if master.random() < codex_share else "claude"
        proj = master.choice(wb.PROJECTS)
        t = start + timedelta(days=master.randrange(42), hours=master.randrange(0, 10), seconds=master.randrange(3600))
        info = _write_session(root, agent, master.getrandbits(64), t, size, proj, _session_problems(master, index), shape)
        sessions.append(info)
        remaining -= info.total_bytes
        index += 1
    result = CorpusInfo(root=root, sessions=sessions, seconds=time.perf_counter() - t0)
    log.info("generated %s", result.summary())
    return result


def sample_home(dest: Path) -> Path:
    """Write the small demo corpus (~1.5 MB, fixed seed) into ``dest`` and return ``dest``.

    ``dest/codex`` is a ``CODEX_HOME`` and ``dest/claude`` a Claude config dir.  The output is
    always the same bytes, so calling this again over an existing sample home is harmless.
    """
    dest = Path(dest)
    generate_corpus(dest, seed=SAMPLE_SEED, total_bytes=SAMPLE_BYTES)
    return dest


# --------------------------------------------------------------------------------------------
# CLI

_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "kib": 2**10,
    "m": 10**6,
    "mb": 10**6,
    "mib": 2**20,
    "g": 10**9,
    "gb": 10**9,
    "gib": 2**30,
}


def parse_size(text: str) -> int:
    """``"200MB"`` -> 200_000_000; accepts B, K/KB, M/MB, G/GB (decimal) and KiB/MiB/GiB."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text)
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _UNITS:
        raise ValueError(f"not a size: {text!r} (examples: 500KB, 200MB, 1GB)")
    value = int(float(m.group(1)) * _UNITS[unit])
    if value <= 0:
        raise ValueError(f"size must be positive: {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sessionlens.samples.generator", description="Generate deterministic sample Codex / Claude Code session logs."
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory (gets codex/ and claude/ subdirectories)")
    parser.add_argument("--size", default="2MB", help="total size, e.g. 10MB, 1GB (default 2MB)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--big", default=None, help="also write one Codex rollout of this size, e.g. 200MB")
    parser.add_argument(
        "--shape",
        choices=("generated", "real"),
        default="generated",
        help="generated: the classic mix; real: images, large outputs, long lines and hooks as in real homes",
    )
    parser.add_argument("--codex-share", type=float, default=0.5, help="fraction of sessions that are Codex (default 0.5)")
    args = parser.parse_args(argv)
    try:
        total = parse_size(args.size)
        big = parse_size(args.big) if args.big else None
        info = generate_corpus(
            args.out, seed=args.seed, total_bytes=total, big_file_bytes=big, codex_share=args.codex_share, shape=SHAPES[args.shape]
        )
    except (ValueError, OSError) as exc:
        parser.exit(2, f"error: {exc}\n")
    print(info.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
