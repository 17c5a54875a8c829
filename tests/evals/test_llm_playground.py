"""The LLM judge (with its cache) and the prompt playground against the loopback fake Messages API."""

from __future__ import annotations

import json

import pytest

from sessionlens.evals.datasets import grade_recorded, load_dataset
from sessionlens.evals.models import EvalSuite
from sessionlens.evals.playground import run_playground
from sessionlens.evals.runner import history, run_suite
from tests.evals.conftest import CODEX_CRUD, make_app, session_by_path

pytestmark = pytest.mark.asyncio


def llm_app(indexed, fake):
    app = make_app(indexed, base_url=fake.base_url, max_retries=0, model="fake-judge")
    app.api_key = fake.api_key
    return app


async def test_llm_judge_pass_fail_and_cache(indexed, corpus, fake_anthropic):
    app = llm_app(indexed, fake_anthropic)
    crud = session_by_path(app, corpus, CODEX_CRUD).id
    suite = EvalSuite.model_validate(
        {
            "name": "judge",
            "sessions": {"ids": [crud]},
            "checks": [{"kind": "llm_judge", "rubric": "The agent deleted the file at the end."}],
        }
    )
    fake_anthropic.reply("PASS\nThe file was removed with rm at line 30.")
    r1 = await run_suite(app, suite, workspace="/")
    res = r1.subjects[0].results[0]
    assert res.passed and "rm at line 30" in res.message and not res.data.get("cached")
    body = fake_anthropic.requests[0].body
    assert body["model"] == "fake-judge" and "The agent deleted the file" in json.dumps(body)
    # cached by session + rubric + model: no second request
    r2 = await run_suite(app, suite, workspace="/")
    assert r2.subjects[0].results[0].passed and r2.subjects[0].results[0].data["cached"]
    assert len(fake_anthropic.requests) == 1
    # another rubric is a new verdict
    fake_anthropic.reply("FAIL - the agent never ran tests.")
    suite2 = EvalSuite.model_validate(
        {"name": "judge2", "sessions": {"ids": [crud]}, "checks": [{"kind": "llm_judge", "rubric": "The agent ran the tests."}]}
    )
    r3 = await run_suite(app, suite2, workspace="/")
    assert not r3.subjects[0].results[0].passed and "never ran tests" in r3.subjects[0].results[0].message
    # an API error is a failed, not-evaluated check and is not cached
    fake_anthropic.fail(500, "boom")
    suite3 = EvalSuite.model_validate(
        {"name": "judge3", "sessions": {"ids": [crud]}, "checks": [{"kind": "llm_judge", "rubric": "Anything."}]}
    )
    r4 = await run_suite(app, suite3, workspace="/")
    assert not r4.subjects[0].results[0].passed and "not evaluated" in r4.subjects[0].results[0].message
    app.close()


async def test_playground_with_dataset_case(indexed, corpus, fake_anthropic, tmp_path):
    app = llm_app(indexed, fake_anthropic)
    crud = session_by_path(app, corpus, CODEX_CRUD)
    prompt = app.db().turns(crud.id)[0].prompt
    ds_file = tmp_path / "crud.dataset.jsonl"
    ds_file.write_text(
        json.dumps(
            {
                "id": "joke",
                "prompt": prompt,
                "expect": [
                    {"kind": "contains", "text": "JOKE.md"},
                    {"kind": "regex", "pattern": "(?i)delete"},
                    {"kind": "rubric", "rubric": "Creates, edits and deletes the file."},
                    {"kind": "no_tool_errors"},
                ],
            }
        )
        + "\n"
    )
    ds = load_dataset(ds_file)
    # grading the recorded session that answered this prompt
    rec = await grade_recorded(app, ds, workspace="/", judge=None)
    assert rec.subjects[0].session_id == crud.id
    instructions = tmp_path / "AGENTS.md"
    instructions.write_text("Always answer in one sentence.\n")
    fake_anthropic.reply("I would create JOKE.md, edit it, then delete it.")
    fake_anthropic.reply("PASS\ncovers all steps")
    res = await run_playground(app, dataset=ds, case_id="joke", instructions=str(instructions), model="fake-play")
    assert res.answer.startswith("I would create JOKE.md")
    assert "deleted the file" in res.agent_answer and res.agent_session_id == crud.id
    grades = {r.check_id: r for r in res.report.subjects[0].results}
    assert grades["contains:JOKE.md"].passed and grades["regex:(?i)delete"].passed and grades["rubric"].passed
    assert grades["no_tool_errors"].skipped
    play_req = fake_anthropic.requests[-2].body
    assert play_req["model"] == "fake-play" and "Always answer in one sentence." in play_req["system"]
    assert play_req["messages"][0]["content"] == prompt
    runs = history(app, "playground:crud")
    assert runs and runs[0].id == res.report.run_id and runs[0].summary["answer"].startswith("I would")
    assert "## What the agent answered" in res.markdown()
    app.close()


async def test_playground_from_session_prompt(indexed, corpus, fake_anthropic):
    app = llm_app(indexed, fake_anthropic)
    crud = session_by_path(app, corpus, CODEX_CRUD)
    fake_anthropic.reply("ok")
    res = await run_playground(app, session=crud.id[:12])
    assert res.prompt == app.db().turns(crud.id)[0].prompt and res.answer == "ok"
    assert res.report.ok  # no expectations
    app.close()
