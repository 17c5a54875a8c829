"""Prompt playground: replay a recorded (or dataset) prompt against a model with edited instructions.

The prompt comes from a recorded session's turn or a dataset case; the system prompt is an
instruction file (e.g. an edited AGENTS.md).  The model's answer is shown beside what the agent
answered, graded with the case's answer expectations (contains / regex / rubric; session checks do
not apply), and stored like any eval run (suite ``playground:<dataset or "adhoc">``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sessionlens.evals.checks import EvalContext, Judge, Subject
from sessionlens.evals.datasets import Dataset, case_subject, match_sessions
from sessionlens.evals.runner import RunReport, SubjectResult, SuiteError, grade, make_judge, record

PLAYGROUND_SYSTEM = (
    "You are a coding agent. Follow the project instructions below. You cannot run tools here: answer with "
    "what you would do and the final answer you would give.\n\n"
)
ANSWER_LIMIT = 8000


@dataclass
class PlaygroundResult:
    prompt: str
    answer: str
    agent_answer: str | None
    agent_session_id: str | None
    agent_seq: int | None
    report: RunReport

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "answer": self.answer,
            "agent_answer": self.agent_answer,
            "agent_session_id": self.agent_session_id,
            "agent_seq": self.agent_seq,
            "run": self.report.to_dict(),
        }

    def markdown(self) -> str:
        from sessionlens.coach.markdown import code_block

        out = [
            "## Prompt",
            "",
            code_block(self.prompt),
            "",
            "## Model answer",
            "",
            self.answer or "_(empty)_",
            "",
            "## What the agent answered",
            "",
        ]
        out.append(self.agent_answer if self.agent_answer else "_No recorded answer._")
        out += ["", "## Grades", "", self.report.markdown()]
        return "\n".join(out)


def _client(app, model: str | None):
    from sessionlens.coach.llm import CoachLLM

    cfg = app.settings.llm.model_copy(update={"model": model}) if model else app.settings.llm
    return CoachLLM(cfg, editor_api_key=app.api_key)


async def run_playground(
    app,
    *,
    prompt: str | None = None,
    session: str | None = None,
    turn: int = 1,
    dataset: Dataset | None = None,
    case_id: str | None = None,
    instructions: str | None = None,
    model: str | None = None,
    client: Any = None,
    judge: Judge | None = None,
    store: bool = True,
) -> PlaygroundResult:
    """Answer one prompt with ``instructions`` as the system prompt and grade the answer.

    The prompt is ``prompt``, or turn ``turn`` (1-based) of ``session``, or ``case_id`` of
    ``dataset``.  ``client`` (an object with ``async complete(system, messages)``) defaults to the
    Anthropic client from the app's LLM settings.
    """
    expect: list[Any] = []
    agent_answer = agent_sid = None
    agent_seq = None
    name = "adhoc"
    if dataset is not None and case_id:
        case = dataset.case(case_id)
        prompt, expect, name = case.prompt, list(case.expect), dataset.name
        recorded = match_sessions(app, dataset).get(case.id)
        if recorded is not None:
            s = case_subject(app, recorded, case.prompt)
            agent_answer, agent_seq, agent_sid = s.answer, s.answer_seq, recorded.id
    elif session:
        row = app.resolve_session(session)
        turns = app.db().turns(row.id)
        t = next((x for x in turns if x.index == turn - 1), None)
        if t is None or not t.prompt:
            raise SuiteError(f"session {row.id} has no turn {turn} with a prompt ({len(turns)} turns)")
        prompt = t.prompt
        s = case_subject(app, row, prompt)
        agent_answer, agent_seq, agent_sid = s.answer, s.answer_seq, row.id
    if not prompt:
        raise SuiteError("the playground needs a prompt, a session, or a dataset case")
    system = PLAYGROUND_SYSTEM
    if instructions:
        try:
            system += Path(instructions).read_text(encoding="utf-8")
        except OSError as exc:
            raise SuiteError(f"cannot read the instructions file {instructions}: {exc.strerror or exc}") from exc
    started = time.time()
    own_client = client is None
    client = client or _client(app, model)
    own_judge = judge is None
    judge = judge or make_judge(app)
    try:
        answer = await client.complete(system, [{"role": "user", "content": prompt}])
        results = await grade(Subject(answer=answer), expect, EvalContext(judge=judge))
    finally:
        if own_client:
            await client.aclose()
        if own_judge:
            await judge.aclose()
    report = RunReport(
        suite=f"playground:{name}",
        kind="playground",
        suite_path=dataset.path if dataset else None,
        started_at=started,
        finished_at=time.time(),
    )
    report.subjects = [SubjectResult(agent_sid, results, case_id=case_id or (None if agent_sid else "prompt"))]
    report.extra = {
        "answer": answer[:ANSWER_LIMIT],
        "prompt": prompt[:ANSWER_LIMIT],
        "instructions": instructions,
        "model": model or app.settings.llm.model,
    }
    if store:
        record(app, report)
    return PlaygroundResult(prompt, answer, agent_answer, agent_sid, agent_seq, report)
