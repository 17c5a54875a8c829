"""LLM extraction and the coach conversation against the loopback fake Messages API."""

import json

import pytest

from sessionlens.coach.config import LLMConfig
from sessionlens.coach.llm import CoachLLM
from sessionlens.compliance.checker import guideline_results
from sessionlens.compliance.conversation import ConversationService, Linkifier
from sessionlens.compliance.extract_llm import extract
from tests.coach.fake_anthropic import FAKE_MODEL, FakeAnthropic
from tests.compliance.conftest import AGENTS_MD, IMAGES, copy_log, make_app


def _llm(fake: FakeAnthropic, **cfg) -> CoachLLM:
    return CoachLLM(LLMConfig(model=FAKE_MODEL, base_url=fake.base_url, **cfg), api_key=fake.api_key, max_retries=0)


@pytest.mark.asyncio
async def test_extraction_is_cached_per_file_hash_and_used_by_the_checker(tmp_path, corpus, fake_anthropic):
    ws = tmp_path / "ws"
    log = copy_log(corpus, IMAGES, ws / "logs")
    text = AGENTS_MD + "\n- Stage files one by one, never with `git add -A`.\n- Keep commits small.\n"
    (ws / "AGENTS.md").write_text(text)
    app = make_app(tmp_path)
    line = text.splitlines().index("- Keep commits small.") + 1
    fake_anthropic.reply(
        "Here you go:\n"
        + json.dumps(
            {
                "guidelines": [
                    {"line": line, "check": {"must_not_run": [r"\bgit\s+status\b"], "when": "always"}},
                    {"line": 2, "check": {"must_run": ["("]}},  # invalid regex: dropped
                ]
            }
        )
    )
    db = app.db()
    async with _llm(fake_anthropic) as llm:
        res = await extract(text, str(ws / "AGENTS.md"), llm, cache_get=db.cache_get, cache_put=db.cache_put, model=FAKE_MODEL)
        again = await extract(text, str(ws / "AGENTS.md"), llm, cache_get=db.cache_get, cache_put=db.cache_put)
    assert res["cached"] is False and [g["line"] for g in res["guidelines"]] == [line]
    assert again["cached"] is True and len(fake_anthropic.requests) == 1
    sent = fake_anthropic.requests[0].body["messages"][0]["content"]
    assert "Keep commits small." in sent and "Never commit." not in sent  # annotated ones are not sent
    app.index([str(ws / "logs")])
    s = app.session_for_path(str(log))
    res = {r.guideline.text: r for r in guideline_results(app, s.id)}
    small = res["Keep commits small."]
    assert small.guideline.source == "llm" and small.status == "violated"
    assert "git status" in log.read_text().split("\n")[small.evidence[0][0] - 1]


def test_linkifier_streams_line_references_into_deep_links(tmp_path):
    app = make_app(tmp_path)
    lk = Linkifier("abc", app)
    parts = [lk.feed(d) for d in ["The commit at line", " 87 broke", " it; see [line 5](sessionlens://session/abc?event=5)", " too."]]
    out = "".join(parts) + lk.flush()
    assert "[line 87](sessionlens://session/abc?event=87) broke" in out
    assert out.count("event=5") == 1 and "[[" not in out


@pytest.mark.asyncio
async def test_conversation_streams_stores_and_follows_up(tmp_path, corpus, fake_anthropic):
    ws = tmp_path / "ws"
    log = copy_log(corpus, IMAGES, ws / "logs")
    (ws / "AGENTS.md").write_text(AGENTS_MD)
    app = make_app(tmp_path)
    app.settings.llm.context_budget_chars = 6000
    app.index([str(ws / "logs")])
    sid = app.session_for_path(str(log)).id
    svc = ConversationService(app)
    fake_anthropic.reply("It committed at line 87 without tests.", chunks=["It committed at li", "ne 87 without", " tests."])
    async with _llm(fake_anthropic) as llm:
        first = "".join([d async for d in svc.ask(sid, "Why did it commit? my key is sk-ant-abcdefghijklmnopqrstuvwxyz123", llm=llm)])
        fake_anthropic.reply("Because nobody asked for tests.")
        second = "".join([d async for d in svc.ask(str(log), "And the tests?", llm=llm)])
    assert f"[line 87](sessionlens://session/{sid}?event=87)" in first and second.strip() == "Because nobody asked for tests."
    body1, body2 = fake_anthropic.requests[0].body, fake_anthropic.requests[1].body
    system = body1["system"] if isinstance(body1["system"], str) else body1["system"][0]["text"]
    # guideline violations first, then findings and events, within the budget; redacted
    assert system.index("guideline-violation") < system.index("line 11 [")
    assert len(system) <= 6000
    assert "sk-ant-abcdefghijklmnopqrstuvwxyz123" not in fake_anthropic.requests[0].raw.decode()
    assert [m["role"] for m in body2["messages"]] == ["user", "assistant", "user"]
    assert body2["messages"][1]["content"] == first
    hist = app.db().conversation(sid)
    assert [m.role for m in hist] == ["user", "assistant", "user", "assistant"]
    svc.clear(sid)
    assert app.db().conversation(sid) == []
    with pytest.raises(ValueError):
        [d async for d in svc.ask(sid, "  ", llm=None)]
