"""Running suites: grade the selected sessions, record the run, compare with a baseline.

Every run is stored (suite, time, workspace git commit, hash of the instruction files, results
per session and check with the evidence event).  A *regression* is a check failing now that did
not fail in the baseline: for the same session (or dataset case) it passed there, or for a new
session the check had no failure in the baseline at all.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from sessionlens.agents import registry as agent_registry
from sessionlens.coach.rules import RULES
from sessionlens.evals import jsonpos
from sessionlens.evals.checks import CheckResult, EvalContext, Judge, Subject, evaluate, load_subject
from sessionlens.evals.models import EvalSuite
from sessionlens.evals.selectors import select_sessions
from sessionlens.store import NotFound, StoreError
from sessionlens.store.context import AppContext

if TYPE_CHECKING:
    from sessionlens.models.store import EvalResultRow, EvalRun

log = logging.getLogger(__name__)

_BASE_INSTRUCTION_FILES = ("AGENTS.md", "AGENTS.override.md", "CLAUDE.md", "CLAUDE.local.md", ".claude/CLAUDE.md")
#: every project-level instruction file some agent reads (the first five keep their order: hashes of
#: older runs stay comparable)
INSTRUCTION_FILES = tuple(
    dict.fromkeys(_BASE_INSTRUCTION_FILES + tuple(n for a in agent_registry.adapters() for group in a.instructions.project for n in group))
)
SUITE_SUFFIX = ".eval.json"
Progress = Callable[[int, int, str], None]


class SuiteError(StoreError):
    """A suite or dataset file that cannot be read or is invalid; the message lists the problems."""


# ------------------------------------------------------------------------------ loading


@dataclass
class Problem:
    start: int  # character offsets in the file text
    end: int
    message: str
    severity: str = "error"  # error | warning


def validate_suite_text(text: str) -> tuple[EvalSuite | None, list[Problem]]:
    """Parse and validate a suite file's text; problems carry source offsets."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [Problem(exc.pos, min(exc.pos + 1, len(text)), f"invalid JSON: {exc.msg}")]
    if not isinstance(data, dict):
        return None, [Problem(0, min(1, len(text)), 'an eval suite is a JSON object with "name" and "checks"')]
    try:
        suite = EvalSuite.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err.get("loc") or ())
            span = jsonpos.locate(text, data, loc)
            where = ".".join(str(x) for x in loc)
            msg = err.get("msg", "invalid")
            problems.append(Problem(span.start, max(span.end, span.start + 1), f"{where}: {msg}" if where else msg))
        return None, problems
    problems = []
    for i, check in enumerate(suite.checks):
        if check.kind == "rule_absent" and check.rule not in RULES:
            span = jsonpos.locate(text, data, ("checks", i, "rule"))
            problems.append(Problem(span.start, span.end, f"unknown coach rule {check.rule!r} (known: {', '.join(RULES)})", "warning"))
    return suite, problems


def load_suite(path: str | os.PathLike[str]) -> EvalSuite:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(f"cannot read the suite {p}: {exc.strerror or exc}") from exc
    suite, problems = validate_suite_text(text)
    errors = [pr for pr in problems if pr.severity == "error"]
    if suite is None or errors:
        lines = []
        for pr in errors[:10]:
            line, col = jsonpos.position(text, pr.start)
            lines.append(f"  {p}:{line + 1}:{col + 1}: {pr.message}")
        raise SuiteError(f"invalid eval suite {p}:\n" + "\n".join(lines))
    return suite


def find_suites(roots: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """``*.eval.json`` files under the given directories (skipping .git, node_modules, virtualenvs)."""
    skip = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox"}
    out: list[Path] = []
    for root in roots:
        root = Path(root)
        if root.is_file():
            out.append(root)
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in skip)
            out += [Path(dirpath) / f for f in sorted(filenames) if f.endswith(SUITE_SUFFIX)]
    return out


# ------------------------------------------------------------------------------ workspace facts


def _git(cwd: str | os.PathLike[str], *args: str) -> str | None:
    try:
        r = subprocess.run(["git", *args], cwd=str(cwd), capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def workspace_root(start: str | os.PathLike[str]) -> Path:
    """The git root containing ``start`` (a file or directory), else its directory."""
    p = Path(start).resolve()
    d = p if p.is_dir() else p.parent
    top = _git(d, "rev-parse", "--show-toplevel")
    return Path(top) if top else d


def git_commit(workspace: str | os.PathLike[str]) -> str | None:
    return _git(workspace, "rev-parse", "HEAD")


def instructions_hash(workspace: str | os.PathLike[str]) -> str | None:
    """sha256 (first 16 hex) over the workspace's AGENTS.md / CLAUDE.md files, None when there are none."""
    h = hashlib.sha256()
    found = False
    for name in INSTRUCTION_FILES:
        f = Path(workspace) / name
        if f.is_file():
            found = True
            h.update(name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16] if found else None


# ------------------------------------------------------------------------------ reports


@dataclass
class SubjectResult:
    """Results of all checks on one graded subject (a session, a dataset case, a playground answer)."""

    session_id: str | None
    results: list[CheckResult]
    case_id: str | None = None
    path: str | None = None
    title: str | None = None
    error: str | None = None  # the subject could not be graded (e.g. the agent timed out)

    @property
    def key(self) -> str:
        return f"case:{self.case_id}" if self.case_id else f"session:{self.session_id}"

    @property
    def passed(self) -> bool:
        return self.error is None and all(r.passed or r.skipped for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "case_id": self.case_id,
            "path": self.path,
            "title": self.title,
            "passed": self.passed,
            "error": self.error,
            "checks": [r.to_dict() for r in self.results],
        }


@dataclass
class RunReport:
    suite: str
    kind: str = "suite"  # suite | dataset | playground
    suite_path: str | None = None
    run_id: int | None = None
    started_at: float = 0.0
    finished_at: float = 0.0
    git_commit: str | None = None
    instructions_hash: str | None = None
    required_pass_rate: float = 1.0
    subjects: list[SubjectResult] = field(default_factory=list)
    baseline_run_id: int | None = None
    regressions: list[dict[str, Any]] = field(default_factory=list)
    fixed: list[dict[str, Any]] = field(default_factory=list)
    cancelled: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.subjects)

    @property
    def passed(self) -> int:
        return sum(1 for s in self.subjects if s.passed)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.total else 1.0

    @property
    def ok(self) -> bool:
        return not self.cancelled and self.pass_rate >= self.required_pass_rate - 1e-9

    def check_counts(self) -> dict[str, list[int]]:
        """check id -> [passed, failed] (skipped results not counted)."""
        out: dict[str, list[int]] = {}
        for s in self.subjects:
            for r in s.results:
                if r.skipped:
                    continue
                c = out.setdefault(r.check_id, [0, 0])
                c[0 if r.passed else 1] += 1
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "total": self.total,
            "passed": self.passed,
            "pass_rate": round(self.pass_rate, 4),
            "required_pass_rate": self.required_pass_rate,
            "ok": self.ok,
            "checks": self.check_counts(),
            "regressions": len(self.regressions),
            "baseline_run_id": self.baseline_run_id,
            **self.extra,
        }

    def failures(self) -> list[tuple[SubjectResult, CheckResult]]:
        return [(s, r) for s in self.subjects for r in s.results if not r.passed and not r.skipped]

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "kind": self.kind,
            "suite_path": self.suite_path,
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "git_commit": self.git_commit,
            "instructions_hash": self.instructions_hash,
            "cancelled": self.cancelled,
            "summary": self.summary(),
            "regressions": self.regressions,
            "fixed": self.fixed,
            "subjects": [s.to_dict() for s in self.subjects],
        }

    def text(self) -> str:
        """A terminal report."""
        head = (
            f"{self.suite}: {self.passed}/{self.total} passed ({self.pass_rate:.0%}, required "
            f"{self.required_pass_rate:.0%}) — {'OK' if self.ok else 'FAILED'}"
        )
        if self.cancelled:
            head += " (cancelled)"
        lines = [head]
        if self.run_id is not None:
            lines.append(f"  run #{self.run_id}" + (f", compared with run #{self.baseline_run_id}" if self.baseline_run_id else ""))
        for s, r in self.failures():
            who = s.case_id or (s.session_id or "?")[:13]
            where = f" ({s.path}:{r.evidence_seq})" if s.path and r.evidence_seq else ""
            lines.append(f"  ✗ {who} · {r.check_id}: {r.message}{where}")
        for s in self.subjects:
            if s.error:
                lines.append(f"  ✗ {s.case_id or s.session_id}: {s.error}")
        if self.regressions:
            lines.append(f"  {len(self.regressions)} regression(s):")
            for g in self.regressions:
                lines.append(f"    ↓ {g['check_id']} · {g.get('case_id') or (g.get('session_id') or '')[:13]}: {g['message']}")
        return "\n".join(lines)

    def markdown(self) -> str:
        from sessionlens.coach.markdown import escape_md, inline_code

        out = [
            f"### {escape_md(self.suite)}: {self.passed}/{self.total} passed "
            f"({self.pass_rate:.0%}, required {self.required_pass_rate:.0%}) {'✅' if self.ok else '❌'}"
        ]
        if self.cancelled:
            out.append("_Cancelled._")
        if self.regressions:
            out.append(f"\n**{len(self.regressions)} regression(s)** since run #{self.baseline_run_id}:")
            out += [
                f"- {inline_code(g['check_id'])} · {escape_md(g.get('case_id') or g.get('session_id') or '')}: {escape_md(g['message'])}"
                for g in self.regressions
            ]
        fails = self.failures()
        if fails:
            out.append("\n| subject | check | result |\n|---|---|---|")
            for s, r in fails[:200]:
                msg = escape_md(r.message).replace("|", "\\|")
                out.append(f"| {escape_md(s.case_id or (s.session_id or '')[:13])} | {inline_code(r.check_id)} | {msg} |")
        return "\n".join(out) + "\n"


def _results_rows(report: RunReport) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for s in report.subjects:
        if s.error:
            rows.append(
                {
                    "session_id": s.session_id,
                    "case_id": s.case_id,
                    "check_id": "__run__",
                    "passed": False,
                    "message": s.error,
                    "evidence_seq": None,
                    "data": {"path": s.path, "title": s.title},
                }
            )
        for r in s.results:
            rows.append(
                {
                    "session_id": s.session_id,
                    "case_id": s.case_id,
                    "check_id": r.check_id,
                    "passed": r.passed,
                    "message": r.message,
                    "evidence_seq": r.evidence_seq,
                    "data": {**r.data, "kind": r.kind, "skipped": r.skipped, "path": s.path, "title": s.title},
                }
            )
    return rows


def _row_key(row: dict[str, Any]) -> str:
    return f"case:{row['case_id']}" if row.get("case_id") else f"session:{row.get('session_id')}"


def compare(current: Iterable[dict[str, Any]], baseline: Iterable[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    """(regressions, fixed) between two runs' result rows (as stored by ``Store.eval_results``)."""
    base = {(_row_key(r), r["check_id"]): r for r in baseline if not (r.get("data") or {}).get("skipped")}
    base_failing_checks = {cid for (_, cid), r in base.items() if not r["passed"]}
    base_checks = {cid for _, cid in base}
    regressions, fixed = [], []
    for r in current:
        if (r.get("data") or {}).get("skipped"):
            continue
        key = (_row_key(r), r["check_id"])
        before = base.get(key)
        item = {
            "check_id": r["check_id"],
            "session_id": r.get("session_id"),
            "case_id": r.get("case_id"),
            "message": r.get("message") or "",
            "evidence_seq": r.get("evidence_seq"),
            "path": (r.get("data") or {}).get("path"),
        }
        if not r["passed"]:
            if before is not None and before["passed"]:
                regressions.append({**item, "reason": "passed in the baseline"})
            elif before is None and r["check_id"] in base_checks and r["check_id"] not in base_failing_checks:
                regressions.append({**item, "reason": "the check had no failures in the baseline"})
        elif before is not None and not before["passed"]:
            fixed.append(item)
    return regressions, fixed


def pick_baseline(app: AppContext, suite: str, explicit: int | None = None) -> EvalRun | None:
    """The baseline run: ``explicit``, else the pinned run, else the latest finished run."""
    runs = app.db().eval_runs(suite, limit=500)
    if explicit is not None:
        for r in runs:
            if r.id == explicit:
                return r
        raise NotFound(f"suite {suite!r} has no run #{explicit} (see `sessionlens eval history {suite}`)")
    pinned = [r for r in runs if r.pinned]
    if pinned:
        return pinned[0]
    return runs[0] if runs else None


def record(app: AppContext, report: RunReport, *, baseline_run_id: int | None = None) -> RunReport:
    """Compare the report with its baseline, then store it (sets run_id, regressions, fixed)."""
    base = pick_baseline(app, report.suite, baseline_run_id)
    rows = _results_rows(report)
    if base is not None:
        report.baseline_run_id = base.id
        report.regressions, report.fixed = compare(rows, [r.model_dump() for r in app.db().eval_results(base.id)])
    report.run_id = app.db().add_eval_run(
        report.suite,
        report.suite_path,
        report.started_at,
        report.finished_at,
        report.git_commit,
        report.instructions_hash,
        report.summary(),
        rows,
    )
    return report


def history(app: AppContext, suite: str, limit: int = 50) -> list[EvalRun]:
    """Recorded runs of a suite, newest first, with their summaries."""
    return app.db().eval_runs(suite, limit=limit)


def last_run(app: AppContext, suite: str) -> tuple[EvalRun, list[EvalResultRow]] | None:
    runs = app.db().eval_runs(suite, limit=1)
    if not runs:
        return None
    return runs[0], app.db().eval_results(runs[0].id)


# ------------------------------------------------------------------------------ running


def make_judge(app: AppContext) -> Judge:
    """The LLM judge on the app's LLM settings and API key (the key is checked at the first verdict)."""
    from sessionlens.coach.llm import CoachLLM

    return Judge(app.db(), app.settings.llm, lambda cfg: CoachLLM(cfg, editor_api_key=app.api_key))


async def grade(subject: Subject, checks: Iterable[Any], ctx: EvalContext) -> list[CheckResult]:
    return [await evaluate(c, subject, ctx) for c in checks]


class Cancelled(Exception):
    pass


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled()


async def run_suite(
    app: AppContext,
    suite: EvalSuite,
    *,
    suite_path: str | None = None,
    workspace: str | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    judge: Judge | None = None,
    baseline_run_id: int | None = None,
    store: bool = True,
) -> RunReport:
    """Grade every selected session with every check; store the run unless cancelled or ``store`` is False.

    Must run in one thread (the store connection is per thread); ``cancel`` may be set from another.
    """
    ws = workspace or (str(workspace_root(suite_path)) if suite_path else os.getcwd())
    report = RunReport(
        suite=suite.name,
        suite_path=suite_path,
        started_at=time.time(),
        git_commit=git_commit(ws),
        instructions_hash=instructions_hash(ws),
        required_pass_rate=suite.required_pass_rate,
    )
    own_judge = judge is None and any(c.kind == "llm_judge" for c in suite.checks)
    if own_judge:
        judge = make_judge(app)
    ctx = EvalContext(judge=judge, app=app)
    db = app.db()
    try:
        sessions = select_sessions(app, suite.sessions)
        for i, row in enumerate(sessions):
            _check_cancel(cancel)
            if progress:
                progress(i, len(sessions), f"{row.title or row.id}"[:80])
            subject = load_subject(db, row)
            results = await grade(subject, suite.checks, ctx)
            report.subjects.append(SubjectResult(row.id, results, path=row.path, title=row.title))
        if progress:
            progress(len(sessions), len(sessions), "done")
    except Cancelled:
        report.cancelled = True
    finally:
        if own_judge and judge is not None:
            await judge.aclose()
    report.finished_at = time.time()
    if store and not report.cancelled:
        record(app, report, baseline_run_id=baseline_run_id)
    return report


def run_suite_sync(app: AppContext, suite: EvalSuite, **kw: Any) -> RunReport:
    """:func:`run_suite` from synchronous code (a worker thread or the CLI); cancel via ``cancel``."""
    try:
        return asyncio.run(_cancellable(run_suite(app, suite, **kw), kw.get("cancel")))
    except Cancelled:
        return RunReport(suite=suite.name, suite_path=kw.get("suite_path"), cancelled=True, required_pass_rate=suite.required_pass_rate)


async def _cancellable(coro, cancel: threading.Event | None):
    """Run ``coro``; when ``cancel`` is set, cancel it even inside an awaited LLM request."""
    task = asyncio.ensure_future(coro)
    if cancel is None:
        return await task
    while not task.done():
        await asyncio.wait({task}, timeout=0.05)
        if cancel.is_set() and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                raise Cancelled() from None
    return task.result()
