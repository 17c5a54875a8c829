"""``sessionlens eval ...``: run suites and datasets in CI, show history, pin baselines, try prompts.

Exit codes: 0 all suites passed; 1 a suite failed (or an error); 3 regressions with
``--fail-on-regression``.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

EXIT_FAILED = 1
EXIT_REGRESSION = 3


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str, ensure_ascii=False) + "\n")


def _app(args):
    from sessionlens.cli_common import _app as make

    app = make(args)
    if getattr(args, "logs", None):
        app.index(args.logs)
    return app


def _finish(args, reports) -> int:
    from sessionlens.evals.junit import to_junit

    if getattr(args, "junit", None):
        Path(args.junit).parent.mkdir(parents=True, exist_ok=True)
        Path(args.junit).write_text(to_junit(reports), encoding="utf-8")
    if args.json:
        _json(
            {
                "runs": [r.to_dict() for r in reports],
                "ok": all(r.ok for r in reports),
                "regressions": sum(len(r.regressions) for r in reports),
            }
        )
    else:
        for r in reports:
            _out(r.text())
    if not all(r.ok for r in reports):
        return EXIT_FAILED
    if getattr(args, "fail_on_regression", False) and any(r.regressions for r in reports):
        return EXIT_REGRESSION
    return 0


def cmd_run(args) -> int:
    import asyncio

    from sessionlens.cli_common import CliError, NotFoundError
    from sessionlens.evals.runner import find_suites, load_suite, run_suite

    missing = [f for f in args.files or [] if not Path(f).exists()]
    if missing:
        raise NotFoundError(f"{', '.join(missing)}: no such file or directory")
    files = find_suites(args.files or [Path.cwd()])
    if not files:
        raise CliError(f"no *.eval.json suites found in {', '.join(args.files) if args.files else Path.cwd()}")
    suites = [(f, load_suite(f)) for f in files]  # validate all before running any
    app = _app(args)
    reports = [
        asyncio.run(run_suite(app, s, suite_path=str(f.resolve()), workspace=args.workspace, baseline_run_id=args.baseline))
        for f, s in suites
    ]
    return _finish(args, reports)


def cmd_dataset(args) -> int:
    import asyncio

    from sessionlens.evals.agent_runner import run_dataset_agent
    from sessionlens.evals.datasets import grade_recorded, load_dataset
    from sessionlens.evals.runner import workspace_root

    ds = load_dataset(args.file)
    app = _app(args)
    if args.run_agent or args.agent:
        ws = args.workspace or str(workspace_root(Path.cwd()))
        rep = asyncio.run(
            run_dataset_agent(
                app,
                ds,
                workspace=ws,
                template=args.agent,
                timeout_s=args.timeout,
                concurrency=args.concurrency,
                baseline_run_id=args.baseline,
                progress=_progress(args),
            )
        )
    else:
        rep = asyncio.run(grade_recorded(app, ds, workspace=args.workspace, baseline_run_id=args.baseline))
    return _finish(args, [rep])


def _progress(args):
    if args.json or not sys.stderr.isatty():
        return None

    def show(done: int, total: int, msg: str) -> None:
        sys.stderr.write(f"\r  {done}/{total} cases  {msg[:60]:<60}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def cmd_history(args) -> int:
    from sessionlens.evals.runner import history

    app = _app(args)
    runs = history(app, args.suite, limit=args.limit)
    if not runs:
        from sessionlens.cli_common import NotFoundError

        raise NotFoundError(f"no recorded runs of suite {args.suite!r}; run `sessionlens eval run <file>.eval.json` first")
    if args.json:
        _json({"suite": args.suite, "runs": [r.model_dump() for r in runs]})
        return 0
    _out(f"{'run':>5}  {'time':<16}  {'passed':>9}  {'rate':>5}  {'regr':>4}  {'commit':<8}  {'instr':<8}  result")
    for r in runs:
        s = r.summary
        when = datetime.fromtimestamp(r.started_at).strftime("%Y-%m-%d %H:%M")
        _out(
            f"{r.id:>5}  {when:<16}  {s.get('passed', 0):>4}/{s.get('total', 0):<4}  {s.get('pass_rate', 0):>5.0%}  "
            f"{s.get('regressions', 0):>4}  {(r.git_commit or '-')[:8]:<8}  {(r.instructions_hash or '-')[:8]:<8}  "
            f"{'OK' if s.get('ok') else 'FAILED'}{'  (pinned)' if r.pinned else ''}"
        )
    return 0


def cmd_pin(args) -> int:
    from sessionlens.cli_common import CliError

    app = _app(args)
    if not any(r.id == args.run for r in app.db().eval_runs(args.suite, limit=10_000)):
        raise CliError(f"suite {args.suite!r} has no run #{args.run}")
    app.db().pin_eval_run(args.suite, args.run)
    if args.json:
        _json({"suite": args.suite, "pinned": args.run})
    else:
        _out(f"Run #{args.run} is now the baseline of {args.suite!r}.")
    return 0


def cmd_playground(args) -> int:
    import asyncio

    from sessionlens.evals.datasets import load_dataset
    from sessionlens.evals.playground import run_playground

    app = _app(args)
    ds = load_dataset(args.dataset) if args.dataset else None
    res = asyncio.run(
        run_playground(
            app,
            prompt=args.prompt,
            session=args.session,
            turn=args.turn,
            dataset=ds,
            case_id=args.case,
            instructions=args.instructions,
            model=args.model,
        )
    )
    if args.json:
        _json(res.to_dict())
    else:
        _out(res.markdown())
    return 0 if res.report.ok else EXIT_FAILED


def register(sub, common: argparse.ArgumentParser) -> None:
    """Add ``eval`` and its sub-commands to the ``sessionlens`` parser."""
    ev = sub.add_parser(
        "eval",
        parents=[common],
        help="eval suites, golden datasets and history",
        description="Run eval suites (*.eval.json) and golden datasets (*.dataset.jsonl) over sessions.",
    )
    evsub = ev.add_subparsers(dest="eval_command", metavar="EVAL_COMMAND", required=True)

    def add(name, func, help_):
        sp = evsub.add_parser(name, parents=[common], help=help_, description=help_)
        sp.set_defaults(func=func)
        return sp

    def run_opts(sp):
        sp.add_argument("--junit", metavar="FILE", help="write JUnit XML for CI")
        sp.add_argument("--fail-on-regression", action="store_true", help="exit 3 when a check regressed from the baseline")
        sp.add_argument("--baseline", type=int, help="compare with this run id (default: the pinned run, else the previous)")
        sp.add_argument("--workspace", help="workspace for the git commit and AGENTS.md hash (default: the file's git root)")
        sp.add_argument("--logs", nargs="+", metavar="PATH", help="index these log files or directories first")

    sp = add("run", cmd_run, "run eval suites and record the results")
    sp.add_argument("files", nargs="*", help="*.eval.json files or directories (default: all under the current directory)")
    run_opts(sp)

    sp = add("dataset", cmd_dataset, "grade a golden dataset on recorded sessions, or run the agent on it")
    sp.add_argument("file", help="a *.dataset.jsonl file")
    sp.add_argument("--run-agent", action="store_true", help="run the agent on every case (command from the dataset header)")
    sp.add_argument("--agent", metavar="TEMPLATE", help='agent command, e.g. "codex exec {prompt}" (implies --run-agent)')
    sp.add_argument("--timeout", type=float, help="seconds per case before the agent is killed")
    sp.add_argument("--concurrency", type=int, help="cases run at the same time")
    run_opts(sp)

    sp = add("history", cmd_history, "recorded runs of a suite, newest first")
    sp.add_argument("suite", help="suite name (datasets: dataset:<name>, playground: playground:<name>)")
    sp.add_argument("--limit", type=int, default=30, help="at most N runs (default 30)")

    sp = add("pin", cmd_pin, "make a run the baseline that later runs are compared with")
    sp.add_argument("suite", help="suite name")
    sp.add_argument("run", type=int, help="run id (from `sessionlens eval history SUITE`)")

    sp = add("playground", cmd_playground, "answer a recorded or dataset prompt with edited instructions, and grade it")
    src = sp.add_mutually_exclusive_group(required=True)
    src.add_argument("--prompt", help="a prompt text")
    src.add_argument("--session", help="session id, prefix or log path whose prompt to replay")
    src.add_argument("--case", help="dataset case id (with --dataset)")
    sp.add_argument("--turn", type=int, default=1, help="which turn of --session (1-based)")
    sp.add_argument("--dataset", help="the *.dataset.jsonl holding --case")
    sp.add_argument("--instructions", help="instruction file used as the system prompt (e.g. an edited AGENTS.md)")
    sp.add_argument("--model", help="Anthropic model (default: the configured llm.model)")
    sp.add_argument("--logs", nargs="+", metavar="PATH", help="index these log files or directories first")
