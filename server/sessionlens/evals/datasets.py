"""Golden datasets (``*.dataset.jsonl``): load them, match cases to recorded sessions, grade them.

A dataset file holds one JSON object per line: an optional header ``{"dataset": {...}}``
(:class:`DatasetHeader`) and cases (:class:`DatasetCase`).  Blank lines and lines starting with
``//`` are ignored.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from sessionlens.evals.checks import EvalContext, Judge, Subject, load_subject
from sessionlens.evals.models import DatasetCase, DatasetHeader
from sessionlens.evals.runner import (
    Cancelled,
    Progress,
    RunReport,
    SubjectResult,
    SuiteError,
    _check_cancel,
    git_commit,
    grade,
    instructions_hash,
    make_judge,
    record,
    workspace_root,
)
from sessionlens.evals.selectors import select_sessions
from sessionlens.models import EventKind
from sessionlens.models.store import StoredSession
from sessionlens.store.context import AppContext

DATASET_SUFFIX = ".dataset.jsonl"


@dataclass
class Dataset:
    name: str
    header: DatasetHeader
    cases: list[DatasetCase]
    path: str | None = None
    problems: list[tuple[int, str]] = field(default_factory=list)  # (1-based line, message)

    @property
    def run_name(self) -> str:
        return f"dataset:{self.name}"

    def case(self, case_id: str) -> DatasetCase:
        for c in self.cases:
            if c.id == case_id:
                return c
        raise SuiteError(f"dataset {self.name!r} has no case {case_id!r} (cases: {', '.join(c.id for c in self.cases[:20])})")


def parse_dataset(text: str, name: str, path: str | None = None) -> Dataset:
    """Parse a dataset's text; invalid lines are reported in ``problems`` and skipped."""
    header = DatasetHeader()
    cases: list[DatasetCase] = []
    problems: list[tuple[int, str]] = []
    seen: set[str] = set()
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("//"):
            continue
        try:
            obj = json.loads(s)
        except json.JSONDecodeError as exc:
            problems.append((n, f"invalid JSON: {exc.msg} (column {exc.colno})"))
            continue
        try:
            if isinstance(obj, dict) and set(obj) == {"dataset"}:
                header = DatasetHeader.model_validate(obj["dataset"])
                continue
            case = DatasetCase.model_validate(obj)
        except ValidationError as exc:
            msgs = "; ".join(f"{'.'.join(str(x) for x in e['loc']) or 'case'}: {e['msg']}" for e in exc.errors()[:5])
            problems.append((n, msgs))
            continue
        if case.id in seen:
            problems.append((n, f"duplicate case id {case.id!r}"))
            continue
        seen.add(case.id)
        cases.append(case)
    return Dataset(name=header.name or name, header=header, cases=cases, path=path, problems=problems)


def load_dataset(path: str | os.PathLike[str], *, strict: bool = True) -> Dataset:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(f"cannot read the dataset {p}: {exc.strerror or exc}") from exc
    name = p.name[: -len(DATASET_SUFFIX)] if p.name.endswith(DATASET_SUFFIX) else p.stem
    ds = parse_dataset(text, name, str(p))
    if strict and ds.problems:
        raise SuiteError(f"invalid dataset {p}:\n" + "\n".join(f"  {p}:{n}: {m}" for n, m in ds.problems[:10]))
    if not ds.cases:
        raise SuiteError(f"the dataset {p} has no cases")
    return ds


def normalize_prompt(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def answer_in_turn(subject: Subject, start_line: int, end_line: int | None) -> tuple[str | None, int | None]:
    """The agent's last message within a turn's lines (its answer to the prompt)."""
    last = None
    for ev in subject.events:
        if ev.seq < start_line or (end_line is not None and ev.seq > end_line):
            continue
        if ev.kind is EventKind.ASSISTANT_MESSAGE and not ev.sidechain and (ev.text or "").strip():
            last = ev
    return (last.text, last.seq) if last is not None else (None, None)


def case_subject(app: AppContext, session: StoredSession, prompt: str | None) -> Subject:
    """A session as a case subject: the answer is the last message of the turn that got ``prompt``
    (the session's first turn when ``prompt`` is None or not found)."""
    subject = load_subject(app.db(), session)
    want = normalize_prompt(prompt) if prompt else None
    turn = next((t for t in subject.turns if want is not None and normalize_prompt(t.prompt) == want), None)
    if turn is None and subject.turns:
        turn = subject.turns[0]
    if turn is None:
        subject.answer, subject.answer_seq = answer_in_turn(subject, 0, None)
    else:
        nxt = next((t for t in subject.turns if t.index == turn.index + 1), None)
        end = nxt.start_line - 1 if nxt is not None else None
        subject.answer, subject.answer_seq = answer_in_turn(subject, turn.start_line, end)
    return subject


def match_sessions(app: AppContext, dataset: Dataset) -> dict[str, StoredSession]:
    """case id -> the newest recorded session with a turn whose prompt equals the case's prompt."""
    wanted = {normalize_prompt(c.prompt): c.id for c in dataset.cases}
    out: dict[str, StoredSession] = {}
    db = app.db()
    for row in select_sessions(app, dataset.header.sessions):  # newest first
        for t in db.turns(row.id):
            cid = wanted.get(normalize_prompt(t.prompt))
            if cid is not None and cid not in out:
                out[cid] = row
        if len(out) == len(wanted):
            break
    return out


async def grade_case(app: AppContext, case: DatasetCase, session: StoredSession, ctx: EvalContext) -> SubjectResult:
    subject = case_subject(app, session, case.prompt)
    results = await grade(subject, case.expect, ctx)
    return SubjectResult(session.id, results, case_id=case.id, path=session.path, title=session.title)


def new_report(dataset: Dataset, workspace: str | None) -> RunReport:
    ws = workspace or (str(workspace_root(dataset.path)) if dataset.path else os.getcwd())
    return RunReport(
        suite=dataset.run_name,
        kind="dataset",
        suite_path=dataset.path,
        started_at=time.time(),
        git_commit=git_commit(ws),
        instructions_hash=instructions_hash(ws),
    )


async def grade_recorded(
    app: AppContext,
    dataset: Dataset,
    *,
    workspace: str | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    judge: Judge | None = None,
    baseline_run_id: int | None = None,
    store: bool = True,
) -> RunReport:
    """Grade each case on the newest recorded session that answered its prompt, and record the run."""
    report = new_report(dataset, workspace)
    own = judge is None
    judge = judge or make_judge(app)
    ctx = EvalContext(judge=judge, app=app)
    try:
        matched = match_sessions(app, dataset)
        for i, case in enumerate(dataset.cases):
            _check_cancel(cancel)
            if progress:
                progress(i, len(dataset.cases), case.id)
            session = matched.get(case.id)
            if session is None:
                report.subjects.append(SubjectResult(None, [], case_id=case.id, error="no recorded session answered this prompt"))
                continue
            report.subjects.append(await grade_case(app, case, session, ctx))
    except Cancelled:
        report.cancelled = True
    finally:
        if own:
            await judge.aclose()
    report.finished_at = time.time()
    if store and not report.cancelled:
        record(app, report, baseline_run_id=baseline_run_id)
    return report
