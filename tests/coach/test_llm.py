from __future__ import annotations

import pytest

from sessionlens.coach.config import LLMConfig
from sessionlens.coach.llm import (
    CoachLLM,
    LLMError,
    LLMUnavailable,
    build_finding_prompt,
    build_session_prompt,
    deterministic_session_summary,
    prepare_payload,
)
from sessionlens.coach.rules import run_rules
from sessionlens.models import EventKind, Finding, Severity
from tests.coach.builders import Log, session
from tests.coach.fake_anthropic import FAKE_MODEL, FakeAnthropic

SECRET = "sk-ant-api03-" + "Zx9" * 30


def make_llm(fake: FakeAnthropic, **cfg) -> CoachLLM:
    config = LLMConfig(model=FAKE_MODEL, base_url=fake.base_url, **cfg)
    return CoachLLM(config, api_key=fake.api_key, max_retries=0, environ={})


async def test_complete_returns_text_and_sends_configured_model(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.reply("Run the tests after editing.")
    async with make_llm(fake_anthropic, max_tokens=300) as llm:
        answer = await llm.complete("sys", [{"role": "user", "content": "hi"}])
    assert answer == "Run the tests after editing."
    body = fake_anthropic.requests[0].body
    assert body["model"] == FAKE_MODEL and body["max_tokens"] == 300
    assert body["system"] == "sys" and body["messages"] == [{"role": "user", "content": "hi"}]
    assert "stream" not in body or body["stream"] is False


async def test_stream_yields_deltas_in_order(fake_anthropic: FakeAnthropic) -> None:
    chunks = ["One", ", two", ", three", "."]
    fake_anthropic.reply("".join(chunks), chunks=chunks)
    async with make_llm(fake_anthropic) as llm:
        got = [d async for d in llm.stream("sys", [{"role": "user", "content": "count"}])]
    # streamed word by word (a construct split across deltas waits for its end: it is sanitized whole)
    assert "".join(got) == "".join(chunks) and len(got) > 1
    assert fake_anthropic.requests[0].body["stream"] is True


async def test_bad_key_gives_clear_401_error(fake_anthropic: FakeAnthropic) -> None:
    llm = CoachLLM(LLMConfig(model=FAKE_MODEL, base_url=fake_anthropic.base_url), api_key="sk-wrong", max_retries=0)
    with pytest.raises(LLMError) as info:
        await llm.complete("s", [{"role": "user", "content": "x"}])
    assert info.value.status == 401
    assert "API key" in str(info.value) and "Set Anthropic API Key" in str(info.value)
    await llm.aclose()


async def test_rate_limit_mentions_retry_after(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.fail(429, "slow down", retry_after=17)
    async with make_llm(fake_anthropic) as llm:
        with pytest.raises(LLMError) as info:
            await llm.complete("s", [{"role": "user", "content": "x"}])
    assert info.value.status == 429 and info.value.retry_after == 17
    assert "Rate limited" in str(info.value) and "17" in str(info.value)


async def test_rate_limit_while_streaming(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.fail(429, retry_after=3)
    async with make_llm(fake_anthropic) as llm:
        with pytest.raises(LLMError, match="Rate limited"):
            async for _ in llm.stream("s", [{"role": "user", "content": "x"}]):
                pass


async def test_server_error_is_mapped(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.fail(500, "boom inside")
    async with make_llm(fake_anthropic) as llm:
        with pytest.raises(LLMError) as info:
            await llm.complete("s", [{"role": "user", "content": "x"}])
    assert info.value.status == 500 and "server error" in str(info.value) and "boom inside" in str(info.value)


async def test_timeout_is_mapped(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.hang(30)
    async with make_llm(fake_anthropic, timeout_s=0.2) as llm:
        with pytest.raises(LLMError, match="timeout"):
            await llm.complete("s", [{"role": "user", "content": "x"}])


def test_no_key_raises_unavailable_with_howto() -> None:
    with pytest.raises(LLMUnavailable) as info:
        CoachLLM(LLMConfig(), environ={})
    msg = str(info.value)
    assert "ANTHROPIC_API_KEY" in msg and "Session Lens: Set Anthropic API Key" in msg
    assert isinstance(info.value, LLMError)


def test_key_resolution_order() -> None:
    cfg = LLMConfig(api_key_env="MY_KEY")
    assert CoachLLM(cfg, environ={"MY_KEY": "from-env"})._client.api_key == "from-env"
    assert CoachLLM(cfg, editor_api_key="from-editor", environ={"MY_KEY": "e"})._client.api_key == "from-editor"
    assert CoachLLM(cfg, api_key="explicit", editor_api_key="x", environ={})._client.api_key == "explicit"


async def test_seeded_secret_never_reaches_the_wire(fake_anthropic: FakeAnthropic) -> None:
    log = Log()
    log.prompt("deploy it")
    log.shell("env | grep KEY", output=f"ANTHROPIC_API_KEY={SECRET}\nAWS=AKIAQ3EGUWX7KZL4NB2P")
    sess = session()
    findings = run_rules(sess, log.events, log.turns)
    assert any(f.rule_id == "secret-in-log" for f in findings)
    assert all(SECRET not in f.message for f in findings)
    system, messages = build_session_prompt(sess, findings, log.events)
    assert SECRET not in messages[0]["content"]  # the prompt builders redact too
    raw_messages = [{"role": "user", "content": f"my key is {SECRET}"}]
    fake_anthropic.reply("ok")
    fake_anthropic.reply("ok", chunks=["o", "k"])
    async with make_llm(fake_anthropic) as llm:
        await llm.complete(system + SECRET, messages + [{"role": "assistant", "content": "?"}] + raw_messages)
        _ = [d async for d in llm.stream(f"sys {SECRET}", [{"role": "user", "content": [{"type": "text", "text": SECRET}]}])]
    sent = fake_anthropic.sent_text()
    assert len(fake_anthropic.requests) == 2
    assert SECRET not in sent and "AKIAQ3EGUWX7KZL4NB2P" not in sent
    assert "[REDACTED:anthropic_key]" in sent


async def test_payload_is_trimmed_to_budget(fake_anthropic: FakeAnthropic) -> None:
    big = "x" * 50_000
    async with make_llm(fake_anthropic, context_budget_chars=5000) as llm:
        await llm.complete(
            "short system",
            [{"role": "user", "content": big}, {"role": "assistant", "content": "a"}, {"role": "user", "content": "question?"}],
        )
    body = fake_anthropic.requests[0].body
    total = len(body["system"]) + sum(len(m["content"]) for m in body["messages"])
    assert total <= 5000
    assert body["system"] == "short system" and body["messages"][2]["content"] == "question?"
    assert "characters trimmed" in body["messages"][0]["content"]


def test_prepare_payload_keeps_small_payload_intact() -> None:
    system, messages = prepare_payload("s", [{"role": "user", "content": "hello"}], 1000)
    assert system == "s" and messages == [{"role": "user", "content": "hello"}]


def test_session_prompt_lists_findings_first_and_fits_budget() -> None:
    log = Log()
    log.prompt("fix the bug")
    for i in range(300):
        log.shell(f"cat file{i}.py", output="y" * 500)
    log.shell("pytest", output="1 failed", exit_code=1)
    findings = run_rules(session(), log.events, log.turns)
    system, messages = build_session_prompt(session(), findings, log.events, budget=8000)
    content = messages[0]["content"]
    assert len(content) <= 8000
    assert content.index("Deterministic findings") < content.index("Events")
    assert "tool-error" in content and "line 1 [user_message] fix the bug" in content
    assert "`pytest` failed with exit code 1" in content


def test_finding_prompt_marks_primary_event() -> None:
    log = Log()
    log.prompt()
    _, res = log.shell("make build", output="error: missing", exit_code=2)
    f = Finding(rule_id="tool-error", severity=Severity.WARNING, message="make failed", session_id="s1", seq=res.seq)
    system, messages = build_finding_prompt(f, session(), log.events)
    assert "Guideline:" in system
    assert f">> line {res.seq} [tool_result Bash exit=2 error]" in messages[0]["content"]


def test_deterministic_summary_is_escaped_markdown() -> None:
    log = Log()
    log.prompt("hi")
    log.shell("echo '[x](command:evil) <img src=x onerror=alert(1)>'", output="bad", exit_code=3)
    log.add(EventKind.TOOL_CALL, tool="Edit", call_id="e1", files=["src/app.py"])
    findings = run_rules(session(title="Demo <b>"), log.events, log.turns)
    md = deterministic_session_summary(session(title="Demo <b>"), findings, log.events, log.turns)
    assert "### What went well" in md and "### What went wrong" in md and "### Top findings" in md
    assert "line 3" in md and "`no-tests-after-edit`" in md
    assert "command:" not in md and "<img" not in md and "<b>" not in md
    assert "Suggested guidelines" in md


async def test_fake_accepts_x_api_key_and_records_requests(fake_anthropic: FakeAnthropic) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        ok = await http.post(
            f"{fake_anthropic.base_url}/v1/messages",
            headers={"x-api-key": fake_anthropic.api_key},
            json={"model": FAKE_MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
        )
        assert ok.status == 200 and (await ok.json())["content"][0]["text"] == "Fake coach answer."
        bad = await http.post(f"{fake_anthropic.base_url}/v1/messages", headers={"x-api-key": "nope"}, json={})
        assert bad.status == 401 and (await bad.json())["error"]["type"] == "authentication_error"
    assert [r.body for r in fake_anthropic.requests][1] == {}
    assert fake_anthropic.requests[0].headers["x-api-key"] == fake_anthropic.api_key


async def test_stream_with_bad_key_raises_llm_error(fake_anthropic: FakeAnthropic) -> None:
    llm = CoachLLM(LLMConfig(model=FAKE_MODEL, base_url=fake_anthropic.base_url), api_key="sk-wrong", max_retries=0)
    with pytest.raises(LLMError, match="401"):
        async for _ in llm.stream("s", [{"role": "user", "content": "x"}]):
            pass
    await llm.aclose()


def test_blank_key_is_unavailable() -> None:
    with pytest.raises(LLMUnavailable):
        CoachLLM(LLMConfig(), api_key="  ", environ={"ANTHROPIC_API_KEY": ""})
