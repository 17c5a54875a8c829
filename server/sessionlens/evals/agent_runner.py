"""Run an agent on every case of a dataset and grade the sessions it records.

Each case runs in a scratch ``git worktree`` of the workspace (detached at HEAD, with the
workspace's uncommitted AGENTS.md / CLAUDE.md copied in so an edited instruction file is what
gets tested), with ``CODEX_HOME`` and ``CLAUDE_CONFIG_DIR`` pointed at a per-case log directory
under ``<store>/agent-runs/`` so the log the agent writes is found, indexed and graded like any
other.  A timeout kills the agent's whole process group; a semaphore limits concurrency.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shlex
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sessionlens.agents import registry as agent_registry
from sessionlens.evals.checks import EvalContext, Judge
from sessionlens.evals.datasets import Dataset, grade_case, new_report
from sessionlens.evals.runner import INSTRUCTION_FILES, Progress, RunReport, SubjectResult, SuiteError, make_judge, record
from sessionlens.ingest.discovery import discover
from sessionlens.models.store import StoredSession
from sessionlens.store.context import AppContext

log = logging.getLogger(__name__)

OUTPUT_TAIL = 2000


@dataclass
class AgentRun:
    case_id: str
    returncode: int | None
    timed_out: bool
    seconds: float
    log_dir: str
    output: str  # tail of stdout + stderr
    logs: list[str]


def resolve_template(template: str) -> str:
    """A registered agent's name (``"gemini"``) stands for its non-interactive command
    (``AgentAdapter.eval_runner``); anything else is a command template already."""
    name = template.strip()
    if name and " " not in name and "{" not in name:
        adapter = agent_registry.get(name)
        if adapter is not None and adapter.eval_runner is not None:
            return adapter.eval_runner.command
    return template


def build_command(template: str, prompt: str, *, workdir: str, case_id: str) -> str:
    """The shell command for one case: ``{prompt}`` (shell-quoted), ``{workdir}`` and ``{case}`` are replaced;
    an agent's name is its registered command."""
    template = resolve_template(template)
    if "{prompt}" not in template:
        raise SuiteError(f"the agent command {template!r} has no {{prompt}} placeholder")
    return (
        template.replace("{prompt}", shlex.quote(prompt)).replace("{workdir}", shlex.quote(workdir)).replace("{case}", shlex.quote(case_id))
    )


async def _git(cwd: str, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec("git", *args, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode("utf-8", "replace").strip()


async def require_git_repo(workspace: str) -> None:
    code, out = await _git(workspace, "rev-parse", "--verify", "HEAD")
    if code != 0:
        raise SuiteError(
            f"running an agent on a dataset needs the workspace to be a git repository with at least one "
            f"commit (each case runs in a scratch `git worktree`): {workspace}: {out.splitlines()[-1] if out else 'not a git repository'}"
        )


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    await proc.wait()


def _keep_workdir_logs(wt: Path, log_dir: Path) -> None:
    """Copy the logs agents write inside the worktree (``EvalRunner.workdir_logs``: project-local
    databases with their ``-wal`` / ``-shm``) into the case's log folder before the worktree goes."""
    for adapter in agent_registry.adapters():
        for rel in adapter.eval_runner.workdir_logs if adapter.eval_runner else ():
            src = wt / rel
            if not src.is_file():
                continue
            dest = log_dir / adapter.name / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm"):
                if Path(str(src) + suffix).is_file():
                    shutil.copyfile(str(src) + suffix, str(dest) + suffix)


async def run_case(
    workspace: str, template: str, case_id: str, prompt: str, *, log_dir: Path, timeout_s: float, env: dict[str, str] | None = None
) -> AgentRun:
    """Run the agent for one case in a fresh worktree; logs land in ``log_dir``."""
    scratch = Path(tempfile.mkdtemp(prefix=f"sessionlens-case-{re.sub(r'[^A-Za-z0-9_-]', '_', case_id)[:40]}-"))
    wt = scratch / "worktree"
    code, out = await _git(workspace, "worktree", "add", "--detach", str(wt), "HEAD")
    if code != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        raise SuiteError(f"git worktree add failed in {workspace}: {out}")
    for name in INSTRUCTION_FILES:  # test the instructions as they are now, committed or not
        src = Path(workspace) / name
        if src.is_file():
            (wt / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, wt / name)
    child_env = dict(os.environ if env is None else env)
    for adapter in agent_registry.adapters():  # every agent writes its logs into the case's folder
        for var, sub in adapter.eval_runner.log_env.items() if adapter.eval_runner else ():
            (log_dir / sub).mkdir(parents=True, exist_ok=True)
            child_env[var] = str(log_dir / sub)
    child_env["SESSIONLENS_CASE"] = case_id
    cmd = build_command(template, prompt, workdir=str(wt), case_id=case_id)
    t0 = time.monotonic()
    timed_out = False
    output = b""
    try:
        proc = await asyncio.create_subprocess_shell(
            cmd,
            cwd=str(wt),
            env=child_env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            output, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
        except TimeoutError:
            timed_out = True
            await _kill_group(proc)
        except asyncio.CancelledError:
            await _kill_group(proc)
            raise
    finally:
        _keep_workdir_logs(wt, log_dir)
        await _git(workspace, "worktree", "remove", "--force", str(wt))
        shutil.rmtree(scratch, ignore_errors=True)
        await _git(workspace, "worktree", "prune")
    logs = sorted(discover([str(log_dir)]))
    return AgentRun(
        case_id,
        None if timed_out else proc.returncode,
        timed_out,
        time.monotonic() - t0,
        str(log_dir),
        output.decode("utf-8", "replace")[-OUTPUT_TAIL:],
        [str(p) for p in logs],
    )


async def run_dataset_agent(
    app: AppContext,
    dataset: Dataset,
    *,
    workspace: str,
    template: str | None = None,
    timeout_s: float | None = None,
    concurrency: int | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    judge: Judge | None = None,
    env: dict[str, str] | None = None,
    baseline_run_id: int | None = None,
) -> RunReport:
    """Run the agent on every case, index the logs it wrote, grade each case, and record the run."""
    template = template or dataset.header.agent
    if not template:
        raise SuiteError(
            f"no agent command for dataset {dataset.name!r}: pass --agent 'codex exec {{prompt}}' "
            'or set "agent" in the dataset\'s header line'
        )
    workspace = str(Path(workspace).resolve())
    await require_git_repo(workspace)
    timeout_s = timeout_s or dataset.header.timeout_s
    sem = asyncio.Semaphore(concurrency or dataset.header.concurrency)
    index_lock = asyncio.Lock()
    stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
    runs_root = app.home / "agent-runs" / re.sub(r"[^A-Za-z0-9_.-]", "_", dataset.name) / stamp
    report = new_report(dataset, workspace)
    report.extra = {"agent": template}
    own = judge is None
    judge = judge or make_judge(app)
    ctx = EvalContext(judge=judge, app=app)
    done = [0]

    async def one(case) -> SubjectResult:
        async with sem:
            if cancel is not None and cancel.is_set():
                return SubjectResult(None, [], case_id=case.id, error="cancelled")
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", case.id)
            run = await run_case(
                workspace, template, case.id, case.prompt, log_dir=runs_root / safe, timeout_s=case.timeout_s or timeout_s, env=env
            )
        async with index_lock:
            if run.logs:
                await asyncio.to_thread(_index, app, run.log_dir)
        done[0] += 1
        if progress:
            progress(done[0], len(dataset.cases), case.id)
        return await _grade_run(app, case, run, ctx)

    try:
        report.subjects = list(await asyncio.gather(*(one(c) for c in dataset.cases)))
    finally:
        if own:
            await judge.aclose()
    report.cancelled = bool(cancel is not None and cancel.is_set())
    report.finished_at = time.time()
    if not report.cancelled:
        record(app, report, baseline_run_id=baseline_run_id)
    return report


def _index(app: AppContext, log_dir: str) -> None:
    try:
        app.index([log_dir])
    finally:
        app.close()  # this worker thread's store connection


def _sessions_of(app: AppContext, path: str) -> list[StoredSession]:
    """The session of a log file, or the sessions of a database (its member sources ``<db>#<key>``)."""
    db = app.db()
    s = db.session_for_path(path)
    if s is not None:
        return [s]
    return [m for r in db.member_rows(path) if (m := db.session_for_path(r.path)) is not None]


async def _grade_run(app: AppContext, case, run: AgentRun, ctx: EvalContext) -> SubjectResult:
    if run.timed_out:
        return SubjectResult(None, [], case_id=case.id, error=f"the agent timed out after {run.seconds:.0f} s and was killed")
    sessions = [s for p in run.logs for s in _sessions_of(app, p) if not s.parent_session_id]
    if not sessions:
        tail = " ".join(run.output.split())[-300:]
        return SubjectResult(
            None,
            [],
            case_id=case.id,
            error=f"the agent (exit {run.returncode}) wrote no session log in {run.log_dir}" + (f"; output: {tail}" if tail else ""),
        )
    session = max(sessions, key=lambda s: s.started_at or 0)
    res = await grade_case(app, case, session, ctx)
    if run.returncode not in (0, None):
        res.error = f"the agent exited with code {run.returncode}"
    return res
